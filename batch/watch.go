package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/rewrite"
)

// ReasonReleaseFailed is the blocked reason of a repository whose release
// failed, or went around OIDC, after its flag went on.
const ReasonReleaseFailed = "release failed after flag on"

// watch reads, for every repository whose flag is on, the release runs
// and the versions published since the flag went on. A failed run of a
// publishing workflow, a failed CircleCI publish job (the commit status
// CircleCI posts, on the default branch's head or a commit made since), or
// a version published without trusted publishing (no
// _npmUser.trustedPublisher), blocks the repository (a failed "release" step); with AutoRollback its flag is
// turned off first, where it lives (the Actions variable, the CircleCI
// project variable), and an event records it. It returns one outcome per
// repository watched.
func (e *Engine) watch(ctx context.Context) []Outcome {
	repos, err := e.Ledger.Repos(ctx)
	if err != nil {
		return []Outcome{failed("", "ledger error", err, "check the ledger file")}
	}
	type target struct {
		row   ledger.Repo
		since time.Time
	}
	var targets []target
	for _, r := range repos {
		fl, err := e.Ledger.Flag(ctx, r.FullName, e.Opts.FlagVar)
		if err == nil && fl.Value == "true" {
			targets = append(targets, target{r, fl.Updated})
		}
	}
	return each(ctx, e, "watch", targets, func(t target) string { return t.row.FullName }, func(ctx context.Context, t target) Outcome {
		return e.watchRepo(ctx, t.row, t.since)
	})
}

// watchRepo watches one repository whose flag went on at since.
func (e *Engine) watchRepo(ctx context.Context, row ledger.Repo, since time.Time) Outcome {
	name := row.FullName
	// GitHub gives run and publish times to the second: a release in the
	// same second as the flip counts as after it.
	since = since.Truncate(time.Second)
	pkgs, err := e.Ledger.Packages(ctx, name)
	if err != nil {
		return failed(name, "ledger error", err, "check the ledger file")
	}
	workflows := map[string]bool{}
	var publishable []ledger.Package
	for _, p := range pkgs {
		if p.TrustWorkflow != "" {
			workflows[strings.ToLower(p.TrustWorkflow)] = true
		}
		if p.Publishable && !p.Private {
			publishable = append(publishable, p)
		}
	}
	var bad []string
	github, circle := publishesFrom(row)
	releases := 0
	if github {
		runs, err := e.Forge.Runs(ctx, e.forgeRepo(row), since)
		if err != nil {
			return failed(name, "watch failed", err, "the token needs the actions read permission; run status again")
		}
		for _, r := range runs {
			if r.Created.Before(since) || (len(workflows) > 0 && !workflows[strings.ToLower(workflowBase(r.Workflow))]) {
				continue
			}
			releases++
			if r.Status == "completed" && slices.Contains([]string{"failure", "timed_out", "startup_failure"}, r.Conclusion) {
				bad = append(bad, fmt.Sprintf("run %d of %s %s at %s %s", r.ID, workflowBase(r.Workflow), r.Conclusion, r.Created.UTC().Format(time.RFC3339), r.URL))
			}
		}
	}
	if circle {
		n, failures, err := e.watchCircleCI(ctx, row, since)
		if err != nil {
			return failed(name, "watch failed", err, "the token needs the commit statuses and checks read permissions; run status again")
		}
		releases += n
		bad = append(bad, failures...)
	}
	if e.Registry != nil {
		for _, p := range publishable {
			pk, err := e.Registry.Packument(ctx, p.Name)
			if errors.Is(err, npm.ErrNotFound) {
				continue
			}
			if err != nil {
				return failed(name, "watch failed", err, "run status again")
			}
			for v := range pk.Versions {
				t, ok := pk.PublishedAt(v)
				if !ok || t.Before(since) {
					continue
				}
				if u := pk.Versions[v].NpmUser; u == nil || u.TrustedPublisher == nil {
					bad = append(bad, fmt.Sprintf("%s@%s was published at %s without trusted publishing", p.Name, v, t.UTC().Format(time.RFC3339)))
				}
			}
		}
	}
	if len(bad) == 0 {
		return Outcome{Repo: name, Kind: OK, Detail: fmt.Sprintf("%d release run(s) since the flag went on, none failed", releases)}
	}
	slices.Sort(bad)
	if last, err := e.Ledger.LastStep(ctx, name); err == nil && last.Name == "release" && last.Outcome == ledger.OutcomeFailed && last.Error == strings.Join(bad, "; ") {
		return Outcome{Repo: name, Kind: Failed, Reason: last.Reason, Detail: last.Error, Hint: last.Hint}
	}
	o := Outcome{Repo: name, Kind: Failed, Reason: ReasonReleaseFailed, Detail: strings.Join(bad, "; "),
		Hint: fmt.Sprintf("cutover flag off --repo %s", name)}
	if e.Opts.AutoRollback {
		if hint := e.rollback(ctx, row); hint != "" {
			o.Hint = hint
		} else if err := e.Ledger.SetFlag(ctx, name, e.Opts.FlagVar, "false"); err != nil {
			return failed(name, "ledger error", err, "check the ledger file")
		} else {
			e.event(ctx, "flag.rollback", name, nil, fmt.Sprintf("%s rolled back to the token path by itself: %s", name, o.Detail))
			o.Hint = fmt.Sprintf("rolled back: %s=false; fix the cause, then cutover flag on --repo %s", e.Opts.FlagVar, name)
		}
	}
	e.step(ctx, "release", o)
	e.event(ctx, "release.failed", name, nil, fmt.Sprintf("%s: %s", name, o.Detail))
	return o
}

// circleJobs are the publishing jobs of a repository's CircleCI pipelines,
// from its last detection.
func circleJobs(row ledger.Repo) map[string]bool {
	jobs := map[string]bool{}
	if row.Classification != nil {
		for _, pl := range row.Classification.Pipelines {
			if pl.Provider == rewrite.ProviderCircleCI && pl.Job != "" {
				jobs[pl.Job] = true
			}
		}
	}
	return jobs
}

// circleStatusPrefix starts the context of the commit status CircleCI posts
// on GitHub for a job: "ci/circleci: JOB".
const circleStatusPrefix = "ci/circleci: "

// circleJobOf names the CircleCI job a commit status or check run reports:
// a status "ci/circleci: JOB", or a check run JOB of CircleCI's GitHub App.
func circleJobOf(c forge.CommitCheck) (string, bool) {
	switch c.Kind {
	case forge.CheckStatus:
		return strings.CutPrefix(c.Name, circleStatusPrefix)
	case forge.CheckRun:
		return c.Name, strings.Contains(strings.ToLower(c.App), "circleci")
	}
	return "", false
}

// maxWatchedCommits bounds how many commits of the default branch, beyond
// its head, the watch reads CircleCI's results on.
const maxWatchedCommits = 10

// watchCircleCI reads what CircleCI reported since the flag went on about
// the repository's publishing jobs, on the default branch's head and its
// commits since the flag went on (at most maxWatchedCommits): the number
// of job results (passed or failed) and one line per failed job. A job
// still running is neither.
func (e *Engine) watchCircleCI(ctx context.Context, row ledger.Repo, since time.Time) (int, []string, error) {
	jobs := circleJobs(row)
	if len(jobs) == 0 {
		return 0, nil, nil
	}
	fr := e.forgeRepo(row)
	ref := row.DefaultBranch
	if ref == "" {
		ref = "HEAD"
	}
	checks, err := e.Forge.CommitChecks(ctx, fr, ref)
	if err != nil {
		return 0, nil, err
	}
	shas, err := e.Forge.Commits(ctx, fr, ref, since, maxWatchedCommits)
	if err != nil {
		return 0, nil, err
	}
	read := map[string]bool{}
	for _, c := range checks {
		read[c.SHA] = true
	}
	for _, sha := range shas {
		if read[sha] {
			continue
		}
		read[sha] = true
		more, err := e.Forge.CommitChecks(ctx, fr, sha)
		if err != nil {
			return 0, nil, err
		}
		checks = append(checks, more...)
	}
	n := 0
	var bad []string
	for _, c := range checks {
		job, ok := circleJobOf(c)
		if !ok || !jobs[job] || c.Updated.Before(since) || c.State == "pending" {
			continue
		}
		n++
		if c.State == "failure" {
			sha := c.SHA
			if len(sha) > 7 {
				sha = sha[:7]
			}
			line := fmt.Sprintf("CircleCI job %s %s on %s at %s", job, c.Raw, sha, c.Updated.UTC().Format(time.RFC3339))
			if c.URL != "" {
				line += " " + c.URL
			}
			bad = append(bad, line)
		}
	}
	return n, bad, nil
}

// rollback turns a blocked repository's flag off where its pipelines read
// it: the Actions variable, and the CircleCI project variable through
// CircleCI's API. It returns "" when every one is off, else the hint that
// says what to do by hand.
func (e *Engine) rollback(ctx context.Context, row ledger.Repo) string {
	name := row.FullName
	github, circle := publishesFrom(row)
	var problems []string
	manual := ""
	if circle {
		done, _, mo := e.flagCircleCI(ctx, name, "false", false, false)
		switch {
		case done:
		case mo.Kind == Manual:
			manual = mo.Detail
		default:
			problems = append(problems, mo.Detail)
		}
	}
	if github {
		if err := e.Forge.SetVariable(ctx, e.forgeRepo(row), e.Opts.FlagVar, "false"); err != nil {
			problems = append(problems, err.Error())
		}
	}
	switch {
	case len(problems) > 0:
		return fmt.Sprintf("automatic rollback failed (%s): cutover flag off --repo %s", strings.Join(problems, "; "), name)
	case manual != "":
		return fmt.Sprintf("no automatic rollback without a CircleCI API token ([circleci] token_env): %s, then cutover flag off --repo %s --confirm", manual, name)
	}
	return ""
}
