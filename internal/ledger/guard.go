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
	{"npm token", regexp.MustCompile(`npm_[A-Za-z0-9]{36}`)},
	{"GitHub token", regexp.MustCompile(`gh[pousr]_[A-Za-z0-9]{20,}`)},
	{"GitHub fine-grained token", regexp.MustCompile(`github_pat_[A-Za-z0-9_]{22,}`)},
}

// CheckNoSecret returns an error wrapping ErrSecretValue when s contains
// something shaped like an npm or GitHub token, and nil otherwise. Every
// string the ledger writes passes through it.
func CheckNoSecret(s string) error {
	for _, p := range tokenPatterns {
		if p.re.MatchString(s) {
			return fmt.Errorf("refusing a value holding what looks like a %s: %w", p.kind, ErrSecretValue)
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
