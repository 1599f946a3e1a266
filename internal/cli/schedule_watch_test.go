package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// TestScheduleStatusWatchesTokenPublish: the scheduler's status job reads
// the registry the way the status command does, so a version published
// with a token after the flag went on blocks the repository, although no
// release run failed.
func TestScheduleStatusWatchesTokenPublish(t *testing.T) {
	t.Parallel()
	c := newNPMCLI(t, 3, sandbox.KindNPM)
	ctx := t.Context()
	ok, findings := []int{ExitOK}, []int{ExitOK, ExitFindings}
	cfgPath := filepath.Join(c.dir, "cutover.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	c.write(t, "cutover.toml", string(cfg)+"\n[[schedule.job]]\nname = \"watch\"\nspec = \"@hourly\"\nrun = \"status\"\n")
	u := strings.TrimPrefix(strings.TrimPrefix(c.w.RegistryURL, "http:"), "https:")
	c.env["NPM_CONFIG_USERCONFIG"] = c.write(t, "npmrc", "registry="+c.w.RegistryURL+"\n"+u+":_authToken="+c.s.NPMToken+"\n")

	c.mustRun(t, ok, "inventory")
	c.mustRun(t, ok, "plan")
	c.mustRun(t, findings, "trust", "--wave", "0", "--execute", "--otp", c.s.NPMOTP)
	c.mustRun(t, findings, "apply", "--wave", "0", "--execute")
	wave, err := ledgerWave(t, c.ledger)
	if err != nil || len(wave) == 0 {
		t.Fatalf("wave 0: %v %v", wave, err)
	}
	mergeAllPRs(t, c, wave)
	c.mustRun(t, ok, "status")
	c.mustRun(t, findings, "flag", "on", "--wave", "0", "--otp", c.s.NPMOTP)

	// One repository whose flag is on, and its published package.
	var repo, pkg string
	func() {
		led, err := ledger.Open(ctx, c.ledger, ledger.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer led.Close()
		for _, r := range wave {
			if fl, err := led.Flag(ctx, r, "CUTOVER_NPM_OIDC"); err != nil || fl.Value != "true" {
				continue
			}
			ps, err := led.Packages(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if p.Publishable && !p.Private && len(c.w.NPM.Versions(p.Name)) > 0 {
					repo, pkg = r, p.Name
					return
				}
			}
		}
	}()
	if repo == "" {
		t.Fatalf("no repository of wave 0 %v has its flag on and a published package", wave)
	}

	// Nothing published since the flip: the scheduled status run is ok.
	r := c.run(t, "schedule", "--once", "watch")
	if r.code != ExitOK || !strings.HasPrefix(r.out, "watch: ok: ") {
		t.Fatalf("schedule --once watch before a release: %d\n%s\n%s", r.code, r.out, r.err)
	}

	// A new version comes in with a token (from a laptop, say): no
	// release run failed, only the registry shows it.
	bot, err := c.w.NPM.AddToken(npmreg.TokenSpec{User: c.p.BotUser, Name: "laptop", Bypass2FA: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.w.NPM.PublishCanary(pkg, "99.0.0", "latest", npmreg.PublishPath{Token: bot.Value}); err != nil {
		t.Fatalf("token publish of %s: %v", pkg, err)
	}
	r = c.run(t, "schedule", "--once", "watch")
	want := repo + " (" + batch.ReasonReleaseFailed + ")"
	if r.code != ExitFindings || !strings.HasPrefix(r.out, "watch: failed: ") || !strings.Contains(r.out, "release watches ok, 1 failed") || !strings.Contains(r.out, "; failed: "+want) {
		t.Fatalf("schedule --once watch after a token publish: exit %d, want %d and %q\n%s\n%s", r.code, ExitFindings, want, r.out, r.err)
	}
	if strings.Contains(r.out+r.err, bot.Value) || strings.Contains(r.out+r.err, c.s.NPMToken) {
		t.Error("a token value reached the output")
	}

	led, err := ledger.Open(ctx, c.ledger, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	st, err := led.LastStep(ctx, repo)
	if err != nil || st.Name != "release" || st.Reason != batch.ReasonReleaseFailed || !strings.Contains(st.Error, pkg+"@99.0.0 was published") ||
		st.Hint != "cutover flag off --repo "+repo {
		t.Errorf("%s is not blocked in the ledger: %+v %v", repo, st, err)
	}
	runs, err := led.ScheduleRuns(ctx, "watch")
	if err != nil || len(runs) != 2 || runs[0].Outcome == runs[1].Outcome {
		t.Errorf("runs of the watch job: %+v %v", runs, err)
	}
}

// mergeAllPRs merges every open pull request of the repositories through
// the emulator's API, as a maintainer would.
func mergeAllPRs(t *testing.T, c *npmCLI, repos []string) {
	t.Helper()
	gc := c.github(t)
	for _, repo := range repos {
		owner, name, _ := strings.Cut(repo, "/")
		prs, _, err := gc.PullRequests.List(context.Background(), owner, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range prs {
			if _, _, err := gc.PullRequests.Merge(context.Background(), owner, name, pr.GetNumber(), "", nil); err != nil {
				t.Fatalf("merge %s#%d: %v", repo, pr.GetNumber(), err)
			}
		}
	}
}

// github is a client of the sandbox's GitHub API with the campaign's token.
func (c *npmCLI) github(t *testing.T) *github.Client {
	t.Helper()
	gc, err := github.NewClient(nil).WithAuthToken(c.s.GitHubToken).WithEnterpriseURLs(c.w.URL, c.w.URL)
	if err != nil {
		t.Fatal(err)
	}
	return gc
}
