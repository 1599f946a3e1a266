package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
	"github.com/cutover/cutover/rewrite"
)

// circleAPI calls the sandbox's CircleCI API.
func circleAPI(t *testing.T, w *sandbox.World, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, w.CircleCIAPIURL()+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Circle-Token", token)
	}
	req.Header.Set("Content-Type", "application/json")
	return doJSON(t, req)
}

// circleStatus returns the latest commit status CircleCI posted for job on
// sha of repo, read through the GitHub API; nil when there is none.
func circleStatus(t *testing.T, w *sandbox.World, token, repo, sha, job string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", w.URL+"repos/"+repo+"/commits/"+sha+"/status", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	code, body := doJSON(t, req)
	if code != 200 {
		t.Fatalf("combined status of %s@%s: %d %v", repo, sha, code, body)
	}
	statuses, _ := body["statuses"].([]any)
	for _, s := range statuses {
		if m, _ := s.(map[string]any); m["context"] == sandbox.CircleCIStatusContext(job) {
			return m
		}
	}
	return nil
}

// TestReleaseCircleCI walks a repository that publishes from CircleCI
// through its migration, with the Go model of npm and with the real npm
// CLI: the token path from its context; the CircleCI playbook with the flag
// off; the flag set through the CircleCI API; no, a mismatched and the
// right CircleCI trusted publisher; the rollback.
func TestReleaseCircleCI(t *testing.T) {
	t.Parallel()
	for _, runner := range []string{"go", "npm"} {
		t.Run(runner, func(t *testing.T) {
			t.Parallel()
			opts := sandbox.Options{Limits: ghapi.Limits{Disabled: true}}
			if runner == "npm" {
				requireNPM(t)
				opts.NPMCLI = sandbox.NPMCLIAuto
			}
			w, err := sandbox.Start(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			p := sandbox.Generate(21, 3, sandbox.PortfolioOptions{Weights: map[sandbox.Kind]int{sandbox.KindCircleCI: 1}, CIFailureRate: -1})
			seeded, err := w.Seed(t.Context(), p)
			if err != nil {
				t.Fatal(err)
			}
			r := p.Repos[0]
			full := r.FullName(p.Org)
			ids, ok := w.CircleCIProject(full)
			if !ok || r.CircleCI == nil || !reflect.DeepEqual(ids, *r.CircleCI) {
				t.Fatalf("CircleCI project of %s: %+v %v, generator says %+v", full, ids, ok, r.CircleCI)
			}
			pkg := r.Publishable()[0]
			wantRunner := sandbox.RunnerGo
			if runner == "npm" {
				_, v := w.NPMCLI()
				wantRunner = "npm " + v
			}
			release := func(name string) (sandbox.ReleaseResult, sandbox.PackageRelease) {
				t.Helper()
				res, err := w.Release(t.Context(), full, sandbox.ReleaseOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if res.Provider != rewrite.ProviderCircleCI || len(res.Packages) != 1 {
					t.Fatalf("%s: %+v", name, res)
				}
				pr := res.Packages[0]
				if pr.Runner != wantRunner {
					t.Errorf("%s: run by %q, want %q", name, pr.Runner, wantRunner)
				}
				t.Logf("%s: flag %q id token %v npm ok %v token from %q: %+v", name, res.Flag, res.IDToken, res.NPMVersionOK, res.TokenFrom, pr)
				// CircleCI reports the publish job on the commit, as a status.
				want := "success"
				if res.Failed() {
					want = "failure"
				}
				if got := circleStatus(t, w, seeded.GitHubToken, full, res.SHA, res.Job); got["state"] != want ||
					!strings.Contains(fmt.Sprint(got["target_url"]), "/pipelines/github/"+full+"/") {
					t.Errorf("%s: the commit status of CircleCI's %s job on %s is %v, want %s", name, res.Job, res.SHA, got, want)
				}
				return res, pr
			}

			// Before the campaign: the token from the context.
			if res, pr := release("token"); !pr.Published || pr.Path != sandbox.PathToken || !strings.Contains(res.TokenFrom, r.Secret.Context) {
				t.Errorf("before the campaign: %+v from %q, want a token publish from context %s", pr, res.TokenFrom, r.Secret.Context)
			}

			// The playbook, merged; the flag is not set yet.
			files, err := p.Files(r, w.RegistryURL)
			if err != nil {
				t.Fatal(err)
			}
			rw, err := rewrite.Rewrite(rewrite.Snapshot{Repo: full, Files: files}, rewrite.RewriteOptions{Registry: w.RegistryURL})
			if err != nil || !rw.Changed() {
				t.Fatalf("rewrite: %v", err)
			}
			changed := map[string][]byte{}
			for _, f := range rw.Files {
				if f.Status == rewrite.StatusRewritten {
					changed[f.Path] = f.After
				}
			}
			if changed[rewrite.CircleCIConfig] == nil {
				t.Fatalf("the playbook did not change %s: %+v", rewrite.CircleCIConfig, rw.Files)
			}
			commit(t, w, p.Org, r.Name, r.DefaultBranch, r.DefaultBranch, changed)
			if res, pr := release("playbook, flag unset"); !pr.Published || pr.Path != sandbox.PathToken || res.IDToken {
				t.Errorf("flag unset: %+v (ID token %v), want a token publish without an ID token", pr, res.IDToken)
			}

			// The CircleCI API sets the flag: a token is needed, the project must exist.
			slug := "project/gh/" + full + "/envvar"
			if code, _ := circleAPI(t, w, "", "POST", slug, map[string]string{"name": rewrite.DefaultFlagVar, "value": "true"}); code != 401 {
				t.Errorf("envvar without a token: %d, want 401", code)
			}
			if code, _ := circleAPI(t, w, seeded.CircleCIToken, "POST", "project/gh/"+p.Org+"/nope/envvar", map[string]string{"name": "X", "value": "1"}); code != 404 {
				t.Errorf("envvar of an unknown project: %d, want 404", code)
			}
			if code, body := circleAPI(t, w, seeded.CircleCIToken, "POST", slug, map[string]string{"name": rewrite.DefaultFlagVar, "value": "true"}); code != 201 || body["value"] != "xxxxtrue" {
				t.Fatalf("set the flag: %d %v", code, body)
			}
			if v, _ := w.CircleCIProjectVar(full, rewrite.DefaultFlagVar); v != "true" {
				t.Fatalf("flag is %q after the API call", v)
			}

			// Flag on, no trusted publisher: the exchange fails and the
			// guard unset the token: ENEEDAUTH.
			if res, pr := release("flag on, no trust"); pr.Published || pr.Code != "ENEEDAUTH" || !res.IDToken || res.TokenFrom != "" {
				t.Errorf("flag on without trust: %+v, want ENEEDAUTH after the guard dropped the token", pr)
			}
			good := npmreg.TrustSpec{Type: npmreg.ProviderCircleCI, OrgID: ids.OrgID, ProjectID: ids.ProjectID, PipelineDefinitionID: ids.PipelineDefinitionID, VCSOrigin: ids.VCSOrigin}
			bad := good
			bad.PipelineDefinitionID = ids.ProjectID
			if _, err := w.NPM.SetTrust(pkg, bad); err != nil {
				t.Fatal(err)
			}
			if _, pr := release("flag on, other pipeline definition"); pr.Published || pr.Code != "ENEEDAUTH" {
				t.Errorf("flag on with a mismatched publisher: %+v, want ENEEDAUTH", pr)
			}
			if _, err := w.NPM.SetTrust(pkg, good); err != nil {
				t.Fatal(err)
			}
			_, pr := release("flag on, trust")
			if !pr.Published || pr.Path != sandbox.PathOIDC || pr.Provenance {
				t.Errorf("flag on with trust: %+v, want OIDC without provenance", pr)
			}
			if tp, _ := npmUser(t, w, pkg, pr.Version)["trustedPublisher"].(map[string]any); tp["id"] != "circleci" {
				t.Errorf("_npmUser.trustedPublisher of %s@%s: %v, want circleci", pkg, pr.Version, tp)
			}

			// Rollback.
			if code, _ := circleAPI(t, w, seeded.CircleCIToken, "POST", slug, map[string]string{"name": rewrite.DefaultFlagVar, "value": "false"}); code != 201 {
				t.Fatalf("flag off: %d", code)
			}
			if _, pr := release("flag off"); !pr.Published || pr.Path != sandbox.PathToken {
				t.Errorf("rollback: %+v, want a token publish", pr)
			}
			if ran, failed := w.CircleCIPipelines(full); ran != 6 || failed != 2 {
				t.Errorf("CircleCI pipelines: %d ran, %d failed; want 6 and 2", ran, failed)
			}
		})
	}
}

// TestCircleCIOIDCEndpoint gets the ID token `circleci run oidc get` would
// print in a job of a CircleCI project from the sandbox, and the registry
// exchanges it for the package whose trusted publisher names the project
// and the context the job runs with.
func TestCircleCIOIDCEndpoint(t *testing.T) {
	t.Parallel()
	w, err := sandbox.Start(t.Context(), sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	p := sandbox.Generate(22, 2, sandbox.PortfolioOptions{Weights: map[sandbox.Kind]int{sandbox.KindCircleCI: 1}, CIFailureRate: -1})
	seeded, err := w.Seed(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Repos[0]
	pkg := r.Publishable()[0]
	if _, err := w.NPM.SetTrust(pkg, npmreg.TrustSpec{Type: npmreg.ProviderCircleCI, OrgID: r.CircleCI.OrgID, ProjectID: r.CircleCI.ProjectID,
		PipelineDefinitionID: r.CircleCI.PipelineDefinitionID, VCSOrigin: r.CircleCI.VCSOrigin, ContextIDs: []string{r.Secret.ContextID}}); err != nil {
		t.Fatal(err)
	}
	get := func(repo, token string) (int, map[string]any) {
		req, err := http.NewRequestWithContext(t.Context(), "POST", w.URL+"_sandbox/repos/"+repo+"/circleci-oidc", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		return doJSON(t, req)
	}
	if code, _ := get(r.FullName(p.Org), "wrong"); code != 401 {
		t.Errorf("without a valid token: %d", code)
	}
	code, body := get(r.FullName(p.Org), seeded.GitHubToken)
	jwt, _ := body["token"].(string)
	if code != 200 || jwt == "" {
		t.Fatalf("circleci-oidc: %d %v", code, body)
	}
	if _, err := w.NPM.ExchangeOIDC(pkg, jwt); err != nil {
		t.Errorf("exchange of the job's ID token for %s: %v", pkg, err)
	}
	if _, err := w.NPM.ExchangeOIDC(p.Repos[1].Publishable()[0], jwt); err == nil {
		t.Error("the ID token of one project was exchanged for another project's package")
	}
}
