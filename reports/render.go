package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"text/template"

	"github.com/cutover/cutover/internal/logging"
	"github.com/cutover/cutover/templates"
)

// JSON renders the report as the versioned JSON document described by
// schema/report.v1.json: indented, with a final newline.
func JSON(r *Report) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("could not encode the JSON report: %w", err)
	}
	return r.redactOutput(append(b, '\n')), nil
}

// Markdown renders a short summary of the report for $GITHUB_STEP_SUMMARY,
// pull request comments and chat: progress, blocked repositories with their
// reasons, revoked tokens and verified canaries, and a link to the HTML
// report. Text from the ledger is escaped so it cannot add markup.
func Markdown(r *Report) ([]byte, error) {
	t, err := mdTemplate()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, newMDView(r)); err != nil {
		return nil, fmt.Errorf("could not render the Markdown report: %w", err)
	}
	return r.redactOutput(buf.Bytes()), nil
}

// redactOutput is the last line of defence: every string of the model
// was redacted while it was built, and a rendered report that still holds
// something token-shaped passes through the redactor as a whole.
func (r *Report) redactOutput(b []byte) []byte {
	if !tokenShaped(b) {
		return b
	}
	red := r.red
	if red == nil {
		red = &logging.Redactor{}
	}
	return []byte(red.Redact(string(b)))
}

// tokenShaped reports whether b may hold an npm or GitHub token: a prefix
// (npm_, ghp_, gho_, ghu_, ghs_, ghr_ or github_pat_) followed by at least
// 20 token characters. It is a fast, generous filter for the redactor's
// patterns, which are too slow to run over every page.
func tokenShaped(b []byte) bool {
	for _, prefix := range [][]byte{[]byte("npm_"), []byte("github_pat_"), []byte("gh")} {
		for i := 0; ; {
			j := bytes.Index(b[i:], prefix)
			if j < 0 {
				break
			}
			k := i + j + len(prefix)
			if len(prefix) == 2 { // gh then one of pousr then _
				if k+1 >= len(b) || bytes.IndexByte([]byte("pousr"), b[k]) < 0 || b[k+1] != '_' {
					i = k
					continue
				}
				k += 2
			}
			n := 0
			for k+n < len(b) && isTokenByte(b[k+n]) {
				n++
			}
			if n >= 20 {
				return true
			}
			i = k
		}
	}
	return false
}

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// mdBlockedMax is how many blocked repositories the Markdown summary lists.
const mdBlockedMax = 25

var mdTemplate = sync.OnceValues(func() (*template.Template, error) {
	t, err := template.New("report.md.tmpl").Funcs(template.FuncMap{
		"md":        mdEscape,
		"wavetitle": waveTitle,
		"code":      mdCode,
		"label":     stateLabel,
		"pct":       fmtPercent,
		"time":      fmtTime,
		"wave": func(w *int) string {
			if w == nil {
				return "—"
			}
			return fmt.Sprint(*w)
		},
	}).ParseFS(templates.FS, "report/report.md.tmpl")
	if err != nil {
		return nil, fmt.Errorf("could not parse the Markdown report template: %w", err)
	}
	return t, nil
})

// mdListMax is how many revoked tokens and verified canaries the Markdown
// summary lists each.
const mdListMax = 15

type mdView struct {
	*Report
	States       []stateCount
	Blocked      []Card
	MoreBlocked  int
	Revoked      []Revocation
	MoreRevoked  int
	Canaries     []Canary
	MoreCanaries int
	Link         string
}

// capped returns the first n of s and how many more there are.
func capped[T any](s []T, n int) ([]T, int) {
	if len(s) <= n {
		return s, 0
	}
	return s[:n], len(s) - n
}

func newMDView(r *Report) *mdView {
	v := &mdView{Report: r, Link: mdURL(r.Campaign.ReportURL)}
	v.Revoked, v.MoreRevoked = capped(r.RevokedTokens, mdListMax)
	v.Canaries, v.MoreCanaries = capped(r.VerifiedCanaries, mdListMax)
	for _, s := range States() {
		if n := r.Summary.ByState[s]; n > 0 {
			v.States = append(v.States, stateCount{Name: s, Label: stateLabel(s), Count: n})
		}
	}
	for _, c := range r.Repos {
		if c.Blocked == nil {
			continue
		}
		if len(v.Blocked) == mdBlockedMax {
			v.MoreBlocked++
			continue
		}
		v.Blocked = append(v.Blocked, c)
	}
	return v
}

// mdEscape makes s plain text in Markdown and in the HTML that GitHub
// renders from it: inline markup characters are backslash-escaped, angle
// brackets and ampersands become entities, an @ gets a zero-width space so
// that it mentions nobody, and line breaks become spaces so that s stays
// in its table cell. s never starts a line, so block markup needs no escape.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '|', '~', '$':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '@':
			b.WriteString("@\u200b")
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode renders s as inline code; backticks and table pipes cannot end it.
func mdCode(s string) string {
	s = strings.NewReplacer("`", "'", "|", "¦", "\n", " ", "\r", " ").Replace(s)
	return "`` " + s + " ``"
}

// mdURL keeps a link target from breaking out of its parentheses.
func mdURL(s string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E", "\n", "", "\r", "").Replace(s)
}
