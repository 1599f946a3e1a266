package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlainHTTPIsAConfigurationError: plain http to a host other than
// loopback, where the npm or GitHub token would cross the network in
// clear, stops every command with exit code 2 before anything is written,
// whether it comes from the config, an environment variable or --registry;
// allow_insecure_http = true in [npm] lets it through.
func TestPlainHTTPIsAConfigurationError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, config string
		env          map[string]string
		args         []string
		want         string // "" for no configuration error
	}{
		{"config registry", "[npm]\nregistry = \"http://npm-registry.invalid/\"\n", nil, []string{"status"},
			`npm.registry: "http://npm-registry.invalid/" is plain http to npm-registry.invalid`},
		{"config api_url", "[github]\napi_url = \"http://ghe.invalid/api/v3/\"\n", nil, []string{"inventory"},
			`github.api_url: "http://ghe.invalid/api/v3/" is plain http to ghe.invalid`},
		{"--registry", "", nil, []string{"trust", "--wave", "0", "--otp", "000000", "--registry", "http://10.0.0.9:4873/"},
			`--registry: "http://10.0.0.9:4873/" is plain http to 10.0.0.9`},
		{"NPM_CONFIG_REGISTRY", "", map[string]string{"NPM_CONFIG_REGISTRY": "http://npm-registry.invalid/"}, []string{"plan"},
			`the npm registry from NPM_CONFIG_REGISTRY: "http://npm-registry.invalid/" is plain http`},
		{"preflight --registry", "", nil, []string{"preflight", "--registry", "http://npm-registry.invalid/"},
			`is plain http to npm-registry.invalid`},
		{"allowed", "[npm]\nallow_insecure_http = true\n", map[string]string{"NPM_CONFIG_REGISTRY": "http://npm-registry.invalid/"}, []string{"plan"}, ""},
		{"loopback", "", nil, []string{"plan", "--registry", "http://127.0.0.1:4873/"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			db := filepath.Join(dir, "cutover.db")
			cfg := writeConfig(t, "[campaign]\nledger = \""+filepath.ToSlash(db)+"\"\n"+tc.config)
			env := map[string]string{"CUTOVER_ORG": "acme", "GITHUB_TOKEN": "ghp_x", "NPM_TOKEN": "npm_x", "HOME": dir}
			for k, v := range tc.env {
				env[k] = v
			}
			r := run(t, env, append([]string{"--config", cfg}, tc.args...)...)
			if tc.want == "" {
				if r.code == ExitUsage {
					t.Errorf("exit %d, want no configuration error\n%s", r.code, r.err)
				}
				return
			}
			if r.code != ExitUsage || !strings.Contains(r.err, tc.want) || !strings.Contains(r.err, "allow_insecure_http = true in [") {
				t.Errorf("exit %d, want %d saying %q\n%s", r.code, ExitUsage, tc.want, r.err)
			}
			if _, err := os.Stat(db); err == nil {
				t.Error("the ledger was created before the configuration error")
			}
		})
	}
}
