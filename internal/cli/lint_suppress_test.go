package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLintSuppressions: an inline "# cutover-ignore: RULE -- reason" and a
// [[lint.ignore]] entry each accept a result: it stays in the output, in
// SARIF as a suppression, and does not fail the check. Without a reason the
// comment suppresses nothing.
func TestLintSuppressions(t *testing.T) {
	t.Parallel()
	inline := strings.Replace(tokenWorkflow, "NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}", "NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }} # cutover-ignore: token-publish, token-exposed -- mirror release, moves to OIDC in Q3", 1)
	noReason := strings.Replace(tokenWorkflow, "NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}", "NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }} # cutover-ignore: token-publish", 1)
	inlineRepo := writeRepo(t, map[string]string{".github/workflows/release.yml": inline})
	noReasonRepo := writeRepo(t, map[string]string{".github/workflows/release.yml": noReason})
	configRepo := writeRepo(t, map[string]string{".github/workflows/release.yml": tokenWorkflow})

	r := run(t, testEnv, "lint", inlineRepo)
	if r.code != ExitOK || !strings.Contains(r.out, "(suppressed: mirror release, moves to OIDC in Q3)") || !strings.Contains(r.out, "suppressed\n") {
		t.Errorf("inline: code %d\n%s%s", r.code, r.out, r.err)
	}
	r = run(t, testEnv, "lint", "--format", "sarif", inlineRepo)
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID       string `json:"ruleId"`
				Suppressions []struct{ Kind, Status, Justification string }
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.out), &log); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, res := range log.Runs[0].Results {
		if res.RuleID == "token-publish" {
			found = len(res.Suppressions) == 1 && res.Suppressions[0].Kind == "inSource" && res.Suppressions[0].Status == "accepted" && res.Suppressions[0].Justification == "mirror release, moves to OIDC in Q3"
		}
	}
	if r.code != ExitOK || !found {
		t.Errorf("sarif suppression: code %d\n%s", r.code, r.out)
	}
	r = run(t, testEnv, "lint", "--format", "github", inlineRepo)
	if r.code != ExitOK || strings.Contains(r.out, "token-publish") {
		t.Errorf("github format shows a suppressed result: %d\n%s", r.code, r.out)
	}

	if r := run(t, testEnv, "lint", noReasonRepo); r.code != ExitFindings {
		t.Errorf("a comment without a reason suppressed the result: %d\n%s", r.code, r.out)
	}

	cfg := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(cfg, []byte("[[lint.ignore]]\nrule = \"*\"\npath = \".github/workflows/*.yml\"\nreason = \"legacy release line\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, testEnv, "--config", cfg, "lint", "--format", "sarif", configRepo)
	if r.code != ExitOK || !strings.Contains(r.out, `"kind": "external"`) || !strings.Contains(r.out, `"justification": "legacy release line"`) {
		t.Errorf("config ignore: code %d\n%s%s", r.code, r.out, r.err)
	}
}

// TestLintGitHubFormat: --format github writes workflow commands the
// runner turns into annotations, paths relative to the repository root.
func TestLintGitHubFormat(t *testing.T) {
	t.Parallel()
	repo := writeRepo(t, map[string]string{".github/workflows/release.yml": tokenWorkflow})
	r := run(t, testEnv, "lint", "--format", "github", repo)
	want := "::error file=.github/workflows/release.yml,line=16,title=cutover token-publish::job \"publish\" publishes to npm with the stored token NPM_TOKEN"
	if r.code != ExitFindings || !strings.Contains(r.out, want) {
		t.Errorf("code %d\n%s", r.code, r.out)
	}
	for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
		if !strings.HasPrefix(l, "::") {
			t.Errorf("not a workflow command: %q", l)
		}
	}
}
