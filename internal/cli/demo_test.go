package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDemo runs the whole sandbox campaign in-process and checks that it
// reaches the reports, that they agree with what it printed, and that no
// credential value reaches the output, the logs or the reports.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo runs a whole campaign")
	}
	out := t.TempDir()
	r := run(t, nil, "--log-level", "debug", "--log-format", "json", "demo", "--repos", "15", "--seed", "3", "--out", out)
	if r.code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr (tail):\n%s", r.code, r.out, tail(r.err, 40))
	}
	for _, want := range []string{"inventory: 15 repositories read", "wave 0 (canary)", "merge: ", "gate of wave 0 (canary; requires merged and verified", "blocked, release failed after flag on", "rolled back: CUTOVER_NPM_OIDC=false", "canaries published through OIDC", "revoke tokens:", "report.html"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	// The repository that publishes from CircleCI went through the whole
	// campaign: trusted publisher from its [[circleci.project]] IDs, flag
	// set through CircleCI's API, a release through CircleCI's OIDC,
	// verified, and its npm token revoked.
	if !regexp.MustCompile(`CircleCI: sandbox-org/\S+ publishes from CircleCI \(project [0-9a-f-]{36}\): verified \(canary published through its CircleCI trusted publisher\), its npm token revoked`).MatchString(r.out) {
		t.Errorf("the CircleCI repository does not end verified and revoked:\n%s", r.out)
	}
	if !regexp.MustCompile(`GitLab: 2 projects checked out under .*; scan: 2 publish from .gitlab-ci.yml with a token; trusted publishers needed: .*GitLab project sandbox-org/`).MatchString(r.out) {
		t.Errorf("the demo does not scan its GitLab projects:\n%s", r.out)
	}
	if !regexp.MustCompile(`lockdown: [1-9][0-9]* packages now require 2FA and disallow tokens`).MatchString(r.out) || !regexp.MustCompile(`leaked token: a publish of .* was refused`).MatchString(r.out) {
		t.Errorf("the demo locks nothing down, or a token still publishes:\n%s", r.out)
	}
	var doc struct {
		Schema   string `json:"schema"`
		Campaign struct {
			Sandbox bool `json:"sandbox"`
		} `json:"campaign"`
		Summary struct {
			LockedDown int `json:"packages_locked_down"`
		} `json:"summary"`
		Repos []struct {
			Repo      string `json:"repo"`
			Owner     string `json:"owner"`
			LastEvent *struct {
				Kind string `json:"kind"`
			} `json:"last_event"`
		} `json:"repos"`
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Schema != "cutover.report/v1" {
		t.Fatalf("report.json: %v %q", err, doc.Schema)
	}
	if doc.Summary.LockedDown == 0 {
		t.Error("the report counts no package locked down")
	}
	// The sandbox's CODEOWNERS fill the Owner column; cards' last steps
	// come from the event log; the header says the sandbox is gone.
	owned, evented := 0, 0
	for _, c := range doc.Repos {
		if c.Owner != "" {
			owned++
		}
		if c.LastEvent != nil {
			evented++
		}
	}
	if owned < len(doc.Repos)/2 || evented == 0 {
		t.Errorf("report.json: %d of %d repositories have an owner, %d a last event", owned, len(doc.Repos), evented)
	}
	if !doc.Campaign.Sandbox {
		t.Error("report.json does not say the campaign ran on a sandbox")
	}
	secret := regexp.MustCompile(`npm_[A-Za-z0-9]{36}|gh[pousr]_[A-Za-z0-9]{20,}`)
	texts := map[string]string{"stdout": r.out, "stderr": r.err}
	for _, f := range []string{"report.json", "report.html", "report.md"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		texts[f] = string(b)
	}
	// The repository blocked after its failed release is listed as blocked,
	// although later steps (inventory, secrets) ran on it.
	for _, f := range []string{"report.html", "report.md"} {
		if !strings.Contains(texts[f], "links point at a sandbox that no longer runs") {
			t.Errorf("%s does not say the sandbox is gone", f)
		}
	}
	for _, f := range []string{"report.json", "report.md"} {
		if !strings.Contains(texts[f], "release failed after flag on") {
			t.Errorf("%s does not list the repository blocked after its failed release", f)
		}
	}
	for name, text := range texts {
		if m := secret.FindString(text); m != "" {
			t.Errorf("%s contains a credential value (%s…)", name, m[:8])
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
