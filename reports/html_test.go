package reports

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// dataURLs are the links the report's data provides: the only absolute
// addresses the page may hold.
func dataURLs(r *Report) map[string]bool {
	ok := map[string]bool{}
	add := func(u string) {
		if u != "" {
			ok[u] = true
		}
	}
	for _, c := range r.Repos {
		if c.PR != nil {
			add(c.PR.URL)
		}
		for _, p := range c.Packages {
			add(p.URL)
		}
		for _, tp := range c.TrustedPublishers {
			add(tp.SettingsURL)
		}
		for _, cn := range c.Canaries {
			add(cn.URL)
		}
		for _, m := range c.ManualSteps {
			add(m.URL)
		}
	}
	return ok
}

func parseHTML(t *testing.T, page []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

func TestHTML(t *testing.T) {
	t.Parallel()
	r := Build(loadSnapshot(t), fixtureMeta())
	page, err := HTML(r)
	if err != nil {
		t.Fatal(err)
	}
	doc := parseHTML(t, page)
	allowed := dataURLs(r)
	var scripts, datas, styles []*html.Node
	var csp string
	tables, heads := 0, 0
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.DataAtom {
		case atom.Script:
			if typ, _ := attr(n, "type"); typ == "application/json" {
				datas = append(datas, n)
			} else {
				scripts = append(scripts, n)
			}
		case atom.Style:
			styles = append(styles, n)
		case atom.Link, atom.Img, atom.Iframe, atom.Object, atom.Embed, atom.Base, atom.Form:
			t.Errorf("the page has a <%s> element", n.Data)
		case atom.Meta:
			if v, _ := attr(n, "http-equiv"); v == "Content-Security-Policy" {
				csp, _ = attr(n, "content")
			}
		case atom.Table:
			tables++
		case atom.Th:
			heads++
			if s, _ := attr(n, "scope"); s != "col" && s != "row" {
				t.Errorf("<th> %q has scope %q, want col or row", textOf(n), s)
			}
		}
		for _, a := range n.Attr {
			key := strings.ToLower(a.Key)
			switch {
			case key == "src" || key == "srcset" || key == "action" || key == "formaction" || key == "xlink:href":
				t.Errorf("<%s %s=%q>: the page must not load anything", n.Data, a.Key, a.Val)
			case strings.HasPrefix(key, "on"):
				t.Errorf("<%s> has an event handler attribute %s=%q", n.Data, a.Key, a.Val)
			case key == "href" && !strings.HasPrefix(a.Val, "#") && !allowed[a.Val]:
				t.Errorf("<%s href=%q> is not a link the data provides", n.Data, a.Val)
			case key == "style":
				t.Errorf("<%s style=%q>: inline style attributes are blocked by the CSP", n.Data, a.Val)
			}
		}
	})
	if tables < 5 || heads == 0 {
		t.Errorf("%d tables with %d headers, want the waves, repositories, failures, revoked tokens and canaries tables", tables, heads)
	}
	if len(scripts) != 1 || len(styles) != 1 || len(datas) != 1 {
		t.Fatalf("%d scripts, %d data blocks and %d styles, want one of each", len(scripts), len(datas), len(styles))
	}
	// The data block never runs and holds no markup: the page's script
	// reads it as JSON.
	var data htmlData
	if id, _ := attr(datas[0], "id"); id != "report-data" {
		t.Errorf("the data block's id is %q", id)
	}
	if err := json.Unmarshal([]byte(textOf(datas[0])), &data); err != nil {
		t.Fatalf("the data block is not JSON: %v", err)
	}
	if raw := textOf(datas[0]); strings.ContainsAny(raw, "<>") {
		t.Error("the data block holds < or > unescaped")
	}
	if data.Version != htmlDataVersion || len(data.Repos) != len(r.Repos) {
		t.Errorf("data version %d with %d repositories, want %d and %d", data.Version, len(data.Repos), htmlDataVersion, len(r.Repos))
	}
	for i, rec := range data.Repos {
		if got := data.Strings[int(rec[dRepo].(float64))]; got != r.Repos[i].Repo {
			t.Errorf("data record %d names %q, want %q", i, got, r.Repos[i].Repo)
		}
		if len(rec) != dFields {
			t.Errorf("data record %d has %d fields, want %d", i, len(rec), dFields)
		}
	}
	for _, el := range []*html.Node{scripts[0], styles[0]} {
		sum := sha256.Sum256([]byte(textOf(el)))
		if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, h) {
			t.Errorf("the CSP %q does not allow the inline <%s> (%s)", csp, el.Data, h)
		}
	}
	if !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("the CSP %q does not forbid loading by default", csp)
	}
	if css := textOf(styles[0]); strings.Contains(css, "url(") || strings.Contains(css, "@import") {
		t.Error("the CSS loads something")
	}

	// Text from repositories is text, never markup.
	for _, raw := range []string{"<script>alert", "<img src=x", "<b>team</b>"} {
		if bytes.Contains(page, []byte(raw)) {
			t.Errorf("the page holds %q unescaped", raw)
		}
	}
	found := map[string]bool{}
	walk(doc, func(n *html.Node) {
		if n.Type == html.TextNode {
			for _, s := range []string{"acme/<script>alert(1)</script>", "xss-<img src=x onerror=alert(1)>", "@acme/<b>team</b>"} {
				if strings.Contains(n.Data, s) {
					found[s] = true
				}
			}
		}
	})
	if len(found) != 3 {
		t.Errorf("injection payloads shown as text: %v, want all three", found)
	}

	// Every repository has its card, and the table links to it.
	for _, want := range []string{`id="r0"`, `href="#r0"`, `id="r12"`, `id="repo-table"`, `<caption>`, `aria-labelledby="wc-t wc-d"`, `class="line-remaining"`} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the page has no %s", want)
		}
	}
}

// TestHTMLControlsHiddenWithoutScript checks that the page reads without
// JavaScript: the filter controls, which need it, start hidden.
func TestHTMLControlsHiddenWithoutScript(t *testing.T) {
	t.Parallel()
	page, err := HTML(Build(loadSnapshot(t), fixtureMeta()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte(`<div class="controls" hidden>`)) {
		t.Error("the filter controls are not hidden for readers without JavaScript")
	}
}

// TestHTMLSize holds the page of 1,000 repositories under 1 MB and that of
// 10,000 under 10 MB (the browser test also measures how fast it draws).
func TestHTMLSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ repos, limit int }{{1000, 1 << 20}, {10_000, 10 << 20}} {
		if testing.Short() && tc.repos > 1000 {
			continue
		}
		r := Build(synth(tc.repos), fixtureMeta())
		page, err := HTML(r)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("report.html for %d repositories: %d bytes", tc.repos, len(page))
		if len(page) > tc.limit {
			t.Errorf("report.html for %d repositories is %d bytes, over %d", tc.repos, len(page), tc.limit)
		}
	}
}

// BenchmarkReport builds the report of 500 repositories and renders all three outputs.
func BenchmarkReport(b *testing.B) {
	for _, n := range []int{500, 1000, 10_000} {
		snap := synth(n)
		b.Run(fmt.Sprintf("%drepos", n), func(b *testing.B) {
			var size int
			for b.Loop() {
				r := Build(snap, fixtureMeta())
				j, err := JSON(r)
				if err != nil {
					b.Fatal(err)
				}
				h, err := HTML(r)
				if err != nil {
					b.Fatal(err)
				}
				m, err := Markdown(r)
				if err != nil {
					b.Fatal(err)
				}
				size = len(j) + len(h) + len(m)
			}
			b.ReportMetric(float64(size), "bytes/op-output")
		})
	}
}

// TestHTMLHiddenWins makes sure no author rule shows an element the page
// hides (the UA's [hidden] rule loses to any display declaration).
func TestHTMLHiddenWins(t *testing.T) {
	t.Parallel()
	page, err := htmlPage()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page.css), "[hidden]{display:none!important}") {
		t.Error("the CSS lets display rules override the hidden attribute")
	}
}
