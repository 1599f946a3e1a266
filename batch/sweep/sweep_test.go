package sweep_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/batch/sweep"
	"github.com/cutover/cutover/internal/clocktest"
	"github.com/cutover/cutover/internal/forge"
	gh "github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// Distinctive credentials: none may appear in any output of a sweep.
const (
	sweepGHToken    = "ghp_SWEEPtokenVALUEneverPRINTED00001"
	sweepNPMSession = "npm_SWEEPsessionVALUEneverPRINTED0001"
	sweepNPMOld     = "npm_SWEEPoldTOKENvalueNEVERprinted0002"
	sweepNPMSoon    = "npm_SWEEPsoonTOKENvalueNEVERprinted003"
)

// hook is a webhook receiver.
type hook struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	h.bodies = append(h.bodies, b)
}

func (h *hook) all() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.bodies...)
}

type sweepWorld struct {
	world   *sandbox.World
	client  *github.Client
	forge   *gh.Forge
	engine  *batch.Engine
	led     *ledger.Ledger
	clock   *clocktest.Clock
	reg     *npmreg.Registry
	npm     *npm.Client
	hook    *hook
	hookURL string
	logs    *bytes.Buffer
	logMu   *sync.Mutex
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

const sweepOIDCWorkflow = `name: release
on:
  push:
    tags: ["v*"]
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 24
          registry-url: https://npm-registry.invalid/
      - run: npm publish
`

// sweepBridgedWorkflow is what the oidc playbook leaves: the token path
// kept behind the flag.
const sweepBridgedWorkflow = sweepOIDCWorkflow + `        env:
          NODE_AUTH_TOKEN: ${{ vars.CUTOVER_NPM_OIDC != 'true' && secrets.NPM_TOKEN || '' }}
`

func newSweepWorld(t *testing.T) *sweepWorld {
	t.Helper()
	ctx := t.Context()
	clock := clocktest.New(time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC))
	now := clock.Now()
	daysAgo := func(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }

	w, err := sandbox.Start(ctx, sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.API.AddToken(sweepGHToken, ghapi.Identity{Login: "campaigner", Permissions: ghapi.AllPermissions()})
	repos := map[string]map[string]string{
		"old":   {".github/workflows/release.yml": tokenWorkflow("22"), "package.json": `{"name":"old"}`},
		"soon":  {".github/workflows/release.yml": tokenWorkflow("22"), "package.json": `{"name":"soon"}`},
		"fresh": {".github/workflows/release.yml": tokenWorkflow("22"), "package.json": `{"name":"fresh"}`},
		"gone":  {".github/workflows/release.yml": tokenWorkflow("22"), "package.json": `{"name":"gone"}`},
		"cut":   {".github/workflows/release.yml": sweepBridgedWorkflow, "package.json": `{"name":"cut"}`},
	}
	for name, files := range repos {
		fs := map[string][]byte{}
		for p, b := range files {
			fs[p] = []byte(b)
		}
		if err := w.API.CreateRepo("acme", name, ghapi.RepoOptions{Files: fs}); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Secrets of spread ages (days since the last rotation).
	must(w.API.SetRepoSecret("acme", "old", "NPM_TOKEN", ghapi.SecretOptions{UpdatedAt: daysAgo(65)}))                  // level 0
	must(w.API.SetRepoSecret("acme", "soon", "NPM_TOKEN", ghapi.SecretOptions{UpdatedAt: daysAgo(80)}))                 // 10 days left: level 1
	must(w.API.SetEnvSecret("acme", "soon", "release", "NODE_AUTH_TOKEN", ghapi.SecretOptions{UpdatedAt: daysAgo(88)})) // 2 days left: level 3
	must(w.API.SetRepoSecret("acme", "fresh", "NPM_TOKEN", ghapi.SecretOptions{UpdatedAt: daysAgo(10)}))                // none
	must(w.API.SetRepoSecret("acme", "fresh", "SLACK_WEBHOOK", ghapi.SecretOptions{UpdatedAt: daysAgo(400)}))           // not an npm token
	must(w.API.SetRepoSecret("acme", "gone", "NPM_TOKEN", ghapi.SecretOptions{UpdatedAt: daysAgo(95)}))                 // expired
	must(w.API.SetRepoSecret("acme", "cut", "NPM_TOKEN", ghapi.SecretOptions{UpdatedAt: daysAgo(5)}))

	// The npm registry: account tokens, and package cut whose newest
	// release lost its trusted-publisher evidence.
	reg := npmreg.New(npmreg.Options{Now: clock.Now, Seed: 3, Prefix: "/npm"})
	must(reg.AddUser(npmreg.UserSpec{Name: "ci", OTP: "123456"}))
	_, err = reg.AddToken(npmreg.TokenSpec{User: "ci", Value: sweepNPMSession, Name: "login", Session: true})
	must(err)
	_, err = reg.AddToken(npmreg.TokenSpec{User: "ci", Value: sweepNPMOld, Key: "key-old-0001", Name: "ci-publish-old", Created: daysAgo(70)})
	must(err)
	_, err = reg.AddToken(npmreg.TokenSpec{User: "ci", Value: sweepNPMSoon, Key: "key-soon-0002", Name: "ci-publish-soon", Created: daysAgo(30), Expires: now.Add(5 * 24 * time.Hour)})
	must(err)
	must(reg.AddPackage(npmreg.PackageSpec{Name: "cut", Maintainers: []string{"ci"}}))
	wf := &npmreg.Workflow{Repository: "acme/cut", Path: ".github/workflows/release.yml"}
	must(reg.AddVersion("cut", npmreg.VersionSpec{Version: "1.0.0", Published: daysAgo(40), OIDC: wf}))
	must(reg.AddVersion("cut", npmreg.VersionSpec{Version: "1.1.0", Published: daysAgo(20), By: "ci"}))
	npmSrv := httptest.NewServer(reg)
	t.Cleanup(npmSrv.Close)

	h := &hook{}
	hookSrv := httptest.NewServer(h)
	t.Cleanup(hookSrv.Close)

	logs, mu := &bytes.Buffer{}, &sync.Mutex{}
	logger := slog.New(slog.NewTextHandler(lockedWriter{mu, logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fg, err := gh.New(ctx, gh.Options{APIURL: w.URL, Token: sweepGHToken, Limits: gh.Limits{Disabled: true}, Logger: logger})
	must(err)
	led, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "cutover.db"), ledger.Options{Now: clock.Now})
	must(err)
	t.Cleanup(func() { led.Close() })
	client, err := github.NewClient(nil).WithAuthToken(sweepGHToken).WithEnterpriseURLs(w.URL, w.URL)
	must(err)
	e := &batch.Engine{Forge: fg, Ledger: led, Now: clock.Now, Logger: logger, Opts: batch.Options{Org: "acme", Registry: testRegistry, Concurrency: 4, Campaign: "npm-oidc"}}
	sum, err := e.Inventory(ctx)
	must(err)
	if sum.Failed() {
		t.Fatalf("inventory failed: %+v", sum)
	}
	// acme/cut was cut over: its flag is on.
	must(led.SetFlag(ctx, "acme/cut", "CUTOVER_NPM_OIDC", "true"))
	// A token recorded for a repository by the campaign.
	must(led.UpsertTokens(ctx, []ledger.Token{{Key: "key-soon-0002", Name: "ci-publish-soon", Repo: "acme/soon", Source: "ledger"}}))
	nc := &npm.Client{BaseURL: npmSrv.URL + "/npm/", Token: npm.Secret(sweepNPMSession), Now: clock.Now, Logger: logger}
	return &sweepWorld{world: w, client: client, forge: fg, engine: e, led: led, clock: clock, reg: reg, npm: nc, hook: h, hookURL: hookSrv.URL + "/services/T000/B000/SECRETPATH", logs: logs, logMu: mu}
}

func (sw *sweepWorld) sweep(t *testing.T, execute bool) sweep.Result {
	t.Helper()
	res, err := sweep.Run(t.Context(), sw.engine, sweep.Options{Execute: execute, Registry: sw.npm, Webhook: sw.hookURL})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) > 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	for _, o := range res.Summary.Outcomes {
		if o.Kind == batch.Failed {
			t.Fatalf("%s failed: %s", o.Repo, o.Detail)
		}
	}
	return res
}

// issues lists a repository's issues (all states) by title.
func (sw *sweepWorld) issues(t *testing.T, repo string) []*github.Issue {
	t.Helper()
	is, _, err := sw.client.Issues.ListByRepo(context.Background(), "acme", repo, &github.IssueListByRepoOptions{State: "all"})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(is, func(i, j int) bool { return is[i].GetNumber() < is[j].GetNumber() })
	return is
}

func dueByKey(ds []sweep.Due) map[string]sweep.Due {
	m := map[string]sweep.Due{}
	for _, d := range ds {
		m[d.Repo+" "+d.Topic] = d
	}
	return m
}

func TestSweepOnSandbox(t *testing.T) {
	sw := newSweepWorld(t)
	ctx := t.Context()

	// A dry run reports and files nothing.
	dry := sw.sweep(t, false)
	got := dueByKey(dry.Reminders)
	want := map[string]int{ // repo topic → level
		"acme/old secret:repo:NPM_TOKEN":                       0,
		"acme/soon secret:repo:NPM_TOKEN":                      1,
		"acme/soon secret:env:release:NODE_AUTH_TOKEN":         3,
		"acme/gone secret:repo:NPM_TOKEN":                      5,
		"acme/cut drift:trust-downgrade:cut":                   1,
		"acme/soon npm-token:" + digestOf(t, dry, "acme/soon"): 2, // expires in 5 days
	}
	account := 0
	for k, d := range got {
		if d.Repo == "" {
			account++
			if d.Kind != sweep.ReminderToken || d.Level != 0 || !d.Estimated || !strings.Contains(d.Message, `npm token "ci-publish-old"`) {
				t.Errorf("account reminder %+v", d)
			}
			continue
		}
		lvl, ok := want[k]
		if !ok {
			t.Errorf("unexpected reminder %s: %+v", k, d)
			continue
		}
		if d.Level != lvl || d.Change != sweep.ChangeNew {
			t.Errorf("%s: level %d change %s, want level %d new", k, d.Level, d.Change, lvl)
		}
	}
	if account != 1 {
		t.Errorf("%d account-level reminders, want 1 (the token no repository is known for)", account)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("missing reminder %s", k)
		}
	}
	if d := got["acme/gone secret:repo:NPM_TOKEN"]; !strings.HasPrefix(d.Title, "[expired] Rotate the npm token in secret NPM_TOKEN (expires by 2026-05-27)") {
		t.Errorf("title %q", d.Title)
	}
	for _, r := range []string{"old", "soon", "gone", "cut", "fresh"} {
		if n := len(sw.issues(t, r)); n != 0 {
			t.Errorf("dry run opened %d issues in %s", n, r)
		}
	}
	if len(sw.hook.all()) != 0 || dry.Webhook != "dry run" {
		t.Errorf("dry run posted the webhook (%q)", dry.Webhook)
	}

	// Three runs: one issue per repository and topic, never a second.
	for run := 1; run <= 3; run++ {
		res := sw.sweep(t, true)
		if len(res.Reminders) != len(dry.Reminders) {
			t.Fatalf("run %d: %d reminders, want %d", run, len(res.Reminders), len(dry.Reminders))
		}
		wantChange := sweep.ChangeNew
		if run > 1 {
			wantChange = sweep.ChangeUnchanged
		}
		for _, d := range res.Reminders {
			if d.Change != wantChange {
				t.Errorf("run %d: %s %s is %s, want %s", run, d.Repo, d.Topic, d.Change, wantChange)
			}
			if d.Repo != "" && !strings.HasPrefix(d.IssueURL, "http") {
				t.Errorf("run %d: %s %s has no issue URL", run, d.Repo, d.Topic)
			}
		}
		wantHook := "sent"
		if run > 1 {
			wantHook = "not needed"
		}
		if res.Webhook != wantHook {
			t.Errorf("run %d: webhook %q, want %q", run, res.Webhook, wantHook)
		}
	}
	perRepo := map[string]int{"old": 1, "soon": 3, "gone": 1, "cut": 1, "fresh": 0}
	for r, n := range perRepo {
		is := sw.issues(t, r)
		if len(is) != n {
			t.Errorf("acme/%s has %d issues, want %d", r, len(is), n)
		}
		for _, is := range is {
			if is.GetState() != "open" || !strings.Contains(is.GetBody(), "<!-- cutover:reminder:") {
				t.Errorf("acme/%s#%d: state %s, body without marker:\n%s", r, is.GetNumber(), is.GetState(), is.GetBody())
			}
		}
	}
	if hooks := sw.hook.all(); len(hooks) != 1 {
		t.Fatalf("%d webhook posts, want 1", len(hooks))
	} else {
		var p struct {
			Text      string      `json:"text"`
			Reminders []sweep.Due `json:"reminders"`
		}
		if err := json.Unmarshal(hooks[0], &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Reminders) != len(dry.Reminders) || !strings.Contains(p.Text, "acme/gone: [expired] Rotate the npm token in secret NPM_TOKEN") {
			t.Errorf("webhook: %d reminders, text:\n%s", len(p.Reminders), p.Text)
		}
	}

	// Three days later acme/soon's repository secret has 7 days left: the
	// same issue is updated, and the webhook says so.
	sw.clock.Advance(3 * 24 * time.Hour)
	res := sw.sweep(t, true)
	d := dueByKey(res.Reminders)["acme/soon secret:repo:NPM_TOKEN"]
	if d.Level != 2 || d.Change != sweep.ChangeEscalated {
		t.Errorf("after 3 days: %+v", d)
	}
	if is := sw.issues(t, "soon"); len(is) != 3 {
		t.Errorf("acme/soon has %d issues after escalation, want 3", len(is))
	}
	if n := len(sw.hook.all()); n != 2 {
		t.Errorf("%d webhook posts after the escalation, want 2", n)
	}

	// acme/old rotates its secret: the issue is closed, the ledger says so.
	if err := sw.world.API.SetRepoSecret("acme", "old", "NPM_TOKEN", ghapi.SecretOptions{UpdatedAt: sw.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	res = sw.sweep(t, true)
	if r := dueByKey(res.Resolved)["acme/old secret:repo:NPM_TOKEN"]; r.Change != sweep.ChangeResolved || r.Error != "" {
		t.Errorf("resolved: %+v", res.Resolved)
	}
	is := sw.issues(t, "old")
	if len(is) != 1 || is[0].GetState() != "closed" {
		t.Errorf("acme/old issues after rotation: %d, state %s", len(is), is[0].GetState())
	}
	rem, err := sw.led.Reminder(ctx, "acme/old", "secret:repo:NPM_TOKEN")
	if err != nil || rem.State != ledger.ReminderClosed || rem.ClosedAt == nil {
		t.Errorf("ledger reminder after rotation: %+v, %v", rem, err)
	}
	// Closed stays closed.
	sw.sweep(t, true)
	if is := sw.issues(t, "old"); len(is) != 1 || is[0].GetState() != "closed" {
		t.Errorf("acme/old after another sweep: %d issues", len(is))
	}

	// acme/cut: no drift while the token path sits behind the flag. Then
	// someone re-introduces a plain token feed.
	if _, ok := dueByKey(res.Reminders)["acme/cut drift:token-publish"]; ok {
		t.Fatal("drift reported for a token feed guarded by the flag")
	}
	pushMain(t, sw, "acme/cut", map[string][]byte{".github/workflows/release.yml": []byte(tokenWorkflow("24"))})
	res = sw.sweep(t, true)
	drift, ok := dueByKey(res.Reminders)["acme/cut drift:token-publish"]
	if !ok || drift.Change != sweep.ChangeNew || len(drift.Details) != 1 || drift.Details[0] != ".github/workflows/release.yml:17 (job publish)" {
		t.Fatalf("drift after a re-introduced token: %+v", drift)
	}
	var driftIssue *github.Issue
	for _, is := range sw.issues(t, "cut") {
		if strings.Contains(is.GetBody(), "<!-- cutover:reminder:drift:token-publish -->") {
			driftIssue = is
		}
	}
	if driftIssue == nil || !strings.Contains(driftIssue.GetTitle(), "npm publishing with a token is back in acme/cut") || !strings.Contains(driftIssue.GetBody(), "`.github/workflows/release.yml:17 (job publish)`") {
		t.Errorf("drift issue: %+v", driftIssue)
	}
	// Fixed again: resolved.
	pushMain(t, sw, "acme/cut", map[string][]byte{".github/workflows/release.yml": []byte(sweepOIDCWorkflow)})
	res = sw.sweep(t, true)
	if _, ok := dueByKey(res.Resolved)["acme/cut drift:token-publish"]; !ok {
		t.Errorf("drift not resolved after the fix: %+v", res.Resolved)
	}

	// The ledger has the reminders and the events; no credential anywhere.
	evs, err := sw.led.Events(ctx, ledger.EventFilter{Kind: "reminder.*"})
	if err != nil || len(evs) == 0 {
		t.Fatalf("reminder events: %d, %v", len(evs), err)
	}
	snap, err := sw.led.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(snap)
	var all bytes.Buffer
	all.Write(doc)
	for _, b := range sw.hook.all() {
		all.Write(b)
	}
	for _, r := range []string{"old", "soon", "gone", "cut"} {
		for _, is := range sw.issues(t, r) {
			all.WriteString(is.GetTitle() + is.GetBody())
		}
	}
	sw.logMu.Lock()
	all.Write(sw.logs.Bytes())
	sw.logMu.Unlock()
	for _, secret := range []string{sweepGHToken, sweepNPMSession, sweepNPMOld, sweepNPMSoon, "SECRETPATH", "key-old-0001", "key-soon-0002"} {
		if bytes.Contains(all.Bytes(), []byte(secret)) && !strings.HasPrefix(secret, "key-") {
			t.Errorf("%q reached the ledger, an issue, the webhook or the log", secret)
		}
	}
	// Token keys stay in the ledger's tokens table but never in issues or the webhook.
	var public bytes.Buffer
	for _, b := range sw.hook.all() {
		public.Write(b)
	}
	for _, r := range []string{"soon"} {
		for _, is := range sw.issues(t, r) {
			public.WriteString(is.GetBody())
		}
	}
	if bytes.Contains(public.Bytes(), []byte("key-soon-0002")) {
		t.Error("a token key reached an issue or the webhook")
	}
}

// digestOf finds the topic digest of the token reminder filed in repo.
func digestOf(t *testing.T, res sweep.Result, repo string) string {
	t.Helper()
	for _, d := range res.Reminders {
		if d.Repo == repo && strings.HasPrefix(d.Topic, "npm-token:") {
			return strings.TrimPrefix(d.Topic, "npm-token:")
		}
	}
	return "missing"
}

// pushMain changes files on a repository's default branch through a
// merged pull request.
func pushMain(t *testing.T, sw *sweepWorld, repo string, files map[string][]byte) {
	t.Helper()
	ctx := t.Context()
	owner, name, _ := strings.Cut(repo, "/")
	branch := fmt.Sprintf("change-%d", time.Now().UnixNano())
	fr := forge.Repo{FullName: repo, DefaultBranch: "main", CloneURL: sw.world.GitURL + repo + ".git"}
	if _, err := sw.forge.Push(ctx, fr, forge.Change{Branch: branch, Base: "main", Files: files, Message: "change the release workflow", Author: forge.Author{Name: "Dev", Email: "dev@example.invalid"}}); err != nil {
		t.Fatal(err)
	}
	pr, _, err := sw.client.PullRequests.Create(ctx, owner, name, &github.NewPullRequest{Title: github.String("change"), Head: github.String(branch), Base: github.String("main")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sw.client.PullRequests.Merge(ctx, owner, name, pr.GetNumber(), "", &github.PullRequestOptions{MergeMethod: "squash"}); err != nil {
		t.Fatal(err)
	}
}

func TestSweepWebhookFailure(t *testing.T) {
	sw := newSweepWorld(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer srv.Close()
	res, err := sweep.Run(t.Context(), sw.engine, sweep.Options{Execute: true, Webhook: srv.URL + "/hooks/SECRETPATH"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Webhook != "failed: POST answered 403 Forbidden" {
		t.Errorf("webhook = %q", res.Webhook)
	}
	res, err = sweep.Run(t.Context(), sw.engine, sweep.Options{Execute: true, Webhook: "http://127.0.0.1:1/hooks/SECRETPATH"})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing changed since the last run: no POST is needed.
	if res.Webhook != "not needed" {
		t.Errorf("webhook = %q", res.Webhook)
	}
	sw.clock.Advance(30 * 24 * time.Hour)
	res, err = sweep.Run(t.Context(), sw.engine, sweep.Options{Execute: true, Webhook: "http://127.0.0.1:1/hooks/SECRETPATH"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Webhook, "failed: POST failed: ") || strings.Contains(res.Webhook, "SECRETPATH") {
		t.Errorf("webhook = %q", res.Webhook)
	}
}
