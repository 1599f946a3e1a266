package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cutover.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScheduleList(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, `
[[schedule.job]]
name = "nightly"
spec = "CRON_TZ=Europe/Berlin 0 3 * * *"
run = "sweep"

[[schedule.job]]
name = "waves"
spec = "@every 6h"
run = "apply-next-wave"
`)
	r := run(t, nil, "--config", cfg, "schedule", "--list", "--next", "2")
	if r.code != ExitOK {
		t.Fatalf("code %d: %s", r.code, r.err)
	}
	for _, want := range []string{"JOB", "nightly  sweep", "CRON_TZ=Europe/Berlin 0 3 * * *", " 03:00 CE", "waves    apply-next-wave  @every 6h"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("--list does not contain %q:\n%s", want, r.out)
		}
	}

	bad := writeConfig(t, `
[[schedule.job]]
name = "nightly"
spec = "0 3 * *"
run = "sweep"
`)
	r = run(t, nil, "--config", bad, "schedule", "--list")
	if r.code != ExitUsage || !strings.Contains(r.err, `job "nightly": spec "0 3 * *": expected exactly 5 fields`) {
		t.Errorf("bad spec: %d\n%s", r.code, r.err)
	}
	r = run(t, nil, "schedule", "--once", "x")
	if r.code != ExitUsage || !strings.Contains(r.err, "no jobs to run: add [[schedule.job]] tables") {
		t.Errorf("no jobs: %d\n%s", r.code, r.err)
	}
	r = run(t, nil, "--config", cfg, "schedule", "--once", "x", "--list")
	if r.code != ExitUsage {
		t.Errorf("--once with --list: %d", r.code)
	}
}

// TestScheduleOnceSweep runs a sweep job once against the sandbox, the way
// a Kubernetes CronJob would, then the dry-run sweep command.
func TestScheduleOnceSweep(t *testing.T) {
	t.Parallel()
	const ghToken = "ghp_SCHEDULEclitestTOKEN0000000000001"
	w, err := sandbox.Start(context.Background(), sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.API.AddToken(ghToken, ghapi.Identity{Login: "ops", Permissions: ghapi.AllPermissions()})
	if err := w.API.CreateRepo("acme", "widget", ghapi.RepoOptions{Files: map[string][]byte{
		".github/workflows/release.yml": []byte(tokenWorkflow), "package.json": []byte(`{"name":"widget"}`),
	}}); err != nil {
		t.Fatal(err)
	}
	if err := w.API.SetRepoSecret("acme", "widget", "NPM_TOKEN", ghapi.SecretOptions{UpdatedAt: time.Now().Add(-70 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "cutover.db")
	cfg := writeConfig(t, `
[github]
org = "acme"
api_url = "`+w.URL+`"
pacing = "off"

[campaign]
ledger = "`+filepath.ToSlash(db)+`"

[[schedule.job]]
name = "nightly"
spec = "0 3 * * *"
run = "sweep"
`)
	// The npm registry (an emulator) knows no package of the portfolio.
	env := map[string]string{"GITHUB_TOKEN": ghToken, "NPM_CONFIG_REGISTRY": preflightRegistry(t, time.Now())}
	if r := run(t, env, "--config", cfg, "inventory"); r.code != ExitOK {
		t.Fatalf("inventory: %d\n%s\n%s", r.code, r.out, r.err)
	}
	r := run(t, env, "--config", cfg, "schedule", "--once", "nightly")
	if r.code != ExitOK || r.out != "nightly: ok: 1 reminder(s) due, 1 new or escalated, 0 resolved\n" {
		t.Fatalf("--once: %d\n%s\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{`"run started"`, `"run finished"`} {
		if !strings.Contains(r.err, want) {
			t.Errorf("log does not contain %s:\n%s", want, r.err)
		}
	}
	r = run(t, env, "--config", cfg, "schedule", "--once", "weekly")
	if r.code != ExitUsage || !strings.Contains(r.err, `no job "weekly" in the config; jobs: nightly (sweep)`) {
		t.Errorf("unknown job: %d\n%s", r.code, r.err)
	}
	// A job kind is not a job name: a usage error, like "no jobs", naming
	// the job that runs it.
	r = run(t, env, "--config", cfg, "schedule", "--once", "sweep")
	if r.code != ExitUsage || !strings.Contains(r.err, `"sweep" is a job kind, not a job name; --once takes the name of a [[schedule.job]]: nightly (sweep) (the job running sweep: nightly)`) {
		t.Errorf("--once with a kind: %d\n%s", r.code, r.err)
	}
	r = run(t, env, "--config", cfg, "schedule", "--once", "status")
	if r.code != ExitUsage || !strings.Contains(r.err, `"status" is a job kind, not a job name, and no job of the config runs it`) {
		t.Errorf("--once with a kind no job runs: %d\n%s", r.code, r.err)
	}

	// The dry-run sweep sees the reminder filed by the scheduled run.
	r = run(t, env, "--config", cfg, "sweep", "--format", "json")
	var doc struct {
		Schema string `json:"schema"`
		Result struct {
			Reminders []struct {
				Repo, Topic, Change, IssueURL string `json:"-"`
			} `json:"reminders"`
		} `json:"result"`
	}
	if r.code != ExitOK || json.Unmarshal([]byte(r.out), &doc) != nil || doc.Schema != "cutover.sweep/v1" || len(doc.Result.Reminders) != 1 {
		t.Fatalf("sweep: %d\n%s\n%s", r.code, r.out, r.err)
	}
	if !strings.Contains(r.out, `"change": "unchanged"`) || !strings.Contains(r.out, `"topic": "secret:repo:NPM_TOKEN"`) {
		t.Errorf("sweep output:\n%s", r.out)
	}
	r = run(t, env, "--config", cfg, "sweep")
	if r.code != ExitOK || !strings.Contains(r.out, "acme/widget  secret:repo:NPM_TOKEN  0      unchanged") {
		t.Errorf("sweep table: %d\n%s", r.code, r.out)
	}
	if strings.Contains(r.out+r.err, ghToken) {
		t.Error("the GitHub token reached the output")
	}

	led, err := ledger.Open(context.Background(), db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	runs, err := led.ScheduleRuns(context.Background(), "nightly")
	if err != nil || len(runs) != 1 || runs[0].Outcome != ledger.OutcomeOK {
		t.Errorf("runs: %+v, %v", runs, err)
	}
	rem, err := led.Reminder(context.Background(), "acme/widget", "secret:repo:NPM_TOKEN")
	if err != nil || rem.IssueNumber == 0 || rem.State != ledger.ReminderOpen {
		t.Errorf("reminder: %+v, %v", rem, err)
	}
}
