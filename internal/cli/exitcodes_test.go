package cli

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestConfigurationErrorsExit2 checks the README's promise that a
// configuration error exits 2: no organisation, no GitHub token, and a
// config file with many problems, every one reported with its line.
func TestConfigurationErrorsExit2(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "cutover.db")
	cfg := writeConfig(t, "[campaign]\nledger = \""+filepath.ToSlash(db)+"\"\n")

	r := run(t, nil, "--config", cfg, "inventory")
	if r.code != ExitUsage || !strings.Contains(r.err, "error: no organisation: set [github] org in the config or CUTOVER_ORG") {
		t.Errorf("no org: exit %d\n%s", r.code, r.err)
	}
	if _, err := exec.LookPath("gh"); err == nil {
		t.Log("gh is on PATH: the no-token case depends on its login and is not checked")
	} else {
		r = run(t, map[string]string{"CUTOVER_ORG": "acme"}, "--config", cfg, "inventory")
		if r.code != ExitUsage || !strings.Contains(r.err, "error: no GitHub token: set GITHUB_TOKEN or GH_TOKEN") {
			t.Errorf("no token: exit %d\n%s", r.code, r.err)
		}
	}

	// A GitHub App with neither an installation id nor an organisation.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	appCfg := writeConfig(t, "[campaign]\nledger = \""+filepath.ToSlash(db)+"\"\n[github.app]\nid = 42\nprivate_key_file = \""+filepath.ToSlash(pemFile)+"\"\n")
	r = run(t, nil, "--config", appCfg, "status")
	if r.code != ExitUsage || !strings.Contains(r.err, "error: the GitHub App 42 has no installation id and no organisation to find it on") {
		t.Errorf("App without installation or org: exit %d\n%s", r.code, r.err)
	}

	r = run(t, nil, "config", "check", "testdata/six-problems.toml")
	want := []string{
		`config "testdata/six-problems.toml": line 2: scan.max_file_bytes: incompatible types: TOML value has type string; destination has type integer`,
		`config "testdata/six-problems.toml": line 5: campaign.concurrency: incompatible types: TOML value has type string; destination has type integer`,
		`config "testdata/six-problems.toml": line 8: log.level: "loud" is not a log level`,
		`config "testdata/six-problems.toml": line 11: unknown key "registy" in [npm] (did you mean "registry"?)`,
		`config "testdata/six-problems.toml": line 14: pr.draft: incompatible types: TOML value has type string; destination has type bool`,
		`config "testdata/six-problems.toml": line 19: schedule.job.spec: job "nightly": spec "0 3 * *": expected exactly 5 fields`,
	}
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if r.code != ExitFindings || len(lines) != len(want) {
		t.Fatalf("config check: exit %d, %d lines, want 1 and %d:\n%s%s", r.code, len(lines), len(want), r.out, r.err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d:\n got %s\nwant %s…", i+1, lines[i], w)
		}
	}
	// The same file given with --config stops every command with exit 2.
	r = run(t, nil, "--config", "testdata/six-problems.toml", "schedule", "--list")
	if r.code != ExitUsage || strings.Count(r.err, "error: config ") != len(want) {
		t.Errorf("--config with six problems: exit %d\n%s", r.code, r.err)
	}
}

// TestExitCodesDocumented checks that the README's exit-code table and the
// root command's help list every exit code cutover uses.
func TestExitCodesDocumented(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	help := run(t, nil, "--help").out
	for _, code := range []int{ExitOK, ExitFindings, ExitUsage, ExitFatal, ExitGate, ExitInterrupted} {
		if !strings.Contains(string(readme), fmt.Sprintf("\n| `%d` | ", code)) {
			t.Errorf("the README's exit-code table has no row for %d", code)
		}
		if !regexp.MustCompile(fmt.Sprintf(`(^|[ ,\n])%d [a-z]`, code)).MatchString(help) {
			t.Errorf("cutover --help does not explain exit code %d:\n%s", code, help)
		}
	}
}
