package npm

import (
	"encoding/json"
	"testing"
)

// TestVerifyOtherProviders: a GitLab or CircleCI canary passes when its
// trusted publisher names that provider; CircleCI needs no provenance; a
// GitHub expectation refuses them, and a token publish fails everywhere.
func TestVerifyOtherProviders(t *testing.T) {
	t.Parallel()
	doc := func(id string) *Packument {
		v := &VersionDoc{Name: "w", Version: "1.0.0", NpmUser: &Person{Name: "ci"}}
		if id != "" {
			v.NpmUser.TrustedPublisher = &TrustedPublisher{ID: id, OIDCConfigID: "cfg"}
		}
		return &Packument{Name: "w", Time: map[string]string{"1.0.0": "2026-12-01T00:00:00.000Z"}, DistTags: map[string]string{"latest": "1.0.0"}, Versions: map[string]*VersionDoc{"1.0.0": v}}
	}
	for _, tc := range []struct {
		provider, publishedBy string
		public, ok            bool
	}{
		{"circleci", "circleci", true, true},
		{"gitlab", "gitlab", false, true},
		{"", "circleci", false, false},
		{"circleci", "", false, false},
		{"gitlab", "github", false, false},
	} {
		res := Verify(doc(tc.publishedBy), nil, Expectation{Provider: tc.provider, Package: "w", Version: "1.0.0", PublicRepo: tc.public})
		if res.OK() != tc.ok {
			t.Errorf("provider %q published by %q: OK = %v, want %v: %+v", tc.provider, tc.publishedBy, res.OK(), tc.ok, res.Checks)
		}
	}
}

func TestTrustConfigBodies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  TrustConfig
		want string
	}{
		{GitHubTrust("acme/w", "release.yml", ""), `{"repository":"acme/w","workflow_ref":{"file":"release.yml"}}`},
		{GitLabTrust("acme/sub/w", ".gitlab-ci.yml", "npm"), `{"ci_config_ref_uri":{"file":".gitlab-ci.yml"},"environment":"npm","project_path":"acme/sub/w"}`},
		{CircleCITrust("o", "p", "d", "github.com/acme/w", nil), `{"oidc.circleci.com/org-id":"o","oidc.circleci.com/pipeline-definition-id":"d","oidc.circleci.com/project-id":"p","oidc.circleci.com/vcs-origin":"github.com/acme/w"}`},
	} {
		b, err := json.Marshal(tc.cfg.Claims)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%s claims:\n got %s\nwant %s", tc.cfg.Type, b, tc.want)
		}
		var back TrustConfig
		full, _ := json.Marshal(tc.cfg)
		if err := json.Unmarshal(full, &back); err != nil || len(TrustDiff(back, tc.cfg)) != 0 {
			t.Errorf("%s: round trip differs: %v %v", tc.cfg.Type, err, TrustDiff(back, tc.cfg))
		}
	}
	if d := TrustDiff(CircleCITrust("o", "p", "d", "github.com/acme/w", nil), CircleCITrust("o", "P", "d", "github.com/acme/w", nil)); len(d) != 1 {
		t.Errorf("project ID differing in case: %v", d)
	}
}
