package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/githttp"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// npmPrefix is the path the npm registry is also served under on the API's
// port, an alias of the root of its own port (RegistryURL).
const npmPrefix = "/npm"

// sandboxPrefix is the path of the sandbox's own endpoints (release, CI
// failures), which GitHub does not have.
const sandboxPrefix = "/_sandbox/"

// Options configure a World. The zero value serves both the API and git on
// one listener at 127.0.0.1 on a free port and the npm registry at the root
// of another, with repositories in a temporary folder removed by Close, and
// GitHub's rate limits in real time.
type Options struct {
	// Addr is the listen address of the API (and of git, unless GitAddr is set).
	Addr string
	// GitAddr, when set, puts git on a listener of its own.
	GitAddr string
	// Dir holds the bare repositories (under git/) and snapshots; empty means
	// a temporary folder that Close removes.
	Dir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TimeScale is how many emulated seconds pass per second of Now; zero means 1.
	TimeScale float64
	// Limits are the API's rate limits; zero means GitHub's.
	Limits ghapi.Limits
	// Faults are injected into the API; zero means none.
	Faults ghapi.Faults
	// TreeLimit is where recursive trees are truncated; zero means 100,000 entries.
	TreeLimit int
	// CI decides pull request checks; nil means the World's own CI (see
	// World.CI), which succeeds unless LintCI is set or a failure is injected.
	CI ghapi.CIFunc
	// LintCI makes the World's own CI fail a head whose workflows do not
	// parse or have actionlint errors. World.Seed turns it on.
	LintCI bool
	// GitPath is the git binary; empty means git on PATH.
	GitPath string
	// NPMAddr is the listen address of the npm registry, served at the root
	// of its own port (the npm CLI builds the OIDC exchange URL from the
	// registry's origin); empty means 127.0.0.1 on a free port.
	NPMAddr string
	// NPM configures the npm registry emulator; its Prefix is always ""
	// (the root), its Host the registry listener's, and a nil Now means the
	// World's clock.
	NPM npmreg.Options
	// NPMCLI is the npm CLI simulated releases run, when it is 11.5.1 or
	// newer: NPMCLIAuto for npm on PATH, or a path. Empty, or an npm that is
	// missing or older, means releases are evaluated by the Go model of npm
	// publish (faster: tests that are not about npm itself use it).
	NPMCLI string
}

// World is a running loopback GitHub (API and git over HTTP) and npm
// registry, with a simulated CI and a simulated release.
type World struct {
	// API is the REST emulator: create repositories, register tokens, set
	// checks, limits and faults through it.
	API *ghapi.Server
	// Git is the smart-HTTP git server holding the bare repositories.
	Git *githttp.Server
	// URL is the API's base URL, ending in "/"; the API is also served under URL+"api/v3/".
	URL string
	// GitURL is the base URL of clone URLs, ending in "/": GitURL+"owner/name.git".
	GitURL string
	// Dir is the folder holding the world's data.
	Dir string
	// NPM is the npm registry emulator, served under RegistryURL.
	NPM *npmreg.Registry
	// RegistryURL is the npm registry's base URL, the root of its own
	// loopback port, ending in "/". It is also served under URL+"npm/".
	RegistryURL string
	// CI is the simulated CI of pull request heads when Options.CI is nil;
	// inject failures and turn the lint on through it.
	CI *CI

	now     func() time.Time
	mu      sync.Mutex
	secrets map[string]string // secretKey → value, for the simulated release
	private map[string]bool   // "owner/name" → private, for ID token claims
	relMu   sync.Mutex        // one release publishes at a time

	npmAlias   http.Handler // the registry under /npm/ on the API's port
	npmPath    string       // the npm CLI releases run; "" when none fits
	npmVersion string       // its version
	idMu       sync.Mutex
	idReqs     map[string]idRequest // ACTIONS_ID_TOKEN_REQUEST_TOKEN → the run it speaks for
	circleOnce sync.Once
	circleCI   *circleState // the CircleCI emulator (circleci.go)

	servers   []*http.Server
	tempDir   bool
	done      chan error
	closeOnce sync.Once
	closeErr  error
	stop      chan struct{}
}

// Start starts a World; it runs until Close or until ctx is done.
func Start(ctx context.Context, opts Options) (*World, error) {
	w := &World{
		Dir: opts.Dir, done: make(chan error, 2), stop: make(chan struct{}), now: opts.Now,
		secrets: map[string]string{}, private: map[string]bool{},
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.Dir == "" {
		d, err := os.MkdirTemp("", "cutover-sandbox-*")
		if err != nil {
			return nil, fmt.Errorf("could not create the sandbox folder: %w", err)
		}
		w.Dir, w.tempDir = d, true
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var lc net.ListenConfig
	apiLn, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		w.cleanup()
		return nil, fmt.Errorf("could not listen on %q: %w", addr, err)
	}
	gitLn := apiLn
	if opts.GitAddr != "" {
		gitLn, err = lc.Listen(ctx, "tcp", opts.GitAddr)
		if err != nil {
			apiLn.Close()
			w.cleanup()
			return nil, fmt.Errorf("could not listen on %q: %w", opts.GitAddr, err)
		}
	}
	npmAddr := opts.NPMAddr
	if npmAddr == "" {
		npmAddr = "127.0.0.1:0"
	}
	npmLn, err := lc.Listen(ctx, "tcp", npmAddr)
	if err != nil {
		apiLn.Close()
		if gitLn != apiLn {
			gitLn.Close()
		}
		w.cleanup()
		return nil, fmt.Errorf("could not listen on %q: %w", npmAddr, err)
	}
	w.URL = "http://" + apiLn.Addr().String() + "/"
	w.GitURL = "http://" + gitLn.Addr().String() + "/"
	w.RegistryURL = "http://" + npmLn.Addr().String() + "/"
	npmOpts := opts.NPM
	npmOpts.Prefix = ""
	npmOpts.Host, _, _ = net.SplitHostPort(npmLn.Addr().String())
	if npmOpts.Now == nil {
		npmOpts.Now = w.now
	}
	w.NPM = npmreg.New(npmOpts)
	w.npmAlias = w.NPM.Handler(npmPrefix)
	w.CI = NewCI(opts.LintCI)
	ci := opts.CI
	if ci == nil {
		ci = w.CI.Func()
	}

	var api *ghapi.Server
	w.Git, err = githttp.New(githttp.Options{
		Root:    w.Dir + "/git",
		GitPath: opts.GitPath,
		Auth: func(token, owner, repo string) (githttp.Access, bool) {
			return api.GitAccess(token, owner, repo)
		},
		OnPush: func(owner, repo string) { api.SyncRepo(owner, repo) },
	})
	if err == nil {
		api, err = ghapi.New(ghapi.Options{
			Git: w.Git, Now: opts.Now, TimeScale: opts.TimeScale, Limits: opts.Limits, Faults: opts.Faults,
			TreeLimit: opts.TreeLimit, CI: ci, GitURL: w.GitURL, WebURL: w.GitURL,
		})
	}
	if err != nil {
		apiLn.Close()
		if gitLn != apiLn {
			gitLn.Close()
		}
		npmLn.Close()
		w.cleanup()
		return nil, err
	}
	w.API = api
	w.npmPath = w.findNPM(opts.NPMCLI)

	w.serve(apiLn, w.handler(gitLn == apiLn))
	if gitLn != apiLn {
		w.serve(gitLn, w.Git)
	}
	w.serve(npmLn, w.NPM.Handler(""))
	go func() {
		select {
		case <-ctx.Done():
			w.shutdown()
		case <-w.stop:
		}
	}()
	return w, nil
}

func (w *World) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	w.servers = append(w.servers, srv)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		w.done <- err
	}()
}

func (w *World) shutdown() {
	for _, s := range w.servers {
		_ = s.Close()
	}
}

// Close stops the servers and removes the world's folder when it was temporary.
func (w *World) Close() error {
	w.closeOnce.Do(func() {
		close(w.stop)
		w.shutdown()
		for range w.servers {
			w.closeErr = errors.Join(w.closeErr, <-w.done)
		}
		w.cleanup()
	})
	return w.closeErr
}

func (w *World) cleanup() {
	if w.tempDir {
		_ = os.RemoveAll(w.Dir)
	}
}

// handler routes one listener's requests: the npm registry under /npm/
// (an alias of RegistryURL), the sandbox's endpoints under /_sandbox/
// (simulated release, CI failures, the runners' ID-token issuer, the
// CircleCI API emulator), git when
// withGit, else the API.
func (w *World) handler(withGit bool) http.Handler {
	sb := http.NewServeMux()
	sb.HandleFunc("POST "+sandboxPrefix+"repos/{owner}/{repo}/release", w.serveRelease)
	sb.HandleFunc("PUT "+sandboxPrefix+"repos/{owner}/{repo}/ci-failure", w.serveCIFailure)
	sb.HandleFunc("DELETE "+sandboxPrefix+"repos/{owner}/{repo}/ci-failure", w.serveCIFailure)
	sb.HandleFunc("POST "+sandboxPrefix+"repos/{owner}/{repo}/id-token-request", w.serveIDTokenRequest)
	sb.HandleFunc("GET "+idTokenPath, w.serveIDToken)
	sb.HandleFunc("POST "+sandboxPrefix+"repos/{owner}/{repo}/circleci-oidc", w.serveCircleCIOIDC)
	w.circleRoutes(sb)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == npmPrefix || strings.HasPrefix(p, npmPrefix+"/"):
			w.npmAlias.ServeHTTP(rw, r)
		case strings.HasPrefix(p, sandboxPrefix):
			sb.ServeHTTP(rw, r)
		case withGit && githttp.IsGitPath(p):
			w.Git.ServeHTTP(rw, r)
		default:
			w.serveAPI(rw, r)
		}
	})
}

// serveAPI serves a GitHub API request and follows the secrets clients
// write and delete, so the simulated release sees what the API holds.
func (w *World) serveAPI(rw http.ResponseWriter, r *http.Request) {
	key := ""
	if r.Method == http.MethodPut || r.Method == http.MethodDelete {
		key = secretKeyOf(r.URL.Path)
	}
	if key == "" {
		w.API.ServeHTTP(rw, r)
		return
	}
	sw := &statusWriter{ResponseWriter: rw}
	w.API.ServeHTTP(sw, r)
	if sw.status < 200 || sw.status > 299 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if r.Method == http.MethodDelete {
		delete(w.secrets, key)
		return
	}
	// The value arrives encrypted for a key the sandbox has no private
	// half of; a release reads it as a credential no registry accepts.
	w.secrets[key] = opaqueSecret
}

// opaqueSecret is the value of a secret a client wrote through the API.
const opaqueSecret = "sandbox-encrypted-value"

// secretKeyOf returns the secretKey of an Actions secret's URL path, or "".
func secretKeyOf(p string) string {
	p = strings.TrimPrefix(p, "/api/v3")
	seg := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range seg {
		u, err := url.PathUnescape(s)
		if err != nil {
			return ""
		}
		seg[i] = u
	}
	switch {
	case len(seg) == 6 && seg[0] == "repos" && seg[3] == "actions" && seg[4] == "secrets" && seg[5] != "public-key":
		return secretKey("repo", seg[1]+"/"+seg[2], "", seg[5])
	case len(seg) == 7 && seg[0] == "repos" && seg[3] == "environments" && seg[5] == "secrets" && seg[6] != "public-key":
		return secretKey("env", seg[1]+"/"+seg[2], seg[4], seg[6])
	case len(seg) == 5 && seg[0] == "orgs" && seg[2] == "actions" && seg[3] == "secrets" && seg[4] != "public-key":
		return secretKey("org", seg[1], "", seg[4])
	}
	return ""
}

// secretKey names a secret at scope "repo" (of owner/name), "env" (of an
// environment of owner/name) or "org" (of an organisation).
func secretKey(scope, owner, env, name string) string {
	return scope + "\x00" + owner + "\x00" + env + "\x00" + strings.ToUpper(name)
}

// statusWriter records the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// SetSecret stores an Actions secret in the API and its plain value for the
// simulated release: scope "repo" or "env" on repo ("owner/name"), or "org"
// on the organisation named by repo. updated is its updated_at; zero means now.
func (w *World) SetSecret(scope, repo, env, name, value string, updated time.Time) error {
	o := ghapi.SecretOptions{Value: sealed(value), CreatedAt: updated, UpdatedAt: updated}
	var err error
	owner, rname, _ := strings.Cut(repo, "/")
	switch scope {
	case "repo":
		err = w.API.SetRepoSecret(owner, rname, name, o)
	case "env":
		err = w.API.SetEnvSecret(owner, rname, env, name, o)
	case "org":
		w.API.SetOrgSecret(repo, name, o)
	default:
		err = fmt.Errorf("secret scope %q: use repo, env or org", scope)
	}
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.secrets[secretKey(scope, repo, env, name)] = value
	w.mu.Unlock()
	return nil
}

// sealed stands in for the encrypted value GitHub stores: it is not the
// value, and it does not reveal it.
func sealed(string) string { return "c2FuZGJveC1zZWFsZWQ=" }

// secret returns a secret's value as the simulated release sees it.
func (w *World) secret(scope, owner, env, name string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, ok := w.secrets[secretKey(scope, owner, env, name)]
	return v, ok
}

// CreateRepo creates a repository through the API and remembers its
// visibility for the ID tokens of simulated releases.
func (w *World) CreateRepo(owner, name string, o ghapi.RepoOptions) error {
	if err := w.API.CreateRepo(owner, name, o); err != nil {
		return err
	}
	w.mu.Lock()
	w.private[owner+"/"+name] = o.Private || o.Visibility == "private" || o.Visibility == "internal"
	w.mu.Unlock()
	return nil
}

// sandboxCaller checks the token of a sandbox endpoint request: it must
// have push access to the repository. It answers and returns false otherwise.
func (w *World) sandboxCaller(rw http.ResponseWriter, r *http.Request) bool {
	owner, repo := r.PathValue("owner"), r.PathValue("repo")
	tok := ""
	if h := r.Header.Get("Authorization"); h != "" {
		_, tok, _ = strings.Cut(h, " ")
		tok = strings.TrimSpace(tok)
	}
	if !w.Git.Exists(owner, repo) {
		writeJSON(rw, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return false
	}
	acc, ok := w.API.GitAccess(tok, owner, repo)
	switch {
	case tok == "" || !ok:
		writeJSON(rw, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return false
	case !acc.Write:
		writeJSON(rw, http.StatusForbidden, map[string]string{"message": "Resource not accessible by personal access token"})
		return false
	}
	return true
}

// serveRelease serves POST /_sandbox/repos/{owner}/{repo}/release: the body
// (optional) is a ReleaseOptions, the answer a ReleaseResult.
func (w *World) serveRelease(rw http.ResponseWriter, r *http.Request) {
	if !w.sandboxCaller(rw, r) {
		return
	}
	var opts ReleaseOptions
	if body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20)); len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &opts); err != nil {
			writeJSON(rw, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON: " + err.Error()})
			return
		}
	}
	res, err := w.Release(r.Context(), r.PathValue("owner")+"/"+r.PathValue("repo"), opts)
	if err != nil {
		writeJSON(rw, http.StatusUnprocessableEntity, map[string]string{"message": err.Error()})
		return
	}
	writeJSON(rw, http.StatusOK, res)
}

// serveCIFailure serves PUT (body {"summary": "..."}) and DELETE on
// /_sandbox/repos/{owner}/{repo}/ci-failure.
func (w *World) serveCIFailure(rw http.ResponseWriter, r *http.Request) {
	if !w.sandboxCaller(rw, r) {
		return
	}
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	if r.Method == http.MethodDelete {
		w.CI.Fail(repo, "")
		rw.WriteHeader(http.StatusNoContent)
		return
	}
	var body struct {
		Summary string `json:"summary"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body.Summary == "" {
		writeJSON(rw, http.StatusUnprocessableEntity, map[string]string{"message": "the body must be {\"summary\": \"...\"}"})
		return
	}
	w.CI.Fail(repo, body.Summary)
	rw.WriteHeader(http.StatusNoContent)
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"could not encode the answer"}`)
	}
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.WriteHeader(status)
	_, _ = rw.Write(append(b, '\n'))
}
