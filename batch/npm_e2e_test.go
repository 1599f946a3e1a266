package batch_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/clocktest"
	"github.com/cutover/cutover/internal/forge"
	gh "github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// Credentials of the end-to-end scenario. The scan at its end proves that
// none reaches a log line, the ledger, a report or an error. Their first
// six characters differ, as a registry's would: revoke tokens tells the
// token it authenticates with from the others by them.
const (
	e2eGitHubToken = "ghp_E2EcampaignerTOKENneverPRINTED00001"
	e2eWidgetToken = "npm_WIDGETe2ePUBLISHtokenNEVERprinted01"
	e2eMonoToken   = "npm_MONOe2ePUBLISHtokenNEVERprinted0002"
	e2eOrgToken    = "npm_ORGe2ePUBLISHtokenNEVERprinted00003"
	e2eBobToken    = "npm_BOBe2eSESSIONtokenNEVERprinted00004"
	e2eAliceToken  = "npm_ALICEe2eSESSIONtokenNEVERprinted005"
)

// e2eWorkflow is a token-publishing release workflow reading the secret,
// with an optional environment and extra publish arguments.
func e2eWorkflow(registry, environment, secret, publish string) string {
	env := ""
	if environment != "" {
		env = "\n    environment: " + environment
	}
	return `name: release
on:
  push:
    tags: ['v*']
jobs:
  publish:
    runs-on: ubuntu-latest` + env + `
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 24
          registry-url: ` + registry + `
      - run: npm ci
      - run: ` + publish + `
        env:
          NODE_AUTH_TOKEN: ${{ secrets.` + secret + ` }}
`
}

// TestNPMCampaignEndToEnd runs the npm side of a campaign on the sandbox:
// inventory, plan, trust, apply, merge, flag on, a simulated release through
// the migrated workflow, verify, then revoke tokens and secrets; at the end
// the ledger, the registry and the forge agree, and no credential is found in
// any log, ledger row, report or error.
func TestNPMCampaignEndToEnd(t *testing.T) {
	ctx := t.Context()
	clk := clocktest.New(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	w, err := sandbox.Start(ctx, sandbox.Options{Now: clk.Now, Limits: ghapi.Limits{Disabled: true}, NPM: npmreg.Options{Seed: 3}})
	npmMust(t, err)
	t.Cleanup(func() { w.Close() })
	w.API.AddToken(e2eGitHubToken, ghapi.Identity{Login: "campaigner", Permissions: ghapi.AllPermissions()})
	reg := w.NPM

	// The registry: alice maintains everything and owns the CI tokens; bob
	// logs in on the web.
	npmMust(t, reg.AddUser(npmreg.UserSpec{Name: "alice", OTP: npmAliceOTP}))
	npmMust(t, reg.AddUser(npmreg.UserSpec{Name: "bob", WebAuth: true}))
	day := 24 * time.Hour
	keyOf := map[string]string{}
	for _, s := range []npmreg.TokenSpec{
		{User: "alice", Value: e2eAliceToken, Name: "alice-login", Session: true},
		{User: "bob", Value: e2eBobToken, Name: "bob-login", Session: true},
		{User: "alice", Value: e2eWidgetToken, Key: "key-widget-ci", Name: "ci-widget", Bypass2FA: true, Created: clk.Now().Add(-200 * day)},
		{User: "alice", Value: e2eMonoToken, Key: "key-mono-ci", Name: "ci-mono", Bypass2FA: true, Created: clk.Now().Add(-150 * day), CIDR: []string{"192.0.2.0/24"}},
		{User: "alice", Value: e2eOrgToken, Key: "key-org-ci", Name: "ci-org", Bypass2FA: true, Created: clk.Now().Add(-300 * day)},
	} {
		tok, err := reg.AddToken(s)
		npmMust(t, err)
		keyOf[s.Name] = tok.Key
	}
	for _, p := range []string{"@acme/widget", "@acme/a", "@acme/b", "gadget", "legacy"} {
		npmMust(t, reg.AddPackage(npmreg.PackageSpec{Name: p, Maintainers: []string{"alice", "bob"}, Created: clk.Now().Add(-100 * day)}))
		npmMust(t, reg.AddVersion(p, npmreg.VersionSpec{Version: "1.0.0", By: "alice", Published: clk.Now().Add(-90 * day)}))
	}

	// The forge: four repositories publishing with tokens from a repository
	// secret, an environment secret and an organisation secret.
	ru := w.RegistryURL
	repos := map[string]map[string]string{
		"widget": {
			".github/workflows/release.yml": e2eWorkflow(ru, "", "NPM_TOKEN", "npm publish"),
			"package.json":                  `{"name":"@acme/widget","version":"1.0.0","publishConfig":{"access":"public"},"repository":"github:acme/widget"}`,
		},
		"mono": {
			".github/workflows/release.yml": e2eWorkflow(ru, "release", "NPM_TOKEN", "npm publish --workspaces"),
			"package.json":                  `{"name":"mono","private":true,"workspaces":["packages/*"]}`,
			"packages/a/package.json":       `{"name":"@acme/a","version":"1.0.0","publishConfig":{"access":"public"}}`,
			"packages/b/package.json":       `{"name":"@acme/b","version":"1.0.0","publishConfig":{"access":"public"}}`,
		},
		"gadget": {
			".github/workflows/publish.yml": e2eWorkflow(ru, "", "ORG_NPM_TOKEN", "npm publish"),
			"package.json":                  `{"name":"gadget","version":"1.0.0"}`,
		},
		"legacy": {
			".github/workflows/release.yml": e2eWorkflow(ru, "", "ORG_NPM_TOKEN", "npm publish"),
			"package.json":                  `{"name":"legacy","version":"1.0.0"}`,
		},
		// shadow reads a repository secret of the same name as the
		// organisation's, so it does not hold the organisation secret back.
		"shadow": {
			".github/workflows/release.yml": e2eWorkflow(ru, "", "ORG_NPM_TOKEN", "npm publish"),
			"package.json":                  `{"name":"shadow","version":"1.0.0"}`,
		},
	}
	for name, files := range repos {
		fs := map[string][]byte{}
		for p, b := range files {
			fs[p] = []byte(b)
		}
		npmMust(t, w.CreateRepo("acme", name, ghapi.RepoOptions{Files: fs}))
	}
	npmMust(t, w.SetSecret("repo", "acme/widget", "", "NPM_TOKEN", e2eWidgetToken, time.Time{}))
	// Not publish tokens: a read token for installs and a webhook stay.
	npmMust(t, w.SetSecret("repo", "acme/widget", "", "NPM_READ_TOKEN", "read-only-install-value", time.Time{}))
	npmMust(t, w.SetSecret("repo", "acme/widget", "", "SLACK_WEBHOOK", "hook-value-not-npm", time.Time{}))
	npmMust(t, w.API.SetEnvironment("acme", "mono", "release"))
	npmMust(t, w.SetSecret("env", "acme/mono", "release", "NPM_TOKEN", e2eMonoToken, time.Time{}))
	npmMust(t, w.SetSecret("org", "acme", "", "ORG_NPM_TOKEN", e2eOrgToken, time.Time{}))
	npmMust(t, w.SetSecret("repo", "acme/shadow", "", "ORG_NPM_TOKEN", e2eOrgToken, time.Time{}))

	// The engine, its logs collected for the scan.
	logs := &npmSink{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fg, err := gh.New(ctx, gh.Options{APIURL: w.URL, Token: e2eGitHubToken, Limits: gh.Limits{Disabled: true}, Logger: logger})
	npmMust(t, err)
	dbPath := filepath.Join(t.TempDir(), "cutover.db")
	led, err := ledger.Open(ctx, dbPath, ledger.Options{Now: clk.Now})
	npmMust(t, err)
	t.Cleanup(func() { led.Close() })
	e := &batch.Engine{Forge: fg, Ledger: led, Logger: logger, Now: clk.Now, Opts: batch.Options{
		Org: "acme", Registry: ru, Concurrency: 4,
		Plan: batch.PlanOptions{Canaries: []string{"acme/widget", "acme/mono", "acme/gadget"}},
		Gate: batch.Gate{Require: []string{"merged", "verified"}},
	}}
	client := func(token string, otp npm.OTPSource) *npm.Client {
		return &npm.Client{BaseURL: ru, Token: npm.Secret(token), OTP: otp, Logger: logger, Now: clk.Now, Sleep: clk.Sleep,
			Jitter: func(d time.Duration) time.Duration { return d }}
	}
	web := &webApprover{reg: reg}
	bob := &batch.NPM{Engine: e, Registry: client(e2eBobToken, web.source()), By: "bob"}
	var reports []any
	report := func(name string, v any) { reports = append(reports, map[string]any{name: v}) }
	check := func(what string, err error, failed bool, v any) {
		t.Helper()
		report(what, v)
		if err != nil || failed {
			t.Fatalf("%s: %v\n%s", what, err, npmJSON(v))
		}
	}

	// Inventory and plan.
	inv, err := e.Inventory(ctx)
	check("inventory", err, inv.Failed(), inv)
	plan, err := e.PlanCampaign(ctx)
	check("plan", err, false, plan)
	zero, one := 0, 1
	wave0 := batch.RepoTarget{Wave: &zero}

	// Trust: a dry run, then the real thing, with one web login.
	dry, err := bob.Trust(ctx, batch.TrustOptions{Target: wave0})
	check("trust dry run", err, dry.Summary().Failed(), dry)
	if len(dry.Packages) != 4 || dry.Summary().Count(batch.OK) != 4 {
		t.Fatalf("trust dry run: %s", npmJSON(dry))
	}
	tr, err := bob.Trust(ctx, batch.TrustOptions{Target: wave0, Execute: true})
	check("trust", err, tr.Summary().Failed(), tr)
	for _, p := range tr.Packages {
		if !p.Done || p.State != ledger.TrustConfigured {
			t.Errorf("trust %s: %+v", p.Package, p)
		}
	}
	if c, ok := reg.Trust("@acme/a"); !ok || c.Repository != "acme/mono" || c.File != "release.yml" || c.Environment != "release" {
		t.Errorf("trust of @acme/a: %+v", c)
	}
	if web.count() != 1 {
		t.Errorf("%d web logins for trust, want 1", web.count())
	}

	// Apply the canaries, merge, flag on.
	ap, err := e.Apply(ctx, batch.ApplyOptions{Wave: 0, Execute: true})
	check("apply", err, ap.Failed() || ap.Count(batch.OK) != 3, ap)
	gc, err := github.NewClient(nil).WithAuthToken(e2eGitHubToken).WithEnterpriseURLs(w.URL, w.URL)
	npmMust(t, err)
	for _, name := range []string{"widget", "mono", "gadget"} {
		prs, _, err := gc.PullRequests.List(ctx, "acme", name, nil)
		npmMust(t, err)
		if len(prs) != 1 {
			t.Fatalf("%s has %d pull requests", name, len(prs))
		}
		_, _, err = gc.PullRequests.Merge(ctx, "acme", name, prs[0].GetNumber(), "", nil)
		npmMust(t, err)
	}
	st, _, err := e.Status(ctx)
	check("status", err, st.Failed(), st)
	e.Registry = bob.Registry
	fl, err := e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Wave: &zero}})
	check("flag on", err, fl.Failed() || fl.Count(batch.OK) != 3, fl)

	// Before any release there is nothing to verify.
	ver, err := bob.Verify(ctx, batch.VerifyOptions{Target: wave0})
	check("verify before release", err, ver.Summary.Failed(), ver)
	if ver.Summary.Count(batch.Skipped) != 3 {
		t.Errorf("verify before the release: %s", npmJSON(ver.Summary))
	}

	// The release job runs the migrated workflow with the flag on: OIDC.
	clk.Advance(time.Minute)
	for _, r := range []string{"acme/widget", "acme/mono", "acme/gadget"} {
		res, err := w.Release(ctx, r, sandbox.ReleaseOptions{})
		npmMust(t, err)
		report("release "+r, res)
		if res.Skipped != "" || res.Failed() {
			t.Fatalf("release %s: %s", r, npmJSON(res))
		}
		for _, p := range res.Packages {
			if p.Path != sandbox.PathOIDC || !p.Provenance {
				t.Errorf("release %s: %s went %q (provenance %v)", r, p.Package, p.Path, p.Provenance)
			}
		}
	}

	// Verify: every canary passes, and the gate of wave 0 opens.
	ver, err = bob.Verify(ctx, batch.VerifyOptions{Target: wave0})
	check("verify", err, ver.Summary.Failed() || ver.Summary.Count(batch.OK) != 3, ver)
	if len(ver.Packages) != 4 {
		t.Errorf("verified %d packages, want 4", len(ver.Packages))
	}
	_, waves, err := e.Status(ctx)
	npmMust(t, err)
	if !waves[0].Gate.OK {
		t.Errorf("gate of wave 0: %+v", waves[0].Gate)
	}

	// Revoke the tokens of the migrated repositories. The ledger knows which
	// repository each CI token served (as the config records it).
	npmMust(t, led.UpsertTokens(ctx, []ledger.Token{
		{Key: keyOf["ci-widget"], Source: "config", Repo: "acme/widget"},
		{Key: keyOf["ci-mono"], Source: "config", Repo: "acme/mono"},
		{Key: keyOf["ci-org"], Source: "config", Repo: "acme/legacy"},
	}))
	alice := &batch.NPM{Engine: e, Registry: client(e2eAliceToken, npm.StaticOTP(npmAliceOTP)), By: "alice"}
	plannedTokens, err := alice.RevokeTokens(ctx, batch.RevokeTokensOptions{Migrated: true})
	check("revoke tokens (dry run)", err, plannedTokens.Failed(), plannedTokens)
	if got := keys(plannedTokens); !slices.Equal(got, []string{"key-widget-ci", "key-mono-ci"}) {
		t.Errorf("tokens planned: %q", got)
	}
	revoked, err := alice.RevokeTokens(ctx, batch.RevokeTokensOptions{Migrated: true, Execute: true})
	check("revoke tokens", err, revoked.Failed(), revoked)

	// Revoke the secrets: the repository and environment secrets go; the
	// organisation secret stays, because acme/legacy still reads it.
	plannedSecrets, err := e.RevokeSecrets(ctx, batch.RevokeSecretsOptions{Target: wave0, By: "alice"})
	check("revoke secrets (dry run)", err, plannedSecrets.Summary.Failed(), plannedSecrets)
	secrets, err := e.RevokeSecrets(ctx, batch.RevokeSecretsOptions{Target: wave0, Execute: true, By: "alice"})
	check("revoke secrets", err, secrets.Summary.Failed(), secrets)
	got := map[string]batch.SecretAction{}
	for _, a := range secrets.Secrets {
		got[a.Scope+":"+a.Repo+":"+a.Name] = a
	}
	if a := got["repo:acme/widget:NPM_TOKEN"]; a.Kind != batch.OK || a.Detail != "deleted" {
		t.Errorf("widget's secret: %+v", a)
	}
	if a := got["env:acme/mono:NPM_TOKEN"]; a.Kind != batch.OK || a.Environment != "release" {
		t.Errorf("mono's environment secret: %+v", a)
	}
	org := got["org:acme/gadget:ORG_NPM_TOKEN"]
	if org.Kind != batch.Manual || !slices.Equal(org.UsedBy, []string{"acme/legacy (.github/workflows/release.yml)"}) {
		t.Errorf("organisation secret: %+v", org)
	}
	live, err := fg.Secrets(ctx, forge.Repo{FullName: "acme/widget"})
	npmMust(t, err)
	var names []string
	for _, s := range live {
		names = append(names, s.Scope+":"+s.Name)
	}
	if !slices.Equal(names, []string{"repo:NPM_READ_TOKEN", "repo:SLACK_WEBHOOK", "org:ORG_NPM_TOKEN"}) {
		t.Errorf("widget's secrets after the revocation: %q", names)
	}
	if len(secrets.Secrets) != 3 {
		t.Errorf("secrets handled: %s", npmJSON(secrets.Secrets))
	}

	// The migrated repositories still release (OIDC needs no token), and the
	// unmigrated one still releases with the organisation secret it kept.
	clk.Advance(time.Minute)
	res, err := w.Release(ctx, "acme/widget", sandbox.ReleaseOptions{})
	npmMust(t, err)
	if res.Failed() || res.Packages[0].Path != sandbox.PathOIDC {
		t.Errorf("widget release after the revocations: %s", npmJSON(res))
	}
	res, err = w.Release(ctx, "acme/legacy", sandbox.ReleaseOptions{})
	npmMust(t, err)
	if res.Failed() || res.Packages[0].Path != sandbox.PathToken {
		t.Errorf("legacy release with the kept organisation secret: %s", npmJSON(res))
	}
	ver, err = bob.Verify(ctx, batch.VerifyOptions{Target: batch.RepoTarget{Repos: []string{"acme/widget"}}})
	check("verify again", err, ver.Summary.Failed(), ver)
	// legacy is not cut over: its canary went through the token path.
	ver, err = bob.Verify(ctx, batch.VerifyOptions{Target: batch.RepoTarget{Wave: &one}, Version: "1.0.1-canary.0"})
	report("verify legacy", ver)
	npmMust(t, err)
	if !ver.Summary.Failed() {
		t.Errorf("the token-path canary of acme/legacy passed verification: %s", npmJSON(ver))
	}

	var sums bytes.Buffer
	for _, s := range []batch.Summary{tr.Summary(), ver.Summary, secrets.Summary} {
		s.Write(&sums, nil)
	}
	t.Logf("summaries:\n%s", sums.String())
	t.Logf("tokens revoked: %s", npmJSON(revoked.Tokens))

	// The ledger and the sandbox agree.
	e2eAgree(t, e, w, fg)

	// No credential anywhere.
	snap, err := led.Snapshot(ctx)
	npmMust(t, err)
	snapJSON, err := json.Marshal(snap)
	npmMust(t, err)
	reportJSON, err := json.Marshal(reports)
	npmMust(t, err)
	var text bytes.Buffer
	for _, s := range []batch.Summary{dry.Summary(), tr.Summary(), ver.Summary, secrets.Summary} {
		s.Write(&text, nil)
	}
	led.Close()
	db := readAll(t, dbPath, dbPath+"-wal", dbPath+"-shm")
	places := map[string]string{"logs": logs.String(), "ledger snapshot": string(snapJSON), "ledger file": string(db), "reports": string(reportJSON), "summaries": text.String()}
	for where, s := range places {
		for _, secret := range []string{e2eGitHubToken, e2eWidgetToken, e2eMonoToken, e2eOrgToken, e2eBobToken, e2eAliceToken} {
			if strings.Contains(s, secret) {
				t.Errorf("a credential (%.8s…) is in the %s", secret, where)
			}
		}
		if m := regexp.MustCompile(`npm_[A-Za-z0-9]{30,}|ghp_[A-Za-z0-9]{30,}`).FindString(s); m != "" {
			t.Errorf("something shaped like a token (%.8s…) is in the %s", m, where)
		}
	}
	if len(logs.String()) < 1000 || len(db) < 1000 {
		t.Errorf("the scan saw too little: %d bytes of logs, %d of ledger", len(logs.String()), len(db))
	}
}

// e2eAgree checks that the ledger says what the registry and the forge hold.
func e2eAgree(t *testing.T, e *batch.Engine, w *sandbox.World, fg forge.Forge) {
	t.Helper()
	ctx := t.Context()
	led, reg := e.Ledger, w.NPM
	zero := 0
	pkgs, err := led.PackagesInWave(ctx, zero)
	npmMust(t, err)
	for _, p := range pkgs {
		c, ok := reg.Trust(p.Name)
		configured := ok && c.Repository == p.TrustRepository && c.File == p.TrustWorkflow && c.Environment == p.TrustEnvironment
		if (p.TrustState == ledger.TrustConfigured) != configured {
			t.Errorf("%s: ledger says %s, registry holds %+v", p.Name, p.TrustState, c)
		}
		vs, err := led.LatestVerifications(ctx, p.Repo)
		npmMust(t, err)
		for _, v := range vs {
			if v.Package != p.Name {
				continue
			}
			doc, err := reg.Packument(p.Name, w.RegistryURL)
			npmMust(t, err)
			pk, err := npm.ParsePackument(doc)
			npmMust(t, err)
			oidc := pk.Versions[v.Version] != nil && npm.EvidenceOf(pk.Versions[v.Version]) == npm.EvidenceTrustedPublisher
			if v.Passed != oidc {
				t.Errorf("%s@%s: ledger passed=%v, registry trusted publisher=%v", p.Name, v.Version, v.Passed, oidc)
			}
		}
	}
	revs, err := led.Revocations(ctx)
	npmMust(t, err)
	revoked := map[string]bool{}
	for _, r := range revs {
		revoked[r.Key] = true
	}
	onRegistry := map[string]bool{}
	for _, tok := range reg.Tokens("alice") {
		onRegistry[tok.Key] = true
		if revoked[tok.Key] {
			t.Errorf("token %s is recorded as revoked but still on the registry", tok.Key)
		}
	}
	toks, err := led.Tokens(ctx)
	npmMust(t, err)
	for _, tok := range toks {
		if !revoked[tok.Key] && !onRegistry[tok.Key] {
			t.Errorf("token %s is neither on the registry nor recorded as revoked", tok.Key)
		}
	}
	if len(revs) != 2 {
		t.Errorf("%d revocations, want 2", len(revs))
	}
	for _, name := range []string{"acme/widget", "acme/mono", "acme/gadget", "acme/legacy"} {
		r, err := led.Repo(ctx, name)
		npmMust(t, err)
		live, err := fg.Secrets(ctx, forge.Repo{FullName: name, ID: r.ID, DefaultBranch: r.DefaultBranch})
		npmMust(t, err)
		onForge := map[string]bool{}
		for _, s := range live {
			onForge[s.Scope+"/"+s.Environment+"/"+s.Name] = true
		}
		recorded, err := led.Secrets(ctx, name)
		npmMust(t, err)
		orgs, err := led.Secrets(ctx, "")
		npmMust(t, err)
		for _, s := range append(recorded, orgs...) {
			key := s.Scope + "/" + s.Environment + "/" + s.Name
			if s.Scope == ledger.ScopeOrg && !slices.ContainsFunc(live, func(l forge.Secret) bool { return l.Scope == "org" }) {
				continue // the organisation secret is not visible from here
			}
			if (s.DeletedAt == nil) != onForge[key] {
				t.Errorf("%s: ledger has %s deleted=%v, forge has it=%v", name, key, s.DeletedAt != nil, onForge[key])
			}
		}
	}
}

func npmJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// readAll concatenates the files that exist.
func readAll(t *testing.T, paths ...string) []byte {
	t.Helper()
	var out []byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err == nil {
			out = append(out, b...)
		}
	}
	return out
}
