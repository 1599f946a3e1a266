package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// secretKey checks a secret's scope, repository and environment and
// returns the repository as a column value (NULL for organisation secrets).
func secretKey(t *tx, s Secret) (any, error) {
	if s.Name == "" {
		return nil, errors.New("the secret has no name")
	}
	switch s.Scope {
	case ScopeOrg:
		if s.Repo != "" || s.Environment != "" {
			return nil, errors.New("an organisation secret has no repository or environment")
		}
		return nil, nil
	case ScopeRepo:
		if s.Environment != "" {
			return nil, errors.New("a repository secret has no environment")
		}
	case ScopeEnv:
		if s.Environment == "" {
			return nil, errors.New("an environment secret needs its environment")
		}
	default:
		return nil, fmt.Errorf("unknown secret scope %q", s.Scope)
	}
	if err := requireRepo(t, s.Repo); err != nil {
		return nil, err
	}
	return s.Repo, nil
}

// secretID finds a secret's row; ok is false when it is not recorded.
func secretID(t *tx, s Secret) (id int64, ok bool, err error) {
	err = t.queryRow(`SELECT id FROM secrets WHERE ifnull(repo, '') = ? AND scope = ? AND environment = ? AND name = ?`,
		s.Repo, s.Scope, s.Environment, s.Name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// secretWhere names a secret in messages.
func secretWhere(s Secret) string {
	switch s.Scope {
	case ScopeOrg:
		return fmt.Sprintf("organisation secret %q", s.Name)
	case ScopeEnv:
		return fmt.Sprintf("secret %q of environment %q in %q", s.Name, s.Environment, s.Repo)
	}
	return fmt.Sprintf("secret %q of %q", s.Name, s.Repo)
}

// RecordSecret records a CI secret seen on the forge with its updated_at.
// A secret recorded as deleted that is seen again was re-created, and is
// recorded as present.
func (l *Ledger) RecordSecret(ctx context.Context, s Secret) error {
	return l.write(ctx, "record "+secretWhere(s), func(t *tx) error {
		repo, err := secretKey(t, s)
		if err != nil {
			return err
		}
		id, ok, err := secretID(t, s)
		if err != nil {
			return err
		}
		if ok {
			_, err = t.exec(`UPDATE secrets SET updated_at = ?, seen = ?, deleted_at = NULL, deleted_by = '' WHERE id = ?`,
				dbTime(s.UpdatedAt), dbTime(t.now), id)
			return err
		}
		_, err = t.exec(`INSERT INTO secrets (repo, scope, environment, name, updated_at, seen) VALUES (?, ?, ?, ?, ?, ?)`,
			repo, s.Scope, s.Environment, s.Name, dbTime(s.UpdatedAt), dbTime(t.now))
		return err
	})
}

// MarkSecretDeleted records that cutover deleted a secret (identified by
// Repo, Scope, Environment and Name), by whom, and appends an
// EventSecretDeleted event. A secret not recorded before is recorded as
// deleted; marking it again changes nothing.
func (l *Ledger) MarkSecretDeleted(ctx context.Context, s Secret, by string) error {
	return l.write(ctx, "record deletion of "+secretWhere(s), func(t *tx) error {
		repo, err := secretKey(t, s)
		if err != nil {
			return err
		}
		id, ok, err := secretID(t, s)
		if err != nil {
			return err
		}
		if ok {
			res, err := t.exec(`UPDATE secrets SET deleted_at = ?, deleted_by = ? WHERE id = ? AND deleted_at IS NULL`,
				dbTime(t.now), by, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
		} else {
			_, err = t.exec(`INSERT INTO secrets (repo, scope, environment, name, updated_at, seen, deleted_at, deleted_by)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				repo, s.Scope, s.Environment, s.Name, dbTime(s.UpdatedAt), dbTime(t.now), dbTime(t.now), by)
			if err != nil {
				return err
			}
		}
		_, err = appendEvent(t, Event{Kind: EventSecretDeleted, Repo: s.Repo,
			Message: "deleted " + secretWhere(s),
			Data: eventData(map[string]string{"scope": s.Scope, "environment": s.Environment,
				"name": s.Name, "by": by})})
		return err
	})
}

const secretColumns = `ifnull(repo, ''), scope, environment, name, updated_at, seen, deleted_at, deleted_by`

func scanSecret(s rowScanner) (Secret, error) {
	var sec Secret
	var updated, seen, deleted nullTime
	err := s.Scan(&sec.Repo, &sec.Scope, &sec.Environment, &sec.Name, &updated, &seen, &deleted, &sec.DeletedBy)
	if err != nil {
		return sec, err
	}
	if sec.UpdatedAt, err = updated.Time(); err != nil {
		return sec, err
	}
	if sec.Seen, err = seen.Time(); err != nil {
		return sec, err
	}
	sec.DeletedAt, err = deleted.Ptr()
	return sec, err
}

// Secrets returns a repository's repository and environment secrets,
// deleted or not, by scope, environment and name; repo "" returns the
// organisation secrets.
func (l *Ledger) Secrets(ctx context.Context, repo string) ([]Secret, error) {
	var out []Secret
	err := l.read(ctx, fmt.Sprintf("read secrets of %q", repo), func(r *reader) error {
		var err error
		out, err = collect(r, scanSecret, `SELECT `+secretColumns+` FROM secrets
			WHERE ifnull(repo, '') = ? ORDER BY scope, environment, name`, repo)
		return err
	})
	return out, err
}

// RecordReminder records that a reminder was sent for a repository and
// topic: its issue, escalation level and message. The reminder is open and
// LastSent is now.
func (l *Ledger) RecordReminder(ctx context.Context, r Reminder) error {
	return l.write(ctx, fmt.Sprintf("record reminder %q of %q", r.Topic, r.Repo), func(t *tx) error {
		if r.Topic == "" {
			return errors.New("the reminder has no topic")
		}
		if err := requireRepo(t, r.Repo); err != nil {
			return err
		}
		_, err := t.exec(`INSERT INTO reminders (repo, topic, issue_number, issue_url, level, state, message, last_sent)
			VALUES (?, ?, ?, ?, ?, 'open', ?, ?)
			ON CONFLICT (repo, topic) DO UPDATE SET
				issue_number = excluded.issue_number, issue_url = excluded.issue_url, level = excluded.level,
				state = 'open', message = excluded.message, last_sent = excluded.last_sent, closed_at = NULL`,
			r.Repo, r.Topic, r.IssueNumber, r.IssueURL, r.Level, r.Message, dbTime(t.now))
		return err
	})
}

// CloseReminder records that a reminder was resolved (its issue closed).
// It returns an error wrapping ErrNotFound for an unknown reminder.
func (l *Ledger) CloseReminder(ctx context.Context, repo, topic string) error {
	return l.write(ctx, fmt.Sprintf("close reminder %q of %q", topic, repo), func(t *tx) error {
		res, err := t.exec(`UPDATE reminders SET state = 'closed', closed_at = ifnull(closed_at, ?) WHERE repo = ? AND topic = ?`,
			dbTime(t.now), repo, topic)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("reminder %q of %q: %w", topic, repo, ErrNotFound)
		}
		return nil
	})
}

const reminderColumns = `repo, topic, issue_number, issue_url, level, state, message, last_sent, closed_at`

func scanReminder(s rowScanner) (Reminder, error) {
	var r Reminder
	var sent, closed nullTime
	err := s.Scan(&r.Repo, &r.Topic, &r.IssueNumber, &r.IssueURL, &r.Level, &r.State, &r.Message, &sent, &closed)
	if err != nil {
		return r, err
	}
	if r.LastSent, err = sent.Time(); err != nil {
		return r, err
	}
	r.ClosedAt, err = closed.Ptr()
	return r, err
}

// Reminder returns the reminder of a repository and topic, or an error
// wrapping ErrNotFound.
func (l *Ledger) Reminder(ctx context.Context, repo, topic string) (Reminder, error) {
	var out Reminder
	err := l.read(ctx, fmt.Sprintf("read reminder %q of %q", topic, repo), func(r *reader) error {
		var err error
		out, err = one(r, fmt.Sprintf("reminder %q of %q", topic, repo), scanReminder,
			`SELECT `+reminderColumns+` FROM reminders WHERE repo = ? AND topic = ?`, repo, topic)
		return err
	})
	return out, err
}

// Reminders returns every reminder, by repository and topic.
func (l *Ledger) Reminders(ctx context.Context) ([]Reminder, error) {
	var out []Reminder
	err := l.read(ctx, "read reminders", func(r *reader) error {
		var err error
		out, err = collect(r, scanReminder, `SELECT `+reminderColumns+` FROM reminders ORDER BY repo, topic`)
		return err
	})
	return out, err
}
