package ghapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/sandbox/githttp"
)

// CIFunc decides the outcome of the simulated CI for a pull request's head:
// repo is "owner/name" and files holds every file under .github/ at headSHA.
// It returns a check-run conclusion ("success", "failure", "neutral", …)
// and a summary.
type CIFunc func(repo, headSHA string, files map[string][]byte) (conclusion, summary string)

// Options configure a Server. Only Git is required.
type Options struct {
	// Git holds the bare repositories; it is the single source of git data.
	Git *githttp.Server
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TimeScale is how many emulated seconds pass in one second of Now: with
	// 60, GitHub's hourly budgets last one minute. Zero means 1.
	TimeScale float64
	// Limits are the rate limits; the zero value means GitHub's.
	Limits Limits
	// Faults are injected errors, resets, latency and stalls; zero means none.
	Faults Faults
	// TreeLimit is how many entries a recursive tree lists before it is
	// truncated; zero means GitHub's 100,000.
	TreeLimit int
	// CI sets the check run of a pull request's head when it is opened or
	// updated; nil means every head succeeds.
	CI CIFunc
	// CIName is the name of the simulated CI's check run; empty means "ci".
	CIName string
	// GitURL is the base URL of the git server for clone_url, ending in "/";
	// empty means the API request's own scheme and host.
	GitURL string
	// WebURL is the base URL for html_url, ending in "/"; empty means the
	// API request's own scheme and host.
	WebURL string
}

// Server is the GitHub REST emulator. It is an [http.Handler] that serves
// the API at / and at /api/v3/.
type Server struct {
	opts     Options
	mux      *http.ServeMux
	patterns []string
	handler  http.Handler
	limiter  *limiter
	faults   *faultInjector

	mu sync.Mutex
	st *state

	apps appState // GitHub Apps (app.go)
}

// New returns an emulator with no repositories and no tokens.
func New(opts Options) (*Server, error) {
	if opts.Git == nil {
		return nil, errors.New("the GitHub emulator needs a git server")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TimeScale <= 0 {
		opts.TimeScale = 1
	}
	if opts.TreeLimit <= 0 {
		opts.TreeLimit = 100000
	}
	if opts.CIName == "" {
		opts.CIName = "ci"
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), st: newState()}
	s.limiter = newLimiter(opts.Limits, opts.Now, opts.TimeScale)
	s.faults = newFaultInjector(opts.Faults)
	s.routes()
	s.appRoutes()
	root := http.NewServeMux()
	root.Handle("/api/v3/", http.StripPrefix("/api/v3", withPrefix("/api/v3", s.mux)))
	root.Handle("/", s.mux)
	s.handler = root
	return s, nil
}

// ServeHTTP serves one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	s.handler.ServeHTTP(w, r)
}

// Routes returns the patterns of the endpoints served, such as
// "GET /repos/{owner}/{repo}/git/ref/{ref...}", in registration order.
func (s *Server) Routes() []string { return slices.Clone(s.patterns) }

// SetLimits replaces the rate limits and starts every budget afresh.
func (s *Server) SetLimits(l Limits) {
	s.limiter.reset(l)
}

// SetFaults replaces the injected faults and reseeds their randomness.
func (s *Server) SetFaults(f Faults) {
	s.faults.reset(f)
}

// SetCI replaces the simulated CI.
func (s *Server) SetCI(ci CIFunc) {
	s.mu.Lock()
	s.opts.CI = ci
	s.mu.Unlock()
}

// AddToken registers token as id and returns the identity as stored, with
// its ID and login filled in. Registering a token again replaces it.
func (s *Server) AddToken(token string, id Identity) Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id.Login == "" {
		id.Login = "sandbox-user"
	}
	if id.Type == "" {
		id.Type = "User"
	}
	if id.ID == 0 {
		// Tokens of one login share one user, as on GitHub.
		for _, other := range s.st.Tokens {
			if other.Login == id.Login {
				id.ID = other.ID
			}
		}
		if id.ID == 0 {
			id.ID = s.st.id()
		}
	}
	classic(token, &id)
	id.Permissions = normalizePerms(id.Permissions)
	s.st.Tokens[token] = &id
	return id
}

// RemoveToken forgets token; later requests with it get 401.
func (s *Server) RemoveToken(token string) {
	s.mu.Lock()
	delete(s.st.Tokens, token)
	s.mu.Unlock()
}

// lookupToken returns the identity of token, or nil.
func (s *Server) lookupToken(token string) *Identity {
	expired := s.tokenExpired(token)
	s.mu.Lock()
	if expired {
		delete(s.st.Tokens, token)
	}
	defer s.mu.Unlock()
	return s.st.Tokens[token]
}

// GitAccess tells the git server what token may do on owner/repo: read with
// contents read, push with contents write, and touch workflows with
// workflows write. Use it as [githttp.Options.Auth].
func (s *Server) GitAccess(token, owner, repo string) (githttp.Access, bool) {
	var id *Identity
	if token == "" {
		id = anonymous
	} else if id = s.lookupToken(token); id == nil {
		return githttp.Access{}, false
	}
	if id == anonymous || !id.inScope(owner) {
		s.mu.Lock()
		rp := s.st.Repos[owner+"/"+repo]
		public := rp != nil && !rp.Private
		s.mu.Unlock()
		return githttp.Access{Login: id.Login, Read: public}, true
	}
	return githttp.Access{
		Login:     id.Login,
		Read:      id.Can(PermContents, Read),
		Write:     id.Can(PermContents, Write),
		Workflows: id.Can(PermWorkflows, Write),
	}, true
}

// prefixKey carries the mount prefix ("" or "/api/v3") of a request.
type prefixKey struct{}

func withPrefix(prefix string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), prefixKey{}, prefix)))
	})
}

// call is one API request being served.
type call struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	id    *Identity
	route *route
	api   string // API base URL, ending in "/"
	web   string // web base URL, ending in "/"
	git   string // git base URL, ending in "/"
	// counted is set when the request counted against the primary limit.
	counted bool
	// public is set when the request sees only public repositories,
	// read-only: it has no token, or its token does not reach the owner.
	public bool
}

// route is a registered endpoint and what it takes to call it.
type route struct {
	pattern string
	needs   []need
	// content marks content-creating requests (secondary limits).
	content bool
	// free marks requests that do not count against the primary budget.
	free bool
	h    func(*call)
}

// handle registers pattern. perm is "" (metadata only) or alternatives like
// "contents:write|workflows:write".
func (s *Server) handle(pattern, perm string, h func(*call), flags ...string) {
	rt := &route{pattern: pattern, needs: parseNeeds(perm), h: h}
	s.patterns = append(s.patterns, pattern)
	for _, f := range flags {
		switch f {
		case "content":
			rt.content = true
		case "free":
			rt.free = true
		}
	}
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serveRoute(rt, w, r)
	}))
}

// serveRoute runs the request pipeline: faults, authentication, primary
// limit, permission, secondary limit, then the endpoint.
func (s *Server) serveRoute(rt *route, w http.ResponseWriter, r *http.Request) {
	if !s.faults.apply(rt.pattern, w, r) {
		return
	}
	c := &call{s: s, w: w, r: r, route: rt}
	c.setURLs()
	if r.Method == http.MethodGet {
		defer c.conditional()()
	}
	token := requestToken(r)
	if token == "" {
		c.id = anonymous
	} else if c.id = s.lookupToken(token); c.id == nil {
		c.error(http.StatusUnauthorized, "Bad credentials")
		return
	}
	if !c.scope() {
		return
	}
	if !s.limiter.primary(c, rt.free) {
		return
	}
	if !c.allowed(rt.needs) {
		return
	}
	release, ok := s.limiter.secondary(c, rt.content)
	if !ok {
		return
	}
	defer release()
	rt.h(c)
}

// requestToken returns the token of an Authorization header: "Bearer T",
// "token T" or basic auth with the token as password.
func requestToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		return ""
	}
	scheme, rest, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "bearer", "token":
		return strings.TrimSpace(rest)
	case "basic":
		u, p, ok := r.BasicAuth()
		if !ok {
			return ""
		}
		if p == "" {
			return u
		}
		return p
	}
	return ""
}

// setURLs fills the base URLs the JSON links are built from.
func (c *call) setURLs() {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	host := scheme + "://" + c.r.Host + "/"
	prefix, _ := c.r.Context().Value(prefixKey{}).(string)
	c.api = host
	if prefix != "" {
		c.api = host + strings.TrimPrefix(prefix, "/") + "/"
	}
	c.web, c.git = host, host
	if c.s.opts.WebURL != "" {
		c.web = c.s.opts.WebURL
	}
	if c.s.opts.GitURL != "" {
		c.git = c.s.opts.GitURL
	}
}

// now is the emulator's clock.
func (s *Server) now() time.Time { return s.opts.Now().UTC() }

// allowed answers 403, as GitHub does, when the token meets none of needs.
func (c *call) allowed(needs []need) bool {
	if c.id.satisfies(needs) {
		return true
	}
	c.w.Header().Set("X-Accepted-GitHub-Permissions", acceptedHeader(needs))
	c.error(http.StatusForbidden, "Resource not accessible by personal access token")
	return false
}

// require is allowed for a permission spec such as "checks:read".
func (c *call) require(spec string) bool { return c.allowed(parseNeeds(spec)) }
