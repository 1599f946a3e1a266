package batch_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

const flagVar = "CUTOVER_NPM_OIDC"

// failedChecks returns the names of the checks that did not pass.
func failedChecks(r batch.VerifyResult) []string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, string(c.Name))
		}
	}
	return out
}

func TestVerifyCanaries(t *testing.T) {
	t.Parallel()
	const pkg = "@acme/widget"
	type env = npmEnv
	tests := []struct {
		name string
		// trust is the package's trusted publisher on the registry.
		trust npmreg.TrustSpec
		// publish makes the canary (and whatever follows it).
		publish func(t *testing.T, e *env)
		opts    batch.VerifyOptions
		// failing lists the checks that must fail; nil means a pass.
		failing []string
	}{
		{
			name: "published through OIDC",
			publish: func(t *testing.T, e *env) {
				e.release(t, "acme/widget", "release.yml", "", pkg, "2.0.0-canary.1", "canary")
			},
		},
		{
			name: "published with a token",
			publish: func(t *testing.T, e *env) {
				npmMust(t, e.reg.PublishCanary(pkg, "2.0.0-canary.1", "canary", npmreg.PublishPath{Token: npmCIToken}))
			},
			failing: []string{"trusted-publisher", "provenance", "provenance-statement"},
		},
		{
			name:  "OIDC refused, silently fell back to the token",
			trust: npmreg.TrustSpec{Repository: "acme/widget", File: "Release.yml"},
			publish: func(t *testing.T, e *env) {
				idTok, err := e.reg.MintIDToken(npmreg.GitHubClaims("acme/widget", ".github/workflows/release.yml", "", ""))
				npmMust(t, err)
				npmMust(t, e.reg.PublishCanary(pkg, "2.0.0-canary.1", "canary", npmreg.PublishPath{OIDC: true, IDToken: idTok, Token: npmCIToken}))
			},
			failing: []string{"trusted-publisher", "provenance", "provenance-statement"},
		},
		{
			name: "a prerelease moved latest",
			publish: func(t *testing.T, e *env) {
				e.release(t, "acme/widget", "release.yml", "", pkg, "2.0.0-canary.1", "canary")
				npmMust(t, e.client(npmAliceToken, npm.StaticOTP(npmAliceOTP)).SetDistTag(t.Context(), pkg, "latest", "2.0.0-canary.1"))
			},
			failing: []string{"latest-not-prerelease"},
		},
		{
			name: "a later token publish is a downgrade",
			publish: func(t *testing.T, e *env) {
				e.release(t, "acme/widget", "release.yml", "", pkg, "2.0.0-canary.1", "canary")
				e.clk.Advance(time.Hour)
				npmMust(t, e.reg.PublishCanary(pkg, "2.0.0", "latest", npmreg.PublishPath{Token: npmCIToken}))
			},
			failing: []string{"no-trust-downgrade"},
		},
		{
			name: "the given version, without a dist-tag check",
			publish: func(t *testing.T, e *env) {
				e.release(t, "acme/widget", "release.yml", "", pkg, "2.0.0-canary.1", "canary")
				e.release(t, "acme/widget", "release.yml", "", pkg, "2.0.0-canary.2", "canary")
			},
			opts: batch.VerifyOptions{Version: "2.0.0-canary.1"},
		},
		{
			name: "the dist-tag points elsewhere",
			publish: func(t *testing.T, e *env) {
				e.release(t, "acme/widget", "release.yml", "", pkg, "2.0.0-canary.1", "next")
			},
			opts:    batch.VerifyOptions{Version: "2.0.0-canary.1", Tag: "canary"},
			failing: []string{"dist-tag"},
		},
		{
			name: "provenance names another workflow",
			publish: func(t *testing.T, e *env) {
				_, err := e.reg.SetTrust(pkg, npmreg.TrustSpec{Repository: "acme/widget", File: "nightly.yml"})
				npmMust(t, err)
				e.release(t, "acme/widget", "nightly.yml", "", pkg, "2.0.0-canary.1", "canary")
			},
			failing: []string{"provenance-statement"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newNPMEnv(t, npmreg.Options{})
			_, err := e.reg.AddToken(npmreg.TokenSpec{User: "alice", Value: npmCIToken, Name: "ci", Bypass2FA: true})
			npmMust(t, err)
			e.seed(t, []string{"verified"}, npmRepo{name: "acme/widget", workflow: "release.yml", pkgs: []string{pkg}})
			e.addPackage(t, pkg)
			trust := tt.trust
			if trust.Repository == "" {
				trust = npmreg.TrustSpec{Repository: "acme/widget", File: "release.yml"}
			}
			_, err = e.reg.SetTrust(pkg, trust)
			npmMust(t, err)
			npmMust(t, e.led.SetFlag(t.Context(), "acme/widget", flagVar, "true"))
			e.clk.Advance(time.Hour)
			tt.publish(t, e)

			opts := tt.opts
			opts.Target = batch.RepoTarget{Repos: []string{"acme/widget"}}
			rep, err := e.npm(e.client("", nil)).Verify(t.Context(), opts)
			npmMust(t, err)
			if len(rep.Packages) != 1 || len(rep.Summary.Outcomes) != 1 {
				t.Fatalf("report: %+v", rep)
			}
			r, out := rep.Packages[0], rep.Summary.Outcomes[0]
			if got := failedChecks(r); !slices.Equal(got, tt.failing) {
				t.Errorf("failing checks %q, want %q\n%+v", got, tt.failing, r.Checks)
			}
			wantKind := batch.OK
			if tt.failing != nil {
				wantKind = batch.Failed
			}
			if out.Kind != wantKind || r.Passed != (tt.failing == nil) {
				t.Errorf("outcome %+v, passed %v", out, r.Passed)
			}
			vs, err := e.led.Verifications(t.Context(), "acme/widget")
			npmMust(t, err)
			if len(vs) != 1 || vs[0].Passed != r.Passed || vs[0].Version != r.Version || len(vs[0].Checks) != 7 {
				t.Errorf("recorded verifications: %+v", vs)
			}
		})
	}
}

func TestVerifySkipsAndGate(t *testing.T) {
	t.Parallel()
	e := newNPMEnv(t, npmreg.Options{})
	ctx := t.Context()
	e.seed(t, []string{"verified"},
		npmRepo{name: "acme/mono", workflow: "release.yml", pkgs: []string{"@acme/a", "@acme/b"}},
		npmRepo{name: "acme/private", visibility: "private", workflow: "release.yml", pkgs: []string{"@acme/private"}},
	)
	for p, repo := range map[string]string{"@acme/a": "acme/mono", "@acme/b": "acme/mono", "@acme/private": "acme/private"} {
		e.addPackage(t, p)
		_, err := e.reg.SetTrust(p, npmreg.TrustSpec{Repository: repo, File: "release.yml"})
		npmMust(t, err)
	}
	_, err := e.reg.AddToken(npmreg.TokenSpec{User: "alice", Value: npmCIToken, Name: "ci", Bypass2FA: true})
	npmMust(t, err)
	n := e.npm(e.client(npmAliceToken, nil))
	zero := 0
	wave := batch.RepoTarget{Wave: &zero}
	// The canaries were applied: status reports the gates of started waves.
	npmMust(t, e.led.SetWaveState(ctx, 0, ledger.WaveGated, ""))
	gateOK := func() bool {
		t.Helper()
		_, ws, err := e.eng.Status(ctx)
		npmMust(t, err)
		return ws[0].Gate.OK
	}

	// A canary published before the flag went on does not count.
	e.release(t, "acme/mono", "release.yml", "", "@acme/a", "1.1.0-canary.0", "canary")
	e.clk.Advance(time.Minute)
	rep, err := n.Verify(ctx, batch.VerifyOptions{Target: wave})
	npmMust(t, err)
	for _, o := range rep.Summary.Outcomes {
		if o.Kind != batch.Skipped || o.Reason != "flag not on" {
			t.Errorf("before the flag: %+v", o)
		}
	}
	npmMust(t, e.led.SetFlag(ctx, "acme/mono", flagVar, "true"))
	npmMust(t, e.led.SetFlag(ctx, "acme/private", flagVar, "true"))
	e.clk.Advance(time.Minute)
	rep, err = n.Verify(ctx, batch.VerifyOptions{Target: wave})
	npmMust(t, err)
	if o := rep.Summary.Outcomes[0]; o.Kind != batch.Skipped || o.Reason != "no canary yet" || !strings.Contains(o.Detail, "not after") {
		t.Errorf("canary older than the flag: %+v", o)
	}
	if vs, _ := e.led.Verifications(ctx, "acme/mono"); len(vs) != 0 {
		t.Errorf("recorded without a canary: %+v", vs)
	}
	if gateOK() {
		t.Fatal("the verified gate passed with nothing verified")
	}

	// A canary of one package of the monorepo, and of the private repository.
	e.release(t, "acme/mono", "release.yml", "", "@acme/a", "1.1.0-canary.1", "canary")
	claims := npmreg.GitHubClaims("acme/private", ".github/workflows/release.yml", "", "")
	claims.RepositoryVisibility = "private"
	idTok, err := e.reg.MintIDToken(claims)
	npmMust(t, err)
	npmMust(t, e.reg.PublishCanary("@acme/private", "1.1.0-canary.1", "canary", npmreg.PublishPath{OIDC: true, IDToken: idTok}))
	rep, err = n.Verify(ctx, batch.VerifyOptions{Target: wave})
	npmMust(t, err)
	if rep.Summary.Failed() || rep.Summary.Count(batch.OK) != 2 {
		t.Fatalf("verify: %+v", rep)
	}
	if o := rep.Summary.Outcomes[0]; !strings.Contains(o.Detail, "1 package(s) verified") || !strings.Contains(o.Detail, "@acme/b") {
		t.Errorf("monorepo outcome: %+v", o)
	}
	for _, r := range rep.Packages {
		if r.Package != "@acme/private" {
			continue
		}
		for _, c := range r.Checks {
			if (c.Name == npm.CheckProvenance || c.Name == npm.CheckStatement) != c.Skipped {
				t.Errorf("private repository, check %s skipped=%v", c.Name, c.Skipped)
			}
		}
	}
	if !gateOK() {
		t.Error("the verified gate did not pass after the canaries were verified")
	}

	// A failed verification of a newer canary closes the gate again.
	npmMust(t, e.reg.PublishCanary("@acme/a", "1.1.0-canary.2", "canary", npmreg.PublishPath{Token: npmCIToken}))
	rep, err = n.Verify(ctx, batch.VerifyOptions{Target: batch.RepoTarget{Repos: []string{"acme/mono"}}})
	npmMust(t, err)
	if !rep.Summary.Failed() {
		t.Errorf("token canary passed: %+v", rep)
	}
	if gateOK() {
		t.Error("the gate passed after a failed verification")
	}
	vs, err := e.led.LatestVerifications(ctx, "acme/mono")
	npmMust(t, err)
	if len(vs) != 1 || vs[0].Passed || vs[0].Version != "1.1.0-canary.2" {
		t.Errorf("latest verifications: %+v", vs)
	}
	evs, err := e.led.Events(ctx, ledger.EventFilter{Kind: ledger.EventVerified})
	npmMust(t, err)
	if len(evs) != 3 {
		t.Errorf("%d verification events, want 3", len(evs))
	}
}
