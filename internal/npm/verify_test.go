package npm_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

const releaseWF = ".github/workflows/release.yml"

// fetchAndVerify is what `cutover verify` does for one canary.
func fetchAndVerify(ctx context.Context, c *npm.Client, exp npm.Expectation) (npm.Result, error) {
	p, err := c.Packument(ctx, exp.Package)
	if err != nil {
		return npm.Result{}, err
	}
	atts, err := c.Attestations(ctx, exp.Package, exp.Version)
	if err != nil && !errors.Is(err, npm.ErrNotFound) {
		return npm.Result{}, err
	}
	sts, err := npm.Statements(atts)
	if err != nil {
		return npm.Result{}, err
	}
	return npm.Verify(p, sts, exp), nil
}

func failedNames(r npm.Result) []npm.CheckName {
	var out []npm.CheckName
	for _, c := range r.Failed() {
		out = append(out, c.Name)
	}
	return out
}

func TestVerifyCanaries(t *testing.T) {
	t.Parallel()
	const pkg = "@acme/widget"
	type env struct {
		w    *world
		mint func(workflowPath, env string) string
	}
	tests := []struct {
		name    string
		trust   npmreg.TrustSpec
		setup   func(t *testing.T, e env) // publishes the canary
		exp     npm.Expectation
		failing []npm.CheckName
	}{
		{
			name:  "oidc canary passes",
			trust: npmreg.TrustSpec{Repository: "acme/widget", File: "release.yml"},
			setup: func(t *testing.T, e env) {
				must(t, e.w.reg.PublishCanary(pkg, "2.0.0-canary.1", "canary", npmreg.PublishPath{OIDC: true, IDToken: e.mint(releaseWF, "")}))
			},
		},
		{
			name:  "token path fails",
			trust: npmreg.TrustSpec{Repository: "acme/widget", File: "release.yml"},
			setup: func(t *testing.T, e env) {
				must(t, e.w.reg.PublishCanary(pkg, "2.0.0-canary.1", "canary", npmreg.PublishPath{Token: botToken}))
			},
			failing: []npm.CheckName{npm.CheckTrustedPublisher, npm.CheckProvenance, npm.CheckStatement},
		},
		{
			name:  "trust mismatch by case falls back to the token",
			trust: npmreg.TrustSpec{Repository: "acme/widget", File: "Release.yml"},
			setup: func(t *testing.T, e env) {
				must(t, e.w.reg.PublishCanary(pkg, "2.0.0-canary.1", "canary", npmreg.PublishPath{OIDC: true, IDToken: e.mint(releaseWF, ""), Token: botToken}))
			},
			failing: []npm.CheckName{npm.CheckTrustedPublisher, npm.CheckProvenance, npm.CheckStatement},
		},
		{
			name:  "prerelease moved latest",
			trust: npmreg.TrustSpec{Repository: "acme/widget", File: "release.yml"},
			setup: func(t *testing.T, e env) {
				must(t, e.w.reg.PublishCanary(pkg, "2.0.0-canary.1", "", npmreg.PublishPath{OIDC: true, IDToken: e.mint(releaseWF, "")}))
			},
			exp:     npm.Expectation{DistTag: "latest"},
			failing: []npm.CheckName{npm.CheckLatestStable},
		},
		{
			name:  "downgrade from an earlier trusted publish",
			trust: npmreg.TrustSpec{Repository: "acme/widget", File: "release.yml", Environment: "npm"},
			setup: func(t *testing.T, e env) {
				wf := &npmreg.Workflow{Repository: "acme/widget", Path: releaseWF, Environment: "npm"}
				must(t, e.w.reg.AddVersion(pkg, npmreg.VersionSpec{Version: "1.1.0", OIDC: wf, Provenance: wf, Published: e.w.clk.Now().Add(-10 * 24 * time.Hour)}))
				// The job lost its environment: the exchange fails, npm falls back to
				// the token and still makes provenance because --provenance is set.
				must(t, e.w.reg.PublishCanary(pkg, "2.0.0-canary.1", "canary", npmreg.PublishPath{OIDC: true, IDToken: e.mint(releaseWF, ""), Token: botToken, Provenance: true}))
			},
			failing: []npm.CheckName{npm.CheckTrustedPublisher, npm.CheckNoDowngrade},
		},
		{
			name:  "a later token publish is a downgrade",
			trust: npmreg.TrustSpec{Repository: "acme/widget", File: "release.yml"},
			setup: func(t *testing.T, e env) {
				must(t, e.w.reg.PublishCanary(pkg, "2.0.0-canary.1", "canary", npmreg.PublishPath{OIDC: true, IDToken: e.mint(releaseWF, "")}))
				e.w.clk.Advance(time.Hour)
				must(t, e.w.reg.PublishCanary(pkg, "2.0.0", "", npmreg.PublishPath{Token: botToken}))
			},
			failing: []npm.CheckName{npm.CheckNoDowngrade},
		},
		{
			name:  "provenance names another workflow",
			trust: npmreg.TrustSpec{Repository: "acme/widget", File: "release.yml"},
			setup: func(t *testing.T, e env) {
				must(t, e.w.reg.PublishCanary(pkg, "2.0.0-canary.1", "canary", npmreg.PublishPath{OIDC: true, IDToken: e.mint(releaseWF, "")}))
			},
			exp:     npm.Expectation{Workflow: "publish.yml", Repository: "acme/widget-fork"},
			failing: []npm.CheckName{npm.CheckStatement},
		},
		{
			name:  "full workflow path",
			trust: npmreg.TrustSpec{Repository: "acme/widget", File: "release.yml"},
			setup: func(t *testing.T, e env) {
				must(t, e.w.reg.PublishCanary(pkg, "2.0.0-canary.1", "canary", npmreg.PublishPath{OIDC: true, IDToken: e.mint(releaseWF, "")}))
			},
			exp: npm.Expectation{Workflow: releaseWF},
		},
		{
			name:    "missing version",
			trust:   npmreg.TrustSpec{Repository: "acme/widget", File: "release.yml"},
			setup:   func(*testing.T, env) {},
			failing: []npm.CheckName{npm.CheckExists, npm.CheckTrustedPublisher, npm.CheckProvenance, npm.CheckStatement, npm.CheckDistTag, npm.CheckNoDowngrade},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			_, err := w.reg.SetTrust(pkg, tt.trust)
			must(t, err)
			e := env{w: w, mint: func(path, environment string) string {
				tok, err := w.reg.MintIDToken(npmreg.GitHubClaims("acme/widget", path, "refs/tags/v2.0.0", environment))
				must(t, err)
				return tok
			}}
			tt.setup(t, e)
			exp := npm.Expectation{Package: pkg, Version: "2.0.0-canary.1", DistTag: "canary", Repository: "acme/widget", Workflow: "release.yml", PublicRepo: true}
			if tt.exp.DistTag != "" {
				exp.DistTag = tt.exp.DistTag
			}
			if tt.exp.Workflow != "" {
				exp.Workflow = tt.exp.Workflow
			}
			if tt.exp.Repository != "" {
				exp.Repository = tt.exp.Repository
			}
			res, err := fetchAndVerify(t.Context(), w.client(aliceToken, nil), exp)
			must(t, err)
			if len(res.Checks) != 7 {
				t.Errorf("%d checks, want 7: %+v", len(res.Checks), res.Checks)
			}
			if diff := cmp.Diff(tt.failing, failedNames(res), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("failing checks (-want +got):\n%s\n%+v", diff, res.Checks)
			}
			if res.OK() != (len(tt.failing) == 0) {
				t.Errorf("OK() = %v", res.OK())
			}
		})
	}
}

func TestVerifyPrivateRepo(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, err := w.reg.SetTrust("@acme/internal", npmreg.TrustSpec{Repository: "acme/internal", File: "release.yml"})
	must(t, err)
	claims := npmreg.GitHubClaims("acme/internal", releaseWF, "", "")
	claims.RepositoryVisibility = "private"
	idTok, err := w.reg.MintIDToken(claims)
	must(t, err)
	must(t, w.reg.PublishCanary("@acme/internal", "1.1.0-canary.0", "canary", npmreg.PublishPath{OIDC: true, IDToken: idTok}))
	res, err := fetchAndVerify(t.Context(), w.client(aliceToken, nil), npm.Expectation{
		Package: "@acme/internal", Version: "1.1.0-canary.0", DistTag: "canary", Repository: "acme/internal", Workflow: "release.yml",
	})
	must(t, err)
	if !res.OK() {
		t.Fatalf("failed: %+v", res.Failed())
	}
	for _, c := range res.Checks {
		if (c.Name == npm.CheckProvenance || c.Name == npm.CheckStatement) != c.Skipped {
			t.Errorf("check %s skipped=%v", c.Name, c.Skipped)
		}
	}
}

func TestPublishCanaryWithoutCredential(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, err := w.reg.SetTrust("solo", npmreg.TrustSpec{Repository: "acme/solo", File: "Release.yml"})
	must(t, err)
	idTok, err := w.reg.MintIDToken(npmreg.GitHubClaims("acme/solo", releaseWF, "", ""))
	must(t, err)
	err = w.reg.PublishCanary("solo", "1.1.0-canary.0", "canary", npmreg.PublishPath{OIDC: true, IDToken: idTok})
	var e *npmreg.Error
	if !errors.As(err, &e) || e.Code != "ENEEDAUTH" {
		t.Fatalf("error %v, want ENEEDAUTH", err)
	}
	_, err = w.client(aliceToken, nil).Version(t.Context(), "solo", "1.1.0-canary.0")
	if !errors.Is(err, npm.ErrNotFound) {
		t.Errorf("the failed canary exists: %v", err)
	}
}

func TestCanaryVersion(t *testing.T) {
	t.Parallel()
	p := &npm.Packument{
		Name:     "x",
		DistTags: map[string]string{"canary": "2.0.0-canary.1", "latest": "1.0.0"},
		Time:     map[string]string{"2.0.0-canary.1": "2026-11-02T10:00:00.000Z", "1.0.0": "2026-01-01T00:00:00.000Z"},
	}
	flagOn := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	if v, err := npm.CanaryVersion(p, "canary", flagOn); err != nil || v != "2.0.0-canary.1" {
		t.Errorf("CanaryVersion(canary) = %q, %v", v, err)
	}
	if _, err := npm.CanaryVersion(p, "latest", flagOn); err == nil {
		t.Error("latest was published before the flag and must not count")
	}
	if _, err := npm.CanaryVersion(p, "beta", flagOn); err == nil {
		t.Error("a missing tag must fail")
	}
}

func TestIsPrerelease(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"1.0.0": false, "1.0.0-rc.1": true, "1.0.0+build-7": false, "1.0.0-0+x": true, "2.0.0-canary.20261102": true,
	} {
		if got := npm.IsPrerelease(v); got != want {
			t.Errorf("IsPrerelease(%q) = %v", v, got)
		}
	}
}

func TestParsePackumentLegacyShapes(t *testing.T) {
	t.Parallel()
	p, err := npm.ParsePackument([]byte(`{"name":"old","maintainers":["Ann <ann@example.invalid>"],
		"versions":{"0.1.0":{"name":"old","version":"0.1.0","_npmUser":"Ann <ann@example.invalid>","repository":"github:ann/old"},"0.0.1":null}}`))
	must(t, err)
	want := npm.Person{Name: "Ann", Email: "ann@example.invalid"}
	if diff := cmp.Diff(want, *p.Versions["0.1.0"].NpmUser); diff != "" {
		t.Errorf("_npmUser (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]npm.Person{want}, p.Maintainers); diff != "" {
		t.Errorf("maintainers (-want +got):\n%s", diff)
	}
	if _, ok := p.Versions["0.0.1"]; ok {
		t.Error("a null version survived")
	}
	if got := p.Versions["0.1.0"].RepositoryURL(); got != "github:ann/old" {
		t.Errorf("RepositoryURL = %q", got)
	}
	if _, err := npm.ParsePackument([]byte(`{"versions":{}}`)); err == nil {
		t.Error("a packument without a name must fail")
	}
}

// seedHistory gives a package n versions alternating token and OIDC publishes,
// with provenance on the OIDC ones, and a canary at the end.
func seedHistory(t testing.TB, w *world, pkg string, n int) string {
	t.Helper()
	wf := &npmreg.Workflow{Repository: "acme/widget", Path: releaseWF}
	_, err := w.reg.SetTrust(pkg, npmreg.TrustSpec{Repository: "acme/widget", File: "release.yml"})
	must(t, err)
	for i := range n {
		s := npmreg.VersionSpec{Version: fmt.Sprintf("1.%d.0", i+1), Published: w.clk.Now().Add(time.Duration(i-n) * time.Hour), By: "alice"}
		if i >= n/2 {
			s.OIDC, s.Provenance = wf, wf
		}
		must(t, w.reg.AddVersion(pkg, s))
	}
	idTok, err := w.reg.MintIDToken(npmreg.GitHubClaims("acme/widget", releaseWF, "", ""))
	must(t, err)
	must(t, w.reg.PublishCanary(pkg, "2.0.0-canary.1", "canary", npmreg.PublishPath{OIDC: true, IDToken: idTok}))
	return "2.0.0-canary.1"
}

// BenchmarkFetchAndVerify measures packument fetch + attestations fetch +
// verification per second against the emulator on loopback.
func BenchmarkFetchAndVerify(b *testing.B) {
	w := newWorld(b)
	v := seedHistory(b, w, "@acme/widget", 40)
	c := w.client(aliceToken, nil)
	c.Logger = nil
	exp := npm.Expectation{Package: "@acme/widget", Version: v, DistTag: "canary", Repository: "acme/widget", Workflow: "release.yml", PublicRepo: true}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		res, err := fetchAndVerify(ctx, c, exp)
		if err != nil || !res.OK() {
			b.Fatalf("%v %+v", err, res.Failed())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}

// BenchmarkVerify measures the pure verification of a 41-version packument.
func BenchmarkVerify(b *testing.B) {
	w := newWorld(b)
	v := seedHistory(b, w, "@acme/widget", 40)
	c := w.client(aliceToken, nil)
	p, err := c.Packument(b.Context(), "@acme/widget")
	must(b, err)
	atts, err := c.Attestations(b.Context(), "@acme/widget", v)
	must(b, err)
	sts, err := npm.Statements(atts)
	must(b, err)
	exp := npm.Expectation{Package: "@acme/widget", Version: v, DistTag: "canary", Repository: "acme/widget", Workflow: "release.yml", PublicRepo: true}
	b.ReportAllocs()
	for b.Loop() {
		if res := npm.Verify(p, sts, exp); !res.OK() {
			b.Fatalf("%+v", res.Failed())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}
