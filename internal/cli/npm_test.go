package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// npmCLI is a seeded sandbox and the environment to run cutover against it.
type npmCLI struct {
	w      *sandbox.World
	p      sandbox.Portfolio
	s      sandbox.Seeded
	dir    string
	env    map[string]string
	ledger string
	// out and errs collect every command's stdout and stderr for the scan.
	out, errs bytes.Buffer
	// approvals counts the web logins approved.
	approvals int
}

func newNPMCLI(t *testing.T, n int, kinds ...sandbox.Kind) *npmCLI {
	t.Helper()
	w, err := sandbox.Start(t.Context(), sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	opts := sandbox.PortfolioOptions{Org: "acme", CIFailureRate: -1, Weights: map[sandbox.Kind]int{}}
	for _, k := range kinds {
		opts.Weights[k] = 1
	}
	p := sandbox.Generate(5, n, opts)
	s, err := w.Seed(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf("[github]\norg = %q\napi_url = %q\npacing = \"off\"\n\n[npm]\nregistry = %q\n", s.Org, w.URL, w.RegistryURL)
	c := &npmCLI{w: w, p: p, s: s, dir: dir, ledger: filepath.Join(dir, "cutover.db")}
	c.write(t, "cutover.toml", cfg)
	c.env = map[string]string{"CUTOVER_CONFIG": filepath.Join(dir, "cutover.toml"), "GITHUB_TOKEN": s.GitHubToken, "USER": "tester"}
	return c
}

func (c *npmCLI) write(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs cutover with the ledger and collects its output. A web login
// printed on stderr is approved at once, as the user would in a browser.
func (c *npmCLI) run(t *testing.T, args ...string) result {
	t.Helper()
	args = append(args, "--ledger", c.ledger, "--log-format", "json")
	var out bytes.Buffer
	errw := &approvingWriter{reg: c.w.NPM}
	code := Main(t.Context(), args, Streams{In: strings.NewReader(""), Out: &out, Err: errw}, func(k string) string { return c.env[k] })
	r := result{code: code, out: out.String(), err: errw.String()}
	c.out.WriteString(r.out)
	c.errs.WriteString(r.err)
	c.approvals += errw.approved
	return r
}

// approvingWriter collects stderr and approves the web logins it shows.
type approvingWriter struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	reg      *npmreg.Registry
	approved int
}

var authURLRE = regexp.MustCompile(`https?://\S+/-/sandbox/auth/\S+`)

func (a *approvingWriter) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, u := range authURLRE.FindAllString(string(p), -1) {
		if err := a.reg.ApproveAuthURL(u); err == nil {
			a.approved++
		}
	}
	return a.buf.Write(p)
}

func (a *approvingWriter) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.buf.String()
}

func (c *npmCLI) mustRun(t *testing.T, codes []int, args ...string) result {
	t.Helper()
	r := c.run(t, args...)
	for _, code := range codes {
		if r.code == code {
			return r
		}
	}
	t.Fatalf("cutover %s: exit code %d, want one of %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, codes, r.out, r.err)
	return r
}

// TestNPMCommandsOnSandbox drives trust, verify and revoke through the
// command line on a seeded sandbox, after inventory, plan, apply, merge and
// flag on, and then scans everything printed and the ledger for credentials.
func TestNPMCommandsOnSandbox(t *testing.T) {
	t.Parallel()
	c := newNPMCLI(t, 10, sandbox.KindNPM)
	ctx := t.Context()
	ok, findings := []int{ExitOK}, []int{ExitOK, ExitFindings}

	// The npm login comes from an .npmrc, as after npm login.
	u := strings.TrimPrefix(strings.TrimPrefix(c.w.RegistryURL, "http:"), "https:")
	c.env["NPM_CONFIG_USERCONFIG"] = c.write(t, "npmrc", fmt.Sprintf("registry=%s\n%s:_authToken=%s\n", c.w.RegistryURL, u, c.s.NPMToken))

	c.mustRun(t, ok, "inventory")
	c.mustRun(t, ok, "plan")
	w, err := ledgerWave(t, c.ledger)
	if err != nil {
		t.Fatal(err)
	}

	// Usage errors.
	for _, args := range [][]string{{"trust"}, {"trust", "--wave", "0", "--repo", "acme/x"}, {"verify", "--repo", "nope"}, {"revoke", "tokens"}, {"revoke", "tokens", "--name", "x", "--created-before", "yesterday"}, {"revoke", "secrets"}} {
		if r := c.run(t, args...); r.code != ExitUsage {
			t.Errorf("cutover %s: exit code %d, want %d\n%s", strings.Join(args, " "), r.code, ExitUsage, r.err)
		}
	}

	// Off a terminal, without --otp or --web, trust fails at once and says
	// how to authenticate; so do lockdown and revoke tokens when they would
	// change something.
	for _, args := range [][]string{{"trust", "--wave", "0"}, {"lockdown", "--wave", "0", "--execute"}, {"revoke", "tokens", "--name", "*", "--execute"}} {
		start := time.Now()
		r := c.run(t, args...)
		if r.code != ExitUsage || !strings.Contains(r.err, "--otp CODE") || !strings.Contains(r.err, "--web") || time.Since(start) > 20*time.Second {
			t.Errorf("cutover %s off a terminal: exit code %d after %s\n%s", strings.Join(args, " "), r.code, time.Since(start), r.err)
		}
	}
	if n := len(c.w.NPM.PendingApprovals()); n != 0 {
		t.Errorf("%d web logins were started", n)
	}

	// Trust: a dry run with the web login, then for real with the OTP.
	dry := c.mustRun(t, findings, "trust", "--wave", "0", "--web")
	if !strings.Contains(dry.out, "would create") && !strings.Contains(dry.out, "configured") {
		t.Errorf("trust dry run:\n%s", dry.out)
	}
	if c.approvals != 1 || strings.Count(dry.err, "approve this login in a browser") != 1 {
		t.Errorf("%d web logins approved for the dry run, want 1\n%s", c.approvals, dry.err)
	}
	if strings.Contains(dry.out, "not on the registry") {
		t.Errorf("packages on the registry reported as not on it:\n%s", dry.out)
	}
	tr := c.mustRun(t, findings, "trust", "--wave", "0", "--execute", "--otp", c.s.NPMOTP, "--format", "json")
	var trDoc struct {
		Schema   string `json:"schema"`
		Packages []struct {
			Package, State, Kind string
		} `json:"packages"`
	}
	if err := json.Unmarshal([]byte(tr.out), &trDoc); err != nil || trDoc.Schema != "cutover.trust/v1" || len(trDoc.Packages) == 0 {
		t.Fatalf("trust JSON (%v):\n%s", err, tr.out)
	}
	for _, p := range trDoc.Packages {
		if cfg, ok := c.w.NPM.Trust(p.Package); (p.State == ledger.TrustConfigured) != ok {
			t.Errorf("%s: cutover says %s, registry holds %+v", p.Package, p.State, cfg)
		}
	}

	// Apply, merge, flag on.
	c.mustRun(t, findings, "apply", "--wave", "0", "--execute")
	gc, err := github.NewClient(nil).WithAuthToken(c.s.GitHubToken).WithEnterpriseURLs(c.w.URL, c.w.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, repo := range w {
		owner, name, _ := strings.Cut(repo, "/")
		prs, _, err := gc.PullRequests.List(ctx, owner, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range prs {
			if _, _, err := gc.PullRequests.Merge(ctx, owner, name, pr.GetNumber(), "", nil); err != nil {
				t.Fatalf("merge %s#%d: %v", repo, pr.GetNumber(), err)
			}
		}
	}
	c.mustRun(t, ok, "status")
	c.mustRun(t, findings, "flag", "on", "--wave", "0", "--otp", c.s.NPMOTP) // the live check lists trust configs
	time.Sleep(5 * time.Millisecond)                                         // the canary is published after the flag went on

	released := 0
	for _, repo := range w {
		res, err := c.w.Release(ctx, repo, sandbox.ReleaseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range res.Packages {
			if p.Published && p.Path == sandbox.PathOIDC {
				released++
			}
		}
	}
	if released == 0 {
		t.Fatal("no canary went through OIDC")
	}
	v := c.mustRun(t, findings, "verify", "--wave", "0")
	if !strings.Contains(v.out, "passed") {
		t.Errorf("verify:\n%s", v.out)
	}

	// Lockdown: the verified packages end up refusing tokens.
	ld := c.mustRun(t, findings, "lockdown", "--wave", "0", "--execute", "--otp", c.s.NPMOTP, "--format", "json")
	var ldDoc struct {
		Schema     string `json:"schema"`
		LockedDown int    `json:"locked_down"`
		Packages   []struct {
			Package, Kind, To string
			Done              bool
		} `json:"packages"`
	}
	if err := json.Unmarshal([]byte(ld.out), &ldDoc); err != nil || ldDoc.Schema != "cutover.lockdown/v1" || ldDoc.LockedDown == 0 {
		t.Fatalf("lockdown JSON (%v):\n%s", err, ld.out)
	}
	for _, p := range ldDoc.Packages {
		mfa, _ := c.w.NPM.PackageMFA(p.Package)
		if locked := p.Kind == "ok" && p.To == "publish"; locked != (mfa == npmreg.MFAPublish) {
			t.Errorf("%s: cutover says %s %s, the registry has %q", p.Package, p.Kind, p.To, mfa)
		}
	}

	// Revoke: the plan lists tokens without their values; secrets of the
	// verified repositories go.
	plan := c.mustRun(t, ok, "revoke", "tokens", "--created-before", "2100-01-01")
	if !strings.Contains(plan.out, "would revoke") || !strings.Contains(plan.out, "…") {
		t.Errorf("token plan:\n%s", plan.out)
	}
	// The token cutover logs in with is never in the plan unless asked for.
	selfKey := ""
	for _, tok := range c.w.NPM.Tokens(c.s.NPMUser) {
		if tok.Name == "cutover campaign" {
			selfKey = tok.Key
		}
	}
	if selfKey == "" || !strings.Contains(plan.out, "skipped "+selfKey+": cutover authenticates with this token") || !strings.Contains(plan.out, "pass --include-self") {
		t.Errorf("token plan does not leave out cutover's own token %s:\n%s", selfKey, plan.out)
	}
	withSelf := c.mustRun(t, ok, "revoke", "tokens", "--key", selfKey, "--include-self")
	if !strings.Contains(withSelf.out, "1 selected") || strings.Contains(withSelf.out, "skipped "+selfKey) {
		t.Errorf("--include-self:\n%s", withSelf.out)
	}
	mig := c.mustRun(t, ok, "revoke", "tokens", "--migrated")
	if !strings.Contains(mig.out, "not selected:") || !strings.Contains(mig.out, "no owner mapping") || !strings.Contains(mig.out, "skipped "+selfKey) {
		t.Errorf("--migrated does not say why tokens are left out:\n%s", mig.out)
	}
	sec := c.mustRun(t, findings, "revoke", "secrets", "--wave", "0", "--execute", "--format", "json")
	var secDoc struct {
		Secrets []struct{ Repo, Scope, Environment, Name, Kind string } `json:"secrets"`
	}
	if err := json.Unmarshal([]byte(sec.out), &secDoc); err != nil {
		t.Fatalf("revoke secrets JSON: %v\n%s", err, sec.out)
	}
	t.Logf("trust:\n%s\nverify:\n%s\ntoken plan:\n%s\nsecrets:\n%s", dry.out, v.out, plan.out, sec.out)

	// Nothing printed, logged or recorded holds a credential.
	db, _ := os.ReadFile(c.ledger)
	wal, _ := os.ReadFile(c.ledger + "-wal")
	tokenRE := regexp.MustCompile(`npm_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9_]{20,}|github_pat_[A-Za-z0-9_]{20,}`)
	for where, s := range map[string]string{"stdout": c.out.String(), "stderr": c.errs.String(), "ledger": string(db) + string(wal)} {
		for _, secret := range []string{c.s.GitHubToken, c.s.NPMToken} {
			if strings.Contains(s, secret) {
				t.Errorf("a credential (%.6s…) is in %s", secret, where)
			}
		}
		if m := tokenRE.FindString(s); m != "" {
			t.Errorf("something shaped like a token (%.8s…) is in %s", m, where)
		}
	}
}

// ledgerWave returns the members of wave 0.
func ledgerWave(t *testing.T, path string) ([]string, error) {
	t.Helper()
	l, err := ledger.Open(t.Context(), path, ledger.Options{})
	if err != nil {
		return nil, err
	}
	defer l.Close()
	w, err := l.Wave(t.Context(), 0)
	return w.Members, err
}
