package cli

import (
	"strings"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox"
)

// TestGateRefusalExitCode: apply --wave 1 --execute while the canaries
// have not met their default gate (merged and verified) is refused with
// exit code 4 and pushes nothing; a repository refused by flag on exits 1;
// --force with a reason starts the wave.
func TestGateRefusalExitCode(t *testing.T) {
	t.Parallel()
	c := newNPMCLI(t, 8, sandbox.KindNPM)
	ctx := t.Context()
	c.env["NPM_CONFIG_USERCONFIG"] = c.write(t, "npmrc", "")
	c.mustRun(t, []int{ExitOK}, "inventory")
	c.mustRun(t, []int{ExitOK}, "plan")
	c.mustRun(t, []int{ExitOK}, "apply", "--wave", "0", "--execute")

	led, err := ledger.Open(ctx, c.ledger, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w1, err := led.Wave(ctx, 1)
	led.Close()
	if err != nil || len(w1.Members) == 0 {
		t.Fatalf("wave 1: %+v %v", w1, err)
	}

	r := c.run(t, "apply", "--wave", "1", "--execute")
	if r.code != ExitGate {
		t.Fatalf("apply --wave 1 --execute before the canaries met their gate: exit code %d, want %d (ExitGate)\nstdout:\n%s\nstderr:\n%s", r.code, ExitGate, r.out, r.err)
	}
	for _, want := range []string{"wave 1 may not start: wave 0 has not met its gate", "without merged and verified yet", "use --force with a reason to override"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("the refusal does not say %q:\n%s", want, r.err)
		}
	}
	if r.out != "" {
		t.Errorf("a refused wave printed a summary:\n%s", r.out)
	}
	gc := c.github(t)
	for _, repo := range w1.Members {
		owner, name, _ := strings.Cut(repo, "/")
		prs, _, err := gc.PullRequests.List(ctx, owner, name, &github.PullRequestListOptions{State: "all"})
		if err != nil || len(prs) != 0 {
			t.Errorf("%s has %d pull requests after a refused wave (%v)", repo, len(prs), err)
		}
		if _, resp, err := gc.Repositories.GetBranch(ctx, owner, name, "cutover/npm-oidc", 0); err == nil || resp == nil || resp.StatusCode != 404 {
			t.Errorf("%s: the campaign branch was pushed after a refused wave (%v)", repo, err)
		}
	}

	// A repository refused by a step is exit code 1, not 4.
	u := strings.TrimPrefix(strings.TrimPrefix(c.w.RegistryURL, "http:"), "https:")
	c.env["NPM_CONFIG_USERCONFIG"] = c.write(t, "npmrc", "registry="+c.w.RegistryURL+"\n"+u+":_authToken="+c.s.NPMToken+"\n")
	r = c.run(t, "flag", "on", "--repo", w1.Members[0], "--otp", c.s.NPMOTP)
	if r.code != ExitFindings {
		t.Errorf("flag on of an unmerged repository: exit code %d, want %d\n%s\n%s", r.code, ExitFindings, r.out, r.err)
	}

	// Forcing the gate with a reason starts the wave.
	r = c.run(t, "apply", "--wave", "1", "--execute", "--force", "canaries checked by hand")
	if r.code != ExitOK || !strings.Contains(r.out, "apply: ") {
		t.Errorf("apply --wave 1 --force: exit code %d\n%s\n%s", r.code, r.out, r.err)
	}
}
