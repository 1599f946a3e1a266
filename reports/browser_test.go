package reports

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
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

// TestHTMLInBrowser loads the report of a 1,000-repository campaign in
// headless Chromium, takes a screenshot, filters the repository table, and
// checks that injected markup is shown as text and never runs.
func TestHTMLInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	bin := chromiumPath(t)
	snap := synth(1000)
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
	evil := snap.Repos[7].Repo.FullName
	renamed := "org-x/" + injections[0]
	snap.Repos[7].Repo.FullName = renamed
	for w := range snap.Waves {
		for m, name := range snap.Waves[w].Members {
			if name == evil {
				snap.Waves[w].Members[m] = renamed
			}
		}
	}
	page, err := HTML(Build(snap, Meta{GeneratedAt: snap.TakenAt}))
	if err != nil {
		t.Fatal(err)
	}
	if len(page) > 2<<20 {
		t.Errorf("report.html of 1,000 repositories is %d bytes, over 2 MB", len(page))
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")), chromedp.WindowSize(1300, 2000),
	}
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	count := chromedp.Evaluate[int](`document.querySelectorAll("#repo-table tbody tr:not([hidden])").length`)
	_, err = chromedp.Run(ctx, chromedp.Navigate("file://"+file))
	must("load the report", err)
	_, err = chromedp.Run(ctx, chromedp.WaitVisible(chromedp.ID("filter-text")))
	must("wait for the filter", err)
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	must("screenshot", err)
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#repo-table tbody tr").length`))
	must("count rows", err)
	visible, err := chromedp.Run(ctx, count)
	must("count visible rows", err)
	_, err = chromedp.Run(ctx, chromedp.SendKeys(chromedp.ID("filter-text"), "repo-0042"))
	must("type a filter", err)
	filtered, err := chromedp.Run(ctx, count)
	must("count filtered rows", err)
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("filter-shown")))
	must("read the counter", err)
	afterState, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(function () {
		var q = document.getElementById("filter-text"); q.value = ""; q.dispatchEvent(new Event("input"));
		var s = document.getElementById("filter-state"); s.value = "blocked"; s.dispatchEvent(new Event("change"));
		return document.querySelectorAll("#repo-table tbody tr:not([hidden])").length;
	})()`))
	must("filter by state", err)
	pwned, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__pwned !== undefined`))
	must("look for injected code", err)
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	must("read the page text", err)
	if err := os.WriteFile(filepath.Join(dir, "report.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(shot) < 10_000 {
		t.Errorf("screenshot is only %d bytes", len(shot))
	}
	if rows != 1000 || visible != 1000 {
		t.Errorf("repository table: %d rows, %d visible; want 1000 and 1000", rows, visible)
	}
	if filtered != 1 || !strings.HasPrefix(shown, "1 of 1000") {
		t.Errorf("filter %q: %d rows visible, counter %q; want 1 and \"1 of 1000 …\"", "repo-0042", filtered, shown)
	}
	if afterState < 1 || afterState >= 1000 {
		t.Errorf("state filter blocked: %d rows visible", afterState)
	}
	if pwned {
		t.Error("an injected payload ran in the page")
	}
	for _, p := range injections[:3] {
		if !strings.Contains(text, p) {
			t.Errorf("payload %q is not shown as text", p)
		}
	}
}
