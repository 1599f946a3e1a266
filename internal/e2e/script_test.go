package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cutover/cutover/internal/cli"
	"github.com/cutover/cutover/internal/e2e"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

const (
	// token is the campaign's GitHub token in the sandbox.
	token = "ghp_e2eCampaignToken0000000000000000000"
	// org owns the scenarios' repositories.
	org = "acme"
	// branch is the default campaign branch.
	branch = "cutover/npm-oidc"
	// configFile is the configuration each scenario carries; Setup expands
	// $SANDBOX_URL in it.
	configFile = "cutover.toml"
)

// TestMain makes the test binary also the cutover command: testscript runs
// it under that name for the scenarios' `exec cutover`.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"cutover": func() {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := cli.Main(ctx, os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Getenv)
			stop()
			os.Exit(code)
		},
	})
}

// scenarioRepos is the portfolio every scenario starts from.
var scenarioRepos = map[string]e2e.Shape{
	"mono":    e2e.Monorepo,
	"single":  e2e.Single,
	"private": e2e.Private,
	"done":    e2e.OIDC,
	"docs":    e2e.NonPublisher,
	"broken":  e2e.Broken,
	"runner":  e2e.SelfHosted,
	"w1":      e2e.Single,
	"w2":      e2e.Single,
	"w3":      e2e.Single,
}

// worldKey is the key of a scenario's *sandbox.World in Env.Values.
type worldKey struct{}

// TestScripts runs testdata/script/*.txtar: each scenario gets a sandbox
// World seeded with scenarioRepos, a token, and its own cutover.toml with
// the World's URL filled in.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		Setup:               setupScenario,
		Cmds:                scenarioCmds,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}

func setupScenario(env *testscript.Env) error {
	ctx, cancel := context.WithCancel(context.Background())
	w, err := sandbox.Start(ctx, sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	if err != nil {
		cancel()
		return err
	}
	env.Defer(func() {
		w.Close()
		cancel()
	})
	w.API.AddToken(token, ghapi.Identity{Login: "campaigner", Permissions: ghapi.AllPermissions()})
	if err := e2e.Seed(w, org, scenarioRepos); err != nil {
		return err
	}
	env.Values[worldKey{}] = w
	// A GitHub App installed on the organisation, for the scenarios that
	// sign in as one: its key is $WORK/app.pem.
	app, err := w.InstallApp(org, nil, 0)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(env.WorkDir, "app.pem"), app.PrivateKeyPEM, 0o600); err != nil {
		return err
	}

	path := filepath.Join(env.WorkDir, configFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b, err = []byte(defaultConfig), nil
	}
	if err != nil {
		return err
	}
	expanded := strings.ReplaceAll(string(b), "$SANDBOX_URL", w.URL)
	if err := os.WriteFile(path, []byte(expanded), 0o644); err != nil {
		return err
	}
	env.Setenv("CUTOVER_CONFIG", path)
	env.Setenv("GITHUB_TOKEN", token)
	env.Setenv("NPM_CONFIG_REGISTRY", e2e.Registry)
	env.Setenv("SANDBOX_URL", w.URL)
	env.Setenv("NO_COLOR", "1")
	return nil
}

// defaultConfig is the configuration of a scenario that carries none.
const defaultConfig = `[github]
org = "acme"
api_url = "$SANDBOX_URL"
pacing = "off"

[campaign]
ledger = "cutover.db"
concurrency = 4

[waves]
sizes = [2]
`

// scenarioCmds are the commands scenarios use to act on and inspect the
// sandbox and the ledger.
var scenarioCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"sandbox-merge":       cmdMerge,
	"sandbox-prs":         cmdPRs,
	"sandbox-branch":      cmdBranch,
	"sandbox-var":         cmdVar,
	"sandbox-fail-checks": cmdFailChecks,
	"sandbox-fault":       cmdFault,
	"sandbox-wait-prs":    cmdWaitPRs,
	"sandbox-pr-user":     cmdPRUser,
	"sandbox-issues":      cmdIssues,
	"ledger-event":        cmdLedgerEvent,
	"ledger-agrees":       cmdLedgerAgrees,
	"exits":               cmdExits,
}

func world(ts *testscript.TestScript) *sandbox.World {
	return ts.Value(worldKey{}).(*sandbox.World)
}

func client(ts *testscript.TestScript) *github.Client {
	w := world(ts)
	c, err := github.NewClient(nil).WithAuthToken(token).WithEnterpriseURLs(w.URL, w.URL)
	ts.Check(err)
	return c
}

// repoArg splits "owner/name".
func repoArg(ts *testscript.TestScript, s string) (string, string) {
	owner, name, ok := strings.Cut(s, "/")
	if !ok {
		ts.Fatalf("want OWNER/NAME, got %q", s)
	}
	return owner, name
}

func noNeg(ts *testscript.TestScript, neg bool, cmd string) {
	if neg {
		ts.Fatalf("unsupported: ! %s", cmd)
	}
}

// allPRs lists every pull request of owner/name, in any state.
func allPRs(ts *testscript.TestScript, owner, name string) []*github.PullRequest {
	prs, _, err := client(ts).PullRequests.List(context.Background(), owner, name, &github.PullRequestListOptions{State: "all", ListOptions: github.ListOptions{PerPage: 100}})
	ts.Check(err)
	return prs
}

// sandbox-merge OWNER/NAME merges the open campaign pull request.
func cmdMerge(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-merge")
	if len(args) != 1 {
		ts.Fatalf("usage: sandbox-merge OWNER/NAME")
	}
	owner, name := repoArg(ts, args[0])
	for _, pr := range allPRs(ts, owner, name) {
		if pr.GetState() == "open" && pr.GetHead().GetRef() == branch {
			_, _, err := client(ts).PullRequests.Merge(context.Background(), owner, name, pr.GetNumber(), "", &github.PullRequestOptions{MergeMethod: "squash"})
			ts.Check(err)
			return
		}
	}
	ts.Fatalf("%s has no open pull request from %s", args[0], branch)
}

// sandbox-prs OWNER/NAME N asserts the repository has N pull requests.
func cmdPRs(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: sandbox-prs OWNER/NAME N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	owner, name := repoArg(ts, args[0])
	got := len(allPRs(ts, owner, name))
	if (got == want) == neg {
		ts.Fatalf("%s has %d pull requests (want %s%d)", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// sandbox-pr-user OWNER/NAME LOGIN asserts every pull request of the
// repository was opened by LOGIN.
func cmdPRUser(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-pr-user")
	if len(args) != 2 {
		ts.Fatalf("usage: sandbox-pr-user OWNER/NAME LOGIN")
	}
	owner, name := repoArg(ts, args[0])
	prs := allPRs(ts, owner, name)
	if len(prs) == 0 {
		ts.Fatalf("%s has no pull requests", args[0])
	}
	for _, pr := range prs {
		if got := pr.GetUser().GetLogin(); got != args[1] {
			ts.Fatalf("%s #%d was opened by %q, want %q", args[0], pr.GetNumber(), got, args[1])
		}
	}
}

// sandbox-issues OWNER/NAME N [REGEXP] asserts the repository has N issues
// (pull requests aside), each of whose bodies matches REGEXP.
func cmdIssues(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-issues")
	if len(args) != 2 && len(args) != 3 {
		ts.Fatalf("usage: sandbox-issues OWNER/NAME N [REGEXP]")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	owner, name := repoArg(ts, args[0])
	all, _, err := client(ts).Issues.ListByRepo(context.Background(), owner, name, &github.IssueListByRepoOptions{State: "all", ListOptions: github.ListOptions{PerPage: 100}})
	ts.Check(err)
	var issues []*github.Issue
	for _, is := range all {
		if !is.IsPullRequest() {
			issues = append(issues, is)
		}
	}
	if len(issues) != want {
		ts.Fatalf("%s has %d issues, want %d", args[0], len(issues), want)
	}
	if len(args) == 3 {
		re, err := regexp.Compile(args[2])
		ts.Check(err)
		for _, is := range issues {
			if !re.MatchString(is.GetBody()) {
				ts.Fatalf("%s#%d body does not match %q:\n%s", args[0], is.GetNumber(), args[2], is.GetBody())
			}
		}
	}
}

// sandbox-branch OWNER/NAME asserts the campaign branch exists.
func cmdBranch(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: [!] sandbox-branch OWNER/NAME")
	}
	owner, name := repoArg(ts, args[0])
	_, resp, err := client(ts).Git.GetRef(context.Background(), owner, name, "heads/"+branch)
	exists := err == nil
	if err != nil && (resp == nil || resp.StatusCode != http.StatusNotFound) {
		ts.Fatalf("read branch %s of %s: %v", branch, args[0], err)
	}
	if exists == neg {
		ts.Fatalf("branch %s of %s: exists=%v", branch, args[0], exists)
	}
}

// sandbox-var OWNER/NAME VAR VALUE asserts a repository variable's value.
func cmdVar(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-var")
	if len(args) != 3 {
		ts.Fatalf("usage: sandbox-var OWNER/NAME VAR VALUE")
	}
	owner, name := repoArg(ts, args[0])
	got, ok := world(ts).API.RepoVariable(owner, name, args[1])
	if !ok || got != args[2] {
		ts.Fatalf("%s: variable %s = %q (set: %v), want %q", args[0], args[1], got, ok, args[2])
	}
}

// sandbox-fail-checks OWNER/NAME makes every later CI run of the
// repository fail.
func cmdFailChecks(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-fail-checks")
	if len(args) != 1 {
		ts.Fatalf("usage: sandbox-fail-checks OWNER/NAME")
	}
	world(ts).CI.Fail(args[0], "tests failed (injected by the scenario)")
}

// sandbox-fault off | sandbox-fault ROUTE STATUS | sandbox-fault latency DURATION [ROUTE]
// injects API faults: every request of ROUTE (a ghapi route pattern such
// as 'POST /repos/{owner}/{repo}/pulls') answers STATUS, or every request
// (of ROUTE) waits DURATION first.
func cmdFault(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-fault")
	api := world(ts).API
	switch {
	case len(args) == 1 && args[0] == "off":
		api.SetFaults(ghapi.Faults{})
	case (len(args) == 2 || len(args) == 3) && args[0] == "latency":
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		route := "*"
		if len(args) == 3 {
			route = args[2]
		}
		api.SetFaults(ghapi.Faults{Rules: []ghapi.FaultRule{{Route: route, Latency: d}}})
	case len(args) == 2:
		status, err := strconv.Atoi(args[1])
		ts.Check(err)
		api.SetFaults(ghapi.Faults{Rules: []ghapi.FaultRule{{Route: args[0], ErrorRate: 1, Status: status}}})
	default:
		ts.Fatalf("usage: sandbox-fault off | sandbox-fault ROUTE STATUS | sandbox-fault latency DURATION [ROUTE]")
	}
}

// sandbox-wait-prs N waits (up to a minute) until the scenario's
// repositories hold at least N pull requests in all.
func cmdWaitPRs(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-wait-prs")
	if len(args) != 1 {
		ts.Fatalf("usage: sandbox-wait-prs N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	deadline := time.Now().Add(time.Minute)
	for {
		n := 0
		for name := range scenarioRepos {
			n += len(allPRs(ts, org, name))
		}
		if n >= want {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%d pull requests after a minute, want %d", n, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func openLedger(ts *testscript.TestScript) *ledger.Ledger {
	l, err := ledger.Open(context.Background(), ts.MkAbs("cutover.db"), ledger.Options{})
	ts.Check(err)
	return l
}

// ledger-event KIND REGEXP asserts the ledger holds an event of KIND whose
// message matches REGEXP.
func cmdLedgerEvent(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: [!] ledger-event KIND REGEXP")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	l := openLedger(ts)
	defer l.Close()
	snap, err := l.Snapshot(context.Background())
	ts.Check(err)
	found := false
	var kinds []string
	for _, ev := range snap.Events {
		kinds = append(kinds, ev.Kind+": "+ev.Message)
		if ev.Kind == args[0] && re.MatchString(ev.Message) {
			found = true
		}
	}
	if found == neg {
		ts.Fatalf("event %s matching %q: found=%v; events:\n%s", args[0], args[1], found, strings.Join(kinds, "\n"))
	}
}

// ledger-agrees asserts that every change in the ledger names the pull
// request open for the campaign branch in the sandbox and the SHA the
// branch is at, and that no repository has more than one pull request.
func cmdLedgerAgrees(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "ledger-agrees")
	l := openLedger(ts)
	defer l.Close()
	changes, err := l.Changes(context.Background())
	ts.Check(err)
	if len(changes) == 0 {
		ts.Fatalf("the ledger records no changes")
	}
	for _, ch := range changes {
		owner, name := repoArg(ts, ch.Repo)
		if err := e2eAgree(client(ts), owner, name, ch); err != nil {
			ts.Fatalf("%v", err)
		}
	}
}

// e2eAgree checks one ledger change against the sandbox.
func e2eAgree(c *github.Client, owner, name string, ch ledger.Change) error {
	ctx := context.Background()
	prs, _, err := c.PullRequests.List(ctx, owner, name, &github.PullRequestListOptions{State: "all", ListOptions: github.ListOptions{PerPage: 100}})
	if err != nil {
		return err
	}
	if len(prs) != 1 {
		return fmt.Errorf("%s has %d pull requests, want 1", ch.Repo, len(prs))
	}
	pr := prs[0]
	if pr.GetNumber() != ch.PRNumber || pr.GetHTMLURL() != ch.URL {
		return fmt.Errorf("%s: ledger has #%d %s, sandbox #%d %s", ch.Repo, ch.PRNumber, ch.URL, pr.GetNumber(), pr.GetHTMLURL())
	}
	if pr.GetState() == "open" {
		ref, _, err := c.Git.GetRef(ctx, owner, name, "heads/"+ch.Branch)
		if err != nil {
			return fmt.Errorf("%s: branch %s: %w", ch.Repo, ch.Branch, err)
		}
		if sha := ref.GetObject().GetSHA(); sha != ch.PushedSHA || pr.GetHead().GetSHA() != sha {
			return fmt.Errorf("%s: ledger pushed %s, branch at %s, PR head %s", ch.Repo, ch.PushedSHA, sha, pr.GetHead().GetSHA())
		}
	}
	return nil
}

// exits N PROGRAM [ARGS...] runs PROGRAM like exec and asserts its exit
// code is N.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "exits")
	if len(args) < 2 {
		ts.Fatalf("usage: exits N PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}
