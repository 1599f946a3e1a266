package batch

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/rewrite"
)

func TestTrustConfigFor(t *testing.T) {
	t.Parallel()
	e := &Engine{Opts: Options{CircleCI: map[string]rewrite.CircleCIProject{
		"acme/cc": {OrgID: "o", ProjectID: "p", PipelineDefinitionID: "d"},
	}}}
	tests := []struct {
		repo, repository, workflow, env string
		want                            npm.TrustConfig
		err                             string
	}{
		{"acme/w", "acme/w", "release.yml", "npm", npm.GitHubTrust("acme/w", "release.yml", "npm"), ""},
		{"acme/gl", "acme/gl", rewrite.GitLabCIPath, "prod", npm.GitLabTrust("acme/gl", rewrite.GitLabCIPath, "prod"), ""},
		{"acme/cc", "acme/cc", rewrite.CircleCIConfig, "", npm.CircleCITrust("o", "p", "d", "github.com/acme/cc", nil), ""},
		{"acme/other", "acme/other", rewrite.CircleCIConfig, "", npm.TrustConfig{}, "organization ID, project ID, pipeline definition ID of acme/other are not configured"},
	}
	for _, tc := range tests {
		got, err := e.trustConfigFor(tc.repo, tc.repository, tc.workflow, tc.env)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want one containing %q", tc.repo, err, tc.err)
			}
			continue
		}
		if err != nil || got.Type != tc.want.Type || len(npm.TrustDiff(got, tc.want)) != 0 {
			t.Errorf("%s: got %+v, %v; want %+v", tc.repo, got, err, tc.want)
		}
	}
}
