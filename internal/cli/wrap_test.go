package cli

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/sandbox"
)

// TestRefusedTokenOnce runs inventory, then flag on, with a token GitHub
// refuses: the error says what could not be done, and why, once.
func TestRefusedTokenOnce(t *testing.T) {
	t.Parallel()
	c := newNPMCLI(t, 1, sandbox.KindNPM)
	c.mustRun(t, []int{ExitOK}, "inventory")
	c.mustRun(t, []int{ExitOK}, "plan")
	u := strings.TrimPrefix(strings.TrimPrefix(c.w.RegistryURL, "http:"), "https:")
	c.env["NPM_CONFIG_USERCONFIG"] = c.write(t, "npmrc", "registry="+c.w.RegistryURL+"\n"+u+":_authToken="+c.s.NPMToken+"\n")
	token := "ghp_" + strings.Repeat("x", 36)
	c.env["GITHUB_TOKEN"] = token

	repo := c.s.Org + "/" + c.p.Repos[0].Name
	r := c.run(t, "flag", "on", "--repo", repo, "--otp", "000000")
	line := repo + `  failed   refused: forge error: could not read the head of "main" in "` + repo + `": GitHub refused the token (401 Bad credentials)`
	if r.code != ExitFindings || !strings.Contains(r.out, line) {
		t.Errorf("flag on with a refused token: exit %d, want %d and the line\n%s\nstdout:\n%s\nstderr:\n%s", r.code, ExitFindings, line, r.out, r.err)
	}

	c.ledger += ".new" // a new campaign: inventory lists the organisation again
	r = c.run(t, "inventory")
	want := `error: could not list the repositories of "acme": GitHub refused the token (401 Bad credentials): check that it is the right one and has not expired or been revoked` + "\n"
	if r.code != ExitFatal || r.err != want {
		t.Errorf("inventory with a refused token: exit %d, stderr\n%s\nwant exit %d, stderr\n%s", r.code, r.err, ExitFatal, want)
	}
	if strings.Contains(r.err+r.out, token[4:12]) {
		t.Errorf("the token reached the output:\n%s", r.err)
	}
}
