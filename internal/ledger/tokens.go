package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// UpsertTokens records npm tokens by key, in one transaction: metadata
// from the registry's token list, or tokens known from config. An empty
// Source or Repo keeps what was recorded before, so listing the registry
// does not forget which repository a token was recorded for. Token values
// are never accepted: a Prefix, Name or Key shaped like a token fails the
// whole batch with ErrSecretValue.
func (l *Ledger) UpsertTokens(ctx context.Context, tokens []Token) error {
	return l.write(ctx, fmt.Sprintf("record %d npm tokens", len(tokens)), func(t *tx) error {
		for _, tok := range tokens {
			if tok.Key == "" {
				return errors.New("a token has no key")
			}
			var repo any
			if tok.Repo != "" {
				if err := requireRepo(t, tok.Repo); err != nil {
					return fmt.Errorf("token %q: %w", tok.Key, err)
				}
				repo = tok.Repo
			}
			cidr := tok.CIDR
			if cidr == nil {
				cidr = []string{}
			}
			cidrJSON, err := json.Marshal(cidr)
			if err != nil {
				return err
			}
			var bypass any
			if tok.Bypass2FA != nil {
				bypass = boolInt(*tok.Bypass2FA)
			}
			_, err = t.exec(`INSERT INTO tokens (key, prefix, name, created, expires, readonly, cidr, bypass_2fa,
					source, repo, updated)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET
					prefix = excluded.prefix, name = excluded.name, created = excluded.created,
					expires = excluded.expires, readonly = excluded.readonly, cidr = excluded.cidr,
					bypass_2fa = coalesce(excluded.bypass_2fa, bypass_2fa),
					source = CASE WHEN excluded.source = '' THEN source ELSE excluded.source END,
					repo = coalesce(excluded.repo, repo),
					updated = excluded.updated`,
				tok.Key, tok.Prefix, tok.Name, dbTime(tok.Created), dbTimePtr(tok.Expires), boolInt(tok.Readonly),
				string(cidrJSON), bypass, tok.Source, repo, dbTime(t.now))
			if err != nil {
				return fmt.Errorf("token %q: %w", tok.Key, err)
			}
		}
		return nil
	})
}

const tokenColumns = `key, prefix, name, created, expires, readonly, cidr, bypass_2fa, source, repo, updated`

func scanToken(s rowScanner) (Token, error) {
	var tok Token
	var created, expires, updated nullTime
	var readonly int
	var cidr string
	var bypass sql.NullInt64
	var repo sql.NullString
	err := s.Scan(&tok.Key, &tok.Prefix, &tok.Name, &created, &expires, &readonly, &cidr, &bypass,
		&tok.Source, &repo, &updated)
	if err != nil {
		return tok, err
	}
	tok.Readonly = readonly != 0
	tok.Repo = repo.String
	if bypass.Valid {
		b := bypass.Int64 != 0
		tok.Bypass2FA = &b
	}
	if err := json.Unmarshal([]byte(cidr), &tok.CIDR); err != nil {
		return tok, fmt.Errorf("cidr of token %q: %w", tok.Key, err)
	}
	if len(tok.CIDR) == 0 {
		tok.CIDR = nil
	}
	if tok.Created, err = created.Time(); err != nil {
		return tok, err
	}
	if tok.Expires, err = expires.Ptr(); err != nil {
		return tok, err
	}
	tok.Updated, err = updated.Time()
	return tok, err
}

// Tokens returns every npm token known to the ledger, revoked or not, by key.
func (l *Ledger) Tokens(ctx context.Context) ([]Token, error) {
	var out []Token
	err := l.read(ctx, "read npm tokens", func(r *reader) error {
		var err error
		out, err = collect(r, scanToken, `SELECT `+tokenColumns+` FROM tokens ORDER BY key`)
		return err
	})
	return out, err
}

// Token returns an npm token by key, or an error wrapping ErrNotFound.
func (l *Ledger) Token(ctx context.Context, key string) (Token, error) {
	var out Token
	err := l.read(ctx, fmt.Sprintf("read npm token %q", key), func(r *reader) error {
		var err error
		out, err = one(r, fmt.Sprintf("npm token %q", key), scanToken,
			`SELECT `+tokenColumns+` FROM tokens WHERE key = ?`, key)
		return err
	})
	return out, err
}

// RecordRevocation records that npm revoked the token with this key, by
// whom, and appends an EventTokenRevoked event. The token must be recorded
// first (UpsertTokens). Recording a revocation again changes nothing and
// returns the first record.
func (l *Ledger) RecordRevocation(ctx context.Context, key, by string) (Revocation, error) {
	var out Revocation
	err := l.write(ctx, fmt.Sprintf("record revocation of npm token %q", key), func(t *tx) error {
		tok, err := one(t, fmt.Sprintf("npm token %q", key), scanToken,
			`SELECT `+tokenColumns+` FROM tokens WHERE key = ?`, key)
		if err != nil {
			return err
		}
		res, err := t.exec(`INSERT INTO revocations (key, revoked_at, revoked_by) VALUES (?, ?, ?)
			ON CONFLICT (key) DO NOTHING`, key, dbTime(t.now), by)
		if err != nil {
			return err
		}
		out, err = one(t, fmt.Sprintf("revocation of %q", key), scanRevocation,
			`SELECT `+revocationColumns+` FROM revocations v JOIN tokens k ON k.key = v.key WHERE v.key = ?`, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = appendEvent(t, Event{Kind: EventTokenRevoked, Repo: tok.Repo,
			Message: fmt.Sprintf("revoked npm token %s (%s)", tok.Prefix, tok.Name),
			Data:    eventData(map[string]string{"key": key, "prefix": tok.Prefix, "by": by})})
		return err
	})
	return out, err
}

const revocationColumns = `v.key, k.prefix, k.name, k.repo, v.revoked_at, v.revoked_by`

func scanRevocation(s rowScanner) (Revocation, error) {
	var v Revocation
	var repo sql.NullString
	var at nullTime
	if err := s.Scan(&v.Key, &v.Prefix, &v.Name, &repo, &at, &v.By); err != nil {
		return v, err
	}
	v.Repo = repo.String
	var err error
	v.RevokedAt, err = at.Time()
	return v, err
}

// Revocations returns every recorded revocation, oldest first.
func (l *Ledger) Revocations(ctx context.Context) ([]Revocation, error) {
	var out []Revocation
	err := l.read(ctx, "read revocations", func(r *reader) error {
		var err error
		out, err = collect(r, scanRevocation, `SELECT `+revocationColumns+`
			FROM revocations v JOIN tokens k ON k.key = v.key ORDER BY v.revoked_at, v.key`)
		return err
	})
	return out, err
}
