package batch

import (
	"fmt"
	"strings"

	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/rewrite"
)

// providerOf names the CI provider a trusted publisher is for, from the
// publishing file detection recorded: GitLab's top-level CI file, CircleCI's
// configuration, or (anything else) a GitHub Actions workflow file.
func providerOf(workflow string) string {
	switch workflow {
	case rewrite.GitLabCIPath:
		return rewrite.ProviderGitLab
	case rewrite.CircleCIConfig:
		return rewrite.ProviderCircleCI
	}
	return rewrite.ProviderGitHub
}

// trustConfigFor is the trusted publisher repo's package needs. For
// CircleCI the IDs come from [[circleci.project]]; the error names the
// missing ones.
func (e *Engine) trustConfigFor(repo, repository, workflow, environment string) (npm.TrustConfig, error) {
	switch providerOf(workflow) {
	case rewrite.ProviderGitLab:
		return npm.GitLabTrust(repository, workflow, environment), nil
	case rewrite.ProviderCircleCI:
		c := e.Opts.CircleCI[repo]
		if c.VCSOrigin == "" {
			c.VCSOrigin = "github.com/" + repo
		}
		if m := c.Missing(); len(m) > 0 {
			return npm.TrustConfig{}, fmt.Errorf("the CircleCI %s of %s are not configured: add a [[circleci.project]] table with repo = %q (CircleCI: Project Settings > Overview)", strings.Join(m, ", "), repo, repo)
		}
		return npm.CircleCITrust(c.OrgID, c.ProjectID, c.PipelineDefinitionID, c.VCSOrigin, c.ContextIDs), nil
	}
	return npm.GitHubTrust(repository, workflow, environment), nil
}
