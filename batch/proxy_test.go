package batch_test

import (
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/batch/sweep"
	"github.com/cutover/cutover/internal/clocktest"
	gh "github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
	"github.com/cutover/cutover/reports"
	"github.com/cutover/cutover/rewrite"
)

const (
	proxyGitHubToken = "ghp_PROXYcampaignerTOKENneverPRINTED0001"
	proxyAliceToken  = "npm_ALICEproxySESSIONtokenNEVERprinted1"
	proxyBridgeToken = "npm_BRIDGEproxyPUBLISHtokenNEVERprinted"
	proxyURL         = "https://proxy.example.invalid/npm/"
)

// TestProxyPipelinesStayOnTokenBridge inventories, on the sandbox, a
// repository publishing through a registry proxy its committed .npmrc
// names, one whose setup-node sends scope @acme to the proxy (a monorepo of
// @acme/core and unscoped tool) and one publishing to the registry: plan
// puts the proxies on the token-bridge path with the reason, trust skips
// their proxied packages with it and configures the others, verify does
// not verify them, revoke keeps their token although its flag was turned
// on, and sweep reminds to rotate it.
func TestProxyPipelinesStayOnTokenBridge(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clk := clocktest.New(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	w, err := sandbox.Start(ctx, sandbox.Options{Now: clk.Now, Limits: ghapi.Limits{Disabled: true}, NPM: npmreg.Options{Seed: 5}})
	npmMust(t, err)
	t.Cleanup(func() { w.Close() })
	w.API.AddToken(proxyGitHubToken, ghapi.Identity{Login: "campaigner", Permissions: ghapi.AllPermissions()})
	reg := w.NPM
	npmMust(t, reg.AddUser(npmreg.UserSpec{Name: "alice", OTP: npmAliceOTP}))
	day := 24 * time.Hour
	_, err = reg.AddToken(npmreg.TokenSpec{User: "alice", Value: proxyAliceToken, Name: "alice-login", Session: true})
	npmMust(t, err)
	bridgeTok, err := reg.AddToken(npmreg.TokenSpec{User: "alice", Value: proxyBridgeToken, Key: "key-bridge-ci", Name: "ci-bridge", Bypass2FA: true, Created: clk.Now().Add(-200 * day)})
	npmMust(t, err)
	for _, p := range []string{"plain", "bridge", "@acme/core", "tool"} {
		npmMust(t, reg.AddPackage(npmreg.PackageSpec{Name: p, Maintainers: []string{"alice"}, Created: clk.Now().Add(-100 * day)}))
		npmMust(t, reg.AddVersion(p, npmreg.VersionSpec{Version: "1.0.0", By: "alice", Published: clk.Now().Add(-90 * day)}))
	}

	ru := w.RegistryURL
	repos := map[string]map[string]string{
		"plain": {
			".github/workflows/release.yml": e2eWorkflow(ru, "", "NPM_TOKEN", "npm publish"),
			"package.json":                  `{"name":"plain","version":"1.0.0"}`,
		},
		"bridge": {
			".npmrc": "registry=" + proxyURL + "\n//proxy.example.invalid/npm/:_authToken=${NPM_TOKEN}\n",
			".github/workflows/publish.yml": `name: publish
on:
  push:
    tags: ['v*']
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm ci
      - run: npm publish
        env:
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
`,
			"package.json": `{"name":"bridge","version":"1.0.0"}`,
		},
		"scoped": {
			".github/workflows/release.yml": `name: release
on:
  push:
    tags: ['v*']
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 24
          registry-url: ` + proxyURL + `
          scope: acme
      - run: npm ci
      - run: npm publish --workspaces
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
`,
			"package.json":               `{"name":"scoped","private":true,"workspaces":["packages/*"]}`,
			"packages/core/package.json": `{"name":"@acme/core","version":"1.0.0","publishConfig":{"access":"public"}}`,
			"packages/tool/package.json": `{"name":"tool","version":"1.0.0"}`,
		},
	}
	for name, files := range repos {
		fs := map[string][]byte{}
		for p, b := range files {
			fs[p] = []byte(b)
		}
		npmMust(t, w.CreateRepo("acme", name, ghapi.RepoOptions{Files: fs}))
		// Each secret was last set 80 days ago: due for rotation.
		npmMust(t, w.SetSecret("repo", "acme/"+name, "", "NPM_TOKEN", proxyBridgeToken, clk.Now().Add(-80*day)))
	}

	logs := &npmSink{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fg, err := gh.New(ctx, gh.Options{APIURL: w.URL, Token: proxyGitHubToken, Limits: gh.Limits{Disabled: true}, Logger: logger})
	npmMust(t, err)
	led, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "cutover.db"), ledger.Options{Now: clk.Now})
	npmMust(t, err)
	t.Cleanup(func() { led.Close() })
	e := &batch.Engine{Forge: fg, Ledger: led, Logger: logger, Now: clk.Now, Opts: batch.Options{
		Org: "acme", Registry: ru, Concurrency: 2, FlagVar: "CUTOVER_NPM_OIDC",
		Gate: batch.Gate{Require: []string{"merged"}},
	}}
	n := &batch.NPM{Engine: e, By: "alice", Registry: &npm.Client{BaseURL: ru, Token: npm.Secret(proxyAliceToken), OTP: npm.StaticOTP(npmAliceOTP),
		Logger: logger, Now: clk.Now, Sleep: clk.Sleep, Jitter: func(d time.Duration) time.Duration { return d }}}

	inv, err := e.Inventory(ctx)
	if err != nil || inv.Failed() {
		t.Fatalf("inventory: %v\n%s", err, npmJSON(inv))
	}
	reason := "publishes via registry proxy proxy.example.invalid: trusted publishing needs the proxy removed"
	if got := rewrite.ProxyReason(proxyURL); got != reason {
		t.Fatalf("ProxyReason = %q, want %q", got, reason)
	}

	// Plan: the proxies are skipped onto the token-bridge path.
	plan, err := e.PlanCampaign(ctx)
	npmMust(t, err)
	skipped := map[string]batch.Skip{}
	for _, s := range plan.Skipped {
		skipped[s.Repo] = s
	}
	for _, r := range []string{"acme/bridge", "acme/scoped"} {
		if s := skipped[r]; s.Path != "token-bridge" || !strings.Contains(s.Reason, reason) {
			t.Errorf("plan skip of %s: %+v, want path token-bridge and %q", r, s, reason)
		}
	}
	if _, ok := skipped["acme/plain"]; ok {
		t.Errorf("plain skipped: %+v", skipped["acme/plain"])
	}
	snap, err := led.Snapshot(ctx)
	npmMust(t, err)
	paths := map[string]string{}
	for _, c := range reports.Build(snap, reports.Meta{}).Repos {
		paths[c.Repo] = c.Path
	}
	if want := map[string]string{"acme/plain": reports.PathOIDC, "acme/bridge": reports.PathTokenBridge, "acme/scoped": reports.PathTokenBridge}; !maps.Equal(paths, want) {
		t.Errorf("report paths %v, want %v", paths, want)
	}
	var planned []string
	for _, tn := range plan.Trust {
		planned = append(planned, tn.Package)
	}
	if !slices.Equal(planned, []string{"plain"}) {
		t.Errorf("plan's trusted publishers: %q, want only plain", planned)
	}

	// Trust: the proxied packages are skipped with the reason, nothing is
	// written for them; tool (unscoped, published to the registry) and
	// plain are configured.
	all := batch.RepoTarget{Repos: []string{"acme/plain", "acme/bridge", "acme/scoped"}}
	tr, err := n.Trust(ctx, batch.TrustOptions{Target: all, Execute: true})
	npmMust(t, err)
	got := byPackage(tr)
	for _, p := range []string{"bridge", "@acme/core"} {
		if r := got[p]; r.Kind != batch.Skipped || r.Reason != reason || r.Done || r.Want != (batch.TrustWant{}) {
			t.Errorf("trust %s: %+v, want skipped with %q", p, r, reason)
		}
		if c, ok := reg.Trust(p); ok {
			t.Errorf("trust configured %s through a proxy: %+v", p, c)
		}
	}
	for _, p := range []string{"plain", "tool"} {
		if r := got[p]; r.Kind != batch.OK || !r.Done {
			t.Errorf("trust %s: %+v", p, r)
		}
	}
	if s := tr.Summary(); s.Count(batch.Skipped) != 2 || s.Failed() {
		t.Errorf("trust summary: %s", npmJSON(s))
	}

	// Someone turns the flag on for bridge and records a passing check:
	// its token is still not displaced.
	npmMust(t, led.SetFlag(ctx, "acme/bridge", "CUTOVER_NPM_OIDC", "true"))
	_, err = led.RecordVerification(ctx, ledger.Verification{Repo: "acme/bridge", Package: "bridge", Version: "1.0.0", Checks: []ledger.Check{{Name: "trusted-publisher", OK: true, Message: "ok"}}})
	npmMust(t, err)
	ver, err := n.Verify(ctx, batch.VerifyOptions{Target: batch.RepoTarget{Repos: []string{"acme/bridge"}}, Version: "1.0.0"})
	npmMust(t, err)
	if o := ver.Summary.Outcomes; len(o) != 1 || o[0].Kind != batch.Skipped || o[0].Reason != reason || len(ver.Packages) != 0 {
		t.Errorf("verify bridge: %s", npmJSON(ver))
	}
	npmMust(t, led.UpsertTokens(ctx, []ledger.Token{{Key: bridgeTok.Key, Name: "ci-bridge", Source: "config", Repo: "acme/bridge"}}))
	rt, err := n.RevokeTokens(ctx, batch.RevokeTokensOptions{Migrated: true})
	npmMust(t, err)
	if len(rt.Tokens) != 0 {
		t.Errorf("revoke --migrated selected %q", keys(rt))
	}
	for _, a := range rt.NotSelected {
		if a.Key == bridgeTok.Key && (a.Reason != batch.NotSelectedProxy || !strings.Contains(a.Detail, reason)) {
			t.Errorf("bridge token: %+v", a)
		}
	}
	rs, err := e.RevokeSecrets(ctx, batch.RevokeSecretsOptions{Target: batch.RepoTarget{Repos: []string{"acme/bridge"}}, Execute: true, By: "alice"})
	npmMust(t, err)
	if o := rs.Summary.Outcomes; len(o) != 1 || o[0].Kind != batch.Skipped || !strings.Contains(o[0].Detail, reason) || len(rs.Secrets) != 0 {
		t.Errorf("revoke secrets of bridge: %s", npmJSON(rs))
	}
	if s, err := fg.Secrets(ctx, e.ForgeRepo(mustRepo(t, led, "acme/bridge"))); err != nil || len(s) != 1 {
		t.Errorf("bridge's secrets after revoke: %v %v", s, err)
	}

	// Sweep reminds to rotate the token the bridge keeps.
	sw, err := sweep.Run(ctx, e, sweep.Options{})
	npmMust(t, err)
	found := false
	for _, d := range sw.Reminders {
		if d.Repo == "acme/bridge" && d.Kind == sweep.ReminderSecret && strings.Contains(d.Subject, "NPM_TOKEN") {
			found = true
		}
	}
	if !found {
		t.Errorf("sweep has no rotation reminder for acme/bridge's NPM_TOKEN: %s", npmJSON(sw.Reminders))
	}

	for _, tok := range []string{proxyBridgeToken, proxyAliceToken, proxyGitHubToken} {
		if strings.Contains(logs.String(), tok) {
			t.Errorf("a credential reached the logs")
		}
	}
}

func mustRepo(t *testing.T, led *ledger.Ledger, name string) ledger.Repo {
	t.Helper()
	r, err := led.Repo(t.Context(), name)
	npmMust(t, err)
	return r
}
