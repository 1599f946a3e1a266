package cli

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/circleci"
	"github.com/cutover/cutover/internal/config"
)

// TestSandboxServe starts `cutover sandbox serve` in-process, reads the
// environment it prints, lists the organisation's repositories with
// go-github through the printed config, and stops it by cancelling.
func TestSandboxServe(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sb")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var errb strings.Builder
	sb := startServe(ctx, &lockedWriter{w: &errb}, "--repos", "12", "--seed", "3", "--dir", dir, "--rate-limits=false")
	env, printed := sb.env, sb.printed
	for _, k := range []string{"CUTOVER_CONFIG", "CUTOVER_ORG", "GITHUB_TOKEN", "NPM_CONFIG_REGISTRY", "NPM_CONFIG_USERCONFIG"} {
		if env[k] == "" {
			t.Fatalf("no %s in the output:\n%s", k, printed)
		}
	}

	cfg, err := config.Load(env["CUTOVER_CONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GitHub.Org != env["CUTOVER_ORG"] || cfg.NPM.Registry != env["NPM_CONFIG_REGISTRY"] || cfg.GitHub.Pacing != "off" {
		t.Errorf("config %+v does not match the environment %v", cfg, env)
	}
	gh, err := github.NewClient(nil).WithAuthToken(env["GITHUB_TOKEN"]).WithEnterpriseURLs(cfg.GitHub.APIURL, cfg.GitHub.APIURL)
	if err != nil {
		t.Fatal(err)
	}
	repos, _, err := gh.Repositories.ListByOrg(ctx, cfg.GitHub.Org, &github.RepositoryListByOrgOptions{ListOptions: github.ListOptions{PerPage: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if len(repos) != 12 {
		t.Errorf("%d repositories, want 12", len(repos))
	}

	// The npm token is in the npmrc file, never on stdout or stderr.
	npmrc, err := os.ReadFile(env["NPM_CONFIG_USERCONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	_, tok, ok := strings.Cut(string(npmrc), ":_authToken=")
	tok = strings.TrimSpace(tok)
	if !ok || tok == "" {
		t.Fatalf("npmrc holds no token:\n%s", npmrc)
	}
	if fi, err := os.Stat(env["NPM_CONFIG_USERCONFIG"]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("npmrc mode %v, %v", fi.Mode(), err)
	}

	// The registry is at the root of a port of its own (npm builds the OIDC
	// exchange URL from its origin), and the npmrc's token works there.
	reg, err := url.Parse(env["NPM_CONFIG_REGISTRY"])
	if err != nil || reg.Path != "/" || strings.HasPrefix(env["NPM_CONFIG_REGISTRY"], cfg.GitHub.APIURL) {
		t.Errorf("registry %q (API %q): want the root of its own port", env["NPM_CONFIG_REGISTRY"], cfg.GitHub.APIURL)
	}
	if !strings.Contains(string(npmrc), "//"+reg.Host+"/:_authToken=") {
		t.Errorf("the npmrc's token is not for the registry %s", reg.Host)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", env["NPM_CONFIG_REGISTRY"]+"-/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("whoami at the registry's root: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// The repository that publishes from CircleCI is configured with its
	// IDs, and the printed CircleCI token sets its flag through the API.
	if len(cfg.CircleCI.Project) != 1 || cfg.CircleCI.TokenEnv != "SANDBOX_CIRCLECI_TOKEN" || env["SANDBOX_CIRCLECI_TOKEN"] == "" {
		t.Fatalf("CircleCI configuration %+v, token printed %v", cfg.CircleCI, env["SANDBOX_CIRCLECI_TOKEN"] != "")
	}
	cc := &circleci.Client{BaseURL: cfg.CircleCI.APIURL, Token: circleci.Token(env["SANDBOX_CIRCLECI_TOKEN"])}
	if err := cc.SetProjectVar(ctx, circleci.ProjectSlug(cfg.CircleCI.Project[0].Repo), "CUTOVER_NPM_OIDC", "false"); err != nil {
		t.Errorf("set a CircleCI variable with the printed token: %v", err)
	}
	if !strings.Contains(printed, "_sandbox/repos/OWNER/REPO/id-token-request") {
		t.Errorf("serve does not print the ID-token request endpoint:\n%s", printed)
	}

	cancel()
	select {
	case code := <-sb.done:
		if code != ExitOK {
			t.Errorf("exit code %d after cancel\nstderr:\n%s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
	if strings.Contains(printed, tok) || strings.Contains(errb.String(), tok) {
		t.Error("the npm token was printed")
	}
	if !strings.Contains(errb.String(), "sandbox seeded") {
		t.Errorf("stderr lacks the seeding log:\n%s", errb.String())
	}
	// A second serve on the same folder refuses.
	r := run(t, nil, "sandbox", "serve", "--dir", dir)
	if r.code != ExitUsage || !strings.Contains(r.err, "already holds a sandbox") {
		t.Errorf("second serve on %s: exit %d\n%s", dir, r.code, r.err)
	}
}

func TestSandboxServeUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"sandbox", "serve", "--repos", "-1"},
		{"sandbox", "serve", "--org", "not an org"},
		{"sandbox", "serve", "extra"},
		{"sandbox", "srve"},
	} {
		if r := run(t, nil, args...); r.code != ExitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", args, r.code, ExitUsage, r.err)
		}
	}
	if r := run(t, nil, "sandbox", "serve", "--help"); r.code != ExitOK || !strings.Contains(r.out, "No npm") {
		t.Errorf("help: exit %d\n%s", r.code, r.out)
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// TestSandboxServeApp serves with --auth app and runs an inventory with the
// written configuration and no GitHub token at all: the App signs in.
func TestSandboxServeApp(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sb")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sb := startServe(ctx, io.Discard, "--repos", "6", "--dir", dir, "--rate-limits=false", "--auth", "app")
	env, printed := sb.env, sb.printed
	if env["GITHUB_TOKEN"] != "" || env["SANDBOX_GITHUB_TOKEN"] == "" || !strings.Contains(printed, "GitHub App 4242 installed") {
		t.Fatalf("output:\n%s", printed)
	}
	cfg, err := config.Load(env["CUTOVER_CONFIG"])
	if err != nil || cfg.GitHub.App.ID != 4242 {
		t.Fatalf("config: %+v %v", cfg, err)
	}
	if fi, err := os.Stat(cfg.GitHub.App.PrivateKeyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("app key: %v %v", fi, err)
	}
	delete(env, "SANDBOX_GITHUB_TOKEN")
	env["HOME"] = t.TempDir()
	r := run(t, env, "inventory", "--ledger", filepath.Join(t.TempDir(), "c.db"))
	if r.code != ExitOK || !strings.Contains(r.out, "inventory: 6 repositories: 6 ok") {
		t.Errorf("inventory as the App: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	cancel()
	<-sb.done
}

func TestSandboxServeRefusesExposure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true}, {"127.0.0.2:8080", true}, {"[::1]:0", true}, {"localhost:0", true},
		{"0.0.0.0:0", false}, {":0", false}, {"[::]:0", false}, {"192.0.2.1:0", false}, {"example.invalid:0", false},
	} {
		if err := loopbackAddr(t.Context(), tc.addr); (err == nil) != tc.ok {
			t.Errorf("loopbackAddr(%q) = %v, want ok %v", tc.addr, err, tc.ok)
		}
	}
	for _, args := range [][]string{{"--addr", "0.0.0.0:0"}, {"--addr", ":0"}, {"--npm-addr", "[::]:0"}, {"--addr", "sandbox.invalid:0"}} {
		r := run(t, nil, append([]string{"sandbox", "serve"}, args...)...)
		if r.code != ExitUsage || !strings.Contains(r.err, "--expose") {
			t.Errorf("sandbox serve %v: exit %d, want %d naming --expose\n%s", args, r.code, ExitUsage, r.err)
		}
	}
	// With --expose it warns and goes on: here to a documentation address
	// (TEST-NET-1) no interface has, so that nothing is exposed by the test.
	r := run(t, nil, "sandbox", "serve", "--expose", "--addr", "192.0.2.1:0", "--repos", "1", "--dir", t.TempDir())
	if r.code == ExitOK || r.code == ExitUsage || !strings.Contains(r.err, "--expose: the sandbox listens beyond loopback; anyone who can reach 192.0.2.1:0") ||
		!strings.Contains(r.err, "192.0.2.1") {
		t.Errorf("sandbox serve --expose --addr 192.0.2.1:0: exit %d, want the warning and a failure to listen\n%s", r.code, r.err)
	}
}
