package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/reports"
	"github.com/cutover/cutover/rewrite"
)

// reportSecret is a secret value of no token shape, as a config's
// [secrets] env would name it; the ledger accepts it, the report must not show it.
const reportSecret = "literal-secret-value-0123456789"

// writeReportLedger records a small campaign: one repository done, one
// blocked, one whose name is an HTML injection.
func writeReportLedger(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	p := filepath.Join(t.TempDir(), "campaign.db")
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { clock = clock.Add(time.Minute); return clock }
	led, err := ledger.Open(ctx, p, ledger.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(led.SetCampaign(ctx, "acme migration", "sha256:abc"))
	repos := []string{"acme/widget", "acme/gadget", "acme/<script>alert(1)</script>"}
	for _, r := range repos {
		must(led.UpsertRepo(ctx, ledger.Repo{FullName: r, DefaultBranch: "main", Visibility: "public", Owner: "@acme/team " + reportSecret}))
		must(led.RecordDetection(ctx, r, "0123456789abcdef0123456789abcdef01234567", &rewrite.Result{
			Repo: r, Publishes: true, Credential: rewrite.CredToken,
			Packages: []rewrite.Package{{Name: "@acme/" + strings.TrimPrefix(r, "acme/"), Dir: ".", Publishable: true}},
			Trust:    []rewrite.TrustNeed{{Package: "@acme/" + strings.TrimPrefix(r, "acme/"), Repository: r, Workflow: "release.yml"}},
			Findings: []rewrite.Finding{},
		}))
	}
	must(led.SetWaves(ctx, []ledger.Wave{{Number: 0, Name: "canaries", Gate: ledger.Gate{Require: []string{ledger.GateChecks}}, Members: repos}}))
	must(led.RecordChange(ctx, ledger.Change{Repo: "acme/widget", Branch: "cutover/npm-oidc", Playbook: "oidc", PRNumber: 4,
		URL: "https://forge.invalid/acme/widget/pull/4", Title: "Publish with OIDC", State: ledger.ChangeMerged, Checks: "success"}))
	must(led.SetFlag(ctx, "acme/widget", "CUTOVER_NPM_OIDC", "true"))
	must(led.RecordSecret(ctx, ledger.Secret{Repo: "acme/widget", Scope: ledger.ScopeRepo, Name: "NPM_TOKEN"}))
	_, err = led.RecordVerification(ctx, ledger.Verification{Repo: "acme/widget", Package: "@acme/widget", Version: "1.0.1-canary.0", Tag: "canary",
		Checks: []ledger.Check{{Name: "provenance", OK: true, Message: "ok"}}, Passed: true})
	must(err)
	must(led.RecordStep(ctx, ledger.Step{Repo: "acme/gadget", Name: "push", Outcome: ledger.OutcomeFailed, Reason: "push rejected",
		Error: "protected branch hook declined", Hint: "allow the app to push workflow files"}))
	return p
}

func TestReport(t *testing.T) {
	t.Parallel()
	led := writeReportLedger(t)
	out := filepath.Join(t.TempDir(), "site", "reports")
	env := map[string]string{"NPM_TOKEN": reportSecret}
	res := run(t, env, "report", "--ledger", led, "--out", out, "--package-url", testRegistry+"package/")
	if res.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", res.code, res.err)
	}
	var paths []string
	for _, name := range []string{"report.json", "report.html", "report.md"} {
		paths = append(paths, filepath.Join(out, name))
	}
	if got := strings.Fields(res.out); strings.Join(got, " ") != strings.Join(paths, " ") {
		t.Errorf("stdout = %q, want the paths %q", res.out, paths)
	}
	files := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = string(b)
		if strings.Contains(string(b), reportSecret) {
			t.Errorf("%s holds the secret value of NPM_TOKEN", p)
		}
	}
	var r reports.Report
	if err := json.Unmarshal([]byte(files["report.json"]), &r); err != nil {
		t.Fatal(err)
	}
	if r.Schema != reports.Schema || r.Campaign.Name != "acme migration" || len(r.Repos) != 3 {
		t.Errorf("report.json: schema %q, campaign %q, %d repositories", r.Schema, r.Campaign.Name, len(r.Repos))
	}
	states := map[string]string{}
	for _, c := range r.Repos {
		states[c.Repo] = c.State
	}
	if states["acme/widget"] != reports.StateVerified || states["acme/gadget"] != reports.StateBlocked {
		t.Errorf("states = %v", states)
	}
	if !strings.Contains(files["report.html"], "acme/&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(files["report.html"], "<script>alert") {
		t.Error("report.html does not escape the repository name")
	}
	if !strings.Contains(files["report.html"], testRegistry+"package/@acme/widget") {
		t.Error("report.html does not link the package page under --package-url")
	}
	if !strings.Contains(files["report.md"], "push rejected") || !strings.Contains(files["report.md"], "(report.html)") {
		t.Errorf("report.md:\n%s", files["report.md"])
	}
}

func TestReportFormatsAndStepSummary(t *testing.T) {
	t.Parallel()
	led := writeReportLedger(t)
	out := t.TempDir()
	summary := filepath.Join(t.TempDir(), "step-summary.md")
	if err := os.WriteFile(summary, []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := run(t, map[string]string{"GITHUB_STEP_SUMMARY": summary}, "report", "--ledger", led, "--out", out, "--format", "json", "--step-summary")
	if res.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", res.code, res.err)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 || entries[0].Name() != "report.json" {
		t.Errorf("--format json wrote %v", entries)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "earlier step\n## cutover: acme migration") {
		t.Errorf("step summary:\n%s", b)
	}
}

// TestReportActionsLink checks that report.md links the Actions run's page
// when GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_RUN_ID are set and
// --html-url is not given, and that --html-url wins.
func TestReportActionsLink(t *testing.T) {
	t.Parallel()
	led := writeReportLedger(t)
	env := map[string]string{"GITHUB_SERVER_URL": "https://forge.invalid", "GITHUB_REPOSITORY": "acme/platform", "GITHUB_RUN_ID": "4242"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"actions", env, nil, "(https://forge.invalid/acme/platform/actions/runs/4242)"},
		{"flag wins", env, []string{"--html-url", "https://pages.invalid/report.html"}, "(https://pages.invalid/report.html)"},
		{"no run id", map[string]string{"GITHUB_SERVER_URL": "https://forge.invalid", "GITHUB_REPOSITORY": "acme/platform"}, nil, "(report.html)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			res := run(t, tc.env, append([]string{"report", "--ledger", led, "--out", out, "--format", "md"}, tc.args...)...)
			if res.code != ExitOK {
				t.Fatalf("exit %d, stderr:\n%s", res.code, res.err)
			}
			b, err := os.ReadFile(filepath.Join(out, "report.md"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "[Full report (HTML)]"+tc.want) {
				t.Errorf("report.md does not link %s:\n%s", tc.want, b)
			}
		})
	}
}

func TestReportErrors(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "none.db")
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"unknown format", []string{"report", "--ledger", missing, "--format", "json,pdf"}, ExitUsage, `unknown format "pdf"`},
		{"argument", []string{"report", "extra"}, ExitUsage, "takes no arguments"},
		{"missing ledger", []string{"report", "--ledger", missing, "--out", t.TempDir()}, ExitFatal, "no ledger at"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, nil, tc.args...)
			if res.code != tc.code || !strings.Contains(res.err, tc.err) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", res.code, res.err, tc.code, tc.err)
			}
		})
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("report created a ledger where none was")
	}
}
