package npmreg_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// IDs of a CircleCI project in the tests.
const (
	ccOrg      = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
	ccProject  = "11111111-2222-4333-8444-555555555555"
	ccPipeline = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
	ccContext  = "c0c0c0c0-d1d1-4e2e-8f3f-404040404040"
	ccOrigin   = "github.com/acme/widget"
)

// TestOtherCITrustAPI posts the bodies cutover's npm client sends for GitLab
// and CircleCI (npm's API shapes) and the registry stores and lists them;
// incomplete or malformed ones are refused with 400 as npm does.
func TestOtherCITrustAPI(t *testing.T) {
	t.Parallel()
	circle := npm.CircleCITrust(ccOrg, ccProject, ccPipeline, ccOrigin, []string{ccContext})
	badUUID := npm.CircleCITrust("not-a-uuid", ccProject, ccPipeline, ccOrigin, nil)
	scheme := npm.CircleCITrust(ccOrg, ccProject, ccPipeline, "https://"+ccOrigin, nil)
	noFile := npm.GitLabTrust("acme/widget", "", "")
	tests := []struct {
		name   string
		pkg    string
		body   npm.TrustConfig
		status int
		want   npmreg.TrustSpec
		msg    string
	}{
		{name: "gitlab", pkg: "plain", body: npm.GitLabTrust("acme/tools/widget", ".gitlab-ci.yml", "production"), status: 201,
			want: npmreg.TrustSpec{Type: "gitlab", ProjectPath: "acme/tools/widget", File: ".gitlab-ci.yml", Environment: "production", Permissions: []string{npmreg.PermissionPublish}}},
		{name: "circleci", pkg: "@acme/widget", body: circle, status: 201,
			want: npmreg.TrustSpec{Type: "circleci", OrgID: ccOrg, ProjectID: ccProject, PipelineDefinitionID: ccPipeline, VCSOrigin: ccOrigin, ContextIDs: []string{ccContext}, Permissions: []string{npmreg.PermissionPublish}}},
		{name: "circleci id not a uuid", pkg: "@acme/widget", body: badUUID, status: 400, msg: "must be a UUID"},
		{name: "circleci origin with scheme", pkg: "@acme/widget", body: scheme, status: 400, msg: "without a scheme"},
		{name: "gitlab without file", pkg: "plain", body: noFile, status: 400, msg: "ci_config_ref_uri.file"},
		{name: "unknown provider", pkg: "plain", body: npm.TrustConfig{Type: "buildkite", Permissions: []string{npmreg.PermissionPublish}}, status: 400, msg: "unsupported trusted publisher type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			path := "/-/package/" + strings.Replace(tt.pkg, "/", "%2f", 1) + "/trust"
			got := w.do(t, "POST", path, w.alice.Value, "123456", []npm.TrustConfig{tt.body})
			if got.status != tt.status {
				t.Fatalf("status %d, want %d: %s", got.status, tt.status, got.raw)
			}
			if tt.status != 201 {
				if !strings.Contains(string(got.raw), tt.msg) {
					t.Errorf("message %s lacks %q", got.raw, tt.msg)
				}
				return
			}
			have, ok := w.reg.Trust(tt.pkg)
			if !ok {
				t.Fatal("no trust config stored")
			}
			if diff := cmp.Diff(tt.want, have.TrustSpec); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
			// The list answers in npm's shape, which the client reads back
			// into the config it sent.
			list := w.do(t, "GET", path, w.alice.Value, "123456", nil)
			var cfgs []npm.TrustConfig
			must(t, json.Unmarshal(list.raw, &cfgs))
			if len(cfgs) != 1 {
				t.Fatalf("list: %s", list.raw)
			}
			if d := npm.TrustDiff(cfgs[0], tt.body); len(d) > 0 {
				t.Errorf("listed config differs from the posted one: %v (%s)", d, list.raw)
			}
		})
	}
}

// TestOtherCIExchange exchanges GitLab and CircleCI ID tokens with npm's
// matching rules and refuses every mismatch.
func TestOtherCIExchange(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, err := w.reg.SetTrust("plain", npmreg.TrustSpec{Type: npmreg.ProviderGitLab, ProjectPath: "acme/tools/plain", File: ".gitlab-ci.yml", Environment: "npm"})
	must(t, err)
	_, err = w.reg.SetTrust("@acme/widget", npmreg.TrustSpec{Type: npmreg.ProviderCircleCI, OrgID: ccOrg, ProjectID: ccProject, PipelineDefinitionID: ccPipeline, VCSOrigin: ccOrigin})
	must(t, err)
	_, err = w.reg.SetTrust("@acme/secret", npmreg.TrustSpec{Type: npmreg.ProviderCircleCI, OrgID: ccOrg, ProjectID: ccProject, PipelineDefinitionID: ccPipeline, VCSOrigin: "github.com/acme/secret", ContextIDs: []string{ccContext}})
	must(t, err)
	mint := func(c npmreg.IDTokenClaims) string {
		tok, err := w.reg.MintIDToken(c)
		must(t, err)
		return tok
	}
	gl := func(edit func(*npmreg.IDTokenClaims)) string {
		c := npmreg.GitLabClaims("acme/tools/plain", ".gitlab-ci.yml", "refs/heads/main", "npm")
		if edit != nil {
			edit(&c)
		}
		return mint(c)
	}
	cc := func(edit func(*npmreg.IDTokenClaims)) string {
		c := npmreg.CircleCIClaims(ccOrg, ccProject, ccPipeline, ccOrigin, nil)
		if edit != nil {
			edit(&c)
		}
		return mint(c)
	}
	tests := []struct {
		name   string
		pkg    string
		token  string
		status int
	}{
		{"gitlab match", "plain", gl(nil), 201},
		{"gitlab project case", "plain", gl(func(c *npmreg.IDTokenClaims) {
			*c = npmreg.GitLabClaims("acme/tools/Plain", ".gitlab-ci.yml", "", "npm")
		}), 404},
		{"gitlab other CI file", "plain", gl(func(c *npmreg.IDTokenClaims) {
			*c = npmreg.GitLabClaims("acme/tools/plain", "ci/release.yml", "", "npm")
		}), 404},
		{"gitlab environment missing", "plain", gl(func(c *npmreg.IDTokenClaims) { c.Environment = "" }), 404},
		{"gitlab self-managed runner", "plain", gl(func(c *npmreg.IDTokenClaims) { c.RunnerEnvironment = "self-hosted" }), 404},
		{"gitlab audience of another registry", "plain", gl(func(c *npmreg.IDTokenClaims) { c.Audience = "npm:evil.example" }), 401},
		{"github token for a gitlab publisher", "plain", mint(npmreg.GitHubClaims("acme/tools", ".gitlab-ci.yml", "", "npm")), 404},
		{"circleci match", "@acme%2fwidget", cc(nil), 201},
		{"circleci contexts beyond the configured", "@acme%2fwidget", cc(func(c *npmreg.IDTokenClaims) { c.CircleContextIDs = []string{ccContext} }), 201},
		{"circleci other project", "@acme%2fwidget", cc(func(c *npmreg.IDTokenClaims) { c.CircleProjectID = ccContext }), 404},
		{"circleci other pipeline definition", "@acme%2fwidget", cc(func(c *npmreg.IDTokenClaims) { c.CirclePipelineDefinitionID = ccContext }), 404},
		{"circleci other organization", "@acme%2fwidget", cc(func(c *npmreg.IDTokenClaims) { c.CircleOrgID = ccContext }), 404},
		{"circleci VCS origin case", "@acme%2fwidget", cc(func(c *npmreg.IDTokenClaims) { c.CircleVCSOrigin = "github.com/Acme/widget" }), 404},
		{"circleci audience", "@acme%2fwidget", cc(func(c *npmreg.IDTokenClaims) { c.Audience = "npm:evil.example" }), 401},
		{"circleci context required and present", "@acme%2fsecret", cc(func(c *npmreg.IDTokenClaims) {
			c.CircleVCSOrigin, c.CircleContextIDs = "github.com/acme/secret", []string{ccOrg, ccContext}
		}), 201},
		{"circleci context required and absent", "@acme%2fsecret", cc(func(c *npmreg.IDTokenClaims) { c.CircleVCSOrigin = "github.com/acme/secret" }), 404},
		{"gitlab token for a circleci publisher", "@acme%2fwidget", mint(npmreg.GitLabClaims("acme/widget", ".gitlab-ci.yml", "", "")), 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := w.do(t, "POST", "/-/npm/v1/oidc/token/exchange/package/"+tt.pkg, tt.token, "", nil)
			if got.status != tt.status {
				t.Fatalf("status %d, want %d: %s", got.status, tt.status, got.raw)
			}
		})
	}
}

// TestOtherCIPublish publishes canaries through GitLab and CircleCI trusted
// publishing: _npmUser.trustedPublisher names the provider, and CircleCI
// publishes carry no provenance (asking for it fails as npm does).
func TestOtherCIPublish(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, err := w.reg.SetTrust("plain", npmreg.TrustSpec{Type: npmreg.ProviderGitLab, ProjectPath: "acme/plain", File: ".gitlab-ci.yml"})
	must(t, err)
	_, err = w.reg.SetTrust("@acme/widget", npmreg.TrustSpec{Type: npmreg.ProviderCircleCI, OrgID: ccOrg, ProjectID: ccProject, PipelineDefinitionID: ccPipeline, VCSOrigin: ccOrigin})
	must(t, err)
	glTok, err := w.reg.MintIDToken(npmreg.GitLabClaims("acme/plain", ".gitlab-ci.yml", "", ""))
	must(t, err)
	ccTok, err := w.reg.MintIDToken(npmreg.CircleCIClaims(ccOrg, ccProject, ccPipeline, ccOrigin, nil))
	must(t, err)

	must(t, w.reg.PublishCanary("plain", "1.0.1-canary.0", "canary", npmreg.PublishPath{OIDC: true, IDToken: glTok}))
	must(t, w.reg.PublishCanary("@acme/widget", "1.1.1-canary.0", "canary", npmreg.PublishPath{OIDC: true, IDToken: ccTok, Token: w.bot.Value}))
	for _, c := range []struct{ pkg, version, provider, repo string }{
		{"plain", "1.0.1-canary.0", "gitlab", "git+https://gitlab.com/acme/plain.git"},
		{"@acme/widget", "1.1.1-canary.0", "circleci", "git+https://github.com/acme/widget.git"},
	} {
		doc := versionDoc(t, w, c.pkg, c.version)
		user, _ := doc["_npmUser"].(map[string]any)
		tp, _ := user["trustedPublisher"].(map[string]any)
		if tp["id"] != c.provider {
			t.Errorf("%s@%s: _npmUser %v, want trustedPublisher id %q", c.pkg, c.version, user, c.provider)
		}
		if repo, _ := doc["repository"].(map[string]any); repo["url"] != c.repo {
			t.Errorf("%s@%s: repository %v, want %s", c.pkg, c.version, doc["repository"], c.repo)
		}
		if dist, _ := doc["dist"].(map[string]any); dist["attestations"] != nil {
			if att, _ := dist["attestations"].(map[string]any); att["provenance"] != nil {
				t.Errorf("%s@%s carries provenance: %v", c.pkg, c.version, att)
			}
		}
	}
	err = w.reg.PublishCanary("@acme/widget", "1.1.1-canary.1", "canary", npmreg.PublishPath{OIDC: true, IDToken: ccTok, Provenance: true})
	var ne *npmreg.Error
	if !errors.As(err, &ne) || ne.Code != "EUSAGE" || !strings.Contains(ne.Message, "CircleCI") {
		t.Errorf("--provenance on CircleCI: %v, want EUSAGE naming CircleCI", err)
	}
}
