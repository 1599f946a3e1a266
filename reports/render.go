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

// redactOutput is the last line of defence: a rendered report passes
// through the redactor as a whole.
func (r *Report) redactOutput(b []byte) []byte {
	red := r.red
	if red == nil {
		red = &logging.Redactor{}
	}
	s := string(b)
	if !red.Contains(s) {
		return b
	}
	return []byte(red.Redact(s))
}

// mdBlockedMax is how many blocked repositories the Markdown summary lists.
const mdBlockedMax = 25

var mdTemplate = sync.OnceValues(func() (*template.Template, error) {
	t, err := template.New("report.md.tmpl").Funcs(template.FuncMap{
		"md":    mdEscape,
		"code":  mdCode,
		"label": stateLabel,
		"pct":   fmtPercent,
		"time":  fmtTime,
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

type mdView struct {
	*Report
	States      []stateCount
	Blocked     []Card
	MoreBlocked int
	Link        string
}

func newMDView(r *Report) *mdView {
	v := &mdView{Report: r, Link: mdURL(r.Campaign.ReportURL)}
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
