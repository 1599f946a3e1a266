package logging

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Redacted replaces every secret that a Redactor finds.
const Redacted = "[REDACTED]"

// MinSecretLen is the length below which a configured secret value is not
// redacted, so that a short or empty value does not blank out everything.
const MinSecretLen = 8

// tokenRE matches token shapes that are secret wherever they appear: npm
// tokens (npm_ and 36 letters or digits; any npm_ followed by 20 or more),
// GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained GitHub PATs.
var tokenRE = regexp.MustCompile(`npm_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9_]{20,}|github_pat_[A-Za-z0-9_]{20,}`)

// Redactor replaces token values in text with [REDACTED]. The zero value and
// a nil *Redactor redact the token patterns only.
type Redactor struct {
	values []string // longest first, so a value containing another is replaced whole
}

// NewRedactor returns a Redactor that also replaces each of the given literal
// values; values shorter than MinSecretLen (after trimming space) are ignored.
func NewRedactor(values ...string) *Redactor {
	r := &Redactor{}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) >= MinSecretLen && !slices.Contains(r.values, v) {
			r.values = append(r.values, v)
		}
	}
	slices.SortFunc(r.values, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return r
}

// NewEnvRedactor returns a Redactor for the values of the named environment
// variables, read with getenv.
func NewEnvRedactor(getenv func(string) string, names ...string) *Redactor {
	var values []string
	if getenv != nil {
		for _, n := range names {
			values = append(values, getenv(n))
		}
	}
	return NewRedactor(values...)
}

// Redact returns s with every token pattern and configured value replaced by
// [REDACTED].
func (r *Redactor) Redact(s string) string {
	if r != nil {
		for _, v := range r.values {
			if strings.Contains(s, v) {
				s = strings.ReplaceAll(s, v, Redacted)
			}
		}
	}
	if tokenRE.MatchString(s) {
		s = tokenRE.ReplaceAllLiteralString(s, Redacted)
	}
	return s
}

// Contains reports whether s holds anything Redact would replace.
func (r *Redactor) Contains(s string) bool {
	return r.Redact(s) != s
}

// RedactCut redacts s with r (a nil r redacts the token patterns) and then
// cuts it to at most n bytes at a character boundary, ending in "…" when
// cut. Redacting first matters: a token cut in two no longer matches its
// pattern, and its first part would be printed.
func (r *Redactor) RedactCut(s string, n int) string {
	s = r.Redact(s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
