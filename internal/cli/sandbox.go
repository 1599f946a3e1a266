package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

func newSandboxCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run a loopback GitHub and npm registry to rehearse a campaign",
		Long: `Run a loopback world to rehearse a campaign without touching production: a
GitHub REST API and git server, an npm registry, a simulated CI and a
simulated release, seeded with a generated organisation.`,
		Example:     example("cutover sandbox serve --repos 100 --seed 7"),
		Args:        cobra.ArbitraryArgs,
		RunE:        groupRunE,
		Annotations: map[string]string{annotationNoConfig: ""},
	}
	cmd.AddCommand(newSandboxServeCmd(app))
	return cmd
}

type sandboxServeOptions struct {
	repos      int
	seed       int64
	addr       string
	npmAddr    string
	dir        string
	org        string
	rateLimits bool
	auth       string
	out        io.Writer
	logger     *slog.Logger
}

func newSandboxServeCmd(app *App) *cobra.Command {
	opts := &sandboxServeOptions{}
	var expose bool
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Start the sandbox, seed an organisation and print the environment to use it",
		Long: `Start the sandbox on loopback, seed a generated organisation into it and
serve until interrupted (Ctrl-C).

The organisation has --repos repositories with the variety real ones have:
single packages, npm, pnpm and yarn workspaces, lerna monorepos, private
scoped packages, semantic-release, changesets, release-please, JS-DevTools,
.npmrc written by hand, reusable workflows, self-hosted runners, repositories
already on trusted publishing, non-publishers and a few broken workflows,
with npm token secrets and, on the registry, packages with version histories,
tokens and trusted publishers. The same --seed gives the same organisation.

Pull requests get a check run from the simulated CI: it fails when a workflow
at the head does not parse or has actionlint errors. A simulated release of
a repository's default branch (POST <api>/_sandbox/repos/OWNER/REPO/release
with the GitHub token) publishes a canary the way its workflow would, through
OIDC or a token: with the real npm publish when npm 11.5.1 or newer is on
PATH (except where npm would sign provenance, which needs Sigstore), else
with a Go model of it; each result says which ran.

The npm registry is served at the root of its own loopback port (the npm
CLI builds the OIDC exchange URL from the registry's origin), and also
under <api>/npm/. To publish by hand through OIDC as a release job would,
POST <api>/_sandbox/repos/OWNER/REPO/id-token-request with the GitHub token
(body, optional: {"workflow": "release.yml", "ref": "refs/heads/main",
"environment": ""}); it answers the ACTIONS_ID_TOKEN_REQUEST_URL and
ACTIONS_ID_TOKEN_REQUEST_TOKEN a runner gives a job with id-token: write.
Export them with GITHUB_ACTIONS=true and run npm publish.

Nobody reviews the sandbox's pull requests: merge them yourself, with
cutover merge --repo ORG/REPO --execute (it merges a pull request whose
check passed, as [pr] merge_method says), or with the API as a reviewer's
merge button does:

  curl -X PUT -H "Authorization: Bearer $GITHUB_TOKEN" -d '{"merge_method":"squash"}' <api>repos/ORG/REPO/pulls/NUMBER/merge

--org names the generated organisation (default sandbox-org); --rate-limits
(default true) enforces GitHub's primary and secondary rate limits, and
--rate-limits=false serves without them and writes pacing = "off" into the
config, for fast rehearsals.

On stdout serve prints export lines for a shell: CUTOVER_CONFIG (a config file
naming the sandbox's API URL, organisation and registry), CUTOVER_ORG,
GITHUB_TOKEN and NPM_CONFIG_REGISTRY, and NPM_CONFIG_USERCONFIG (an .npmrc
with the npm maintainer's token). The GitHub token is printed because you
need it: it has every permission, but only on this loopback sandbox. No npm
token value is ever printed; it is in the files under --dir, readable by you
only. The same lines are written to sandbox.env in --dir.

With --auth app the configuration signs in as a GitHub App instead: the
sandbox registers the App "cutover-sandbox", installs it on the organisation
and writes its private key to app.pem in --dir; cutover finds the
installation and exchanges the App's JWT for installation tokens that
expire after an hour, as on GitHub. GITHUB_TOKEN is then not exported (the
token is printed as SANDBOX_GITHUB_TOKEN, for merging pull requests and
simulated releases by hand).`,
		Example: example(
			"cutover sandbox serve",
			"cutover sandbox serve --repos 200 --seed 42 --addr 127.0.0.1:8080 --dir ./sandbox",
		),
		Args:        noArgs,
		Annotations: map[string]string{annotationNoConfig: ""},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.repos < 0 {
				return usageErrorf(cmd, "--repos %d: want 0 or more", opts.repos)
			}
			if opts.auth != "token" && opts.auth != "app" {
				return usageErrorf(cmd, "--auth %q: want token or app", opts.auth)
			}
			if err := validOrgName(opts.org); err != nil {
				return usageErrorf(cmd, "--org %q: %v", opts.org, err)
			}
			for _, a := range []struct{ flag, addr string }{{"--addr", opts.addr}, {"--npm-addr", opts.npmAddr}} {
				if err := loopbackAddr(cmd.Context(), a.addr); err != nil {
					if !expose {
						return usageErrorf(cmd, "%s %q: %v; the sandbox serves an all-powerful token and git: give a loopback address such as 127.0.0.1:0, or --expose to serve it to the network anyway", a.flag, a.addr, err)
					}
					app.Logger.Warn("--expose: the sandbox listens beyond loopback; anyone who can reach "+a.addr+" gets its all-powerful token's powers and git", "flag", a.flag, "addr", a.addr)
				}
			}
			if opts.dir != "" {
				// git http-backend runs in its own folder: a relative
				// GIT_PROJECT_ROOT would point nowhere.
				abs, err := filepath.Abs(opts.dir)
				if err != nil {
					return usageErrorf(cmd, "--dir %q: %v", opts.dir, err)
				}
				opts.dir = abs
			}
			opts.out, opts.logger = app.Out, app.Logger
			return runSandboxServe(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&expose, "expose", false, "allow --addr and --npm-addr beyond loopback (prints a warning: the sandbox's token can do anything)")
	f.IntVar(&opts.repos, "repos", defaultSandboxRepos, "number of repositories to generate")
	f.Int64Var(&opts.seed, "seed", 1, "seed of the generated organisation")
	f.StringVar(&opts.addr, "addr", "127.0.0.1:0", "listen address of the GitHub API and git (port 0 picks a free port)")
	f.StringVar(&opts.npmAddr, "npm-addr", "127.0.0.1:0", "listen address of the npm registry, served at the root of its own port (port 0 picks a free port)")
	f.StringVar(&opts.dir, "dir", "", "folder for the sandbox's data and the files it writes (default: a temporary folder removed on exit)")
	f.StringVar(&opts.org, "org", "sandbox-org", "name of the generated organisation")
	f.BoolVar(&opts.rateLimits, "rate-limits", true, "enforce GitHub's rate limits (false: none, and the config turns pacing off)")
	f.StringVar(&opts.auth, "auth", "token", "how the written config signs in: token (GITHUB_TOKEN) or app (a GitHub App installation)")
	_ = cmd.RegisterFlagCompletionFunc("auth", fixedCompletions("token", "app"))
	_ = cmd.MarkFlagDirname("dir")
	return cmd
}

// loopbackAddr checks that a listen address is on loopback: 127.0.0.0/8,
// ::1, or localhost when every address it resolves to is one of those.
// An empty host (":0") or an unspecified address (0.0.0.0, ::) listens on
// every interface; another host name is refused unresolved, as it may
// name any interface.
func loopbackAddr(ctx context.Context, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" {
		return errors.New("no host listens on every interface")
	}
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return errors.New("not a loopback address")
		}
		return nil
	}
	if !strings.EqualFold(host, "localhost") {
		return errors.New("not a loopback address (give an IP address such as 127.0.0.1, or localhost)")
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return fmt.Errorf("could not resolve %q to check it is loopback: %w", host, err)
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return fmt.Errorf("%q resolves to %s, not a loopback address", host, ip.IP)
		}
	}
	return nil
}

// validOrgName checks a GitHub organisation name.
func validOrgName(s string) error {
	if s == "" || len(s) > 39 || strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-") {
		return errors.New("want 1 to 39 letters, digits or inner hyphens")
	}
	for _, c := range s {
		if !(c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return errors.New("want 1 to 39 letters, digits or inner hyphens")
		}
	}
	return nil
}

func runSandboxServe(ctx context.Context, opts *sandboxServeOptions) error {
	if opts.dir != "" {
		if entries, err := os.ReadDir(filepath.Join(opts.dir, "git")); err == nil && len(entries) > 0 {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("folder %q already holds a sandbox; remove it or give another --dir", opts.dir)}
		}
		if err := os.MkdirAll(opts.dir, 0o700); err != nil {
			return fmt.Errorf("could not create the sandbox folder: %w", err)
		}
	}
	wopts := sandbox.Options{Addr: opts.addr, NPMAddr: opts.npmAddr, Dir: opts.dir, NPMCLI: sandbox.NPMCLIAuto}
	if !opts.rateLimits {
		wopts.Limits = ghapi.Limits{Disabled: true}
	}
	w, err := sandbox.Start(ctx, wopts)
	if err != nil {
		return err
	}
	defer w.Close()

	p := sandbox.Generate(opts.seed, opts.repos, sandbox.PortfolioOptions{Org: opts.org})
	seeded, err := w.Seed(ctx, p)
	if err != nil {
		return fmt.Errorf("could not seed the sandbox: %w", err)
	}
	kinds := map[sandbox.Kind]int{}
	for _, r := range p.Repos {
		kinds[r.Kind]++
	}
	var mix []string
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		mix = append(mix, fmt.Sprintf("%s %d", k, kinds[k]))
	}
	opts.logger.Info("sandbox seeded", "org", p.Org, "repos", seeded.Repos, "packages", seeded.Packages, "seed", opts.seed, "mix", strings.Join(mix, ", "))

	var app *sandbox.InstalledApp
	if opts.auth == "app" {
		a, err := w.InstallApp(p.Org, nil, 0)
		if err != nil {
			return err
		}
		app = &a
	}
	env, err := writeSandboxFiles(w, seeded, opts.rateLimits, app)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(opts.out, env); err != nil {
		return err
	}
	opts.logger.Info("serving until interrupted", "api", w.URL)
	<-ctx.Done()
	opts.logger.Info("sandbox stopped")
	return nil
}

// sandboxCircleCIEnv holds the token of the sandbox's CircleCI API, valid
// on the loopback sandbox only.
const sandboxCircleCIEnv = "SANDBOX_CIRCLECI_TOKEN"

// writeSandboxFiles writes the config file, the .npmrc, and sandbox.env into
// the World's folder and returns the text to print: the export lines and
// comments. Files holding tokens are readable by the owner only.
func writeSandboxFiles(w *sandbox.World, s sandbox.Seeded, rateLimits bool, app *sandbox.InstalledApp) (string, error) {
	dir, err := filepath.Abs(w.Dir)
	if err != nil {
		return "", err
	}
	pacing := "github"
	if !rateLimits {
		pacing = "off"
	}
	cfgPath := filepath.Join(dir, "cutover.toml")
	cfg := fmt.Sprintf(`# Written by cutover sandbox serve: the sandbox's GitHub and npm registry.
[github]
org = %q
api_url = %q
pacing = %q
# The permission preflight of apply --execute proves a fine-grained token's
# workflows permission with a scratch push (the sandbox runs no workflows).
probe_workflows = true

[npm]
registry = %q
`, s.Org, w.URL, pacing, w.RegistryURL)
	keyPath := filepath.Join(dir, "app.pem")
	if app != nil {
		cfg += fmt.Sprintf(`
# Sign in as the sandbox's GitHub App; the installation on %s is found by
# the App's JWT.
[github.app]
id = %d
private_key_file = %q
`, s.Org, app.ID, keyPath)
	}
	// The repositories that publish from CircleCI: the sandbox's CircleCI
	// API sets their flag, with the token of sandboxCircleCIEnv.
	circle := w.CircleCIProjects()
	cfg += fmt.Sprintf(`
[circleci]
token_env = %q
api_url = %q
`, sandboxCircleCIEnv, w.CircleCIAPIURL())
	for _, repo := range slices.Sorted(maps.Keys(circle)) {
		c := circle[repo]
		cfg += fmt.Sprintf(`
[[circleci.project]]
repo = %q
org_id = %q
project_id = %q
pipeline_definition_id = %q
vcs_origin = %q
`, repo, c.OrgID, c.ProjectID, c.PipelineDefinitionID, c.VCSOrigin)
	}
	u, err := url.Parse(w.RegistryURL)
	if err != nil {
		return "", err
	}
	npmrcPath := filepath.Join(dir, "npmrc")
	npmrc := fmt.Sprintf("registry=%s\n//%s%s:_authToken=%s\n", w.RegistryURL, u.Host, u.Path, s.NPMToken)

	var b strings.Builder
	fmt.Fprintf(&b, "# cutover sandbox: %d repositories of %s, %d npm packages\n", s.Repos, s.Org, s.Packages)
	fmt.Fprintf(&b, "# GitHub API %s (also %sapi/v3/), git %sOWNER/REPO.git\n", w.URL, w.URL, w.GitURL)
	fmt.Fprintf(&b, "# npm registry %s; maintainer %s, one-time password %s (or approve in the browser)\n", w.RegistryURL, s.NPMUser, s.NPMOTP)
	fmt.Fprintf(&b, "# simulated release: POST %s_sandbox/repos/OWNER/REPO/release with the GitHub token\n", w.URL)
	fmt.Fprintf(&b, "# runner ID tokens for npm publish through OIDC: POST %s_sandbox/repos/OWNER/REPO/id-token-request\n", w.URL)
	fmt.Fprintf(&b, "# merge a pull request as its reviewer would: cutover merge --repo %s/REPO --execute (once its check passed), or PUT %srepos/%s/REPO/pulls/NUMBER/merge with the GitHub token and a JSON body such as {\"merge_method\":\"squash\"}\n", s.Org, w.URL, s.Org)
	if _, v := w.NPMCLI(); v != "" {
		fmt.Fprintf(&b, "# simulated releases run the real npm publish (npm %s)\n", v)
	} else {
		fmt.Fprintf(&b, "# simulated releases are evaluated in Go: no npm %s or newer on PATH\n", sandbox.MinOIDCNPM)
	}
	fmt.Fprintf(&b, "export CUTOVER_CONFIG=%s\n", shellQuote(cfgPath))
	fmt.Fprintf(&b, "export CUTOVER_ORG=%s\n", shellQuote(s.Org))
	if app != nil {
		fmt.Fprintf(&b, "# GitHub App %d installed on %s (installation %d), key %s\n", app.ID, s.Org, app.InstallationID, keyPath)
		fmt.Fprintf(&b, "export SANDBOX_GITHUB_TOKEN=%s\n", shellQuote(s.GitHubToken))
	} else {
		fmt.Fprintf(&b, "export GITHUB_TOKEN=%s\n", shellQuote(s.GitHubToken))
	}
	fmt.Fprintf(&b, "# CircleCI API %s (project environment variables), %d repositories publish from CircleCI\n", w.CircleCIAPIURL(), len(circle))
	fmt.Fprintf(&b, "export %s=%s\n", sandboxCircleCIEnv, shellQuote(s.CircleCIToken))
	fmt.Fprintf(&b, "# limited identities, to rehearse the permission preflight's refusals (GITHUB_TOKEN=... cutover apply --execute):\n")
	fmt.Fprintf(&b, "# %s, a fine-grained token without workflows (write); %s, a fine-grained read-only token\n", s.LimitedLogin, s.ReadOnlyLogin)
	fmt.Fprintf(&b, "export SANDBOX_GITHUB_TOKEN_NO_WORKFLOWS=%s\n", shellQuote(s.LimitedToken))
	fmt.Fprintf(&b, "export SANDBOX_GITHUB_TOKEN_READ_ONLY=%s\n", shellQuote(s.ReadOnlyToken))
	fmt.Fprintf(&b, "export NPM_CONFIG_REGISTRY=%s\n", shellQuote(w.RegistryURL))
	fmt.Fprintf(&b, "export NPM_CONFIG_USERCONFIG=%s\n", shellQuote(npmrcPath))
	env := b.String()

	for _, f := range []struct {
		path, data string
		mode       os.FileMode
	}{
		{cfgPath, cfg, 0o644},
		{npmrcPath, npmrc, 0o600},
		{keyPath, string(appKey(app)), 0o600},
		{filepath.Join(dir, "sandbox.env"), env, 0o600},
	} {
		if f.path == keyPath && app == nil {
			continue
		}
		if err := os.WriteFile(f.path, []byte(f.data), f.mode); err != nil {
			return "", fmt.Errorf("could not write %q: %w", f.path, err)
		}
	}
	fmt.Fprintf(&b, "# the same lines are in %s\n", shellQuote(filepath.Join(dir, "sandbox.env")))
	return b.String(), nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:@%+=,", c))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func appKey(app *sandbox.InstalledApp) []byte {
	if app == nil {
		return nil
	}
	return app.PrivateKeyPEM
}
