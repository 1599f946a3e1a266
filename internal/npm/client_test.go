package npm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

func TestReads(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	wf := &npmreg.Workflow{Repository: "acme/widget", Path: ".github/workflows/release.yml", Ref: "refs/tags/v1.1.0"}
	must(t, w.reg.AddVersion("@acme/widget", npmreg.VersionSpec{Version: "1.1.0", OIDC: wf, Provenance: wf, Published: w.clk.Now().Add(-time.Hour)}))
	c := w.client(aliceToken, nil)
	ctx := t.Context()

	p, err := c.Packument(ctx, "@acme/widget")
	must(t, err)
	if diff := cmp.Diff(map[string]string{"latest": "1.1.0"}, p.DistTags); diff != "" {
		t.Errorf("dist-tags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]npm.Person{{Name: "alice", Email: "alice@example.invalid"}, {Name: "bob", Email: "bob@example.invalid"}}, p.Maintainers); diff != "" {
		t.Errorf("maintainers (-want +got):\n%s", diff)
	}
	for _, k := range []string{"created", "modified", "1.0.0", "1.1.0"} {
		if _, ok := p.Time[k]; !ok {
			t.Errorf("time lacks %q", k)
		}
	}
	if at, ok := p.PublishedAt("1.1.0"); !ok || !at.Equal(w.clk.Now().Add(-time.Hour)) {
		t.Errorf("PublishedAt(1.1.0) = %v, %v", at, ok)
	}
	v := p.Versions["1.1.0"]
	if v == nil || v.NpmUser == nil || v.NpmUser.TrustedPublisher == nil || v.NpmUser.TrustedPublisher.ID != "github" ||
		!strings.HasPrefix(v.NpmUser.TrustedPublisher.OIDCConfigID, "oidc:") || v.NpmUser.Name != "GitHub Actions" {
		t.Fatalf("version 1.1.0 _npmUser: %+v", v)
	}
	if v.Dist.Attestations == nil || v.Dist.Attestations.URL != w.srv.URL+prefix+"/-/npm/v1/attestations/@acme/widget@1.1.0" {
		t.Errorf("dist.attestations: %+v", v.Dist.Attestations)
	}
	if got := p.Versions["1.0.0"].NpmUser; got.Name != "alice" || got.TrustedPublisher != nil {
		t.Errorf("1.0.0 _npmUser: %+v", got)
	}

	doc, err := c.Version(ctx, "@acme/widget", "1.1.0")
	must(t, err)
	if diff := cmp.Diff(v, doc); diff != "" {
		t.Errorf("version doc differs from packument entry (-packument +version):\n%s", diff)
	}
	if doc, err := c.Version(ctx, "@acme/widget", "latest"); err != nil || doc.Version != "1.1.0" {
		t.Errorf("Version(latest) = %v, %v", doc, err)
	}

	tags, err := c.DistTags(ctx, "@acme/widget")
	must(t, err)
	if diff := cmp.Diff(map[string]string{"latest": "1.1.0"}, tags); diff != "" {
		t.Errorf("DistTags (-want +got):\n%s", diff)
	}
	for name, want := range map[string]bool{"@acme/widget": true, "@acme/internal": false} {
		got, err := c.Visibility(ctx, name)
		if err != nil || got != want {
			t.Errorf("Visibility(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	who, err := c.Whoami(ctx)
	if err != nil || who != "alice" {
		t.Errorf("Whoami = %q, %v", who, err)
	}

	atts, err := c.Attestations(ctx, "@acme/widget", "1.1.0")
	must(t, err)
	sts, err := npm.Statements(atts)
	must(t, err)
	if len(sts) != 2 || sts[0].SLSA == nil || sts[1].PredicateType != npm.PublishAttestationV01 {
		t.Fatalf("statements: %+v", sts)
	}
	wfGot := sts[0].SLSA.BuildDefinition.ExternalParameters.Workflow
	if wfGot.Repository != "https://github.com/acme/widget" || wfGot.Path != ".github/workflows/release.yml" || wfGot.Ref != "refs/tags/v1.1.0" {
		t.Errorf("provenance workflow: %+v", wfGot)
	}
	if sts[0].Subject[0].Name != "pkg:npm/%40acme/widget@1.1.0" || sts[0].SLSA.RunDetails.Builder.ID != npm.GitHubHostedBuilder {
		t.Errorf("statement subject/builder: %+v", sts[0])
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client(aliceToken, npm.StaticOTP(aliceOTP))
	ctx := t.Context()
	tests := []struct {
		name string
		call func() error
		op   string
	}{
		{"packument", func() error { _, err := c.Packument(ctx, "nope"); return err }, "get packument"},
		{"version", func() error { _, err := c.Version(ctx, "@acme/widget", "9.9.9"); return err }, "get version"},
		{"private anonymously", func() error { _, err := w.client("", nil).Packument(ctx, "@acme/internal"); return err }, "get packument"},
		{"trust list", func() error { _, err := c.TrustList(ctx, "@acme/nope"); return err }, "list trust configs"},
		{"attestations", func() error { _, err := c.Attestations(ctx, "solo", "1.0.0-none"); return err }, "get attestations"},
		{"revoke", func() error { return c.RevokeToken(ctx, "no-such-key") }, "revoke token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.call()
			var e *npm.Error
			if !errors.Is(err, npm.ErrNotFound) || !errors.As(err, &e) || e.Status != 404 || !strings.Contains(err.Error(), tt.op) {
				t.Fatalf("error %v, want a 404 *npm.Error naming %q", err, tt.op)
			}
		})
	}
	_, err := c.Packument(ctx, "nope")
	if want := `could not get packument for package "nope": registry answered 404 Not Found: "Not found"`; err.Error() != want {
		t.Errorf("error text\n got %s\nwant %s", err, want)
	}
	if _, err := c.Packument(ctx, "../-/npm/v1/tokens"); err == nil || errors.Is(err, npm.ErrNotFound) {
		t.Errorf("an invalid name must fail before any request: %v", err)
	}
}

func TestDistTagWrites(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	must(t, w.reg.AddVersion("solo", npmreg.VersionSpec{Version: "1.1.0-rc.1", Tag: "next", By: "alice"}))
	otp := &countingOTP{next: npm.StaticOTP(aliceOTP)}
	c := w.client(aliceToken, otp)
	ctx := t.Context()
	must(t, c.SetDistTag(ctx, "solo", "beta", "1.1.0-rc.1"))
	must(t, c.DeleteDistTag(ctx, "solo", "next"))
	if diff := cmp.Diff(map[string]string{"latest": "1.0.0", "beta": "1.1.0-rc.1"}, w.reg.DistTags("solo")); diff != "" {
		t.Errorf("dist-tags (-want +got):\n%s", diff)
	}
	if otp.Count() != 1 {
		t.Errorf("OTP asked %d times, want 1 (reused inside the window)", otp.Count())
	}
	if err := c.SetDistTag(ctx, "solo", "beta", "7.0.0"); !errors.Is(err, npm.ErrNotFound) {
		t.Errorf("unknown version: %v", err)
	}
	if err := w.client("", nil).SetDistTag(ctx, "solo", "beta", "1.0.0"); !errors.Is(err, npm.ErrUnauthorized) {
		t.Errorf("anonymous write: %v", err)
	}
	// A bypass-2FA token writes dist-tags without an OTP.
	if err := w.client(botToken, nil).SetDistTag(ctx, "solo", "beta", "1.0.0"); err != nil {
		t.Errorf("bypass token: %v", err)
	}
}

func TestTrustLifecycle(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	otp := &countingOTP{next: npm.StaticOTP(aliceOTP)}
	c := w.client(aliceToken, otp)
	ctx := t.Context()
	got, err := c.TrustList(ctx, "@acme/widget")
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("TrustList before create: %+v", got)
	}
	want := npm.GitHubTrust("acme/widget", "release.yml", "npm")
	created, err := c.TrustCreate(ctx, "@acme/widget", want)
	must(t, err)
	if len(created) != 1 || created[0].ID == "" {
		t.Fatalf("TrustCreate: %+v", created)
	}
	_, err = c.TrustCreate(ctx, "@acme/widget", want)
	var e *npm.Error
	if !errors.Is(err, npm.ErrConflict) || !errors.As(err, &e) || e.Op != "create trust config" || e.Package != "@acme/widget" {
		t.Errorf("second TrustCreate: %v, want ErrConflict", err)
	}
	got, err = c.TrustList(ctx, "@acme/widget")
	must(t, err)
	if diff := cmp.Diff(created, got); diff != "" {
		t.Errorf("TrustList (-created +listed):\n%s", diff)
	}
	if diff := cmp.Diff([]string(nil), npm.TrustDiff(got[0], want), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("TrustDiff with itself: %s", diff)
	}
	mis := npm.TrustDiff(got[0], npm.GitHubTrust("acme/widget", "Release.yml", ""))
	if diff := cmp.Diff([]string{
		`workflow file is "release.yml", want "Release.yml" (differs only in case; npm compares case-sensitively)`,
		`environment is "npm", want ""`,
	}, mis); diff != "" {
		t.Errorf("TrustDiff (-want +got):\n%s", diff)
	}
	must(t, c.TrustDelete(ctx, "@acme/widget", got[0].ID))
	if _, ok := w.reg.Trust("@acme/widget"); ok {
		t.Error("trust config survived TrustDelete")
	}
	if err := c.TrustDelete(ctx, "@acme/widget", got[0].ID); !errors.Is(err, npm.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if otp.Count() != 1 {
		t.Errorf("OTP asked %d times, want 1", otp.Count())
	}
	// Bypass-2FA tokens cannot manage trust.
	if _, err := w.client(botToken, nil).TrustList(ctx, "@acme/widget"); !errors.Is(err, npm.ErrForbidden) {
		t.Errorf("bypass token on trust: %v, want ErrForbidden", err)
	}
}

func TestOTPFailures(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	tests := []struct {
		name string
		otp  npm.OTPSource
		msg  string
	}{
		{"no source", nil, "pass --otp"},
		{"wrong static", npm.StaticOTP("000000"), "rejected"},
		{"empty static", npm.StaticOTP(""), "no one-time password"},
		{"prompt fails", npm.PromptOTP(func(context.Context, string) (string, error) { return "", errors.New("not a terminal") }), "not a terminal"},
		{"web without fallback", npm.WebOTP{}, "pass --otp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := w.client(aliceToken, tt.otp).TrustList(ctx, "solo")
			if !errors.Is(err, npm.ErrOTPRequired) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v, want ErrOTPRequired mentioning %q", err, tt.msg)
			}
		})
	}
	var prompts []string
	var mu sync.Mutex
	prompt := npm.PromptOTP(func(_ context.Context, p string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		prompts = append(prompts, p)
		if len(prompts) == 1 {
			return "111111", nil // a typo; the registry rejects it and the prompt asks again
		}
		return aliceOTP, nil
	})
	if _, err := w.client(aliceToken, prompt).TrustList(ctx, "solo"); err != nil {
		t.Fatalf("prompt after a typo: %v", err)
	}
	if len(prompts) != 2 || !strings.Contains(prompts[0], `list trust configs for "solo"`) {
		t.Errorf("prompts: %q", prompts)
	}
}

func TestOTPWindow(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	otp := &countingOTP{next: npm.StaticOTP(aliceOTP)}
	c := w.client(aliceToken, otp)
	ctx := t.Context()
	for i, pkg := range []string{"@acme/widget", "@acme/gadget", "solo"} {
		_, err := c.TrustList(ctx, pkg)
		must(t, err)
		w.clk.Advance(time.Minute)
		if otp.Count() != 1 {
			t.Fatalf("after %d calls the OTP was asked %d times, want 1", i+1, otp.Count())
		}
	}
	w.clk.Advance(2 * time.Minute) // five minutes since the approval
	_, err := c.TrustList(ctx, "solo")
	must(t, err)
	if otp.Count() != 2 {
		t.Errorf("after the window the OTP was asked %d times in all, want 2", otp.Count())
	}
}

func TestWebOTP(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var mu sync.Mutex
	var opened []string
	web := npm.WebOTP{Open: func(_ context.Context, u string) error {
		mu.Lock()
		defer mu.Unlock()
		opened = append(opened, u)
		return nil
	}}
	// The user approves after the client has polled twice.
	approveAfter := 2
	w.clk.onWait = func(int) {
		mu.Lock()
		last := opened[len(opened)-1]
		mu.Unlock()
		if approveAfter--; approveAfter == 0 {
			must(t, w.reg.ApproveAuthURL(last))
		}
	}
	c := w.client(bobToken, web)
	ctx := t.Context()
	for _, pkg := range []string{"@acme/widget", "@acme/gadget", "solo", "@acme/internal"} {
		_, err := c.TrustList(ctx, pkg)
		must(t, err)
	}
	if len(opened) != 1 || !strings.HasPrefix(opened[0], w.srv.URL+prefix+"/-/sandbox/auth/") {
		t.Fatalf("login pages opened: %q, want one", opened)
	}
	if diff := cmp.Diff([]time.Duration{time.Second, time.Second}, w.clk.Sleeps()); diff != "" {
		t.Errorf("poll waits (-want +got):\n%s", diff)
	}

	// Past the five-minute window the registry and the client both want a new approval.
	w.clk.Advance(5*time.Minute + time.Second)
	approveAfter = 1
	_, err := c.TrustList(ctx, "solo")
	must(t, err)
	if len(opened) != 2 {
		t.Errorf("login pages opened after the window: %d, want 2", len(opened))
	}
	if !strings.Contains(w.logs.String(), "npm web login approved") {
		t.Error("the approval was not logged")
	}
}

func TestWebOTPTimeout(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client(bobToken, npm.WebOTP{Timeout: 30 * time.Second})
	_, err := c.TrustList(t.Context(), "solo")
	if !errors.Is(err, npm.ErrOTPRequired) || !strings.Contains(err.Error(), "not approved within 30s") {
		t.Fatalf("error %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.TrustList(ctx, "solo"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var keys []string
	for i := range 5 {
		tok, err := w.reg.AddToken(npmreg.TokenSpec{User: "alice", Name: fmt.Sprintf("repo-%d", i), Created: w.clk.Now().Add(time.Duration(i-10) * time.Hour), CIDR: []string{"10.0.0.0/8"}})
		must(t, err)
		keys = append(keys, tok.Key)
	}
	var pages int
	w.setWrap(func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.HasSuffix(r.URL.Path, "/-/npm/v1/tokens") {
			pages++
		}
		next.ServeHTTP(rw, r)
	})
	c := w.client(aliceToken, npm.StaticOTP(aliceOTP))
	ctx := t.Context()
	toks, err := c.Tokens(ctx)
	must(t, err)
	if pages != 3 {
		t.Errorf("fetched %d pages, want 3", pages)
	}
	var names []string
	for _, tk := range toks {
		names = append(names, tk.Name)
		if len(tk.Prefix) > 6 || strings.Contains(aliceToken+botToken, tk.Key) {
			t.Errorf("token %q shows too much: prefix %q", tk.Name, tk.Prefix)
		}
	}
	if diff := cmp.Diff([]string{"ci-publish", "repo-0", "repo-1", "repo-2", "repo-3", "repo-4"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if toks[0].Expires == nil || !toks[0].Expires.Equal(w.clk.Now().Add(60*24*time.Hour)) || toks[1].Expires != nil {
		t.Errorf("expires: %v, %v", toks[0].Expires, toks[1].Expires)
	}
	if diff := cmp.Diff([]string{"10.0.0.0/8"}, toks[1].CIDRWhitelist); diff != "" {
		t.Errorf("cidr (-want +got):\n%s", diff)
	}
	must(t, c.RevokeToken(ctx, keys[2]))
	for _, info := range w.reg.Tokens("alice") {
		if info.Key == keys[2] {
			t.Error("revoked token still exists")
		}
	}
	if err := w.client(botToken, nil).RevokeToken(ctx, keys[3]); !errors.Is(err, npm.ErrForbidden) {
		t.Errorf("revoke with a bypass token: %v, want ErrForbidden", err)
	}
}

func TestTokensRefusesForeignNext(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setWrap(func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write([]byte(`{"objects":[],"urls":{"next":"https://elsewhere.invalid/steal"}}`))
	})
	_, err := w.client(aliceToken, nil).Tokens(t.Context())
	if err == nil || !strings.Contains(err.Error(), "refusing to send credentials") {
		t.Fatalf("error %v", err)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	type step struct {
		status int
		header string // Retry-After
	}
	tests := []struct {
		name      string
		steps     []step
		wantErr   error
		wantCalls int
		wantWaits []time.Duration
	}{
		{"503 then success", []step{{503, ""}}, nil, 2, []time.Duration{500 * time.Millisecond}},
		{"503 503 then success", []step{{503, ""}, {502, ""}}, nil, 3, []time.Duration{500 * time.Millisecond, time.Second}},
		{"429 honours retry-after", []step{{429, "7"}}, nil, 2, []time.Duration{7 * time.Second}},
		{"503 with an HTTP date", []step{{503, "Mon, 02 Nov 2026 09:00:12 GMT"}}, nil, 2, []time.Duration{12 * time.Second}},
		{"gives up", []step{{503, ""}, {503, ""}, {503, ""}, {503, ""}}, npm.ErrServer, 4, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}},
		{"400 is not retried", []step{{400, ""}}, npm.ErrBadRequest, 1, nil},
		{"403 is not retried", []step{{403, ""}}, npm.ErrForbidden, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			calls := 0
			w.setWrap(func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
				calls++
				if calls <= len(tt.steps) {
					s := tt.steps[calls-1]
					if s.header != "" {
						rw.Header().Set("Retry-After", s.header)
					}
					rw.WriteHeader(s.status)
					_, _ = rw.Write([]byte(`{"error":"try later"}`))
					return
				}
				next.ServeHTTP(rw, r)
			})
			_, err := w.client(aliceToken, nil).Packument(t.Context(), "solo")
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if calls != tt.wantCalls {
				t.Errorf("%d requests, want %d", calls, tt.wantCalls)
			}
			if diff := cmp.Diff(tt.wantWaits, w.clk.Sleeps()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoConfiguredRegistry(t *testing.T) {
	t.Parallel()
	_, err := (&npm.Client{}).Packument(t.Context(), "solo")
	if err == nil || !strings.Contains(err.Error(), "registry URL is not configured") {
		t.Fatalf("error %v", err)
	}
}

// TestNoTokenLeak runs successes and every kind of failure with distinctive
// credentials and asserts that no error, log line or formatted value holds them.
func TestNoTokenLeak(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client(aliceToken, npm.StaticOTP(aliceOTP))
	ctx := t.Context()
	var texts []string
	collect := func(err error) {
		if err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
	}
	_, err := c.Packument(ctx, "solo")
	collect(err)
	_, err = c.Packument(ctx, "nope")
	collect(err)
	_, err = c.TrustCreate(ctx, "solo", npm.GitHubTrust("acme/solo", "release.yml", ""))
	collect(err)
	_, err = c.TrustCreate(ctx, "solo", npm.GitHubTrust("acme/solo", "release.yml", ""))
	collect(err)
	_, err = c.Tokens(ctx)
	collect(err)
	_, err = w.client(aliceToken, nil).TrustList(ctx, "solo")
	collect(err)
	_, err = w.client(aliceToken, npm.StaticOTP("000000")).TrustList(ctx, "solo")
	collect(err)
	_, err = w.client(bobToken, npm.WebOTP{Timeout: 3 * time.Second}).TrustList(ctx, "solo")
	collect(err)
	_, err = w.client(botToken+"x", nil).Whoami(ctx)
	collect(err)
	// A registry that echoes the credentials back in its error and notice.
	w.setWrap(func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		rw.Header().Set("npm-notice", "token "+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")+" otp "+r.Header.Get("npm-otp"))
		rw.WriteHeader(http.StatusForbidden)
		body, _ := json.Marshal(map[string]string{"error": "bad token " + r.Header.Get("Authorization")})
		_, _ = rw.Write(body)
	})
	err = c.SetDistTag(ctx, "solo", "x", "1.0.0")
	collect(err)
	w.setWrap(func(rw http.ResponseWriter, r *http.Request, next http.Handler) { rw.WriteHeader(503) })
	_, err = c.Whoami(ctx)
	collect(err)
	w.srv.Close()
	_, err = c.Whoami(ctx)
	collect(err)
	if len(texts) < 27 {
		t.Fatalf("only %d error texts collected", len(texts))
	}

	cfg := struct {
		Registry string
		Token    npm.Secret
	}{"r", npm.Secret(aliceToken)}
	js, _ := json.Marshal(cfg)
	texts = append(texts,
		w.logs.String(), string(js),
		fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c),
		fmt.Sprintf("%v %+v %#v %s %q %x %d", c.Token, c.Token, c.Token, c.Token, c.Token, c.Token, c.Token),
		fmt.Sprintf("%v %+v", cfg, cfg),
		fmt.Sprint(npm.StaticOTP(aliceOTP)),
	)
	for _, secret := range []string{aliceToken, botToken, bobToken, aliceOTP, "ALICEdistinctive", "BOBdistinctive"} {
		for _, s := range texts {
			if strings.Contains(s, secret) {
				t.Errorf("%q leaked into %q", secret, s)
			}
		}
	}
	if !strings.Contains(w.logs.String(), `"msg":"npm request"`) {
		t.Error("nothing was logged; the test proves nothing")
	}
}

func TestCancelledInFlight(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	release := make(chan struct{})
	defer close(release)
	w.setWrap(func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := w.client(aliceToken, nil).Packument(ctx, "solo")
	var e *npm.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &e) || e.Package != "solo" {
		t.Fatalf("error %v, want a deadline *npm.Error for solo", err)
	}
}
