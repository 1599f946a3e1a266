package batch_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/clocktest"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
	"github.com/cutover/cutover/rewrite"
)

// Distinctive credentials the no-token scans look for. None of them may
// appear in a log line, an error, the ledger or a report.
const (
	npmAliceToken = "npm_ALICEsessionTOKENforBATCHtests000001"
	npmBobToken   = "npm_BOBsessionTOKENforBATCHtests00000002"
	npmCIToken    = "npm_CIpublishTOKENforBATCHtests000000003"
	npmOldToken   = "npm_OLDpublishTOKENforBATCHtests00000004"
	npmReadToken  = "npm_READonlyTOKENforBATCHtests0000000005"
	npmAliceOTP   = "271828"
	npmPrefix     = "/npm"
)

// npmSink is a log sink safe for concurrent writes.
type npmSink struct {
	mu sync.Mutex
	b  []byte
}

func (s *npmSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *npmSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

// npmEnv is a ledger, an npm registry emulator on loopback and an engine
// over both, sharing one fake clock.
type npmEnv struct {
	clk  *clocktest.Clock // the client's Sleep advances it
	reg  *npmreg.Registry
	srv  *httptest.Server
	led  *ledger.Ledger
	eng  *batch.Engine
	logs *npmSink
	// requests counts the HTTP requests the emulator served, by method and path.
	mu       sync.Mutex
	requests []string
	// wrap, when set, intercepts the requests to the emulator.
	wrap func(w http.ResponseWriter, r *http.Request, next http.Handler)
}

// setWrap intercepts the requests to the emulator with f.
func (env *npmEnv) setWrap(f func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	env.mu.Lock()
	env.wrap = f
	env.mu.Unlock()
}

func npmMust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newNPMEnv starts the emulator with users alice (fixed OTP) and bob (web
// login), their session tokens, and an empty ledger.
func newNPMEnv(t testing.TB, opts npmreg.Options) *npmEnv {
	t.Helper()
	clk := clocktest.New(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	opts.Now, opts.Prefix = clk.Now, npmPrefix
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	env := &npmEnv{clk: clk, reg: npmreg.New(opts), logs: &npmSink{}}
	npmMust(t, env.reg.AddUser(npmreg.UserSpec{Name: "alice", OTP: npmAliceOTP}))
	npmMust(t, env.reg.AddUser(npmreg.UserSpec{Name: "bob", WebAuth: true}))
	for _, s := range []npmreg.TokenSpec{
		{User: "alice", Value: npmAliceToken, Name: "alice-login", Session: true},
		{User: "bob", Value: npmBobToken, Name: "bob-login", Session: true},
	} {
		_, err := env.reg.AddToken(s)
		npmMust(t, err)
	}
	env.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.mu.Lock()
		env.requests = append(env.requests, r.Method+" "+r.URL.Path)
		wrap := env.wrap
		env.mu.Unlock()
		if wrap != nil {
			wrap(w, r, env.reg)
			return
		}
		env.reg.ServeHTTP(w, r)
	}))
	t.Cleanup(env.srv.Close)
	led, err := ledger.Open(t.Context(), filepath.Join(t.TempDir(), "cutover.db"), ledger.Options{Now: clk.Now})
	npmMust(t, err)
	t.Cleanup(func() { led.Close() })
	env.led = led
	env.eng = &batch.Engine{Ledger: led, Now: clk.Now, Logger: env.logger(), Opts: batch.Options{Concurrency: 4, Registry: env.url()}}
	return env
}

func (env *npmEnv) url() string { return env.srv.URL + npmPrefix + "/" }

func (env *npmEnv) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// client returns a registry client for the token and OTP source.
func (env *npmEnv) client(token string, otp npm.OTPSource) *npm.Client {
	return &npm.Client{
		BaseURL: env.url(), HTTP: env.srv.Client(), Token: npm.Secret(token), OTP: otp,
		Logger: env.logger(), Now: env.clk.Now, Sleep: env.clk.Sleep,
		Jitter: func(d time.Duration) time.Duration { return d },
	}
}

// npm returns the npm steps over the engine with the client.
func (env *npmEnv) npm(c *npm.Client) *batch.NPM {
	return &batch.NPM{Engine: env.eng, Registry: c, By: "test"}
}

// count returns how many requests had the method and contained the path fragment.
func (env *npmEnv) count(method, fragment string) int {
	env.mu.Lock()
	defer env.mu.Unlock()
	n := 0
	for _, r := range env.requests {
		if strings.HasPrefix(r, method+" ") && strings.Contains(r, fragment) {
			n++
		}
	}
	return n
}

// npmRepo describes a repository to seed into the ledger.
type npmRepo struct {
	name       string
	visibility string
	workflow   string // trusted workflow file
	env        string
	pkgs       []string
	feeds      []string // secrets detection saw feeding the publish
}

// seed records the repositories as inventory would, and plans them all
// into wave 0 with the given gate.
func (env *npmEnv) seed(t testing.TB, gate []string, repos ...npmRepo) {
	t.Helper()
	ctx := context.Background()
	var members []string
	for _, r := range repos {
		vis := r.visibility
		if vis == "" {
			vis = "public"
		}
		npmMust(t, env.led.UpsertRepo(ctx, ledger.Repo{FullName: r.name, DefaultBranch: "main", Visibility: vis}))
		res := &rewrite.Result{Repo: r.name, Publishes: true, Credential: rewrite.CredToken}
		p := rewrite.Pipeline{Workflow: ".github/workflows/" + r.workflow, Job: "publish", TrustedWorkflow: []string{r.workflow}, Environment: r.env, Credential: rewrite.CredToken}
		for _, s := range r.feeds {
			p.Feeds = append(p.Feeds, rewrite.TokenFeed{Kind: "env", Name: "NODE_AUTH_TOKEN", Secret: s, Level: "step", File: ".github/workflows/" + r.workflow, Line: 12, Step: 3})
		}
		res.Pipelines = []rewrite.Pipeline{p}
		for i, name := range r.pkgs {
			dir := "."
			if len(r.pkgs) > 1 {
				dir = "packages/" + string(rune('a'+i))
			}
			res.Packages = append(res.Packages, rewrite.Package{Name: name, Dir: dir, Publishable: true})
			if r.workflow != "" {
				res.Trust = append(res.Trust, rewrite.TrustNeed{Package: name, Repository: r.name, Workflow: r.workflow, Environment: r.env})
			}
		}
		npmMust(t, env.led.RecordDetection(ctx, r.name, "c0ffee", res))
		members = append(members, r.name)
	}
	npmMust(t, env.led.SetWaves(ctx, []ledger.Wave{{Number: 0, Name: "canaries", State: ledger.WavePlanned, Gate: ledger.Gate{Require: gate}, Members: members}}))
}

// addPackage creates a package with a 1.0.0 published by alice 90 days ago.
func (env *npmEnv) addPackage(t testing.TB, name string, maintainers ...string) {
	t.Helper()
	if len(maintainers) == 0 {
		maintainers = []string{"alice", "bob"}
	}
	day := 24 * time.Hour
	npmMust(t, env.reg.AddPackage(npmreg.PackageSpec{Name: name, Maintainers: maintainers, Created: env.clk.Now().Add(-100 * day)}))
	npmMust(t, env.reg.AddVersion(name, npmreg.VersionSpec{Version: "1.0.0", By: "alice", Published: env.clk.Now().Add(-90 * day)}))
}

// release publishes a canary through OIDC with an ID token for the workflow.
func (env *npmEnv) release(t testing.TB, repo, workflow, environment, pkg, version, tag string) {
	t.Helper()
	idTok, err := env.reg.MintIDToken(npmreg.GitHubClaims(repo, ".github/workflows/"+workflow, "refs/tags/v"+version, environment))
	npmMust(t, err)
	npmMust(t, env.reg.PublishCanary(pkg, version, tag, npmreg.PublishPath{OIDC: true, IDToken: idTok}))
}

// webApprover opens web logins by approving them at once, and counts them.
type webApprover struct {
	reg *npmreg.Registry
	mu  sync.Mutex
	n   int
}

func (a *webApprover) source() npm.OTPSource {
	return npm.WebOTP{Open: func(_ context.Context, u string) error {
		a.mu.Lock()
		a.n++
		a.mu.Unlock()
		return a.reg.ApproveAuthURL(u)
	}}
}

func (a *webApprover) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

// countingSource counts how often the OTP source is asked.
type countingSource struct {
	mu   sync.Mutex
	n    int
	next npm.OTPSource
}

func (c *countingSource) OTP(ctx context.Context, ch npm.Challenge) (string, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.next.OTP(ctx, ch)
}

func (c *countingSource) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
