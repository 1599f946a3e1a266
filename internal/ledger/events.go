package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kinds of the events the ledger appends by itself, in the same
// transaction as the change they record.
const (
	// EventWavesPlanned is appended by SetWaves.
	EventWavesPlanned = "waves.planned"
	// EventWaveState is appended by SetWaveState when a wave's state changes.
	EventWaveState = "wave.state"
	// EventChangeState is appended by RecordChange when a change is first
	// recorded or its state, pull request or pushed commit changes.
	EventChangeState = "change.state"
	// EventFlag is appended by SetFlag when a variable's value changes.
	EventFlag = "flag.set"
	// EventVerified is appended by RecordVerification.
	EventVerified = "canary.verified"
	// EventTokenRevoked is appended by RecordRevocation.
	EventTokenRevoked = "token.revoked"
	// EventSecretDeleted is appended by MarkSecretDeleted.
	EventSecretDeleted = "secret.deleted"
	// EventScheduleRun is appended by FinishRun.
	EventScheduleRun = "schedule.run"
)

// AppendEvent appends an event to the log and returns it with its ID and
// time (the ledger's clock). Kind is required; Data, when set, must be a
// JSON document, and is stored compacted. Events can never be changed or removed.
func (l *Ledger) AppendEvent(ctx context.Context, e Event) (Event, error) {
	err := l.write(ctx, fmt.Sprintf("append event %q", e.Kind), func(t *tx) error {
		var err error
		e, err = appendEvent(t, e)
		return err
	})
	return e, err
}

// appendEvent appends e in t.
func appendEvent(t *tx, e Event) (Event, error) {
	if e.Kind == "" {
		return e, errors.New("the event has no kind")
	}
	var data any
	if len(e.Data) > 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, e.Data); err != nil {
			return e, errors.New("event data is not valid JSON")
		}
		e.Data = buf.Bytes()
		data = buf.String()
	}
	var wave any
	if e.Wave != nil {
		wave = *e.Wave
	}
	e.Time = t.now
	res, err := t.exec(`INSERT INTO events (time, kind, repo, wave, message, data) VALUES (?, ?, ?, ?, ?, ?)`,
		dbTime(e.Time), e.Kind, e.Repo, wave, e.Message, data)
	if err != nil {
		return e, err
	}
	e.ID, err = res.LastInsertId()
	return e, err
}

// eventData marshals v for an event the ledger appends itself.
func eventData(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// EventFilter selects events. The zero value selects every event.
type EventFilter struct {
	// Kind keeps events of this kind; a trailing "*" matches a prefix ("flag.*").
	Kind string
	// Repo keeps events about this repository.
	Repo string
	// Wave keeps events about this wave.
	Wave *int
	// Since keeps events at or after this time.
	Since time.Time
	// Until keeps events before this time.
	Until time.Time
	// AfterID keeps events appended after the event with this ID, for
	// reading the log incrementally.
	AfterID int64
	// Limit caps the number of events returned; 0 means no cap.
	Limit int
}

// Events returns the events the filter selects, oldest first.
func (l *Ledger) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	var where []string
	var args []any
	if f.Kind != "" {
		if prefix, ok := strings.CutSuffix(f.Kind, "*"); ok {
			where = append(where, "substr(kind, 1, ?) = ?")
			args = append(args, len(prefix), prefix)
		} else {
			where = append(where, "kind = ?")
			args = append(args, f.Kind)
		}
	}
	if f.Repo != "" {
		where = append(where, "repo = ?")
		args = append(args, f.Repo)
	}
	if f.Wave != nil {
		where = append(where, "wave = ?")
		args = append(args, *f.Wave)
	}
	if !f.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, dbTime(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "time < ?")
		args = append(args, dbTime(f.Until))
	}
	if f.AfterID > 0 {
		where = append(where, "id > ?")
		args = append(args, f.AfterID)
	}
	q := `SELECT ` + eventColumns + ` FROM events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	var out []Event
	err := l.read(ctx, "read events", func(r *reader) error {
		var err error
		out, err = collect(r, scanEvent, q, args...)
		return err
	})
	return out, err
}

const eventColumns = `id, time, kind, repo, wave, message, data`

func scanEvent(s rowScanner) (Event, error) {
	var e Event
	var at nullTime
	var wave sql.NullInt64
	var data sql.NullString
	if err := s.Scan(&e.ID, &at, &e.Kind, &e.Repo, &wave, &e.Message, &data); err != nil {
		return e, err
	}
	if wave.Valid {
		w := int(wave.Int64)
		e.Wave = &w
	}
	if data.Valid && data.String != "" {
		e.Data = json.RawMessage(data.String)
	}
	var err error
	e.Time, err = at.Time()
	return e, err
}
