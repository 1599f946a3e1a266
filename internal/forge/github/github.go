package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	gh "github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/forge"
)

// Options configure a Forge. The zero value talks to GitHub.com with a token
// from the environment or gh, paced as GitHub advises, with no blob cache.
type Options struct {
	// BaseURL is a GitHub Enterprise Server address such as
	// "https://ghe.example.com/"; /api/v3/ is added as go-github's
	// WithEnterpriseURLs does. Empty means GitHub.com.
	BaseURL string
	// APIURL is a REST API base URL used exactly as given (a proxy or a
	// test server); it overrides BaseURL.
	APIURL string
	// Token authenticates API calls and git; empty means [ResolveToken].
	Token string
	// App authenticates as a GitHub App installation instead of a token.
	App *App
	// Getenv reads the environment for [ResolveToken]; nil means os.Getenv.
	Getenv func(string) string
	// Transport carries the HTTP requests of the API; nil means
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Limits pace the API requests; the zero value follows GitHub's advice.
	Limits Limits
	// CacheDir keeps blobs by SHA across runs; empty means no cache.
	CacheDir string
	// ETagCacheDir keeps, across runs, the ETags and bodies of the GETs a
	// re-run reads again (repository listing pages, repositories, refs,
	// trees, contents), so they are sent with If-None-Match and a 304,
	// which GitHub does not count against the rate limit, is answered from
	// it. Empty means they are kept in memory for the Forge's life only.
	// No token, nor any request header, is written there.
	ETagCacheDir string
	// MaxFileSize is the largest file Snapshot reads; zero means 1 MiB.
	MaxFileSize int64
	// Author signs commits whose Change names none.
	Author forge.Author
	// GitConcurrency is how many clones and pushes run at once; zero means 4.
	GitConcurrency int
	// CABundle holds extra PEM certificates git trusts (GitHub Enterprise
	// Server with a private CA).
	CABundle []byte
	// ManageEnvironments makes Preflight also require administration write.
	ManageEnvironments bool
	// ProbeWorkflows lets Preflight prove the workflows permission of a
	// fine-grained token by pushing a scratch branch that touches
	// .github/workflows and deleting it again; on GitHub that push may start
	// push-triggered workflows. Without it such a token's workflows
	// permission is reported as unverified.
	ProbeWorkflows bool
	// Logger receives retries, rate-limit waits and decisions; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends; nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns jitter in [0, 1); nil means math/rand/v2.
	Rand func() float64
}

// Forge is the GitHub implementation of [forge.Forge]. One Forge is one
// identity: share it between workers so they share its limiter.
type Forge struct {
	client  *gh.Client
	lim     *limiter
	stats   *counters
	log     *slog.Logger
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	cred    *credential               // token auth; nil with an App
	app     *ghinstallation.Transport // App auth; nil with a token
	gitSem  chan struct{}
	cache   *blobCache
	maxFile int64
	author  forge.Author
	caPEM   []byte
	envs    bool
	probeWF bool

	loginMu sync.Mutex
	login   string

	// probed keeps, per owner, the permissions probes found: probes are
	// writes (refused ones, but paced as writes), so they run once per
	// Forge, not once per wave.
	probedMu sync.Mutex
	probed   map[string][]PermissionCheck
}

var _ forge.Forge = (*Forge)(nil)

// New returns a Forge for opts. It resolves the token but makes no request.
func New(ctx context.Context, opts Options) (*Forge, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f := &Forge{
		log: log, now: opts.Now, sleep: opts.Sleep, stats: &counters{},
		maxFile: opts.MaxFileSize, author: opts.Author, caPEM: opts.CABundle,
		envs: opts.ManageEnvironments, probeWF: opts.ProbeWorkflows,
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.sleep == nil {
		f.sleep = sleepTimer
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Float64
	}
	if f.maxFile <= 0 {
		f.maxFile = 1 << 20
	}
	n := opts.GitConcurrency
	if n <= 0 {
		n = 4
	}
	f.gitSem = make(chan struct{}, n)
	if opts.CacheDir != "" {
		c, err := newBlobCache(opts.CacheDir)
		if err != nil {
			return nil, err
		}
		f.cache = c
	}
	etags, err := newETagCache(opts.ETagCacheDir)
	if err != nil {
		return nil, err
	}
	lim := opts.Limits.withDefaults()
	f.lim = newLimiter(lim, f.now, f.sleep, rnd, log, f.stats)

	base := opts.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	probe := gh.NewClient(nil)
	if opts.APIURL != "" {
		u, err := probe.BaseURL.Parse(opts.APIURL)
		if err != nil {
			return nil, fmt.Errorf("invalid API URL %q: %w", opts.APIURL, err)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		probe.BaseURL, probe.UploadURL = u, u
	} else if opts.BaseURL != "" {
		var err error
		probe, err = probe.WithEnterpriseURLs(opts.BaseURL, opts.BaseURL)
		if err != nil {
			return nil, fmt.Errorf("invalid GitHub Enterprise URL %q: %w", opts.BaseURL, err)
		}
	}
	apiBase := probe.BaseURL

	var auth http.RoundTripper
	if opts.App != nil {
		atr, err := ghinstallation.NewAppsTransport(base, opts.App.ID, opts.App.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("could not use the GitHub App key: %w", err)
		}
		atr.BaseURL = strings.TrimSuffix(apiBase.String(), "/")
		inst := opts.App.InstallationID
		if inst == 0 {
			if inst, err = findInstallation(ctx, atr, opts.App); err != nil {
				return nil, err
			}
			log.Debug("github: found the GitHub App's installation", "app", opts.App.ID, "org", opts.App.Org, "installation", inst)
		}
		itr := ghinstallation.NewFromAppsTransport(atr, inst)
		itr.BaseURL = strings.TrimSuffix(apiBase.String(), "/")
		f.app, auth = itr, itr
	} else {
		tok := opts.Token
		if tok == "" {
			getenv := opts.Getenv
			if getenv == nil {
				getenv = os.Getenv
			}
			host := hostOf(opts.BaseURL)
			if opts.APIURL != "" {
				host = hostOf(opts.APIURL)
			}
			var err error
			if tok, err = ResolveToken(ctx, host, getenv); err != nil {
				return nil, err
			}
		}
		f.cred = &credential{token: tok}
		auth = &authTransport{next: base, cred: f.cred}
	}
	paced := &transport{next: auth, lim: f.lim, log: log, stats: f.stats}
	hc := &http.Client{Transport: &etagTransport{next: paced, cache: etags, stats: f.stats}}
	f.client = gh.NewClient(hc)
	f.client.BaseURL, f.client.UploadURL = apiBase, probe.UploadURL
	return f, nil
}

// Stats returns what the Forge's transport has done so far.
func (f *Forge) Stats() Stats { return f.stats.snapshot() }

// Pace returns the limiter's state now: which rule requests wait for, the
// content windows in force and how full they are. It only reads.
func (f *Forge) Pace() Pace { return f.lim.pace() }

// Client returns the underlying go-github client, paced by the Forge's
// limiter, for calls the Forge does not wrap.
func (f *Forge) Client() *gh.Client { return f.client }

// sleepTimer waits d or until ctx ends.
func sleepTimer(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// do runs a go-github call. go-github itself refuses to send requests while
// the last response said the primary budget is spent (a RateLimitError
// without a network call); do waits for the reset and calls again.
func (f *Forge) do(ctx context.Context, call func() (*gh.Response, error)) (*gh.Response, error) {
	for tries := 0; ; tries++ {
		resp, err := call()
		var rle *gh.RateLimitError
		if errors.As(err, &rle) && tries < f.lim.lim.RateLimitRetries && ctx.Err() == nil {
			d := f.lim.primaryHit(rle.Rate.Reset.Time)
			if err := f.lim.wait(ctx, d, "the reset of GitHub's primary rate limit"); err != nil {
				return resp, err
			}
			continue
		}
		return resp, err
	}
}

// write sends a write that is not idempotent. When it fails without a clear
// answer (a server error, a broken connection, a timeout), done looks up
// whether it happened anyway; only when it did not is the write sent again.
func (f *Forge) write(ctx context.Context, send func() error, done func() (bool, error)) error {
	lim := f.lim.lim
	for attempt := 0; ; attempt++ {
		err := send()
		if err == nil || !ambiguous(ctx, err) || attempt >= lim.Retries {
			return err
		}
		f.log.Debug("github: a write failed without a clear answer, looking it up", "error", err)
		f.stats.lookups.Add(1)
		var ok bool
		var lerr error
		for look := 0; look <= lim.Retries; look++ {
			if err := f.lim.wait(ctx, f.lim.backoff(attempt), "a lookup of a GitHub write that failed without a clear answer"); err != nil {
				return err
			}
			if ok, lerr = done(); lerr == nil || !ambiguous(ctx, lerr) {
				break
			}
		}
		if lerr != nil && !ambiguous(ctx, lerr) {
			return lerr
		}
		if lerr != nil {
			return fmt.Errorf("%w (and the lookup that would tell whether it happened failed: %v)", err, lerr)
		}
		if ok {
			f.stats.lookupsDone.Add(1)
			return nil
		}
	}
}

// ambiguous reports whether a failed write may still have happened.
func ambiguous(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ae *ambiguousError
	if errors.As(err, &ae) {
		return true
	}
	if s := statusOf(err); s != 0 {
		return s >= 500
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "connection reset")
}

// statusOf returns the HTTP status of a go-github error, or 0.
func statusOf(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	var rl *gh.RateLimitError
	if errors.As(err, &rl) && rl.Response != nil {
		return rl.Response.StatusCode
	}
	var ab *gh.AbuseRateLimitError
	if errors.As(err, &ab) && ab.Response != nil {
		return ab.Response.StatusCode
	}
	return 0
}

// isNotFound reports a 404.
func isNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// permissionError is a missing permission: its message is exact, and it
// wraps [forge.ErrPermission].
type permissionError struct{ msg string }

// Error returns the message.
func (e *permissionError) Error() string { return e.msg }

// Unwrap returns forge.ErrPermission.
func (e *permissionError) Unwrap() error { return forge.ErrPermission }

// apiError turns a go-github error into one that says what failed: a
// 403 that is not a rate limit becomes a permission error naming what the
// endpoint accepts.
func apiError(err error, what string) error {
	if err == nil {
		return nil
	}
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		switch er.Response.StatusCode {
		case http.StatusForbidden:
			if accepted := er.Response.Header.Get("X-Accepted-Github-Permissions"); accepted != "" {
				return &permissionError{fmt.Sprintf("could not %s: the token lacks the permission the endpoint needs (%s)", what, accepted)}
			}
			return &permissionError{fmt.Sprintf("could not %s: %s", what, er.Message)}
		case http.StatusUnauthorized:
			return &refusedError{msg: fmt.Sprintf("could not %s: GitHub refused the token (401 %s): check that it is the right one and has not expired or been revoked", what, er.Message), err: err}
		}
	}
	return fmt.Errorf("could not %s: %w", what, err)
}

// refusedError is a token GitHub refused (401). Its message says so once;
// go-github's own text, which repeats the status and message after the
// request's URL, stays reachable through Unwrap.
type refusedError struct {
	msg string
	err error
}

// Error returns the message.
func (e *refusedError) Error() string { return e.msg }

// Unwrap returns go-github's error.
func (e *refusedError) Unwrap() error { return e.err }

// split returns the owner and name of a repository.
func split(repo forge.Repo) (owner, name string, err error) {
	owner, name, ok := strings.Cut(repo.FullName, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("invalid repository name %q (want owner/name)", repo.FullName)
	}
	return owner, name, nil
}

// viewer returns the login of the identity, or "" when the API will not
// say (installation tokens may not read /user).
func (f *Forge) viewer(ctx context.Context) string {
	f.loginMu.Lock()
	defer f.loginMu.Unlock()
	if f.login != "" {
		return f.login
	}
	var u *gh.User
	_, err := f.do(ctx, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		u, resp, err = f.client.Users.Get(ctx, "")
		return resp, err
	})
	if err == nil {
		f.login = u.GetLogin()
	}
	return f.login
}
