package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// StartRun records that a scheduled job started, by which scheduler, and
// returns the run's ID for FinishRun.
func (l *Ledger) StartRun(ctx context.Context, job, owner string) (int64, error) {
	var id int64
	err := l.write(ctx, fmt.Sprintf("record start of job %q", job), func(t *tx) error {
		if job == "" {
			return errors.New("the run has no job name")
		}
		res, err := t.exec(`INSERT INTO schedule_runs (job, owner, started) VALUES (?, ?, ?)`, job, owner, dbTime(t.now))
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	return id, err
}

// FinishRun records how run id ended (OutcomeOK, OutcomeSkipped or
// OutcomeFailed, with a message) and appends an EventScheduleRun event.
func (l *Ledger) FinishRun(ctx context.Context, id int64, outcome, message string) error {
	return l.write(ctx, fmt.Sprintf("record end of run %d", id), func(t *tx) error {
		switch outcome {
		case OutcomeOK, OutcomeSkipped, OutcomeFailed:
		default:
			return fmt.Errorf("unknown outcome %q", outcome)
		}
		run, err := one(t, fmt.Sprintf("run %d", id), scanRun, `SELECT `+runColumns+` FROM schedule_runs WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if run.Finished != nil {
			return fmt.Errorf("run %d already finished", id)
		}
		_, err = t.exec(`UPDATE schedule_runs SET finished = ?, outcome = ?, message = ? WHERE id = ?`,
			dbTime(t.now), outcome, message, id)
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("job %s: %s", run.Job, outcome)
		if message != "" {
			msg += ": " + message
		}
		_, err = appendEvent(t, Event{Kind: EventScheduleRun, Message: msg,
			Data: eventData(map[string]any{"run": id, "job": run.Job, "owner": run.Owner, "outcome": outcome,
				"started": run.Started, "finished": t.now})})
		return err
	})
}

const runColumns = `id, job, owner, started, finished, outcome, message`

func scanRun(s rowScanner) (ScheduleRun, error) {
	var r ScheduleRun
	var started, finished nullTime
	if err := s.Scan(&r.ID, &r.Job, &r.Owner, &started, &finished, &r.Outcome, &r.Message); err != nil {
		return r, err
	}
	var err error
	if r.Started, err = started.Time(); err != nil {
		return r, err
	}
	r.Finished, err = finished.Ptr()
	return r, err
}

// ScheduleRuns returns the runs of a job ("" for every job), oldest first.
func (l *Ledger) ScheduleRuns(ctx context.Context, job string) ([]ScheduleRun, error) {
	var out []ScheduleRun
	err := l.read(ctx, fmt.Sprintf("read runs of job %q", job), func(r *reader) error {
		var err error
		out, err = collect(r, scanRun, `SELECT `+runColumns+` FROM schedule_runs
			WHERE ? = '' OR job = ? ORDER BY id`, job, job)
		return err
	})
	return out, err
}

// ErrLocked is returned (wrapped) by AcquireLock when another owner holds
// the lock and it has not expired.
var ErrLocked = errors.New("lock is held by another owner")

// ErrLockLost is returned (wrapped) by RenewLock and ReleaseLock when the
// caller no longer holds the lock.
var ErrLockLost = errors.New("lock is not held by this owner")

// AcquireLock takes the named lock for owner until ttl from now. It fails
// with ErrLocked, saying who holds it and until when, while another owner
// holds a lock that has not expired; an expired lock is taken over. The
// owner that holds the lock may acquire it again, which renews it.
func (l *Ledger) AcquireLock(ctx context.Context, name, owner string, ttl time.Duration) (Lock, error) {
	return l.acquireLock(ctx, Lock{Name: name, Owner: owner}, ttl, nil)
}

// acquireLock takes want.Name for want.Owner (recording its host, pid and
// command) until ttl from now. stale, when not nil, says whether a live
// lock of another owner may be taken over all the same (its process is
// gone).
func (l *Ledger) acquireLock(ctx context.Context, want Lock, ttl time.Duration, stale func(Lock) bool) (Lock, error) {
	name, owner := want.Name, want.Owner
	var out Lock
	err := l.write(ctx, fmt.Sprintf("acquire lock %q for %q", name, owner), func(t *tx) error {
		if name == "" || owner == "" {
			return errors.New("a lock needs a name and an owner")
		}
		if ttl <= 0 {
			return fmt.Errorf("lock duration %s is not positive", ttl)
		}
		have, err := one(t, "lock", scanLock, `SELECT `+lockColumns+` FROM locks WHERE name = ?`, name)
		held := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if held && have.Owner != owner && t.now.Before(have.Expires) && (stale == nil || !stale(have)) {
			return &LockedError{Holder: have}
		}
		out = want
		out.Acquired, out.Expires = t.now, t.now.Add(ttl)
		if held && have.Owner == owner {
			out.Acquired = have.Acquired
			if out.Command == "" {
				out.Host, out.PID, out.Command = have.Host, have.PID, have.Command
			}
		}
		_, err = t.exec(`INSERT INTO locks (name, owner, acquired, expires, host, pid, command) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, acquired = excluded.acquired, expires = excluded.expires,
				host = excluded.host, pid = excluded.pid, command = excluded.command`,
			name, owner, dbTime(out.Acquired), dbTime(out.Expires), out.Host, out.PID, out.Command)
		return err
	})
	return out, err
}

// LockedError is the error of a lock another owner holds; it wraps ErrLocked.
type LockedError struct {
	// Holder is the lock as recorded.
	Holder Lock
}

func (e *LockedError) Error() string {
	h := e.Holder
	if h.Command == "" {
		return fmt.Sprintf("%q holds it until %s: %s", h.Owner, h.Expires.Format(time.RFC3339), ErrLocked)
	}
	return fmt.Sprintf("%s holds it: %s", h.Describe(), ErrLocked)
}

// Unwrap returns ErrLocked.
func (e *LockedError) Unwrap() error { return ErrLocked }

// RenewLock extends owner's hold on the named lock to ttl from now. It
// fails with ErrLockLost when another owner took the lock (after it
// expired) or nobody holds it. A lock that expired but was not taken over
// is still the owner's and is renewed.
func (l *Ledger) RenewLock(ctx context.Context, name, owner string, ttl time.Duration) (Lock, error) {
	var out Lock
	err := l.write(ctx, fmt.Sprintf("renew lock %q for %q", name, owner), func(t *tx) error {
		if ttl <= 0 {
			return fmt.Errorf("lock duration %s is not positive", ttl)
		}
		have, err := one(t, "lock", scanLock, `SELECT `+lockColumns+` FROM locks WHERE name = ?`, name)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("nobody holds it: %w", ErrLockLost)
		}
		if err != nil {
			return err
		}
		if have.Owner != owner {
			return fmt.Errorf("%q holds it: %w", have.Owner, ErrLockLost)
		}
		out = have
		out.Expires = t.now.Add(ttl)
		_, err = t.exec(`UPDATE locks SET expires = ? WHERE name = ? AND owner = ?`, dbTime(out.Expires), name, owner)
		return err
	})
	return out, err
}

// ReleaseLock gives up owner's hold on the named lock. Releasing a lock
// nobody holds does nothing; releasing one another owner holds fails with
// ErrLockLost.
func (l *Ledger) ReleaseLock(ctx context.Context, name, owner string) error {
	return l.write(ctx, fmt.Sprintf("release lock %q for %q", name, owner), func(t *tx) error {
		var have string
		err := t.queryRow(`SELECT owner FROM locks WHERE name = ?`, name).Scan(&have)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if have != owner {
			return fmt.Errorf("%q holds it: %w", have, ErrLockLost)
		}
		_, err = t.exec(`DELETE FROM locks WHERE name = ? AND owner = ?`, name, owner)
		return err
	})
}

// LockHolder returns the named lock as recorded, expired or not, or an
// error wrapping ErrNotFound when nobody holds it.
func (l *Ledger) LockHolder(ctx context.Context, name string) (Lock, error) {
	var out Lock
	err := l.read(ctx, fmt.Sprintf("read lock %q", name), func(r *reader) error {
		var err error
		out, err = one(r, fmt.Sprintf("lock %q", name), scanLock,
			`SELECT `+lockColumns+` FROM locks WHERE name = ?`, name)
		return err
	})
	return out, err
}

const lockColumns = `name, owner, acquired, expires, host, pid, command`

func scanLock(s rowScanner) (Lock, error) {
	var lk Lock
	var acquired, expires nullTime
	if err := s.Scan(&lk.Name, &lk.Owner, &acquired, &expires, &lk.Host, &lk.PID, &lk.Command); err != nil {
		return lk, err
	}
	var err error
	if lk.Acquired, err = acquired.Time(); err != nil {
		return lk, err
	}
	lk.Expires, err = expires.Time()
	return lk, err
}
