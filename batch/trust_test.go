package batch_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// trustRepos are the repositories of the trust tests: a monorepo, a single
// package with an environment, a package not on the registry yet, and two
// packages whose registry configuration differs (by case, and by repository
// and environment).
var trustRepos = []npmRepo{
	{name: "acme/mono", workflow: "release.yml", pkgs: []string{"@acme/a", "@acme/b"}},
	{name: "acme/single", workflow: "publish.yml", env: "npm", pkgs: []string{"single"}},
	{name: "acme/fresh", workflow: "release.yml", pkgs: []string{"@acme/fresh"}},
	{name: "acme/cased", workflow: "release.yml", pkgs: []string{"cased"}},
	{name: "acme/other", workflow: "release.yml", pkgs: []string{"other"}},
}

func seedTrust(t *testing.T, env *npmEnv) {
	t.Helper()
	env.seed(t, []string{"verified"}, trustRepos...)
	for _, p := range []string{"@acme/a", "@acme/b", "single", "cased", "other"} {
		env.addPackage(t, p)
	}
	_, err := env.reg.SetTrust("cased", npmreg.TrustSpec{Repository: "acme/cased", File: "Release.yml"})
	npmMust(t, err)
	_, err = env.reg.SetTrust("other", npmreg.TrustSpec{Repository: "acme/other-fork", File: "release.yml", Environment: "prod"})
	npmMust(t, err)
}

func byPackage(rep batch.TrustReport) map[string]batch.TrustResult {
	m := map[string]batch.TrustResult{}
	for _, p := range rep.Packages {
		m[p.Package] = p
	}
	return m
}

func ledgerTrust(t *testing.T, env *npmEnv, repo, pkg string) ledger.Package {
	t.Helper()
	ps, err := env.led.Packages(t.Context(), repo)
	npmMust(t, err)
	for _, p := range ps {
		if p.Name == pkg {
			return p
		}
	}
	t.Fatalf("package %q of %q not in the ledger", pkg, repo)
	return ledger.Package{}
}

func TestTrustDryRunExecuteReplace(t *testing.T) {
	t.Parallel()
	env := newNPMEnv(t, npmreg.Options{})
	seedTrust(t, env)
	ctx := t.Context()
	otp := &countingSource{next: npm.StaticOTP(npmAliceOTP)}
	n := env.npm(env.client(npmAliceToken, otp))
	zero := 0
	wave := batch.RepoTarget{Wave: &zero}

	// A dry run reads every configuration and changes nothing.
	dry, err := n.Trust(ctx, batch.TrustOptions{Target: wave})
	npmMust(t, err)
	if dry.Step != "trust (dry run)" || len(dry.Packages) != 6 {
		t.Fatalf("dry run: %+v", dry)
	}
	got := byPackage(dry)
	for _, p := range []string{"@acme/a", "@acme/b", "single"} {
		if r := got[p]; r.Kind != batch.OK || r.State != ledger.TrustMissing || r.Action != batch.TrustActionCreate || r.Done {
			t.Errorf("dry run %s: %+v", p, r)
		}
		if _, ok := env.reg.Trust(p); ok {
			t.Errorf("dry run configured %s", p)
		}
	}
	if r := got["@acme/fresh"]; r.Kind != batch.Manual || r.State != ledger.TrustUnpublished || !strings.Contains(r.Detail, "first publish cannot use OIDC") {
		t.Errorf("unknown package: %+v", r)
	}
	if r := got["cased"]; r.Kind != batch.Manual || r.State != ledger.TrustMismatch || len(r.Diff) != 1 ||
		!strings.Contains(r.Diff[0], `workflow file is "Release.yml", want "release.yml" (differs only in case`) {
		t.Errorf("case mismatch: %+v", r)
	}
	if r := got["other"]; r.State != ledger.TrustMismatch || len(r.Diff) != 2 {
		t.Errorf("repository and environment mismatch: %+v", r)
	}
	if p := ledgerTrust(t, env, "acme/cased", "cased"); p.TrustState != ledger.TrustMismatch || !strings.Contains(p.TrustDetail, "differs only in case") {
		t.Errorf("ledger for cased: %+v", p)
	}
	if n := env.count("POST", "/trust") + env.count("DELETE", "/trust"); n != 0 {
		t.Errorf("dry run wrote %d times to the registry", n)
	}

	// Execute creates the missing configurations, leaves mismatches alone.
	run, err := n.Trust(ctx, batch.TrustOptions{Target: wave, Execute: true})
	npmMust(t, err)
	got = byPackage(run)
	for _, p := range []string{"@acme/a", "@acme/b", "single"} {
		if r := got[p]; r.Kind != batch.OK || r.State != ledger.TrustConfigured || !r.Done {
			t.Errorf("execute %s: %+v", p, r)
		}
	}
	if c, ok := env.reg.Trust("single"); !ok || c.Repository != "acme/single" || c.File != "publish.yml" || c.Environment != "npm" {
		t.Errorf("single's trust config: %+v %v", c, ok)
	}
	if c, _ := env.reg.Trust("cased"); c.File != "Release.yml" {
		t.Errorf("a mismatch was replaced without --replace: %+v", c)
	}
	if !run.Summary().Failed() && run.Summary().Count(batch.Manual) != 3 {
		t.Errorf("summary: %+v", run.Summary())
	}

	// Running it again finds everything configured and writes nothing.
	posts := env.count("POST", "/trust")
	again, err := n.Trust(ctx, batch.TrustOptions{Target: wave, Execute: true})
	npmMust(t, err)
	for _, p := range []string{"@acme/a", "@acme/b", "single"} {
		if r := byPackage(again)[p]; r.State != ledger.TrustConfigured || r.Action != batch.TrustActionNone || r.Done {
			t.Errorf("second execute %s: %+v", p, r)
		}
	}
	if env.count("POST", "/trust") != posts {
		t.Error("the second run created configurations again")
	}

	// --replace fixes the mismatches: delete, then create.
	rep, err := n.Trust(ctx, batch.TrustOptions{Target: batch.RepoTarget{Repos: []string{"acme/cased", "acme/other"}}, Execute: true, Replace: true})
	npmMust(t, err)
	for _, p := range []string{"cased", "other"} {
		if r := byPackage(rep)[p]; r.Kind != batch.OK || r.Action != batch.TrustActionReplace || !r.Done || r.State != ledger.TrustConfigured {
			t.Errorf("replace %s: %+v", p, r)
		}
	}
	if c, _ := env.reg.Trust("cased"); c.File != "release.yml" {
		t.Errorf("cased after replace: %+v", c)
	}
	if c, _ := env.reg.Trust("other"); c.Repository != "acme/other" || c.Environment != "" {
		t.Errorf("other after replace: %+v", c)
	}
	for _, p := range []struct{ repo, pkg string }{{"acme/mono", "@acme/a"}, {"acme/cased", "cased"}, {"acme/fresh", "@acme/fresh"}} {
		want := ledger.TrustConfigured
		if p.pkg == "@acme/fresh" {
			want = ledger.TrustUnpublished
		}
		if got := ledgerTrust(t, env, p.repo, p.pkg); got.TrustState != want || got.TrustChecked.IsZero() {
			t.Errorf("ledger %s: %+v, want %s", p.pkg, got, want)
		}
	}

	// One OTP for all four runs: the client reuses it within the window.
	if otp.count() != 1 {
		t.Errorf("the OTP source was asked %d times, want 1", otp.count())
	}
	evs, err := env.led.Events(ctx, ledger.EventFilter{Kind: "trust.*"})
	npmMust(t, err)
	kinds := map[string]int{}
	for _, ev := range evs {
		kinds[ev.Kind]++
	}
	if kinds["trust.created"] != 3 || kinds["trust.replaced"] != 2 || kinds["trust.unpublished"] != 3 {
		t.Errorf("events: %v", kinds)
	}
}

func TestTrustConflict(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		race  npmreg.TrustSpec
		state string
		kind  string
	}{
		{"someone configured the same", npmreg.TrustSpec{Repository: "acme/single", File: "publish.yml", Environment: "npm"}, ledger.TrustConfigured, batch.OK},
		{"someone configured another", npmreg.TrustSpec{Repository: "acme/single", File: "publish.yaml", Environment: "npm"}, ledger.TrustMismatch, batch.Manual},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newNPMEnv(t, npmreg.Options{})
			env.seed(t, nil, trustRepos[1])
			env.addPackage(t, "single")
			// Between our list and our create, someone else configures the package.
			var once sync.Once
			env.setWrap(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/trust") {
					once.Do(func() {
						_, err := env.reg.SetTrust("single", tt.race)
						npmMust(t, err)
					})
				}
				next.ServeHTTP(w, r)
			})
			rep, err := env.npm(env.client(npmAliceToken, npm.StaticOTP(npmAliceOTP))).Trust(t.Context(), batch.TrustOptions{Target: batch.RepoTarget{Repos: []string{"acme/single"}}, Execute: true})
			npmMust(t, err)
			r := rep.Packages[0]
			if r.State != tt.state || r.Kind != tt.kind || !strings.Contains(r.Detail, "409") {
				t.Errorf("after a 409: %+v", r)
			}
		})
	}
}

func TestTrustWebLoginWindow(t *testing.T) {
	t.Parallel()
	env := newNPMEnv(t, npmreg.Options{})
	seedTrust(t, env)
	web := &webApprover{reg: env.reg}
	n := env.npm(env.client(npmBobToken, web.source()))
	zero := 0
	opts := batch.TrustOptions{Target: batch.RepoTarget{Wave: &zero}}
	rep, err := n.Trust(t.Context(), opts)
	npmMust(t, err)
	if rep.Summary().Failed() {
		t.Fatalf("web login run failed: %+v", rep.Summary())
	}
	if web.count() != 1 {
		t.Errorf("%d web logins for one batch of 6 packages, want 1", web.count())
	}
	// Within the window no new approval; past it, one more.
	env.clk.Advance(4 * time.Minute)
	_, err = n.Trust(t.Context(), opts)
	npmMust(t, err)
	if web.count() != 1 {
		t.Errorf("%d web logins within the window, want 1", web.count())
	}
	env.clk.Advance(time.Minute + time.Second)
	rep, err = n.Trust(t.Context(), opts)
	npmMust(t, err)
	if rep.Summary().Failed() || web.count() != 2 {
		t.Errorf("after the window: %d web logins, want 2; %+v", web.count(), rep.Summary())
	}
}

func TestTrustAuthFailures(t *testing.T) {
	t.Parallel()
	env := newNPMEnv(t, npmreg.Options{})
	seedTrust(t, env)
	_, err := env.reg.AddToken(npmreg.TokenSpec{User: "alice", Value: npmCIToken, Name: "ci", Bypass2FA: true})
	npmMust(t, err)
	env.eng.Opts.Concurrency = 1
	zero := 0
	for _, tt := range []struct {
		name   string
		client *npm.Client
		reason string
		stops  bool
	}{
		{"no OTP source", env.client(npmAliceToken, nil), "two-factor authentication needed", true},
		{"unknown token", env.client("npm_UNKNOWNtokenFORbatchTESTS0000000009", nil), "not logged in to the registry", true},
		{"bypass-2FA token", env.client(npmCIToken, npm.StaticOTP(npmAliceOTP)), "not allowed by the registry", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := env.npm(tt.client).Trust(t.Context(), batch.TrustOptions{Target: batch.RepoTarget{Wave: &zero}, Execute: true})
			npmMust(t, err)
			failed, skipped := 0, 0
			for _, r := range rep.Packages {
				switch r.Kind {
				case batch.Failed:
					failed++
					if r.Reason != tt.reason {
						t.Errorf("%s: reason %q, want %q", r.Package, r.Reason, tt.reason)
					}
				case batch.Skipped:
					skipped++
				}
			}
			if tt.stops && (failed != 1 || skipped != 5) {
				t.Errorf("after an authentication failure: %d failed, %d skipped, want 1 and 5", failed, skipped)
			}
			if !tt.stops && failed != 5 { // the unpublished package is a 404 for everyone
				t.Errorf("%d failed, want 5", failed)
			}
		})
	}
}

// TestTrustAgainstPrefixedServer checks the client and the step work when
// the registry lives below a path, as the emulator does.
func TestTrustAgainstPrefixedServer(t *testing.T) {
	t.Parallel()
	env := newNPMEnv(t, npmreg.Options{})
	env.seed(t, nil, trustRepos[0])
	env.addPackage(t, "@acme/a")
	env.addPackage(t, "@acme/b")
	rep, err := env.npm(env.client(npmAliceToken, npm.StaticOTP(npmAliceOTP))).Trust(context.Background(), batch.TrustOptions{Target: batch.RepoTarget{Repos: []string{"acme/mono"}}, Execute: true})
	npmMust(t, err)
	if rep.Summary().Count(batch.OK) != 2 {
		t.Fatalf("%+v", rep)
	}
	if env.count("POST", npmPrefix+"/-/package/@acme/a/trust") != 1 {
		t.Errorf("requests: %v", env.requests)
	}
}

// BenchmarkTrust measures trust --execute over 100 packages against the
// emulator on loopback, with one OTP for the batch, in packages per second.
func BenchmarkTrust(b *testing.B) {
	const n = 100
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		env := newNPMEnv(b, npmreg.Options{})
		env.eng.Opts.Concurrency = 8
		env.eng.Logger = nil
		var repos []npmRepo
		for i := range n {
			name := fmt.Sprintf("pkg-%03d", i)
			repos = append(repos, npmRepo{name: "acme/" + name, workflow: "release.yml", pkgs: []string{name}})
			env.addPackage(b, name)
		}
		env.seed(b, nil, repos...)
		c := env.client(npmAliceToken, npm.StaticOTP(npmAliceOTP))
		c.Logger = nil
		zero := 0
		b.StartTimer()
		start := time.Now()
		rep, err := env.npm(c).Trust(b.Context(), batch.TrustOptions{Target: batch.RepoTarget{Wave: &zero}, Execute: true})
		total += time.Since(start)
		if err != nil || rep.Summary().Count(batch.OK) != n {
			b.Fatalf("%v %+v", err, rep.Summary())
		}
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "packages/s")
}
