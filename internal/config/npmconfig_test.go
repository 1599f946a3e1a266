package config

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// requireNPM skips without npm, or fails when CI is set.
func requireNPM(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("npm is not installed and CI is set: %v", err)
		}
		t.Skipf("npm is not installed: %v", err)
	}
}

// TestNPMConfigGetIgnoresCheckout: a committed .npmrc in the directory
// cutover runs in (a scanned checkout) must not choose the registry; the
// user's npm config does.
func TestNPMConfigGetIgnoresCheckout(t *testing.T) {
	requireNPM(t)
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".npmrc"), []byte("registry=https://npm-registry.invalid/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	checkout := t.TempDir()
	for name, data := range map[string]string{
		".npmrc":       "registry=https://attacker.invalid/\n",
		"package.json": `{"name": "victim", "version": "1.0.0"}`,
	} {
		if err := os.WriteFile(filepath.Join(checkout, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sub := filepath.Join(checkout, "packages", "a")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("npm_config_userconfig", filepath.Join(home, ".npmrc"))
	t.Setenv("npm_config_cache", filepath.Join(home, ".npm"))
	for _, k := range []string{"NPM_CONFIG_REGISTRY", "npm_config_registry", "NPM_CONFIG_USERCONFIG"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	for _, dir := range []string{checkout, sub} {
		t.Chdir(dir)
		got, err := NPMConfigGet(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got != "https://npm-registry.invalid/" {
			t.Errorf("in %s: npm config get registry = %q, want the user config's https://npm-registry.invalid/", dir, got)
		}
	}
}
