package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// RecordChange records a repository's campaign branch and pull request as
// they are now, replacing what was recorded. When the change is new, or its
// state, pull request number or pushed commit differ from the record, an
// EventChangeState event is appended. State defaults to ChangeOpen.
func (l *Ledger) RecordChange(ctx context.Context, c Change) error {
	return l.write(ctx, fmt.Sprintf("record change for %q", c.Repo), func(t *tx) error {
		if c.Branch == "" {
			return errors.New("the change has no branch")
		}
		if c.State == "" {
			c.State = ChangeOpen
		}
		switch c.State {
		case ChangeOpen, ChangeMerged, ChangeClosed:
		default:
			return fmt.Errorf("unknown change state %q", c.State)
		}
		if err := requireRepo(t, c.Repo); err != nil {
			return err
		}
		old, err := one(t, "change", scanChange, `SELECT `+changeColumns+` FROM changes WHERE repo = ?`, c.Repo)
		isNew := errors.Is(err, ErrNotFound)
		if err != nil && !isNew {
			return err
		}
		_, err = t.exec(`INSERT INTO changes (repo, branch, base, playbook, pushed_sha, pr_number, url, title,
				state, draft, checks, mergeable, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (repo) DO UPDATE SET
				branch = excluded.branch, base = excluded.base, playbook = excluded.playbook,
				pushed_sha = excluded.pushed_sha, pr_number = excluded.pr_number, url = excluded.url,
				title = excluded.title, state = excluded.state, draft = excluded.draft,
				checks = excluded.checks, mergeable = excluded.mergeable, updated = excluded.updated`,
			c.Repo, c.Branch, c.Base, c.Playbook, c.PushedSHA, c.PRNumber, c.URL, c.Title,
			c.State, boolInt(c.Draft), c.Checks, c.Mergeable, dbTime(t.now))
		if err != nil {
			return err
		}
		if !isNew && old.State == c.State && old.PRNumber == c.PRNumber && old.PushedSHA == c.PushedSHA {
			return nil
		}
		msg := fmt.Sprintf("%s: branch %s pushed at %s", c.Repo, c.Branch, short(c.PushedSHA))
		if c.PRNumber != 0 {
			msg = fmt.Sprintf("%s: pull request #%d %s", c.Repo, c.PRNumber, c.State)
		}
		_, err = appendEvent(t, Event{Kind: EventChangeState, Repo: c.Repo, Message: msg,
			Data: eventData(map[string]any{"from": old.State, "state": c.State, "pr": c.PRNumber, "sha": c.PushedSHA})})
		return err
	})
}

// short abbreviates a commit SHA for messages.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	if sha == "" {
		return "(none)"
	}
	return sha
}

const changeColumns = `repo, branch, base, playbook, pushed_sha, pr_number, url, title, state, draft,
	checks, mergeable, updated`

func scanChange(s rowScanner) (Change, error) {
	var c Change
	var draft int
	var updated nullTime
	err := s.Scan(&c.Repo, &c.Branch, &c.Base, &c.Playbook, &c.PushedSHA, &c.PRNumber, &c.URL, &c.Title,
		&c.State, &draft, &c.Checks, &c.Mergeable, &updated)
	if err != nil {
		return c, err
	}
	c.Draft = draft != 0
	c.Updated, err = updated.Time()
	return c, err
}

// Change returns a repository's change, or an error wrapping ErrNotFound.
func (l *Ledger) Change(ctx context.Context, repo string) (Change, error) {
	var out Change
	err := l.read(ctx, fmt.Sprintf("read change of %q", repo), func(r *reader) error {
		var err error
		out, err = one(r, fmt.Sprintf("change of %q", repo), scanChange,
			`SELECT `+changeColumns+` FROM changes WHERE repo = ?`, repo)
		return err
	})
	return out, err
}

// Changes returns every change, by repository.
func (l *Ledger) Changes(ctx context.Context) ([]Change, error) {
	var out []Change
	err := l.read(ctx, "read changes", func(r *reader) error {
		var err error
		out, err = collect(r, scanChange, `SELECT `+changeColumns+` FROM changes ORDER BY repo`)
		return err
	})
	return out, err
}

// SetFlag records the value cutover set on a repository variable. A new
// value appends an EventFlag event; setting the same value again only
// refreshes Updated.
func (l *Ledger) SetFlag(ctx context.Context, repo, variable, value string) error {
	return l.write(ctx, fmt.Sprintf("record flag %q of %q", variable, repo), func(t *tx) error {
		if variable == "" {
			return errors.New("the flag has no variable name")
		}
		if err := requireRepo(t, repo); err != nil {
			return err
		}
		var old sql.NullString
		err := t.queryRow(`SELECT value FROM flags WHERE repo = ? AND variable = ?`, repo, variable).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = t.exec(`INSERT INTO flags (repo, variable, value, updated) VALUES (?, ?, ?, ?)
			ON CONFLICT (repo, variable) DO UPDATE SET value = excluded.value, updated = excluded.updated`,
			repo, variable, value, dbTime(t.now))
		if err != nil || (old.Valid && old.String == value) {
			return err
		}
		_, err = appendEvent(t, Event{Kind: EventFlag, Repo: repo,
			Message: fmt.Sprintf("%s: %s=%s", repo, variable, value),
			Data:    eventData(map[string]any{"variable": variable, "from": old.String, "to": value})})
		return err
	})
}

func scanFlag(s rowScanner) (Flag, error) {
	var f Flag
	var updated nullTime
	if err := s.Scan(&f.Repo, &f.Variable, &f.Value, &updated); err != nil {
		return f, err
	}
	var err error
	f.Updated, err = updated.Time()
	return f, err
}

// Flag returns the value recorded for a repository variable, or an error
// wrapping ErrNotFound when cutover never set it.
func (l *Ledger) Flag(ctx context.Context, repo, variable string) (Flag, error) {
	var out Flag
	err := l.read(ctx, fmt.Sprintf("read flag %q of %q", variable, repo), func(r *reader) error {
		var err error
		out, err = one(r, fmt.Sprintf("flag %q of %q", variable, repo), scanFlag,
			`SELECT repo, variable, value, updated FROM flags WHERE repo = ? AND variable = ?`, repo, variable)
		return err
	})
	return out, err
}
