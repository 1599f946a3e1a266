package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// MinOIDCNPM is the first npm CLI that publishes through OIDC.
const MinOIDCNPM = "11.5.1"

// NPMVersion runs `npm --version` with the npm at path ("" for npm on PATH)
// and returns the version and whether it publishes through OIDC (11.5.1 or
// newer). An error means no npm runs there.
func NPMVersion(ctx context.Context, path string) (string, bool, error) {
	if path == "" {
		path = "npm"
	}
	p, err := exec.LookPath(path)
	if err != nil {
		return "", false, fmt.Errorf("no npm CLI: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "cutover-npm-version-*")
	if err != nil {
		return "", false, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.CommandContext(ctx, p, "--version")
	cmd.Dir = dir
	cmd.Env = npmBaseEnv(dir)
	out, err := cmd.Output()
	if err != nil {
		return "", false, fmt.Errorf("%s --version: %w", p, err)
	}
	v := strings.TrimSpace(string(out))
	return v, versionAtLeast(v, MinOIDCNPM), nil
}

// versionAtLeast compares major.minor.patch, ignoring prereleases.
func versionAtLeast(v, min string) bool {
	a1, b1, c1 := parseSemver(v)
	a2, b2, c2 := parseSemver(min)
	if a1 != a2 {
		return a1 > a2
	}
	if b1 != b2 {
		return b1 > b2
	}
	return c1 >= c2
}

// NPMCLIAuto (Options.NPMCLI) runs npm on PATH when it is new enough.
const NPMCLIAuto = "auto"

// findNPM picks the npm CLI releases run: path (NPMCLIAuto for npm on
// PATH, "" for none) when it is 11.5.1 or newer.
func (w *World) findNPM(path string) string {
	if path == "" {
		return ""
	}
	if path == NPMCLIAuto {
		path = "npm"
	}
	p, err := exec.LookPath(path)
	if err != nil {
		return ""
	}
	v, ok, err := NPMVersion(context.Background(), p)
	if err != nil || !ok {
		return ""
	}
	w.npmVersion = v
	return p
}

// NPMCLI reports the npm CLI simulated releases run and its version; ""
// when releases are evaluated in Go.
func (w *World) NPMCLI() (path, version string) { return w.npmPath, w.npmVersion }

// npmBaseEnv is the environment every npm run starts from: PATH and a
// private HOME, cache and global config, so no npm run reads or writes the
// machine's npm configuration, and nothing else of the caller's environment
// (no proxies, no npm_config_* of an enclosing npm).
func npmBaseEnv(dir string) []string {
	home := filepath.Join(dir, "home")
	_ = os.MkdirAll(home, 0o700)
	global := filepath.Join(dir, "globalnpmrc")
	_ = os.WriteFile(global, nil, 0o600)
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"TMPDIR=" + dir,
		"NPM_CONFIG_USERCONFIG=" + filepath.Join(home, ".npmrc"),
		"NPM_CONFIG_GLOBALCONFIG=" + global,
		"NPM_CONFIG_CACHE=" + filepath.Join(dir, "cache"),
		"NPM_CONFIG_UPDATE_NOTIFIER=false",
		"NPM_CONFIG_FUND=false",
		"NPM_CONFIG_AUDIT=false",
	}
	if v := os.Getenv("SYSTEMROOT"); v != "" {
		env = append(env, "SYSTEMROOT="+v)
	}
	return env
}

// npmJob is what the npm publish of a simulated release job runs with.
type npmJob struct {
	repo       string // owner/name
	workflow   string // the publishing workflow's path
	ref, sha   string
	token      string // NODE_AUTH_TOKEN, "" for none
	idRequest  bool   // ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are set (id-token: write, npm new enough)
	claims     npmreg.IDTokenClaims
	selfHosted bool
	// circleCI runs the job as CircleCI cloud does (CIRCLECI=true), with
	// idToken, when set, as NPM_ID_TOKEN: what `circleci run oidc get`
	// gives the playbook's step.
	circleCI bool
	idToken  string
}

// npmPublishResult is what one npm publish did, read from its exit status
// and its verbose log.
type npmPublishResult struct {
	ok       bool
	code     string // npm's error code (E404, ENEEDAUTH, …)
	message  string // npm's error message, first lines
	exchange string // the last "oidc" log line: why the exchange failed, or that it worked
}

// npmPublish runs the real `npm publish` of pkg@version under tag, in a
// fresh package folder and a private npm configuration, with the
// environment a GitHub-hosted runner gives the job: GITHUB_ACTIONS, CI,
// the ID-token request variables when the job may request one, and
// NODE_AUTH_TOKEN read by an .npmrc the way actions/setup-node writes it.
// Provenance is turned off: signing it needs Sigstore, which a loopback
// sandbox cannot reach (releases that would make provenance are evaluated
// in Go instead). Token values never reach the result.
func (w *World) npmPublish(ctx context.Context, pkg, version, tag string, job npmJob) (npmPublishResult, error) {
	dir, err := os.MkdirTemp("", "cutover-release-*")
	if err != nil {
		return npmPublishResult{}, err
	}
	defer os.RemoveAll(dir)
	env := npmBaseEnv(dir)
	host := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(w.RegistryURL, "http:"), "https:"), "/")
	npmrc := "registry=" + w.RegistryURL + "\n"
	if job.token != "" {
		npmrc += host + "/:_authToken=${NODE_AUTH_TOKEN}\n"
		env = append(env, "NODE_AUTH_TOKEN="+job.token)
	}
	if err := os.WriteFile(filepath.Join(dir, "home", ".npmrc"), []byte(npmrc), 0o600); err != nil {
		return npmPublishResult{}, err
	}
	pkgDir := filepath.Join(dir, "package")
	if err := os.MkdirAll(pkgDir, 0o700); err != nil {
		return npmPublishResult{}, err
	}
	manifest, _ := json.MarshalIndent(map[string]any{
		"name": pkg, "version": version, "description": "canary of a simulated release",
		"repository": map[string]string{"type": "git", "url": "git+https://github.com/" + job.repo + ".git"},
	}, "", "  ")
	if err := os.WriteFile(filepath.Join(pkgDir, "package.json"), manifest, 0o644); err != nil {
		return npmPublishResult{}, err
	}
	runner := "github-hosted"
	if job.selfHosted {
		runner = "self-hosted"
	}
	if job.circleCI {
		env = append(env, "NPM_CONFIG_REGISTRY="+w.RegistryURL, "NPM_CONFIG_PROVENANCE=false", "CI=true", "CIRCLECI=true",
			"CIRCLE_PROJECT_USERNAME="+strings.SplitN(job.repo, "/", 2)[0], "CIRCLE_SHA1="+job.sha)
		if job.idToken != "" {
			env = append(env, "NPM_ID_TOKEN="+job.idToken)
		}
	} else {
		env = append(env,
			"NPM_CONFIG_REGISTRY="+w.RegistryURL,
			"NPM_CONFIG_PROVENANCE=false",
			"CI=true",
			"GITHUB_ACTIONS=true",
			"GITHUB_REPOSITORY="+job.repo,
			"GITHUB_REPOSITORY_OWNER="+strings.SplitN(job.repo, "/", 2)[0],
			"GITHUB_WORKFLOW_REF="+job.repo+"/"+job.workflow+"@"+job.ref,
			"GITHUB_REF="+job.ref,
			"GITHUB_SHA="+job.sha,
			"GITHUB_SERVER_URL=https://github.com",
			"RUNNER_ENVIRONMENT="+runner,
		)
	}
	var reqToken string
	if job.idRequest {
		var u string
		u, reqToken = w.IDTokenRequest(job.claims)
		env = append(env, "ACTIONS_ID_TOKEN_REQUEST_URL="+u, "ACTIONS_ID_TOKEN_REQUEST_TOKEN="+reqToken)
		defer w.dropIDTokenRequest(reqToken)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.npmPath, "publish", "--tag", tag, "--loglevel", "verbose")
	cmd.Dir = pkgDir
	cmd.Env = env
	out, runErr := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return npmPublishResult{}, fmt.Errorf("npm publish of %s@%s: %w", pkg, version, ctx.Err())
	}
	log := redact(string(out), job.token, reqToken, job.idToken)
	res := parseNPMLog(log)
	var ee *exec.ExitError
	switch {
	case runErr == nil:
		res.ok = true
	case errors.As(runErr, &ee):
		if res.code == "" {
			res.code = "EUNKNOWN"
		}
		if res.message == "" {
			res.message = fmt.Sprintf("npm publish exited with status %d", ee.ExitCode())
		}
	default:
		return npmPublishResult{}, fmt.Errorf("could not run npm publish of %s@%s: %w", pkg, version, runErr)
	}
	return res, nil
}

// dropIDTokenRequest forgets a request token once its job is over.
func (w *World) dropIDTokenRequest(tok string) {
	w.idMu.Lock()
	delete(w.idReqs, tok)
	w.idMu.Unlock()
}

// redact removes secret values from npm's output.
func redact(s string, secrets ...string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// parseNPMLog reads npm's error code, error message and last OIDC log line
// from its verbose output.
func parseNPMLog(log string) npmPublishResult {
	var res npmPublishResult
	var msg []string
	for _, line := range strings.Split(log, "\n") {
		line = strings.TrimRight(line, "\r")
		if rest, ok := strings.CutPrefix(line, "npm verbose oidc "); ok {
			res.exchange = strings.TrimSpace(rest)
			continue
		}
		rest, ok := strings.CutPrefix(line, "npm error ")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(rest, "code "):
			res.code = strings.TrimSpace(strings.TrimPrefix(rest, "code "))
		case strings.HasPrefix(rest, "A complete log of this run"), strings.HasPrefix(rest, "Log files were not written"),
			strings.HasPrefix(rest, "You can rerun the command"), strings.HasPrefix(rest, "errno "):
		default:
			if len(msg) < 4 && strings.TrimSpace(rest) != "" {
				msg = append(msg, strings.TrimSpace(rest))
			}
		}
	}
	res.message = strings.Join(msg, " ")
	return res
}
