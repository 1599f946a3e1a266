package reports

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/templates"
)

// HTML renders the report as one self-contained page: inline CSS, inline
// SVG charts and a little inline JavaScript (sorting and filtering; the page
// reads well without it), no external requests (its Content-Security-Policy
// forbids them), and every text from the ledger escaped by html/template.
func HTML(r *Report) ([]byte, error) {
	page, err := htmlPage()
	if err != nil {
		return nil, err
	}
	v, err := newHTMLView(r, page)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(v.Data) + 300_000)
	if err := page.t.Execute(&buf, v); err != nil {
		return nil, fmt.Errorf("could not render the HTML report: %w", err)
	}
	return r.redactOutput(buf.Bytes()), nil
}

// htmlAssets are the page's template, its inline style and script, and
// the Content-Security-Policy that allows exactly them.
type htmlAssets struct {
	t   *template.Template
	css template.CSS
	js  template.JS
	csp string
}

var htmlPage = sync.OnceValues(func() (*htmlAssets, error) {
	css, err := templates.FS.ReadFile("report/report.css")
	if err != nil {
		return nil, err
	}
	js, err := templates.FS.ReadFile("report/report.js")
	if err != nil {
		return nil, err
	}
	a := &htmlAssets{css: template.CSS(css), js: template.JS(js),
		csp: "default-src 'none'; style-src '" + cspHash(css) + "'; script-src '" + cspHash(js) +
			"'; img-src 'none'; base-uri 'none'; form-action 'none'"}
	a.t, err = template.New("report.html.tmpl").Funcs(htmlFuncs).ParseFS(templates.FS, "report/report.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("could not parse the HTML report template: %w", err)
	}
	return a, nil
})

// cspHash is the CSP source expression for an inline element's exact text.
func cspHash(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

var stateLabels = map[string]string{
	StateNotPublishing: "not publishing", StateInventoried: "inventoried", StatePlanned: "planned",
	StatePROpen: "PR open", StateMerged: "merged", StateFlagOn: "flag on", StateVerified: "verified",
	StateBridged: "bridged", StateDone: "done", StateBlocked: "blocked",
}

// stateMeanings explain each repository state for the report's legend.
var stateMeanings = map[string]string{
	StateNotPublishing: "detection found no npm publishing; nothing to migrate",
	StateInventoried:   "publishes to npm (or is not classified yet) and is in no wave",
	StatePlanned:       "in a wave; no campaign branch or pull request yet",
	StatePROpen:        "the campaign pull request is open",
	StateMerged:        "the pull request is merged; the OIDC flag is not on yet",
	StateFlagOn:        "publishes through OIDC (flag on, or already migrated); no canary verified yet",
	StateVerified:      "a canary release is verified; its npm token or token secret is not all gone yet",
	StateBridged:       "token-bridge path merged: a token remains by design, confined to the publish step",
	StateDone:          "publishes through OIDC, verified, with no npm token or token secret left",
	StateBlocked:       "the last step failed, the pull request was closed unmerged, the last canary verification failed or a release failed after flag on; the card says why and what to do",
}

// waveMeanings explain each wave state for the report's legend.
var waveMeanings = []struct{ Name, Text string }{
	{"planned", "no repository of the wave was applied yet"},
	{"running", "apply is working through the wave"},
	{"gated", "the wave was applied and waits for its gate (checks green, merged or verified, as the gate requires, with no more failures than it allows) before the next wave starts"},
	{"done", "the wave met its gate"},
}

type legendItem struct{ Name, Label, Text string }

func stateLegend() []legendItem {
	var out []legendItem
	for _, s := range States() {
		out = append(out, legendItem{Name: s, Label: stateLabel(s), Text: stateMeanings[s]})
	}
	return out
}

// waveTitle names a wave for people: "wave 1", or "wave 0 (canaries)";
// a name that only repeats the number is left out.
func waveTitle(n int, name string) string {
	t := "wave " + strconv.Itoa(n)
	name = strings.TrimSpace(name)
	if name == "" || strings.EqualFold(name, t) || name == strconv.Itoa(n) {
		return t
	}
	return t + " (" + name + ")"
}

// lastStepText says what last happened to a repository: its latest event
// or engine step, whichever is later.
func lastStepText(c *Card) string {
	if e := c.LastEvent; e != nil && (c.LastStep == nil || e.At.After(c.LastStep.At)) {
		return cmp.Or(e.Message, e.Kind) + " (" + e.Kind + "), " + fmtTime(e.At)
	}
	if s := c.LastStep; s != nil {
		t := s.Name + " " + s.Outcome
		if s.Reason != "" {
			t += " (" + s.Reason + ")"
		}
		return t + ", attempt " + strconv.Itoa(s.Attempts) + ", " + fmtTime(s.At)
	}
	return ""
}

func stateLabel(s string) string {
	if l, ok := stateLabels[s]; ok {
		return l
	}
	return s
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func fmtPercent(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + "%" }

var htmlFuncs = template.FuncMap{
	"time": fmtTime,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return fmtTime(t)
	},
	"iso": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"wave": func(w *int) string {
		if w == nil {
			return "—"
		}
		return strconv.Itoa(*w)
	},
	"wavesort": func(w *int) int {
		if w == nil {
			return 1 << 30
		}
		return *w
	},
	"rank":  func(s string) int { return stateRank[s] },
	"label": stateLabel,
	"pct":   fmtPercent,
	"ratio": func(r float64) string { return fmtPercent(math.Round(r*1000) / 10) },
	"sub":   func(a, b int) int { return a - b },
	"canary": func(cs []Canary) string {
		if len(cs) == 0 {
			return "—"
		}
		for _, c := range cs {
			if !c.Passed {
				return "failed " + c.Version
			}
		}
		s := "verified " + cs[0].Version
		if len(cs) > 1 {
			s += fmt.Sprintf(" (+%d)", len(cs)-1)
		}
		return s
	},
	"trustclass": func(s string) string {
		switch s {
		case "configured":
			return "pass"
		case "missing", "mismatch":
			return "fail"
		}
		return "pending"
	},
	"sevclass": func(s string) string {
		switch s {
		case "error":
			return "fail"
		case "warning":
			return "warn"
		}
		return "skipped"
	},
	"cardview":  func(i int, c Card) cardView { return cardView{Index: i, Card: c} },
	"wavetitle": waveTitle,
	"laststep":  func(c Card) string { return lastStepText(&c) },
}

type cardView struct {
	Index int
	Card  Card
}

type htmlView struct {
	*Report
	CSS       template.CSS
	JS        template.JS
	CSP       string
	States    []stateCount
	Overall   []segment
	WaveChart waveChart
	Burn      burnChart
	// CardIndex maps a repository's name to the index of its card.
	CardIndex map[string]int
	// Legend explains every repository state; WaveLegend every wave state.
	Legend     []legendItem
	WaveLegend []struct{ Name, Text string }
	// Data is the embedded data the script draws the long tables and the
	// cards from (see htmldata.go).
	Data template.JS
	// FirstRepos, FirstRevoked and FirstCanaries are the rows drawn in the
	// page for readers without JavaScript; More* count the rest.
	FirstRepos                           []Card
	FirstRevoked                         []Revocation
	FirstCanaries                        []Canary
	MoreRepos, MoreRevoked, MoreCanaries int
	// WaveStates counts the repositories per wave and state, a table that
	// reads without JavaScript; StateCols are its state columns.
	WaveStates []waveStateRow
	StateCols  []stateCount
}

// staticRows is how many rows of each long table the page holds itself.
const staticRows = 100

type waveStateRow struct {
	Label  string
	Counts []int
	Total  int
}

type stateCount struct {
	Name, Label string
	Count       int
}

type segment struct {
	X, Y, W float64
	Class   string
	Title   string
}

type chartRow struct {
	Label         string
	Total         int
	TextY, CountX float64
	Segs          []segment
}

type waveChart struct {
	Width, Height float64
	Rows          []chartRow
}

type tick struct {
	Pos, At float64
	Label   string
	Anchor  string
}

type burnChart struct {
	Width, Height            float64
	Left, Right, Top, Bottom float64
	Remaining, Finished      string
	YTicks, XTicks           []tick
	Desc                     string
}

func newHTMLView(r *Report, a *htmlAssets) (*htmlView, error) {
	v := &htmlView{Report: r, CSS: a.css, JS: a.js, CSP: a.csp, CardIndex: make(map[string]int, len(r.Repos)),
		Legend: stateLegend(), WaveLegend: waveMeanings}
	for i, c := range r.Repos {
		v.CardIndex[c.Repo] = i
	}
	data, err := encodeHTMLData(newHTMLData(r, v.CardIndex))
	if err != nil {
		return nil, err
	}
	v.Data = template.JS(data)
	v.FirstRepos, v.MoreRepos = capped(r.Repos, staticRows)
	v.FirstRevoked, v.MoreRevoked = capped(r.RevokedTokens, staticRows)
	v.FirstCanaries, v.MoreCanaries = capped(r.VerifiedCanaries, staticRows)
	for _, s := range States() {
		v.States = append(v.States, stateCount{Name: s, Label: stateLabel(s), Count: r.Summary.ByState[s]})
	}
	x := 0.0
	total := len(r.Repos)
	for _, s := range v.States {
		if s.Count == 0 {
			continue
		}
		w := 1000 * float64(s.Count) / float64(total)
		v.Overall = append(v.Overall, segment{X: x, W: w, Class: s.Name, Title: fmt.Sprintf("%d %s", s.Count, s.Label)})
		x += w
	}
	v.WaveChart = newWaveChart(r)
	v.Burn = newBurnChart(r.Burndown)
	v.StateCols, v.WaveStates = waveStates(r, v.States)
	return v, nil
}

// waveStates counts the repositories of each wave (and of none) in each
// state that any repository is in.
func waveStates(r *Report, states []stateCount) ([]stateCount, []waveStateRow) {
	var cols []stateCount
	for _, s := range states {
		if s.Count > 0 {
			cols = append(cols, s)
		}
	}
	row := func(label string, by map[string]int) waveStateRow {
		w := waveStateRow{Label: label}
		for _, c := range cols {
			w.Counts = append(w.Counts, by[c.Name])
			w.Total += by[c.Name]
		}
		return w
	}
	var rows []waveStateRow
	for _, w := range r.Waves {
		rows = append(rows, row(waveTitle(w.Number, w.Name), w.ByState))
	}
	none := map[string]int{}
	for _, c := range r.Repos {
		if c.Wave == nil {
			none[c.State]++
		}
	}
	if nw := row("no wave", none); nw.Total > 0 {
		rows = append(rows, nw)
	}
	return cols, rows
}

func newWaveChart(r *Report) waveChart {
	type row struct {
		label  string
		counts map[string]int
		total  int
	}
	var rows []row
	for _, w := range r.Waves {
		label := fmt.Sprintf("Wave %d", w.Number)
		if t := waveTitle(w.Number, w.Name); len(t) > len(label) {
			label += " · " + strings.TrimSpace(w.Name)
		}
		rw := row{label: truncate(label, 28), counts: w.ByState}
		for _, n := range w.ByState {
			rw.total += n
		}
		rows = append(rows, rw)
	}
	unplanned := row{label: "No wave yet", counts: map[string]int{}}
	for _, c := range r.Repos {
		if c.Wave == nil && c.State != StateNotPublishing {
			unplanned.counts[c.State]++
			unplanned.total++
		}
	}
	if unplanned.total > 0 {
		rows = append(rows, unplanned)
	}
	most := 1
	for _, rw := range rows {
		most = max(most, rw.total)
	}
	const labelW, barW, rowH = 210.0, 700.0, 28.0
	wc := waveChart{Width: 1000, Height: rowH*float64(len(rows)) + 6}
	for i, rw := range rows {
		y := rowH*float64(i) + 3
		cr := chartRow{Label: rw.label, Total: rw.total, TextY: y + 15}
		x := labelW
		for _, s := range States() {
			n := rw.counts[s]
			if n == 0 {
				continue
			}
			w := barW * float64(n) / float64(most)
			cr.Segs = append(cr.Segs, segment{X: x, Y: y, W: w, Class: s, Title: fmt.Sprintf("%d %s", n, stateLabel(s))})
			x += w
		}
		cr.CountX = x + 8
		wc.Rows = append(wc.Rows, cr)
	}
	return wc
}

func newBurnChart(pts []BurndownPoint) burnChart {
	bc := burnChart{Width: 1000, Height: 280, Left: 60, Right: 970, Top: 12, Bottom: 240}
	if len(pts) == 0 {
		return bc
	}
	if len(pts) == 1 {
		pts = []BurndownPoint{pts[0], pts[0]}
	}
	t0, t1 := pts[0].At, pts[len(pts)-1].At
	span := t1.Sub(t0)
	most := 1
	for _, p := range pts {
		most = max(most, p.Remaining, p.Finished)
	}
	xs := make([]float64, len(pts))
	for i, p := range pts {
		if span <= 0 {
			xs[i] = bc.Left + (bc.Right-bc.Left)*float64(i)/float64(len(pts)-1)
		} else {
			xs[i] = bc.Left + (bc.Right-bc.Left)*float64(p.At.Sub(t0))/float64(span)
		}
	}
	y := func(n int) float64 { return bc.Bottom - (bc.Bottom-bc.Top)*float64(n)/float64(most) }
	line := func(val func(BurndownPoint) int) string {
		var b []byte
		for i, p := range pts {
			if i > 0 {
				b = fmt.Appendf(b, " %.1f,%.1f", xs[i], y(val(pts[i-1])))
			}
			if i > 0 {
				b = append(b, ' ')
			}
			b = fmt.Appendf(b, "%.1f,%.1f", xs[i], y(val(p)))
		}
		return string(b)
	}
	bc.Remaining = line(func(p BurndownPoint) int { return p.Remaining })
	bc.Finished = line(func(p BurndownPoint) int { return p.Finished })
	for _, n := range []int{0, most / 2, most} {
		if n == 0 && most == 0 || (n == most/2 && (most < 2)) {
			continue
		}
		bc.YTicks = append(bc.YTicks, tick{Pos: y(n), At: bc.Left - 6, Label: strconv.Itoa(n)})
	}
	layout := "2006-01-02"
	if span < 48*time.Hour {
		layout = "01-02 15:04"
	}
	bc.XTicks = append(bc.XTicks, tick{Pos: bc.Left, At: bc.Bottom + 18, Label: t0.UTC().Format(layout), Anchor: "start"})
	if span > 0 {
		mid := t0.Add(span / 2)
		bc.XTicks = append(bc.XTicks,
			tick{Pos: (bc.Left + bc.Right) / 2, At: bc.Bottom + 18, Label: mid.UTC().Format(layout), Anchor: "middle"},
			tick{Pos: bc.Right, At: bc.Bottom + 18, Label: t1.UTC().Format(layout), Anchor: "end"})
	}
	first, last := pts[0], pts[len(pts)-1]
	bc.Desc = fmt.Sprintf("From %s to %s the unfinished repositories went from %d to %d; %d finished.",
		fmtTime(t0), fmtTime(t1), first.Remaining, last.Remaining, last.Finished)
	return bc
}
