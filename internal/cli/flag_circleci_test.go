package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/circleci"
	"github.com/cutover/cutover/internal/sandbox"
)

// TestFlagOnCircleCI runs a CircleCI-publishing repository through the
// commands up to flag on: without [circleci] token_env, flag on prints the
// exact setting, exits 1 and records nothing; after the setting is made by
// hand, flag on --confirm records it; with token_env, flag off sets the
// CircleCI project variable through the API.
func TestFlagOnCircleCI(t *testing.T) {
	t.Parallel()
	c := newNPMCLI(t, 1, sandbox.KindCircleCI)
	ok, findings := []int{ExitOK}, []int{ExitOK, ExitFindings}
	repo := c.p.Repos[0].FullName(c.p.Org)
	ids := c.p.Repos[0].CircleCI
	cfgPath := filepath.Join(c.dir, "cutover.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	project := fmt.Sprintf("\n[[circleci.project]]\nrepo = %q\norg_id = %q\nproject_id = %q\npipeline_definition_id = %q\n", repo, ids.OrgID, ids.ProjectID, ids.PipelineDefinitionID)
	c.write(t, "cutover.toml", string(cfg)+project)
	u := strings.TrimPrefix(strings.TrimPrefix(c.w.RegistryURL, "http:"), "https:")
	c.env["NPM_CONFIG_USERCONFIG"] = c.write(t, "npmrc", "registry="+c.w.RegistryURL+"\n"+u+":_authToken="+c.s.NPMToken+"\n")

	c.mustRun(t, ok, "inventory")
	c.mustRun(t, ok, "plan")
	c.mustRun(t, findings, "trust", "--repo", repo, "--execute", "--otp", c.s.NPMOTP)
	c.mustRun(t, findings, "apply", "--wave", "0", "--execute")
	mergeAllPRs(t, c, []string{repo})
	c.mustRun(t, ok, "status")

	r := c.run(t, "flag", "on", "--repo", repo, "--otp", c.s.NPMOTP)
	for _, want := range []string{"manual: set the flag in CircleCI", "CircleCI project gh/" + repo + ": set CUTOVER_NPM_OIDC=true at " + circleci.SettingsURL(repo), "--confirm"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("flag on without a CircleCI token does not say %q:\n%s", want, r.out)
		}
	}
	if r.code != ExitFindings {
		t.Errorf("flag on waiting for --confirm exits %d, want %d", r.code, ExitFindings)
	}
	if _, set := c.w.CircleCIProjectVar(repo, "CUTOVER_NPM_OIDC"); set {
		t.Error("the CircleCI variable is set although no token was configured")
	}
	person := &circleci.Client{BaseURL: c.w.CircleCIAPIURL(), Token: circleci.Token(c.w.CircleCIToken())}
	if err := person.SetProjectVar(t.Context(), circleci.ProjectSlug(repo), "CUTOVER_NPM_OIDC", "true"); err != nil {
		t.Fatal(err)
	}
	r = c.mustRun(t, ok, "flag", "on", "--repo", repo, "--confirm", "--otp", c.s.NPMOTP)
	if !strings.Contains(r.out, "set by hand (confirmed)") {
		t.Errorf("flag on --confirm:\n%s", r.out)
	}

	// With a CircleCI API token, flag off sets the variable itself.
	c.write(t, "cutover.toml", string(cfg)+project+fmt.Sprintf("\n[circleci]\ntoken_env = \"CIRCLE_TOKEN\"\napi_url = %q\n", c.w.CircleCIAPIURL()))
	c.env["CIRCLE_TOKEN"] = c.s.CircleCIToken
	r = c.mustRun(t, ok, "flag", "off", "--repo", repo)
	if v, _ := c.w.CircleCIProjectVar(repo, "CUTOVER_NPM_OIDC"); v != "false" || !strings.Contains(r.out, "set through CircleCI's API") {
		t.Errorf("flag off with a CircleCI token: variable %q\n%s", v, r.out)
	}
	if strings.Contains(r.out+r.err, c.s.CircleCIToken) {
		t.Error("the CircleCI token reached the output")
	}
}
