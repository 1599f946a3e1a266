package cli

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/sandbox"
)

// TestRefusedTokenOnce runs inventory with a token GitHub refuses: the
// error says what could not be done, and why, once.
func TestRefusedTokenOnce(t *testing.T) {
	t.Parallel()
	c := newNPMCLI(t, 1, sandbox.KindNPM)
	token := "ghp_" + strings.Repeat("x", 36)
	c.env["GITHUB_TOKEN"] = token
	r := c.run(t, "inventory")
	want := `error: could not list the repositories of "acme": GitHub refused the token (401 Bad credentials): check that it is the right one and has not expired or been revoked` + "\n"
	if r.code != ExitFatal || r.err != want {
		t.Errorf("inventory with a refused token: exit %d, stderr\n%s\nwant exit %d, stderr\n%s", r.code, r.err, ExitFatal, want)
	}
	if strings.Contains(r.err+r.out, token[4:12]) {
		t.Errorf("the token reached the output:\n%s", r.err)
	}
}
