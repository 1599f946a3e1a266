package ledger

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
)

// ErrSecretValue is returned (wrapped) when a value about to be written
// looks like a token. The error never contains the value.
var ErrSecretValue = errors.New("value looks like a token and is never written to the ledger")

// tokenPatterns are the shapes of the credentials cutover handles.
var tokenPatterns = []struct {
	kind string
	re   *regexp.Regexp
}{
	{"an npm token", regexp.MustCompile(`npm_[A-Za-z0-9]{36}`)},
	{"a GitHub token", regexp.MustCompile(`gh[pousr]_[A-Za-z0-9]{20,}`)},
	{"a GitHub fine-grained token", regexp.MustCompile(`github_pat_[A-Za-z0-9_]{22,}`)},
}

// CheckNoSecret returns an error wrapping ErrSecretValue when s contains
// something shaped like an npm or GitHub token, and nil otherwise. Every
// string the ledger writes passes through it.
func CheckNoSecret(s string) error {
	for _, p := range tokenPatterns {
		if p.re.MatchString(s) {
			return fmt.Errorf("refusing a value holding what looks like %s: %w", p.kind, ErrSecretValue)
		}
	}
	return nil
}

// checkArgs applies CheckNoSecret to every text argument of a statement.
func checkArgs(args []any) error {
	for _, a := range args {
		var err error
		switch v := a.(type) {
		case string:
			err = CheckNoSecret(v)
		case []byte:
			err = CheckNoSecret(string(v))
		case nil:
		default:
			// Named string types (rewrite.Credential) reach SQLite as text too.
			if rv := reflect.ValueOf(a); rv.Kind() == reflect.String {
				err = CheckNoSecret(rv.String())
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Redact returns s with everything token-shaped replaced by "[redacted]".
// Free text from elsewhere, such as an error from a failed push or a
// command line found in a workflow, can be passed through it before it is
// recorded; the ledger itself refuses token-shaped values rather than
// altering them silently.
func Redact(s string) string {
	for _, p := range tokenPatterns {
		s = p.re.ReplaceAllLiteralString(s, "[redacted]")
	}
	return s
}

// redactedError is an error whose text had a token cut out; errors.Is and
// errors.As still see the original.
type redactedError struct {
	msg string
	err error
}

// Error returns the redacted text.
func (e *redactedError) Error() string { return e.msg }

// Unwrap returns the original error.
func (e *redactedError) Unwrap() error { return e.err }

// scrub makes sure an error the ledger returns never carries a token in
// its text, even one the caller passed as a name.
func scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if r := Redact(msg); r != msg {
		return &redactedError{msg: r, err: err}
	}
	return err
}
