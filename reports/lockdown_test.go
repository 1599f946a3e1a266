package reports

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/ledger"
)

// TestLockedDown: the packages cutover lockdown set to disallow tokens show
// on their repository's card, in the summary's count and in the HTML
// column; an undone lockdown does not count.
func TestLockedDown(t *testing.T) {
	t.Parallel()
	snap := loadSnapshot(t)
	at := snap.TakenAt.Add(-time.Hour)
	ev := func(repo string, c ledger.LockdownChange) ledger.Event {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return ledger.Event{ID: int64(len(snap.Events) + 1000), Time: at, Kind: ledger.EventLockdown, Repo: repo, Data: b}
	}
	snap.Events = append(snap.Events,
		ev("acme/widget", ledger.LockdownChange{Package: "widget", To: "publish"}),
		ev("acme/monorepo", ledger.LockdownChange{Package: "@acme/core", To: "publish"}),
		ev("acme/monorepo", ledger.LockdownChange{Package: "@acme/core", From: "publish", To: "automation", Undo: true}),
		ev("acme/monorepo", ledger.LockdownChange{Package: "@acme/ui", To: "publish"}),
	)
	r := Build(snap, fixtureMeta())
	got := map[string][]string{}
	for _, c := range r.Repos {
		if c.LockedDown == nil {
			t.Fatalf("%s: locked_down is null", c.Repo)
		}
		if len(c.LockedDown) > 0 {
			got[c.Repo] = c.LockedDown
		}
	}
	if !slices.Equal(got["acme/widget"], []string{"widget"}) || !slices.Equal(got["acme/monorepo"], []string{"@acme/ui"}) || len(got) != 2 {
		t.Errorf("locked down: %v", got)
	}
	if r.Summary.PackagesLockedDown != 2 {
		t.Errorf("summary counts %d packages locked down, want 2", r.Summary.PackagesLockedDown)
	}
	html, err := HTML(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "Locked down</th>") || !strings.Contains(string(html), "<b>2</b> packages locked down") {
		t.Error("the HTML report has no locked-down column or count")
	}
	md, err := Markdown(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "**2** packages locked down") {
		t.Errorf("the Markdown summary has no locked-down count:\n%.400s", md)
	}
}
