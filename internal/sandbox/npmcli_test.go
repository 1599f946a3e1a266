package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// requireNPM returns the npm CLI's version, skipping the test without an
// npm 11.5.1 or newer, or failing it when CI is set.
func requireNPM(tb testing.TB) string {
	tb.Helper()
	v, ok, err := sandbox.NPMVersion(tb.Context(), "")
	switch {
	case err != nil:
		err = fmt.Errorf("this test drives the real npm CLI: %w", err)
	case !ok:
		err = fmt.Errorf("this test drives the real npm CLI, %s or newer; npm on PATH is %s", sandbox.MinOIDCNPM, v)
	default:
		return v
	}
	if os.Getenv("CI") != "" {
		tb.Fatal(err)
	}
	tb.Skip(err)
	return ""
}

// npmCLI runs npm with a private HOME, user config, global config and cache,
// and nothing of the caller's environment but PATH, so it never reads or
// writes the machine's npm configuration and only talks to the sandbox.
type npmCLI struct {
	tb       testing.TB
	dir      string
	userrc   string
	registry string
}

func newNPMCLI(tb testing.TB, registry, token string) *npmCLI {
	tb.Helper()
	dir := tb.TempDir()
	c := &npmCLI{tb: tb, dir: dir, userrc: filepath.Join(dir, "npmrc"), registry: registry}
	rc := "registry=" + registry + "\n"
	if token != "" {
		u, err := url.Parse(registry)
		if err != nil {
			tb.Fatal(err)
		}
		rc += "//" + u.Host + u.Path + ":_authToken=" + token + "\n"
	}
	if err := os.WriteFile(c.userrc, []byte(rc), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "globalrc"), nil, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "home"), 0o700); err != nil {
		tb.Fatal(err)
	}
	return c
}

// run runs npm args in dir ("" for the CLI's own folder) with extra
// environment variables and returns its exit error and combined output.
func (c *npmCLI) run(dir string, extra []string, args ...string) (string, error) {
	c.tb.Helper()
	if dir == "" {
		dir = c.dir
	}
	ctx, cancel := context.WithTimeout(c.tb.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", args...)
	cmd.Dir = dir
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(c.dir, "home"),
		"TMPDIR=" + c.dir,
		"NPM_CONFIG_USERCONFIG=" + c.userrc,
		"NPM_CONFIG_GLOBALCONFIG=" + filepath.Join(c.dir, "globalrc"),
		"NPM_CONFIG_CACHE=" + filepath.Join(c.dir, "cache"),
		"NPM_CONFIG_REGISTRY=" + c.registry,
		"NPM_CONFIG_UPDATE_NOTIFIER=false",
		"NPM_CONFIG_AUDIT=false",
		"NPM_CONFIG_FUND=false",
	}, extra...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *npmCLI) ok(dir string, extra []string, args ...string) string {
	c.tb.Helper()
	out, err := c.run(dir, extra, args...)
	if err != nil {
		c.tb.Fatalf("npm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// packageDir writes a package.json for name@version and returns its folder.
func (c *npmCLI) packageDir(name, version, repo string) string {
	c.tb.Helper()
	d := filepath.Join(c.dir, "pkg-"+version)
	if err := os.MkdirAll(d, 0o700); err != nil {
		c.tb.Fatal(err)
	}
	pj := fmt.Sprintf(`{"name":%q,"version":%q,"repository":{"type":"git","url":"git+https://github.com/%s.git"}}`, name, version, repo)
	if err := os.WriteFile(filepath.Join(d, "package.json"), []byte(pj), 0o644); err != nil {
		c.tb.Fatal(err)
	}
	return d
}

const (
	cliGitHubToken = "ghp_sandboxCLI"
	cliOTP         = "123456"
)

// cliWorld is a World with acme/widget (private, so npm makes no provenance
// after an exchange: Sigstore is not reachable from a test), the npm user
// alice (2FA with a fixed OTP) maintaining @acme/widget and @acme/gadget.
func cliWorld(tb testing.TB, opts sandbox.Options) (*sandbox.World, npmreg.Token) {
	tb.Helper()
	opts.Limits = ghapi.Limits{Disabled: true}
	w, err := sandbox.Start(tb.Context(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := w.Close(); err != nil {
			tb.Error(err)
		}
	})
	w.API.AddToken(cliGitHubToken, ghapi.Identity{Login: "alice", Permissions: ghapi.AllPermissions()})
	if err := w.CreateRepo("acme", "widget", ghapi.RepoOptions{Private: true, Files: map[string][]byte{
		"package.json": []byte(`{"name":"@acme/widget","version":"1.0.0"}`),
	}}); err != nil {
		tb.Fatal(err)
	}
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(w.NPM.AddUser(npmreg.UserSpec{Name: "alice", OTP: cliOTP}))
	tok, err := w.NPM.AddToken(npmreg.TokenSpec{User: "alice", Name: "laptop", Session: true})
	must(err)
	for _, p := range []string{"@acme/widget", "@acme/gadget"} {
		must(w.NPM.AddPackage(npmreg.PackageSpec{Name: p, Maintainers: []string{"alice"}}))
		must(w.NPM.AddVersion(p, npmreg.VersionSpec{Version: "1.0.0", By: "alice"}))
	}
	return w, tok
}

// idTokenEnv asks the sandbox for the ID-token request variables of a job
// of acme/widget running workflow, as a runner sets them with GITHUB_ACTIONS.
func idTokenEnv(tb testing.TB, w *sandbox.World, workflow string) []string {
	tb.Helper()
	body := fmt.Sprintf(`{"workflow":%q}`, workflow)
	req, err := http.NewRequestWithContext(tb.Context(), "POST", w.URL+"_sandbox/repos/acme/widget/id-token-request", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+cliGitHubToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var vars map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&vars); err != nil || resp.StatusCode != 200 {
		tb.Fatalf("id-token-request: %d %v %v", resp.StatusCode, vars, err)
	}
	return []string{
		"CI=true", "GITHUB_ACTIONS=true",
		"ACTIONS_ID_TOKEN_REQUEST_URL=" + vars["ACTIONS_ID_TOKEN_REQUEST_URL"],
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + vars["ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
	}
}

// TestRealNPMCLI drives the npm CLI against the sandbox for what a user
// rehearses by hand: ping, view, dist-tag ls, access list, trust github and
// trust list, and npm publish through OIDC from a simulated runner, which
// the registry records with _npmUser.trustedPublisher; a workflow the
// trusted publisher does not name cannot publish. Registry signatures are
// verified with the CLI's own verifier (pacote, as npm audit signatures
// calls it), since npm audit signatures itself first refreshes Sigstore's
// TUF repository over the network.
func TestRealNPMCLI(t *testing.T) {
	t.Parallel()
	version := requireNPM(t)
	t.Logf("npm %s", version)
	w, alice := cliWorld(t, sandbox.Options{})
	npm := newNPMCLI(t, w.RegistryURL, alice.Value)

	npm.ok("", nil, "ping")
	if out := npm.ok("", nil, "whoami"); strings.TrimSpace(out) != "alice" {
		t.Errorf("npm whoami: %q", out)
	}

	var view struct {
		Name     string   `json:"name"`
		Versions []string `json:"versions"`
		DistTags struct {
			Latest string `json:"latest"`
		} `json:"dist-tags"`
	}
	if err := json.Unmarshal([]byte(npm.ok("", nil, "view", "@acme/widget", "--json")), &view); err != nil {
		t.Fatal(err)
	}
	if view.Name != "@acme/widget" || view.DistTags.Latest != "1.0.0" || len(view.Versions) != 1 {
		t.Errorf("npm view: %+v", view)
	}
	if out := npm.ok("", nil, "dist-tag", "ls", "@acme/widget"); strings.TrimSpace(out) != "latest: 1.0.0" {
		t.Errorf("npm dist-tag ls: %q", out)
	}
	var access map[string]string
	if err := json.Unmarshal([]byte(npm.ok("", nil, "access", "list", "packages", "@acme", "--json")), &access); err != nil {
		t.Fatal(err)
	}
	if access["@acme/widget"] != "read-write" || access["@acme/gadget"] != "read-write" || len(access) != 2 {
		t.Errorf("npm access list packages: %v", access)
	}

	var collab map[string]string
	if err := json.Unmarshal([]byte(npm.ok("", nil, "access", "list", "collaborators", "@acme/widget", "--json")), &collab); err != nil {
		t.Fatal(err)
	}
	if len(collab) != 1 || collab["alice"] != "read-write" {
		t.Errorf("npm access list collaborators: %v", collab)
	}

	// Trust: list (none), then github --allow-publish, then list (one);
	// both need the account's one-time password (npm reads it as config).
	otp := []string{"NPM_CONFIG_OTP=" + cliOTP}
	if out := npm.ok("", otp, "trust", "list", "@acme/widget", "--json"); strings.Contains(out, "release.yml") {
		t.Errorf("npm trust list before any: %s", out)
	}
	npm.ok("", otp, "trust", "github", "@acme/widget", "--repo", "acme/widget", "--file", "release.yml", "--allow-publish", "--yes")
	cfg, ok := w.NPM.Trust("@acme/widget")
	if !ok || cfg.Repository != "acme/widget" || cfg.File != "release.yml" || len(cfg.Permissions) != 1 || cfg.Permissions[0] != npmreg.PermissionPublish {
		t.Fatalf("trust after npm trust github: %+v %v", cfg, ok)
	}
	if out := npm.ok("", otp, "trust", "list", "@acme/widget"); !strings.Contains(out, "release.yml") || !strings.Contains(out, "acme/widget") {
		t.Errorf("npm trust list: %s", out)
	}

	// npm publish through OIDC from a runner: no token in the config.
	runner := newNPMCLI(t, w.RegistryURL, "")
	out := runner.ok(runner.packageDir("@acme/widget", "1.0.1", "acme/widget"), idTokenEnv(t, w, "release.yml"), "publish", "--loglevel", "verbose")
	if !strings.Contains(out, "npm verbose oidc Successfully retrieved and set token") {
		t.Errorf("npm publish did not log a successful exchange:\n%s", out)
	}
	var user struct {
		Name             string `json:"name"`
		TrustedPublisher struct {
			ID           string `json:"id"`
			OIDCConfigID string `json:"oidcConfigId"`
		} `json:"trustedPublisher"`
	}
	if err := json.Unmarshal([]byte(npm.ok("", nil, "view", "@acme/widget@1.0.1", "_npmUser.trustedPublisher", "--json")), &user.TrustedPublisher); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(npm.ok("", nil, "view", "@acme/widget@1.0.1", "_npmUser.name", "--json")), &user.Name); err != nil {
		t.Fatal(err)
	}
	// npm view masks the config id ("oidc:***"); the registry holds it.
	if user.TrustedPublisher.ID != "github" || user.TrustedPublisher.OIDCConfigID == "" || user.Name != npmreg.OIDCUserName {
		t.Errorf("_npmUser of the OIDC publish: %+v", user)
	}
	if tp, _ := npmUser(t, w, "@acme/widget", "1.0.1")["trustedPublisher"].(map[string]any); tp["oidcConfigId"] != "oidc:"+cfg.ID {
		t.Errorf("trustedPublisher on the registry: %v, want the config %s", tp, cfg.ID)
	}

	// The workflow file is matched case-sensitively: Release.yml is not
	// trusted, and without a token npm cannot publish at all.
	out, err := runner.run(runner.packageDir("@acme/widget", "1.0.2", "acme/widget"), idTokenEnv(t, w, "Release.yml"), "publish", "--loglevel", "verbose")
	if err == nil || !strings.Contains(out, "npm error code ENEEDAUTH") ||
		!strings.Contains(out, "Failed token exchange request with body message: "+npmreg.MessageExchangeNotFound) {
		t.Errorf("publish from an untrusted workflow: %v\n%s", err, out)
	}
	if vs := w.NPM.Versions("@acme/widget"); len(vs) != 2 {
		t.Errorf("versions after the refused publish: %q", vs)
	}

	// The lockdown cutover applies: npm access set mfa=publish. Before it an
	// automation token (bypass 2FA) publishes; after it, it is refused and
	// OIDC still publishes.
	bot, err := w.NPM.AddToken(npmreg.TokenSpec{User: "alice", Name: "ci", Bypass2FA: true})
	if err != nil {
		t.Fatal(err)
	}
	tokenJob := newNPMCLI(t, w.RegistryURL, bot.Value)
	tokenJob.ok(tokenJob.packageDir("@acme/widget", "1.0.2", "acme/widget"), nil, "publish")
	npm.ok("", otp, "access", "set", "mfa=publish", "@acme/widget")
	if mfa, _ := w.NPM.PackageMFA("@acme/widget"); mfa != npmreg.MFAPublish {
		t.Fatalf("publishing access after npm access set mfa=publish: %q", mfa)
	}
	out, err = tokenJob.run(tokenJob.packageDir("@acme/widget", "1.0.3", "acme/widget"), nil, "publish")
	if err == nil || !strings.Contains(out, "E403") || strings.Contains(out, bot.Value) {
		t.Errorf("token publish after mfa=publish: %v\n%s", err, out)
	}
	runner.ok(runner.packageDir("@acme/widget", "1.0.3", "acme/widget"), idTokenEnv(t, w, "release.yml"), "publish")
	if tp := npmUser(t, w, "@acme/widget", "1.0.3")["trustedPublisher"]; tp == nil {
		t.Error("the OIDC publish after the lockdown has no trustedPublisher")
	}

	// npm trust revoke removes the trusted publisher: the same workflow
	// can no longer publish.
	npm.ok("", otp, "trust", "revoke", "@acme/widget", "--id", cfg.ID)
	if _, ok := w.NPM.Trust("@acme/widget"); ok {
		t.Error("the trusted publisher is still there after npm trust revoke")
	}
	out, err = runner.run(runner.packageDir("@acme/widget", "1.0.4", "acme/widget"), idTokenEnv(t, w, "release.yml"), "publish")
	if err == nil || !strings.Contains(out, "ENEEDAUTH") {
		t.Errorf("publish after npm trust revoke: %v\n%s", err, out)
	}

	// Registry signatures, verified by the CLI's own code against the keys
	// the registry serves.
	verifySignatures(t, npm, w.RegistryURL, "@acme/widget@1.0.0", "@acme/widget@1.0.1", "@acme/gadget@1.0.0")
}

// verifySignatures verifies the registry signatures of specs with pacote
// from the npm CLI's own installation, as npm audit signatures does.
func verifySignatures(t *testing.T, npm *npmCLI, registry string, specs ...string) {
	t.Helper()
	bin, err := exec.LookPath("npm")
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := filepath.EvalSymlinks(bin)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(filepath.Dir(resolved)) // <npm>/bin/npm-cli.js
	pacote := filepath.Join(root, "node_modules", "pacote")
	if _, err := os.Stat(pacote); err != nil {
		t.Fatalf("the npm CLI's pacote is not at %s: %v", pacote, err)
	}
	script := `
const pacote = require(process.argv[1]);
const registry = process.argv[2];
(async () => {
  const res = await fetch(new URL('/-/npm/v1/keys', registry));
  const { keys } = await res.json();
  const u = new URL(registry);
  const opts = { registry, verifySignatures: true, cache: process.env.NPM_CONFIG_CACHE,
    ['//' + u.host + u.pathname + ':_keys']: keys.map(k => ({ ...k, pemkey: '-----BEGIN PUBLIC KEY-----\n' + k.key + '\n-----END PUBLIC KEY-----' })) };
  for (const spec of process.argv.slice(3)) {
    const m = await pacote.manifest(spec, opts);
    if (!m._signatures || m._signatures.length !== 1) throw new Error(spec + ': no signature checked');
    console.log('verified ' + m._id + ' ' + m._signatures[0].keyid);
  }
  // A key that is not the registry's must not verify.
  const other = require('crypto').generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' });
  try {
    await pacote.manifest(process.argv[3], { ...opts, preferOnline: true, ['//' + u.host + u.pathname + ':_keys']: keys.map(k => ({ ...k, pemkey: other })) });
    throw new Error('a signature verified with another key');
  } catch (e) {
    if (e.code !== 'EINTEGRITYSIGNATURE') throw e;
    console.log('refused with another key: ' + e.code);
  }
})().catch(e => { console.error(e.message); process.exit(1); });
`
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{"-e", script, pacote, registry}, specs...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(npm.dir, "home"), "NPM_CONFIG_CACHE=" + filepath.Join(npm.dir, "cache-verify")}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("registry signatures: %v\n%s", err, out.String())
	}
	if got := strings.Count(out.String(), "verified "); got != len(specs) || !strings.Contains(out.String(), "refused with another key") {
		t.Errorf("registry signatures:\n%s", out.String())
	}
}

// TestReleaseRunsTheNPMCLI runs simulated releases with the real npm
// publish: a failed exchange that then publishes with the stored token is
// reported as a token publish with the exchange's failure, never as OIDC;
// with a matching trusted publisher the CLI publishes through OIDC; a
// release npm would sign provenance for is left to the Go model.
func TestReleaseRunsTheNPMCLI(t *testing.T) {
	t.Parallel()
	version := requireNPM(t)
	w, _ := cliWorld(t, sandbox.Options{NPMCLI: sandbox.NPMCLIAuto})
	if _, v := w.NPMCLI(); v != version {
		t.Fatalf("World runs npm %q, want %q", v, version)
	}
	wf := `name: release
on: push
permissions:
  contents: read
  id-token: write
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 24
          registry-url: ` + w.RegistryURL + `
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
`
	ci, err := w.NPM.AddToken(npmreg.TokenSpec{User: "alice", Name: "ci", Bypass2FA: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		name    string
		private bool
	}{{"widget", true}, {"gadget", false}} {
		if r.name != "widget" {
			if err := w.CreateRepo("acme", r.name, ghapi.RepoOptions{Private: r.private, Files: map[string][]byte{"README.md": []byte("gadget\n")}}); err != nil {
				t.Fatal(err)
			}
		}
		commit(t, w, "acme", r.name, "main", "main", map[string][]byte{
			".github/workflows/release.yml": []byte(wf),
			"package.json":                  fmt.Appendf(nil, `{"name":"@acme/%s","version":"1.0.0","repository":"github:acme/%s"}`, r.name, r.name),
		})
		if err := w.SetSecret("repo", "acme/"+r.name, "", "NPM_TOKEN", ci.Value, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	release := func(repo string) sandbox.PackageRelease {
		t.Helper()
		res, err := w.Release(t.Context(), repo, sandbox.ReleaseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Packages) != 1 {
			t.Fatalf("release of %s: %+v", repo, res)
		}
		b, _ := json.Marshal(res.Packages[0])
		if strings.Contains(string(b), ci.Value) {
			t.Fatalf("the token value is in the release result: %s", b)
		}
		t.Logf("%s: %s", repo, b)
		return res.Packages[0]
	}

	// No trusted publisher: the exchange fails, npm falls back to the token.
	pr := release("acme/widget")
	if pr.Runner != "npm "+version || !pr.Published || pr.Path != sandbox.PathToken ||
		!strings.Contains(pr.Exchange, npmreg.MessageExchangeNotFound) {
		t.Errorf("release without trust: %+v, want a token publish by the npm CLI after a failed exchange", pr)
	}
	if u := npmUser(t, w, "@acme/widget", pr.Version); u["name"] != "alice" || u["trustedPublisher"] != nil {
		t.Errorf("_npmUser of the token publish: %v", u)
	}

	// A trusted publisher for the workflow: the CLI publishes through OIDC.
	if _, err := w.NPM.SetTrust("@acme/widget", npmreg.TrustSpec{Repository: "acme/widget", File: "release.yml"}); err != nil {
		t.Fatal(err)
	}
	pr = release("acme/widget")
	if pr.Runner != "npm "+version || !pr.Published || pr.Path != sandbox.PathOIDC || pr.Exchange != "" || pr.Provenance {
		t.Errorf("release with trust: %+v, want an OIDC publish by the npm CLI", pr)
	}
	if u := npmUser(t, w, "@acme/widget", pr.Version); u["trustedPublisher"] == nil {
		t.Errorf("_npmUser of the OIDC publish: %v", u)
	}

	// A public repository and package: npm would sign provenance, so the Go
	// model publishes, and says why.
	if _, err := w.NPM.SetTrust("@acme/gadget", npmreg.TrustSpec{Repository: "acme/gadget", File: "release.yml"}); err != nil {
		t.Fatal(err)
	}
	pr = release("acme/gadget")
	if pr.Runner != sandbox.RunnerGo || !strings.Contains(pr.RunnerNote, "Sigstore") || pr.Path != sandbox.PathOIDC || !pr.Provenance {
		t.Errorf("release from a public repository: %+v, want the Go model with provenance", pr)
	}
}

// TestIDTokenIssuer checks the runners' ID-token issuer and the exchange's
// audience check over HTTP: the audience npm asks for is exchanged; another
// registry's, and GitHub's default when none is asked for, are refused.
func TestIDTokenIssuer(t *testing.T) {
	t.Parallel()
	w, _ := cliWorld(t, sandbox.Options{})
	if _, err := w.NPM.SetTrust("@acme/widget", npmreg.TrustSpec{Repository: "acme/widget", File: "release.yml"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range idTokenEnv(t, w, ".github/workflows/release.yml") {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	get := func(rawURL, bearer string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "GET", rawURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("Accept", "application/json")
		return doJSON(t, req)
	}
	exchange := func(base, idToken string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "POST", base+"-/npm/v1/oidc/token/exchange/package/@acme%2fwidget", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+idToken)
		st, _ := doJSON(t, req)
		return st
	}
	host := strings.TrimSuffix(strings.TrimPrefix(w.RegistryURL, "http://"), "/")
	hostname, _, _ := strings.Cut(host, ":")
	tests := []struct {
		name     string
		audience string // "" asks for none
		exchange int
	}{
		{"npm's audience", "&audience=" + url.QueryEscape("npm:"+hostname), 201},
		{"another registry", "&audience=" + url.QueryEscape("npm:evil.example"), 401},
		{"with the port", "&audience=" + url.QueryEscape("npm:"+host), 401},
		{"none (GitHub's default)", "", 401},
	}
	for _, tt := range tests {
		st, body := get(env["ACTIONS_ID_TOKEN_REQUEST_URL"]+tt.audience, env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"])
		jwt, _ := body["value"].(string)
		if st != 200 || strings.Count(jwt, ".") != 2 {
			t.Fatalf("%s: issuer answered %d %v", tt.name, st, body)
		}
		if got := exchange(w.RegistryURL, jwt); got != tt.exchange {
			t.Errorf("%s: exchange %d, want %d", tt.name, got, tt.exchange)
		}
	}
	if st, _ := get(env["ACTIONS_ID_TOKEN_REQUEST_URL"]+"&audience=npm:"+hostname, "not-a-request-token"); st != 401 {
		t.Errorf("issuer with a wrong request token: %d", st)
	}
	// The /npm/ alias on the API's port is the same registry.
	_, body := get(env["ACTIONS_ID_TOKEN_REQUEST_URL"]+"&audience=npm:"+hostname, env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"])
	if got := exchange(w.URL+"npm/", body["value"].(string)); got != 201 {
		t.Errorf("exchange through the /npm/ alias: %d", got)
	}
}

func doJSON(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}
