package reports

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Payloads planted in repository names, pull request titles, owners and
// finding texts: each would set window.__pwned if it ever ran.
var injections = []string{
	`<script>window.__pwned=1</script>`,
	`<img src=x onerror="window.__pwned=2">`,
	`"><svg onload=window.__pwned=3>`,
	`javascript:window.__pwned=4`,
}

// chromiumPath finds Debian's Chromium; .ci/run installs it. Without it
// the test skips, except when CI is set: there it fails, so the browser
// test cannot drop out of a CI run unnoticed.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed and CI is set (.ci/run installs Debian's chromium package)")
	}
	t.Skip("chromium is not installed (.ci/run installs Debian's chromium package)")
	return ""
}

// Limits of the 10,000-repository page (issue 16): its size, the time
// Chromium takes to load and draw it, and the time a filter takes.
const (
	browserRepos   = 10_000
	maxPageBytes   = 10 << 20
	maxRenderMilli = 3000
	maxFilterMilli = 200
)

// injectedSnapshot is synth(n) with the payloads in names, titles, owners
// and findings; the repository at index 7 is renamed to the first payload.
func injectedSnapshot(n int) (r *Report, page []byte, err error) {
	snap := synth(n)
	for i := range snap.Repos {
		rs := &snap.Repos[i]
		p := injections[i%len(injections)]
		if rs.Change != nil {
			rs.Change.Title = "ci: trusted publishing " + p
		}
		rs.Repo.Owner = "@team " + p
		if c := rs.Repo.Classification; c != nil && len(c.Findings) > 0 {
			c.Findings[0].Message = "finding " + p
		}
	}
	for _, k := range []int{7, 5007} {
		evil := snap.Repos[k].Repo.FullName
		renamed := fmt.Sprintf("org-x/%d-%s", k, injections[0])
		snap.Repos[k].Repo.FullName = renamed
		for w := range snap.Waves {
			for m, name := range snap.Waves[w].Members {
				if name == evil {
					snap.Waves[w].Members[m] = renamed
				}
			}
		}
	}
	r = Build(snap, Meta{GeneratedAt: snap.TakenAt, PackageURL: testRegistry + "package/"})
	page, err = HTML(r)
	return r, page, err
}

// loadFactor is how much slower than itself the machine runs now: the
// load average over the CPUs, at least 1. The timing limits are the
// issue's on a machine that is not oversubscribed and stretch by this
// factor on one that is (a shared CI runner), which the log says.
func loadFactor(t *testing.T) float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 1
	}
	var load float64
	if _, err := fmt.Sscan(string(b), &load); err != nil {
		return 1
	}
	f := max(1, load/float64(runtime.NumCPU()))
	if f > 1 {
		t.Logf("load average %.1f on %d CPUs: timing limits stretched %.1f×", load, runtime.NumCPU(), f)
	}
	return f
}

type browser struct {
	t   *testing.T
	ctx context.Context
}

func newBrowser(t *testing.T, dir string, w, h int) *browser {
	bin := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(filepath.Join(dir, fmt.Sprintf("profile-%d", w))), chromedp.WindowSize(w, h),
	}
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 150*time.Second)
	t.Cleanup(cancel)
	return &browser{t: t, ctx: ctx}
}

func (b *browser) run(what string, a chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, a); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

func eval[T any](b *browser, what, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// TestHTMLInBrowser loads the report of a 10,000-repository campaign in
// headless Chromium and measures it: the page's size, the time until it
// is loaded and drawn, and the time a filter takes (each within the
// limits above). It checks that the table pages, sorts and filters, that
// a card beyond the page's own rows is drawn when its link is opened,
// that the legend explains every state including "gated", and that
// injected markup is shown as text and never runs. A second run at a
// phone's viewport (375×812) checks that nothing overflows the page and
// that the charts' labels stay readable.
func TestHTMLInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	chromiumPath(t)
	r, page, err := injectedSnapshot(browserRepos)
	if err != nil {
		t.Fatal(err)
	}
	n := len(r.Repos)
	slack := loadFactor(t)
	t.Logf("report.html of %d repositories: %d bytes (%.1f MB)", n, len(page), float64(len(page))/(1<<20))
	if len(page) > maxPageBytes {
		t.Errorf("report.html of %d repositories is %d bytes, over %d", n, len(page), maxPageBytes)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("desktop", func(t *testing.T) {
		b := newBrowser(t, dir, 1300, 2000)
		start := time.Now()
		b.run("load the report", chromedp.Navigate("file://"+file))
		b.run("wait for the filter", chromedp.WaitVisible(chromedp.ID("filter-text")))
		wall := time.Since(start)
		// loadEventEnd: the page parsed, its data decoded and the first
		// page of rows drawn (the script runs before the load event).
		loaded := eval[float64](b, "navigation timing", `performance.getEntriesByType("navigation")[0].loadEventEnd`)
		paint := eval[float64](b, "paint timing", `(function () {
			var p = performance.getEntriesByName("first-contentful-paint")[0];
			return p ? p.startTime : -1;
		})()`)
		t.Logf("timing: %s", eval[string](b, "timing", `(function () {
			var n = performance.getEntriesByType("navigation")[0];
			return "responseEnd " + Math.round(n.responseEnd) + ", domInteractive " + Math.round(n.domInteractive) +
				", domContentLoaded " + Math.round(n.domContentLoadedEventEnd) + ", load " + Math.round(n.loadEventEnd);
		})()`))
		t.Logf("loaded and drawn in %.0f ms (first contentful paint %.0f ms; %v from navigation to a visible filter)", loaded, paint, wall.Round(time.Millisecond))
		if loaded <= 0 || loaded > maxRenderMilli*slack {
			t.Errorf("the page took %.0f ms to load and draw, over %.0f ms", loaded, maxRenderMilli*slack)
		}
		shot, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "report.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
		if len(shot) < 10_000 {
			t.Errorf("screenshot is only %d bytes", len(shot))
		}

		rows := `document.querySelectorAll("#repo-table tbody tr").length`
		if got := eval[int](b, "count rows", rows); got != 100 {
			t.Errorf("the repository table draws %d rows, want one page of 100", got)
		}
		if got := eval[string](b, "read the counter", `document.getElementById("filter-shown").textContent`); got != fmt.Sprintf("%d of %d repositories match", n, n) {
			t.Errorf("counter %q", got)
		}

		// Filtering, timed in the page: from the input event to the
		// table redrawn and laid out.
		type timed struct {
			Ms   float64 `json:"ms"`
			Rows int     `json:"rows"`
			Text string  `json:"text"`
		}
		// Each is timed three times (the first two undone), the best kept.
		measure := func(what, js string) timed {
			t.Helper()
			var v timed
			for i := range 3 {
				state := eval[[]string](b, "save the controls", `[document.getElementById("filter-text").value, document.getElementById("filter-state").value]`)
				x := eval[timed](b, what, `(function () {
				var q = document.getElementById("filter-text"), s = document.getElementById("filter-state");
				var t0 = performance.now();
				`+js+`
				document.body.offsetHeight;
				var ms = performance.now() - t0;
				return {ms: ms, rows: document.querySelectorAll("#repo-table tbody tr").length,
					text: document.getElementById("filter-shown").textContent};
			})()`)
				if i == 0 || x.Ms < v.Ms {
					v = x
				}
				if i < 2 && !strings.Contains(what, "page") && !strings.Contains(what, "sort") {
					eval[bool](b, "restore the controls", `(function (q, s) {
						var a = document.getElementById("filter-text"), b = document.getElementById("filter-state");
						a.value = q; b.value = s; b.dispatchEvent(new Event("change")); return true;
					})(`+fmt.Sprintf("%q, %q", state[0], state[1])+`)`)
				} else {
					break
				}
			}
			t.Logf("%s: %.1f ms, %d rows drawn, %q", what, v.Ms, v.Rows, v.Text)
			if v.Ms > maxFilterMilli*slack {
				t.Errorf("%s took %.1f ms, over %.0f ms", what, v.Ms, maxFilterMilli*slack)
			}
			return v
		}
		one := measure("filter by name", `q.value = "repo-0042"; q.dispatchEvent(new Event("input"));`)
		if one.Rows != 1 || one.Text != fmt.Sprintf("1 of %d repositories match", n) {
			t.Errorf("filter repo-0042: %d rows, counter %q", one.Rows, one.Text)
		}
		wide := measure("filter by a common word", `q.value = "team"; q.dispatchEvent(new Event("input"));`)
		if wide.Rows != 100 {
			t.Errorf("filter team: %d rows drawn, want a page of 100", wide.Rows)
		}
		blocked := measure("filter by state", `q.value = ""; q.dispatchEvent(new Event("input")); s.value = "blocked"; s.dispatchEvent(new Event("change"));`)
		if !strings.HasSuffix(blocked.Text, fmt.Sprintf("of %d repositories match", n)) || blocked.Rows < 1 {
			t.Errorf("state filter blocked: %d rows, %q", blocked.Rows, blocked.Text)
		}
		if got := eval[int](b, "rows of another state", `document.querySelectorAll("#repo-table tbody tr:not([data-state=blocked])").length`); got != 0 {
			t.Errorf("the blocked filter shows %d rows of other states", got)
		}
		all := measure("clear the filters", `s.value = ""; s.dispatchEvent(new Event("change"));`)
		if all.Rows != 100 {
			t.Errorf("cleared filters draw %d rows", all.Rows)
		}
		measure("sort by state", `document.querySelector("#repo-table thead th:nth-child(3) button").click();`)
		firstState := eval[string](b, "first row's state", `document.querySelector("#repo-table tbody tr").getAttribute("data-state")`)
		if firstState != StateNotPublishing {
			t.Errorf("sorted by state, the first row is %q, want %q", firstState, StateNotPublishing)
		}
		measure("next page", `document.querySelector("#repos .pager button:last-child").click();`)
		if got := eval[string](b, "pager", `document.querySelector("#repos .pager span").textContent`); !strings.HasPrefix(got, "rows 101–200 of 10000") {
			t.Errorf("pager after next: %q", got)
		}

		// A card beyond the page's own rows is drawn when its link is opened.
		b.run("open a card", chromedp.Navigate("file://"+file+"#r5007"))
		card := eval[string](b, "read the card", `(function () {
			var d = document.getElementById("r5007");
			return d && d.open ? d.innerText : "";
		})()`)
		c := &r.Repos[5007]
		for _, want := range []string{c.Repo, "Owner\n" + c.Owner, c.Path, c.Token.Tokens[0].Key, "Checklist", c.Findings[0].Message} {
			if !strings.Contains(card, want) {
				t.Errorf("card r5007 does not show %q:\n%s", want, card)
			}
		}
		if last := lastStepText(c); last != "" && !strings.Contains(card, "Last step: "+last) {
			t.Errorf("card r5007 does not show its last step %q:\n%s", last, card)
		}
		if got := eval[int](b, "count cards", `document.querySelectorAll("#card-list details").length`); got != 101 {
			t.Errorf("%d cards in the page, want the 100 drawn in it and the one opened", got)
		}

		// The legend explains every state, and "gated".
		legend := eval[string](b, "read the legend", `document.querySelector("#h-legend").parentNode.innerText`)
		for _, s := range States() {
			if !strings.Contains(legend, stateLabel(s)) || stateMeanings[s] == "" || !strings.Contains(legend, stateMeanings[s]) {
				t.Errorf("the legend does not explain %q", s)
			}
		}
		if !strings.Contains(legend, "gated") || !strings.Contains(legend, "waits for its gate") {
			t.Errorf("the legend does not explain gated:\n%s", legend)
		}

		// Injected markup is text.
		eval[bool](b, "filter the injected names", `(function () {
			var q = document.getElementById("filter-text"); q.value = "org-x/"; q.dispatchEvent(new Event("input"));
			return true;
		})()`)
		text := eval[string](b, "read the table", `document.getElementById("repo-table").textContent`)
		if !strings.Contains(text, "org-x/7-"+injections[0]) || !strings.Contains(text, "org-x/5007-"+injections[0]) {
			t.Errorf("the injected names are not shown as text:\n%s", text)
		}
		for _, p := range injections {
			text := eval[string](b, "filter by a payload", `(function (v) {
				var q = document.getElementById("filter-text"); q.value = v; q.dispatchEvent(new Event("input"));
				var t = document.getElementById("repo-table");
				return t.querySelector("tbody script, tbody img, tbody svg") ? "markup!" : t.textContent;
			})(`+strconv.Quote("@team "+p)+`)`)
			if !strings.Contains(text, "@team "+p) {
				t.Errorf("payload %q is not shown as text: %.300s", p, text)
			}
		}
		if eval[bool](b, "look for injected code", `window.__pwned !== undefined`) {
			t.Error("an injected payload ran in the page")
		}
	})

	t.Run("phone", func(t *testing.T) {
		b := newBrowser(t, dir, 375, 812)
		b.run("emulate a phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
		b.run("load the report", chromedp.Navigate("file://"+file))
		b.run("wait for the filter", chromedp.WaitVisible(chromedp.ID("filter-text")))
		type layout struct {
			Viewport, PageWidth   int
			Overflowing           []string
			MinChartText          float64
			ChartTexts            int
			TableScrolls, Wrapped bool
		}
		l := eval[layout](b, "measure the layout", `(function () {
			var vw = document.documentElement.clientWidth, out = [];
			document.querySelectorAll("body *").forEach(function (e) {
				if (e.closest(".table-wrap, .chart")) { return; }
				var r = e.getBoundingClientRect();
				if (r.width > 0 && r.right > vw + 1) { out.push(e.tagName + (e.id ? "#" + e.id : "") + "." + e.className + " " + Math.round(r.right)); }
			});
			var min = 1e9, n = 0;
			document.querySelectorAll(".chart svg text").forEach(function (e) {
				var h = e.getBoundingClientRect().height;
				if (h > 0) { n++; min = Math.min(min, h); }
			});
			var wrap = document.getElementById("repo-table").parentNode;
			return {Viewport: vw, PageWidth: document.documentElement.scrollWidth, Overflowing: out.slice(0, 10),
				MinChartText: min, ChartTexts: n, TableScrolls: wrap.scrollWidth > wrap.clientWidth,
				Wrapped: wrap.getBoundingClientRect().right <= vw + 1};
		})()`)
		t.Logf("phone: viewport %d px, page %d px wide, %d chart labels at least %.1f px high, repository table scrolls: %v",
			l.Viewport, l.PageWidth, l.ChartTexts, l.MinChartText, l.TableScrolls)
		if l.Viewport != 375 || l.PageWidth > l.Viewport {
			t.Errorf("the page is %d px wide in a %d px viewport", l.PageWidth, l.Viewport)
		}
		if len(l.Overflowing) > 0 {
			t.Errorf("elements overflow the viewport: %v", l.Overflowing)
		}
		if l.ChartTexts == 0 || l.MinChartText < 11 {
			t.Errorf("%d chart labels, the smallest %.1f px high; want them readable (11 px or more)", l.ChartTexts, l.MinChartText)
		}
		if !l.TableScrolls || !l.Wrapped {
			t.Errorf("the repository table does not scroll inside the viewport (scrolls %v, inside %v)", l.TableScrolls, l.Wrapped)
		}
		shot, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "report-phone.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
		if dst := os.Getenv("CUTOVER_REPORT_SHOTS"); dst != "" {
			for _, f := range []string{"report.png", "report-phone.png"} {
				if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
					_ = os.WriteFile(filepath.Join(dst, f), b, 0o644)
				}
			}
		}
	})
}
