package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v66/github"
	"github.com/spf13/cobra"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/batch/sweep"
	"github.com/cutover/cutover/internal/checkout"
	"github.com/cutover/cutover/internal/circleci"
	gh "github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
	"github.com/cutover/cutover/rewrite"
)

type demoOptions struct {
	repos int
	seed  int64
	out   string
	app   *App
}

// defaultSandboxRepos is how many repositories the generated organisation
// of cutover demo and cutover sandbox serve has unless --repos says
// otherwise: one size for both, so a rehearsal on sandbox serve meets the
// organisation the demo showed.
const defaultSandboxRepos = 24

func newDemoCmd(app *App) *cobra.Command {
	o := &demoOptions{app: app}
	cmd := &cobra.Command{
		Use:   "demo [--repos N] [--seed S] [--out DIR]",
		Short: "Run a whole campaign on a loopback sandbox and write its reports",
		Long: `Start the sandbox (a GitHub API emulator, a git server and an npm registry
emulator, all on 127.0.0.1), seed a generated organisation of --repos
repositories, and run a whole campaign on it, as a platform engineer would:

  inventory → plan → for each wave: trust → apply (pull requests) → status
  (simulated CI lints every PR head) → merge (the demo plays the maintainers)
  → flag on → a simulated release of each repository through its migrated
  workflow → verify the canaries on the registry → delete the displaced CI
  secrets; finally revoke the npm tokens of migrated repositories and write
  the JSON, HTML and Markdown reports.

A few repositories publish from CircleCI (a token in a CircleCI context):
their trusted publishers name the CircleCI IDs ([[circleci.project]]),
flag on sets the CircleCI project variable through the sandbox's CircleCI
API, and their releases run as CircleCI jobs with CircleCI's ID token.

Nothing leaves the machine and no account is needed. The ledger and the
reports are written to --out. A wave whose gate is not met (a repository with
failing checks, or one that needs manual work) is continued with --force, and
the reason is recorded, so the report shows the whole journey.`,
		Example: example("cutover demo", "cutover demo --repos 60 --seed 7 --out /tmp/cutover-demo"),
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.repos < 3 || o.repos > 2000 {
				return usageErrorf(cmd, "--repos %d: want 3 to 2000", o.repos)
			}
			return runDemo(cmd.Context(), o)
		},
	}
	cmd.Flags().IntVar(&o.repos, "repos", defaultSandboxRepos, "repositories in the generated organisation")
	cmd.Flags().Int64Var(&o.seed, "seed", 1, "seed of the generated organisation (same seed, same organisation)")
	cmd.Flags().StringVar(&o.out, "out", "cutover-demo", "folder for the ledger and the reports")
	return cmd
}

// demoStep prints one line per campaign step.
type demoStep struct {
	w     io.Writer
	start time.Time
}

func (d *demoStep) say(format string, args ...any) {
	fmt.Fprintf(d.w, "%6.1fs  %s\n", time.Since(d.start).Seconds(), fmt.Sprintf(format, args...))
}

func runDemo(ctx context.Context, o *demoOptions) error {
	app := o.app
	out := &demoStep{w: app.Out, start: time.Now()}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("could not create %q: %w", o.out, err)
	}
	dbPath := filepath.Join(o.out, "cutover.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(dbPath + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("could not remove the previous demo ledger: %w", err)
		}
	}

	w, err := sandbox.Start(ctx, sandbox.Options{Limits: ghapi.Limits{Disabled: true}, NPMCLI: sandbox.NPMCLIAuto})
	if err != nil {
		return fmt.Errorf("start the sandbox: %w", err)
	}
	defer w.Close()
	portfolio := sandbox.Generate(o.seed, o.repos, sandbox.PortfolioOptions{})
	seeded, err := w.Seed(ctx, portfolio)
	if err != nil {
		return fmt.Errorf("seed the sandbox: %w", err)
	}
	out.say("sandbox up at %s: organisation %q with %d repositories, %d npm packages", w.URL, seeded.Org, seeded.Repos, seeded.Packages)
	if _, v := w.NPMCLI(); v != "" {
		out.say("simulated releases run the real npm publish (npm %s) against the registry at %s, except those npm would sign provenance for (Sigstore is not reachable offline: the Go model publishes those)", v, w.RegistryURL)
	} else {
		out.say("simulated releases are evaluated by the Go model of npm publish: no npm %s or newer on PATH", sandbox.MinOIDCNPM)
	}

	fg, err := gh.New(ctx, gh.Options{APIURL: w.URL, Token: seeded.GitHubToken, Limits: gh.Limits{Disabled: true}, Logger: app.Logger})
	if err != nil {
		return err
	}
	led, err := ledger.Open(ctx, dbPath, ledger.Options{})
	if err != nil {
		return err
	}
	defer led.Close()
	if err := led.SetCampaign(ctx, "demo", ""); err != nil {
		return err
	}
	size := max(3, (o.repos-3)/3)
	e := &batch.Engine{Forge: fg, Ledger: led, Logger: app.Logger, Opts: batch.Options{
		Campaign: "demo", Org: seeded.Org, Registry: w.RegistryURL, Concurrency: 8,
		Plan:         batch.PlanOptions{Sizes: []int{size}},
		Gate:         batch.Gate{Require: []string{"merged", "verified"}, MaxFailureRatio: 0.1},
		AutoRollback: true, MergeMethod: "squash",
		// What [[circleci.project]] tables would say of the repositories
		// that publish from CircleCI.
		CircleCI: portfolio.CircleCIProjects(),
	}}
	// The sandbox's CircleCI API, as [circleci] token_env and api_url
	// would configure it: flag on sets the CircleCI project variable.
	e.CircleCI = &circleci.Client{BaseURL: w.CircleCIAPIURL(), Token: circleci.Token(seeded.CircleCIToken)}
	reg := &npm.Client{BaseURL: w.RegistryURL, Token: npm.Secret(seeded.NPMToken), OTP: npm.StaticOTP(seeded.NPMOTP), Logger: app.Logger}
	n := &batch.NPM{Engine: e, Registry: reg, By: seeded.NPMUser}
	e.Registry = reg
	client, err := github.NewClient(nil).WithAuthToken(seeded.GitHubToken).WithEnterpriseURLs(w.URL, w.URL)
	if err != nil {
		return err
	}

	inv, err := e.Inventory(ctx)
	if err != nil {
		return err
	}
	out.say("inventory: %d repositories read, %d failed", len(inv.Outcomes), inv.Count(batch.Failed))
	plan, err := e.PlanCampaign(ctx)
	if err != nil {
		return err
	}
	out.say("plan: %d waves, %d repositories skipped (not publishers, already on OIDC, self-hosted runners)", len(plan.Waves), len(plan.Skipped))
	if err := demoGitLab(out, portfolio, w.RegistryURL, filepath.Join(o.out, "gitlab")); err != nil {
		return err
	}
	// The CI tokens belong to the automation user; the demo logs in as it to
	// list and revoke them, as its owner would.
	bot, err := demoBotClient(w, portfolio, app)
	if err != nil {
		return err
	}
	if err := recordDemoTokens(ctx, led, bot, portfolio); err != nil {
		return err
	}

	for _, wave := range plan.Waves {
		if err := demoWave(ctx, out, w, e, n, client, seeded.Org, wave); err != nil {
			return err
		}
	}
	// A nightly inventory sees the merged workflows.
	inv, err = e.Inventory(ctx)
	if err != nil {
		return err
	}
	reread := 0
	for _, o := range inv.Outcomes {
		if o.Kind == batch.OK && !strings.HasPrefix(o.Detail, "unchanged since") {
			reread++
		}
	}
	out.say("inventory again: %d repositories whose default branch moved were re-read", reread)
	if err := demoLeakedToken(ctx, out, w, led, portfolio.BotUser); err != nil {
		return err
	}
	botNPM := &batch.NPM{Engine: e, Registry: bot, By: portfolio.BotUser}
	revoked, err := botNPM.RevokeTokens(ctx, batch.RevokeTokensOptions{Migrated: true, Execute: true})
	if err != nil {
		return err
	}
	out.say("revoke tokens: %d npm tokens of migrated repositories revoked", revokedCount(revoked))
	if err := demoCircleCISummary(ctx, out, led, portfolio, revoked); err != nil {
		return err
	}
	sw, err := sweep.Run(ctx, e, sweep.Options{Registry: reg})
	if err != nil {
		out.say("sweep: %v", err)
	} else {
		out.say("sweep (dry run): %d reminders due for credentials that remain", len(sw.Reminders))
	}

	ro := &reportOptions{
		ledgerPath: dbPath, outDir: o.out, formats: []string{"json", "html", "md"}, campaign: "demo", now: time.Now, out: app.Out,
	}
	ro.meta.ToolVersion = buildVersion(debug.ReadBuildInfo)
	ro.meta.FlagVariable = e.Opts.FlagVar
	ro.meta.Redactor = app.Redactor
	ro.meta.Sandbox = true
	led.Close()
	out.say("reports:")
	if err := runReport(ctx, ro); err != nil {
		return err
	}
	fmt.Fprintf(app.Out, "\nOpen %s in a browser. The ledger is %s: try `cutover report --ledger %s --out DIR`.\n", filepath.Join(o.out, "report.html"), dbPath, dbPath)
	return nil
}

// demoWave runs one wave end to end.
func demoWave(ctx context.Context, out *demoStep, w *sandbox.World, e *batch.Engine, n *batch.NPM, client *github.Client, org string, wave batch.Wave) error {
	num := wave.Number
	target := batch.RepoTarget{Wave: &num}
	out.say("wave %d (%s): %d repositories", num, wave.Name, len(wave.Repos))
	tr, err := n.Trust(ctx, batch.TrustOptions{Target: target, Execute: true})
	if err != nil {
		return err
	}
	ts := tr.Summary()
	out.say("  trust: %d packages linked to their workflows, %d need a person", ts.Count(batch.OK), ts.Count(batch.Manual)+ts.Count(batch.Failed))
	for _, p := range tr.Packages {
		if p.Kind == batch.Manual || p.Kind == batch.Failed {
			out.say("    %s (%s): %s", p.Package, p.Repo, oneLine(nil, p.Reason+": "+p.Detail, 140))
		}
	}
	if num > 0 {
		_, ws, err := e.Status(ctx)
		if err != nil {
			return err
		}
		for _, prev := range ws {
			if prev.Number == num-1 && prev.Gate != nil {
				verdict := "met"
				if !prev.Gate.OK {
					verdict = "not met: " + strings.Join(prev.Gate.Reasons, "; ")
				}
				out.say("  gate of wave %d (%s; %s): %d/%d passed, %s", prev.Number, prev.Name, prev.Requires, prev.Gate.Passed, prev.Gate.Members, oneLine(nil, verdict, 200))
			}
		}
	}
	ap, err := e.Apply(ctx, batch.ApplyOptions{Wave: num, Execute: true})
	var ge *batch.GateError
	if errors.As(err, &ge) {
		out.say("  gate of wave %d not met: %s", num-1, strings.Join(ge.Reasons, "; "))
		reason := "demo: continue to show the whole campaign"
		out.say("  forcing wave %d (recorded: %q)", num, reason)
		ap, err = e.Apply(ctx, batch.ApplyOptions{Wave: num, Execute: true, Force: reason})
	}
	if err != nil {
		return err
	}
	out.say("  apply: %d pull requests, %d need manual work, %d skipped, %d failed", ap.Count(batch.OK), ap.Count(batch.Manual), ap.Count(batch.Skipped), ap.Count(batch.Failed))
	if _, _, err := e.Status(ctx); err != nil {
		return err
	}
	mg, err := e.Merge(ctx, batch.MergeOptions{Target: target, Execute: true})
	if err != nil {
		return err
	}
	out.say("  merge: %d pull requests whose checks passed merged (%s), %d left open (checks failed or pending, drafts), %d refused by the forge",
		mg.Count(batch.OK), e.Opts.MergeMethod, mg.Count(batch.Skipped), mg.Count(batch.Failed))
	if _, _, err := e.Status(ctx); err != nil {
		return err
	}
	fl, err := e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Wave: &num}})
	if err != nil {
		return err
	}
	out.say("  flag on: %d repositories switched to OIDC, %d refused by the checks", fl.Count(batch.OK), fl.Count(batch.Failed))
	var mismatch []string
	for _, o := range fl.Outcomes {
		if o.Kind != batch.Failed || o.Reason == "refused: pull request not merged" {
			continue
		}
		out.say("    %s %s: %s; fix: %s", o.Repo, o.Reason, oneLine(nil, o.Detail, 160), o.Hint)
		if strings.Contains(o.Detail, "trusted publisher mismatch: ") {
			mismatch = append(mismatch, o.Repo)
		}
	}
	if len(mismatch) > 0 {
		// What the refusal said to do: replace the publisher, then flip.
		fix, err := n.Trust(ctx, batch.TrustOptions{Target: batch.RepoTarget{Repos: mismatch}, Execute: true, Replace: true})
		if err != nil {
			return err
		}
		for _, p := range fix.Packages {
			out.say("    cutover trust --repo %s --replace --execute: %s", p.Repo, oneLine(nil, p.Detail, 160))
		}
		again, err := e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Repos: mismatch}})
		if err != nil {
			return err
		}
		out.say("    flag on again: %d of %d now pass the checks", again.Count(batch.OK), len(mismatch))
		for _, o := range again.Outcomes {
			if o.Kind == batch.Failed {
				out.say("      %s still %s: %s", o.Repo, o.Reason, o.Hint)
			}
		}
		fl.Outcomes = append(fl.Outcomes, again.Outcomes...)
	}
	if num == 1 {
		// Someone edits a trusted publisher after the flag went on: the next
		// release fails, status sees it (the workflow run on GitHub) and
		// auto_rollback turns the flag off. A GitHub Actions publisher.
		for _, o := range fl.Outcomes {
			if _, circle := e.Opts.CircleCI[o.Repo]; o.Kind != batch.OK || circle {
				continue
			}
			pkgs, err := e.Ledger.Packages(ctx, o.Repo)
			if err != nil || len(pkgs) == 0 || !pkgs[0].Publishable || pkgs[0].Private {
				continue
			}
			if _, err := w.NPM.SetTrust(pkgs[0].Name, npmreg.TrustSpec{Repository: o.Repo, File: "publish-renamed.yml"}); err != nil {
				continue
			}
			out.say("    (a maintainer points the trusted publisher of %s at publish-renamed.yml after the flip)", pkgs[0].Name)
			break
		}
	}
	oidc, token, failed := 0, 0, 0
	runners := map[string]int{}
	for _, o := range fl.Outcomes {
		if o.Kind != batch.OK {
			continue
		}
		res, err := w.Release(ctx, o.Repo, sandbox.ReleaseOptions{FlagVar: e.Opts.FlagVar})
		if err != nil {
			return err
		}
		for _, p := range res.Packages {
			runners[p.Runner]++
			switch {
			case p.Error != "":
				failed++
				why := p.Code + " " + p.Error
				if p.Exchange != "" {
					why = "OIDC exchange: " + p.Exchange + "; then " + why
				}
				out.say("    release of %s (%s) failed: %s", p.Package, o.Repo, oneLine(nil, why, 140))
			case p.Path == sandbox.PathOIDC:
				oidc++
			default:
				// The flag is on: a token publish means OIDC failed.
				token++
				why := "no OIDC exchange"
				if p.Exchange != "" {
					why = "OIDC exchange: " + p.Exchange
				}
				out.say("    release of %s (%s) published through a token: %s", p.Package, o.Repo, oneLine(nil, why, 140))
			}
		}
	}
	var ran []string
	for _, r := range slices.Sorted(maps.Keys(runners)) {
		name := "the npm CLI (" + r + ")"
		if r == sandbox.RunnerGo {
			name = "the Go model"
		}
		ran = append(ran, fmt.Sprintf("%d by %s", runners[r], name))
	}
	out.say("  releases: %d canaries published through OIDC, %d through a token, %d failed (%s)", oidc, token, failed, strings.Join(ran, ", "))
	st, _, err := e.Status(ctx)
	if err != nil {
		return err
	}
	blocked := 0
	for _, o := range st.Outcomes {
		if o.Reason == batch.ReasonReleaseFailed && slices.Contains(wave.Repos, o.Repo) {
			blocked++
			out.say("    status: %s blocked, %s: %s; %s", o.Repo, o.Reason, oneLine(nil, o.Detail, 120), o.Hint)
		}
	}
	out.say("  status: %d repositories blocked after a failed release, rolled back to the token path by [flag] auto_rollback", blocked)
	ver, err := n.Verify(ctx, batch.VerifyOptions{Target: target})
	if err != nil {
		return err
	}
	out.say("  verify: %d repositories' canaries proven, %d failed", ver.Summary.Count(batch.OK), ver.Summary.Count(batch.Failed))
	ld, err := n.Lockdown(ctx, batch.LockdownOptions{Target: target, Execute: true})
	if err != nil {
		return err
	}
	refused := 0
	for _, p := range ld.Packages {
		if p.Kind != batch.OK {
			refused++
		}
	}
	out.say("  lockdown: %d packages now require 2FA and disallow tokens; %d refused (canary not verified through OIDC)", ld.LockedDown(), refused)
	sec, err := e.RevokeSecrets(ctx, batch.RevokeSecretsOptions{Target: target, Execute: true, By: "demo"})
	if err != nil {
		return err
	}
	deleted := 0
	for _, s := range sec.Secrets {
		if s.Kind == batch.OK {
			deleted++
		}
	}
	out.say("  secrets: %d npm token secrets deleted", deleted)
	return nil
}

// demoBotClient logs in as the automation user that owns the CI tokens.
func demoBotClient(w *sandbox.World, p sandbox.Portfolio, app *App) (*npm.Client, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	value := "npm_" + hex.EncodeToString(b)
	if _, err := w.NPM.AddToken(npmreg.TokenSpec{User: p.BotUser, Value: value, Name: "demo-session", Session: true}); err != nil {
		return nil, fmt.Errorf("log in as %q: %w", p.BotUser, err)
	}
	return &npm.Client{BaseURL: w.RegistryURL, Token: npm.Secret(value), OTP: npm.StaticOTP(p.AdminOTP), Logger: app.Logger}, nil
}

// recordDemoTokens tells the ledger which repository each CI token serves,
// as a campaign's configuration would: the token a repository secret holds
// serves that repository (organisation secrets serve many and are left out).
func recordDemoTokens(ctx context.Context, led *ledger.Ledger, bot *npm.Client, p sandbox.Portfolio) error {
	listed, err := bot.Tokens(ctx)
	if err != nil {
		return fmt.Errorf("list the CI tokens: %w", err)
	}
	repoOf := map[string]string{}
	for _, r := range p.Repos {
		if r.Secret != nil && r.Secret.Scope != "org" {
			repoOf[r.Secret.Token.Name] = r.FullName(p.Org)
		}
	}
	var rows []ledger.Token
	for _, t := range listed {
		if repo, ok := repoOf[t.Name]; ok {
			rows = append(rows, ledger.Token{Key: t.Key, Prefix: t.Prefix, Name: t.Name, Created: t.Created, Expires: t.Expires, Readonly: t.Readonly, CIDR: t.CIDRWhitelist, Source: "config", Repo: repo})
		}
	}
	return led.UpsertTokens(ctx, rows)
}

func revokedCount(r batch.RevokeTokensReport) int {
	n := 0
	for _, t := range r.Tokens {
		if t.Kind == batch.OK {
			n++
		}
	}
	return n
}

// demoLeakedToken shows that a locked-down package refuses a token publish,
// even from a token that bypasses 2FA and belongs to a maintainer: the one
// a leak would hand an attacker.
func demoLeakedToken(ctx context.Context, out *demoStep, w *sandbox.World, led *ledger.Ledger, user string) error {
	events, err := led.Events(ctx, ledger.EventFilter{Kind: ledger.EventLockdown})
	if err != nil {
		return err
	}
	var repo, pkg string
	state := ledger.LockdownState(events)
	for _, r := range slices.Sorted(maps.Keys(state)) {
		for _, p := range slices.Sorted(maps.Keys(state[r])) {
			if pkg == "" && state[r][p].To == ledger.AccessLockedDown {
				repo, pkg = r, p
			}
		}
	}
	if pkg == "" {
		out.say("leaked token: no package is locked down, so a leaked token could still publish")
		return nil
	}
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	leaked := "npm_" + hex.EncodeToString(b)
	tok, err := w.NPM.AddToken(npmreg.TokenSpec{User: user, Value: leaked, Name: "leaked-ci-token", Bypass2FA: true})
	if err != nil {
		return err
	}
	defer w.NPM.RevokeToken(tok.Key)
	err = w.NPM.PublishCanary(pkg, "99.0.0-leak.1", "leak", npmreg.PublishPath{Token: leaked})
	if err == nil {
		return fmt.Errorf("a token published %s although it is locked down", pkg)
	}
	out.say("leaked token: a publish of %s (%s) with a maintainer's bypass-2FA token was refused: %s", pkg, repo, oneLine(nil, npmMessageOf(err), 120))
	return nil
}

// npmMessageOf is the registry's message of a refused publish.
func npmMessageOf(err error) string {
	var e *npmreg.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// demoCircleCISummary says, for each repository that publishes from
// CircleCI, whether its canary was verified (as published through the
// CircleCI trusted publisher) and whether its npm token was revoked, from
// the ledger and the revoke report.
func demoCircleCISummary(ctx context.Context, out *demoStep, led *ledger.Ledger, p sandbox.Portfolio, revoked batch.RevokeTokensReport) error {
	for _, r := range p.Repos {
		if r.CircleCI == nil {
			continue
		}
		full := r.FullName(p.Org)
		vs, err := led.LatestVerifications(ctx, full)
		if err != nil {
			return err
		}
		verified := len(vs) > 0
		for _, v := range vs {
			verified = verified && v.Passed
		}
		state := "not verified"
		if verified {
			state = "verified (canary published through its CircleCI trusted publisher)"
		}
		token := "its npm token still live"
		for _, t := range revoked.Tokens {
			if t.Repo == full && t.Kind == batch.OK {
				token = "its npm token revoked"
			}
		}
		out.say("CircleCI: %s publishes from CircleCI (project %s): %s, %s", full, r.CircleCI.ProjectID, state, token)
	}
	return nil
}

// demoGitLab writes the organisation's GitLab projects as local checkouts
// under dir and scans them as cutover scan does: GitLab is not on the
// sandbox's GitHub, so they are scanned and rewritten, not campaigned.
func demoGitLab(out *demoStep, p sandbox.Portfolio, registry, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	dirs, err := p.WriteGitLabCheckouts(dir, registry)
	if err != nil {
		return err
	}
	token := 0
	var trust []string
	for _, d := range dirs {
		snap, err := checkout.Read(d, checkout.Options{})
		if err != nil {
			return err
		}
		res := rewrite.Detect(snap, rewrite.Options{Registry: registry})
		if res.Publishes && (res.Credential == rewrite.CredToken || res.Credential == rewrite.CredTokenProvenance) {
			token++
		}
		for _, t := range res.Trust {
			if t.Provider == rewrite.ProviderGitLab {
				trust = append(trust, fmt.Sprintf("%s (GitLab project %s, %s)", t.Package, t.Repository, t.Workflow))
			}
		}
	}
	out.say("GitLab: %d projects checked out under %s; scan: %d publish from .gitlab-ci.yml with a token; trusted publishers needed: %s (try cutover scan %s/*)", len(dirs), dir, token, strings.Join(trust, ", "), dir)
	return nil
}
