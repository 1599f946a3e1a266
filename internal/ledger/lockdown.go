package ledger

import (
	"encoding/json"
	"time"
)

// EventLockdown is the kind of the event that records a change of a
// package's publishing access by cutover lockdown (or its undo). Its data
// is a LockdownChange. The registry offers no way to read the setting, so
// these events are the campaign's record of it.
const EventLockdown = "package.lockdown"

// Publishing access levels recorded in LockdownChange (npm access set
// mfa=LEVEL).
const (
	// AccessLockedDown is "Require two-factor authentication and disallow
	// tokens" (mfa=publish).
	AccessLockedDown = "publish"
)

// LockdownChange is the data of an EventLockdown event.
type LockdownChange struct {
	// Package is the package name.
	Package string `json:"package"`
	// From is the setting before the change as far as the campaign knows
	// it; "" when unknown (the registry does not say).
	From string `json:"from,omitempty"`
	// To is the setting cutover set: none, automation or publish.
	To string `json:"to"`
	// Undo is true when the change restored an earlier setting.
	Undo bool `json:"undo,omitempty"`
	// By says who made the change.
	By string `json:"by,omitempty"`
	// At is when the change was made (the event's time).
	At time.Time `json:"at"`
}

// LockdownState reads the latest recorded publishing-access change of each
// package from an event log (as Snapshot.Events or Events return it, oldest
// first): repository, then package, to its latest change. Events of other
// kinds and damaged data are ignored.
func LockdownState(events []Event) map[string]map[string]LockdownChange {
	out := map[string]map[string]LockdownChange{}
	for _, ev := range events {
		if ev.Kind != EventLockdown || len(ev.Data) == 0 {
			continue
		}
		var c LockdownChange
		if err := json.Unmarshal(ev.Data, &c); err != nil || c.Package == "" {
			continue
		}
		c.At = ev.Time
		if out[ev.Repo] == nil {
			out[ev.Repo] = map[string]LockdownChange{}
		}
		out[ev.Repo][c.Package] = c
	}
	return out
}
