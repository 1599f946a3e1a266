package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/githttp"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
	"github.com/cutover/cutover/rewrite"
)

// seedWorld starts a World and seeds a portfolio of n repositories of the
// given kinds (all kinds when none are given).
func seedWorld(tb testing.TB, seed int64, n int, kinds ...sandbox.Kind) (*sandbox.World, sandbox.Portfolio, sandbox.Seeded) {
	tb.Helper()
	w, err := sandbox.Start(tb.Context(), sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := w.Close(); err != nil {
			tb.Error(err)
		}
	})
	var opts sandbox.PortfolioOptions
	if len(kinds) > 0 {
		opts.Weights = map[sandbox.Kind]int{}
		for _, k := range kinds {
			opts.Weights[k] = 1
		}
	}
	opts.CIFailureRate = -1
	p := sandbox.Generate(seed, n, opts)
	s, err := w.Seed(tb.Context(), p)
	if err != nil {
		tb.Fatal(err)
	}
	return w, p, s
}

// find returns the first repository that ok accepts.
func find(tb testing.TB, p sandbox.Portfolio, ok func(sandbox.Repo) bool) sandbox.Repo {
	tb.Helper()
	for _, r := range p.Repos {
		if ok(r) {
			return r
		}
	}
	tb.Fatal("no repository in the portfolio fits the test")
	return sandbox.Repo{}
}

// npmUser returns the _npmUser of pkg@version as the registry serves it.
func npmUser(tb testing.TB, w *sandbox.World, pkg, version string) map[string]any {
	tb.Helper()
	doc, err := w.NPM.Packument(pkg, w.RegistryURL)
	if err != nil {
		tb.Fatal(err)
	}
	var p struct {
		Versions map[string]struct {
			NpmUser map[string]any `json:"_npmUser"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(doc, &p); err != nil {
		tb.Fatal(err)
	}
	return p.Versions[version].NpmUser
}

func TestReleaseMigratedTakesOIDC(t *testing.T) {
	t.Parallel()
	w, p, _ := seedWorld(t, 11, 6, sandbox.KindMigrated)
	for _, r := range p.Repos {
		res, err := w.Release(t.Context(), r.FullName(p.Org), sandbox.ReleaseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Packages) != len(r.Publishable()) {
			t.Fatalf("%s: %d packages released, want %d: %+v", r.Name, len(res.Packages), len(r.Publishable()), res)
		}
		for _, pr := range res.Packages {
			if !pr.Published || pr.Path != sandbox.PathOIDC {
				t.Errorf("%s: %s: published %v via %q, want OIDC: %+v", r.Name, pr.Package, pr.Published, pr.Path, pr)
			}
			if pr.Provenance != !r.Private {
				t.Errorf("%s: %s: provenance %v for a private=%v repository", r.Name, pr.Package, pr.Provenance, r.Private)
			}
			if !strings.Contains(pr.Version, "-canary.0") || w.NPM.DistTags(pr.Package)["canary"] != pr.Version {
				t.Errorf("%s: version %q, dist-tags %v", pr.Package, pr.Version, w.NPM.DistTags(pr.Package))
			}
			if u := npmUser(t, w, pr.Package, pr.Version); u["trustedPublisher"] == nil {
				t.Errorf("%s@%s: _npmUser %v has no trustedPublisher", pr.Package, pr.Version, u)
			}
		}
	}
	// A second release takes the next canary number.
	r := p.Repos[0]
	res, err := w.Release(t.Context(), r.FullName(p.Org), sandbox.ReleaseOptions{Tag: "next"})
	if err != nil {
		t.Fatal(err)
	}
	if v := res.Packages[0].Version; !strings.HasSuffix(v, "-canary.1") {
		t.Errorf("second canary is %q, want -canary.1", v)
	}
}

func TestReleaseTokenRepos(t *testing.T) {
	t.Parallel()
	w, p, _ := seedWorld(t, 12, 40, sandbox.KindNPM, sandbox.KindSemanticRelease, sandbox.KindChangesets,
		sandbox.KindJSDevTools, sandbox.KindNpmrc, sandbox.KindReusable, sandbox.KindPNPM, sandbox.KindYarn)
	for _, r := range p.Repos {
		res, err := w.Release(t.Context(), r.FullName(p.Org), sandbox.ReleaseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Skipped != "" {
			t.Errorf("%s (%s): skipped: %s", r.Name, r.Kind, res.Skipped)
			continue
		}
		wantOK := !r.Secret.Token.Expired() && r.Trust != sandbox.TrustMatch
		for _, pr := range res.Packages {
			if pr.Path != sandbox.PathToken {
				t.Errorf("%s (%s): %s went %q, want token: %+v", r.Name, r.Kind, pr.Package, pr.Path, res)
			}
			if pr.Published != wantOK {
				t.Errorf("%s (%s): %s published = %v, want %v (token expired %v): %s %s", r.Name, r.Kind, pr.Package, pr.Published, wantOK, r.Secret.Token.Expired(), pr.Code, pr.Error)
			}
			if pr.Published && npmUser(t, w, pr.Package, pr.Version)["name"] != p.BotUser {
				t.Errorf("%s@%s: _npmUser %v, want the bot", pr.Package, pr.Version, npmUser(t, w, pr.Package, pr.Version))
			}
			if pr.Provenance != (pr.Published && r.Provenance) {
				t.Errorf("%s (%s): provenance %v, generator says %v", r.Name, r.Kind, pr.Provenance, r.Provenance)
			}
		}
		if !strings.HasPrefix(res.TokenFrom, "secrets.") {
			t.Errorf("%s (%s): token from %q", r.Name, r.Kind, res.TokenFrom)
		}
	}
}

func TestReleaseNonPublisherIsSkipped(t *testing.T) {
	t.Parallel()
	w, p, _ := seedWorld(t, 13, 2, sandbox.KindNone)
	res, err := w.Release(t.Context(), p.Repos[0].FullName(p.Org), sandbox.ReleaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped == "" || len(res.Packages) != 0 {
		t.Fatalf("a non-publisher released: %+v", res)
	}
	if _, err := w.Release(t.Context(), p.Org+"/no-such-repo", sandbox.ReleaseOptions{}); err == nil {
		t.Fatal("releasing an unknown repository did not fail")
	}
}

// commit writes files (nil removes) on top of branch from's head as branch
// to and lets the API see it.
func commit(tb testing.TB, w *sandbox.World, owner, name, from, to string, files map[string][]byte) string {
	tb.Helper()
	var sha string
	err := w.Git.With(owner, name, func(r *git.Repository) error {
		ref, err := r.Reference(plumbing.NewBranchReferenceName(from), true)
		if err != nil {
			return err
		}
		parent, err := r.CommitObject(ref.Hash())
		if err != nil {
			return err
		}
		all := map[string][]byte{}
		tree, _ := parent.Tree()
		_ = tree.Files().ForEach(func(f *object.File) error {
			s, err := f.Contents()
			all[f.Name] = []byte(s)
			return err
		})
		for p, b := range files {
			if b == nil {
				delete(all, p)
			} else {
				all[p] = b
			}
		}
		th, err := githttp.WriteTree(r.Storer, all, nil)
		if err != nil {
			return err
		}
		sig := object.Signature{Name: "t", Email: "t@users.noreply.invalid", When: time.Now()}
		h, err := githttp.WriteCommit(r.Storer, &object.Commit{Author: sig, Committer: sig, Message: "change", TreeHash: th, ParentHashes: []plumbing.Hash{parent.Hash}})
		if err != nil {
			return err
		}
		sha = h.String()
		return r.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(to), h))
	})
	if err != nil {
		tb.Fatal(err)
	}
	w.API.SyncRepo(owner, name)
	return sha
}

// TestReleaseAfterRewrite walks one repository through a migration: the
// oidc playbook's workflow on the default branch, then the flag and the
// trusted publisher, checking the path each state takes.
func TestReleaseAfterRewrite(t *testing.T) {
	t.Parallel()
	w, p, _ := seedWorld(t, 14, 12, sandbox.KindNPM)
	r := find(t, p, func(r sandbox.Repo) bool {
		return r.Node != "24" && !r.Secret.Token.Expired() && r.Trust == sandbox.TrustNone && r.Environment == "" && !r.Private
	})
	full := r.FullName(p.Org)
	files, err := p.Files(r, w.RegistryURL)
	if err != nil {
		t.Fatal(err)
	}
	rw, err := rewrite.Rewrite(rewrite.Snapshot{Repo: full, Files: files}, rewrite.RewriteOptions{Registry: w.RegistryURL})
	if err != nil || !rw.Changed() {
		t.Fatalf("rewrite: changed %v, %v", rw != nil && rw.Changed(), err)
	}
	changed := map[string][]byte{}
	for _, f := range rw.Files {
		if f.Status == rewrite.StatusRewritten {
			changed[f.Path] = f.After
		}
	}
	commit(t, w, p.Org, r.Name, r.DefaultBranch, r.DefaultBranch, changed)
	pkg := r.Publishable()[0]

	release := func(name string) sandbox.PackageRelease {
		t.Helper()
		res, err := w.Release(t.Context(), full, sandbox.ReleaseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Packages) != 1 {
			t.Fatalf("%s: %+v", name, res)
		}
		t.Logf("%s: flag %q npm ok %v: %+v", name, res.Flag, res.NPMVersionOK, res.Packages[0])
		return res.Packages[0]
	}

	// Flag off: the guarded expression yields the token; old npm skips OIDC.
	if pr := release("flag off"); !pr.Published || pr.Path != sandbox.PathToken {
		t.Errorf("flag off: %+v, want a token publish", pr)
	}
	// Flag on, no trusted publisher: the exchange fails, the token
	// expression yields '' and npm fails with ENEEDAUTH.
	if err := w.API.SetRepoVariable(p.Org, r.Name, rewrite.DefaultFlagVar, "true"); err != nil {
		t.Fatal(err)
	}
	if pr := release("flag on, no trust"); pr.Published || pr.Code != "ENEEDAUTH" || !strings.Contains(pr.Exchange, npmreg.MessageExchangeNotFound) {
		t.Errorf("flag on without trust: %+v, want ENEEDAUTH after a failed exchange", pr)
	}
	// A mismatched trusted publisher fails the same way.
	if _, err := w.NPM.SetTrust(pkg, npmreg.TrustSpec{Repository: full, File: strings.ToUpper(r.TrustedWorkflow)}); err != nil {
		t.Fatal(err)
	}
	if pr := release("flag on, wrong file"); pr.Published || pr.Code != "ENEEDAUTH" {
		t.Errorf("flag on with a mismatched trust config: %+v, want ENEEDAUTH", pr)
	}
	// The right one: OIDC with provenance.
	if _, err := w.NPM.SetTrust(pkg, npmreg.TrustSpec{Repository: full, File: r.TrustedWorkflow}); err != nil {
		t.Fatal(err)
	}
	if pr := release("flag on, trust"); !pr.Published || pr.Path != sandbox.PathOIDC || !pr.Provenance {
		t.Errorf("flag on with trust: %+v, want OIDC with provenance", pr)
	}
	// Rollback: flag off again takes the token path.
	if err := w.API.SetRepoVariable(p.Org, r.Name, rewrite.DefaultFlagVar, "false"); err != nil {
		t.Fatal(err)
	}
	if pr := release("flag off again"); !pr.Published || pr.Path != sandbox.PathToken {
		t.Errorf("rollback: %+v, want a token publish", pr)
	}
}

// TestReleaseFollowsSecretsThroughTheAPI checks that a secret a client
// deletes (or replaces) through the REST API is what the release sees.
func TestReleaseFollowsSecretsThroughTheAPI(t *testing.T) {
	t.Parallel()
	w, p, s := seedWorld(t, 15, 12, sandbox.KindNPM)
	r := find(t, p, func(r sandbox.Repo) bool {
		return r.Secret.Scope == "repo" && !r.Secret.Token.Expired() && r.Trust == sandbox.TrustNone
	})
	gh, err := github.NewClient(nil).WithAuthToken(s.GitHubToken).WithEnterpriseURLs(w.URL, w.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gh.Actions.CreateOrUpdateRepoSecret(t.Context(), p.Org, r.Name, &github.EncryptedSecret{Name: r.Secret.Name, EncryptedValue: "c29tZXRoaW5nIGVsc2U="}); err != nil {
		t.Fatal(err)
	}
	res, err := w.Release(t.Context(), r.FullName(p.Org), sandbox.ReleaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pr := res.Packages[0]; pr.Published || pr.Code != "E404" {
		t.Errorf("a replaced secret: %+v, want E404 as with a bad token", pr)
	}
	if _, err := gh.Actions.DeleteRepoSecret(t.Context(), p.Org, r.Name, r.Secret.Name); err != nil {
		t.Fatal(err)
	}
	// With the repository's secret gone, an organisation secret of the same
	// name is next, as on GitHub.
	if p.OrgSecret != nil && p.OrgSecret.Name == r.Secret.Name {
		res, err := w.Release(t.Context(), r.FullName(p.Org), sandbox.ReleaseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if pr := res.Packages[0]; pr.Path != sandbox.PathToken || pr.Published == p.OrgSecret.Token.Expired() {
			t.Errorf("the organisation's secret: %+v", pr)
		}
		if _, err := gh.Actions.DeleteOrgSecret(t.Context(), p.Org, p.OrgSecret.Name); err != nil {
			t.Fatal(err)
		}
	}
	res, err = w.Release(t.Context(), r.FullName(p.Org), sandbox.ReleaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pr := res.Packages[0]; pr.Published || pr.Code != "ENEEDAUTH" {
		t.Errorf("a deleted secret: %+v, want ENEEDAUTH", pr)
	}
}

func TestReleaseEndpoint(t *testing.T) {
	t.Parallel()
	w, p, s := seedWorld(t, 16, 3, sandbox.KindMigrated)
	r := p.Repos[0]
	post := func(tok, body string) (int, []byte) {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", w.URL+"_sandbox/repos/"+r.FullName(p.Org)+"/release", strings.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, _ := post("", ""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}
	w.API.AddToken("ghp_readonly", ghapi.Identity{Login: "reader", Permissions: map[string]string{ghapi.PermContents: ghapi.Read}})
	if code, _ := post("ghp_readonly", ""); code != http.StatusForbidden {
		t.Errorf("read-only token: %d, want 403", code)
	}
	code, body := post(s.GitHubToken, `{"tag":"beta"}`)
	if code != http.StatusOK {
		t.Fatalf("release: %d %s", code, body)
	}
	var res sandbox.ReleaseResult
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if res.Repo != r.FullName(p.Org) || len(res.Packages) == 0 || res.Packages[0].Tag != "beta" || !res.Packages[0].Published {
		t.Fatalf("release answer %s", body)
	}
	for _, secret := range []string{s.GitHubToken, s.NPMToken} {
		if bytes.Contains(body, []byte(secret)) {
			t.Fatal("the release answer holds a token value")
		}
	}
}

// TestSeededRegistry checks the registry side of a seeded portfolio:
// histories, OIDC-published versions, trust configs and tokens.
func TestSeededRegistry(t *testing.T) {
	t.Parallel()
	w, p, s := seedWorld(t, 17, 40)
	want := map[string]bool{}
	for _, r := range p.Repos {
		for _, pkg := range r.Packages {
			if len(pkg.History) > 0 {
				want[pkg.Name] = true
				if got := w.NPM.Versions(pkg.Name); len(got) != len(pkg.History) {
					t.Errorf("%s: %d versions, want %d", pkg.Name, len(got), len(pkg.History))
				}
				last := pkg.History[len(pkg.History)-1]
				u := npmUser(t, w, pkg.Name, last.Version)
				if (u["trustedPublisher"] != nil) != last.OIDC {
					t.Errorf("%s@%s: _npmUser %v, OIDC %v", pkg.Name, last.Version, u, last.OIDC)
				}
			}
			if _, ok := w.NPM.Trust(pkg.Name); ok != (r.Trust != sandbox.TrustNone && pkg.Publish) {
				t.Errorf("%s: trust config present = %v, generator says %q", pkg.Name, ok, r.Trust)
			}
		}
	}
	if got := w.NPM.Packages(); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Errorf("registry holds %d packages, want %d", len(got), len(want))
	}
	if s.Packages != len(want) || s.Repos != 40 {
		t.Errorf("seeded %+v", s)
	}
	if toks := w.NPM.Tokens(p.BotUser); len(toks) == 0 {
		t.Error("the bot has no tokens")
	}
	// The maintainer's token manages trusted publishers with the OTP, and
	// without it gets npm's EOTP challenge with the web flow's URLs.
	pkg := w.NPM.Packages()[0]
	for _, tc := range []struct {
		otp  string
		code int
	}{{s.NPMOTP, http.StatusOK}, {"", http.StatusUnauthorized}} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", w.RegistryURL+"-/package/"+strings.ReplaceAll(pkg, "/", "%2f")+"/trust", nil)
		req.Header.Set("Authorization", "Bearer "+s.NPMToken)
		if tc.otp != "" {
			req.Header.Set("npm-otp", tc.otp)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || tc.otp == "" && !strings.Contains(string(body), "authUrl") {
			t.Errorf("GET trust of %s with OTP %q: %d %s", pkg, tc.otp, resp.StatusCode, body)
		}
	}
	expired := 0
	for _, tok := range w.NPM.Tokens("") {
		if !tok.Expires.IsZero() && tok.Expires.Before(time.Now()) {
			expired++
		}
	}
	t.Logf("%d tokens, %d expired", len(w.NPM.Tokens("")), expired)
}
