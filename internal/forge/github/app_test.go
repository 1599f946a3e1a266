package github_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// appFront stands in front of a sandbox and adds what the emulator lacks
// for GitHub Apps: minting installation tokens (checking the App's JWT)
// and listing the installation's repositories. Each token lives for
// lifetime and replaces the one before, which stops working, so a caller
// that holds on to a token fails.
type appFront struct {
	w        *sandbox.World
	appID    int64
	instID   int64
	key      *rsa.PrivateKey
	org      string
	perms    map[string]string
	lifetime time.Duration

	mu     sync.Mutex
	minted []string
	srv    *httptest.Server
}

func newAppFront(t *testing.T, w *sandbox.World, perms map[string]string) *appFront {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	a := &appFront{w: w, appID: 4242, instID: 77, key: key, org: "acme", perms: perms, lifetime: time.Hour}
	target, _ := url.Parse(w.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	a.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/api/v3")
		switch {
		case r.Method == "POST" && p == fmt.Sprintf("/app/installations/%d/access_tokens", a.instID):
			a.mint(rw, r)
		case r.Method == "GET" && p == "/installation/repositories":
			a.repos(rw, r)
		default:
			proxy.ServeHTTP(rw, r)
		}
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *appFront) keyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(a.key)})
}

// mint checks the JWT and answers a new installation token.
func (a *appFront) mint(rw http.ResponseWriter, r *http.Request) {
	raw := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &a.key.PublicKey, nil })
	if err != nil || claims.Issuer != strconv.FormatInt(a.appID, 10) {
		http.Error(rw, `{"message":"A JSON web token could not be decoded"}`, http.StatusUnauthorized)
		return
	}
	a.mu.Lock()
	tok := fmt.Sprintf("ghs_installation%04dTOKEN", len(a.minted))
	if n := len(a.minted); n > 0 {
		a.w.API.RemoveToken(a.minted[n-1])
	}
	a.minted = append(a.minted, tok)
	a.mu.Unlock()
	a.w.API.AddToken(tok, ghapi.Identity{Login: "cutover[bot]", Type: "Bot", Permissions: a.perms})
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusCreated)
	// GitHub names the variables permission actions_variables here.
	perms := map[string]string{}
	for k, v := range a.perms {
		if k == ghapi.PermVariables {
			k = "actions_variables"
		}
		perms[k] = v
	}
	_ = json.NewEncoder(rw).Encode(map[string]any{
		"token": tok, "expires_at": time.Now().Add(a.lifetime).UTC().Format(time.RFC3339), "permissions": perms,
	})
}

// repos lists the organisation's repositories as the installation's.
func (a *appFront) repos(rw http.ResponseWriter, r *http.Request) {
	req, _ := http.NewRequestWithContext(r.Context(), "GET", a.w.URL+"api/v3/orgs/"+a.org+"/repos?"+r.URL.RawQuery, nil)
	req.Header.Set("Authorization", r.Header.Get("Authorization"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	var list []json.RawMessage
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &list); err != nil {
		rw.WriteHeader(resp.StatusCode)
		_, _ = rw.Write(body)
		return
	}
	if link := resp.Header.Get("Link"); link != "" {
		link = strings.ReplaceAll(link, strings.TrimSuffix(a.w.URL, "/"), a.srv.URL)
		rw.Header().Set("Link", strings.ReplaceAll(link, "orgs/"+a.org+"/repos", "installation/repositories"))
	}
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(map[string]any{"total_count": len(list), "repositories": list})
}

func (a *appFront) mints() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.minted...)
}

func TestApp(t *testing.T) {
	t.Parallel()
	w := startWorld(t, sandbox.Options{})
	for i := range 120 {
		mustCreate(t, w, "acme", fmt.Sprintf("svc-%03d", i), ghapi.RepoOptions{Files: map[string][]byte{"package.json": []byte("{}\n")}})
	}
	mustCreate(t, w, "acme", "old", ghapi.RepoOptions{Archived: true})
	a := newAppFront(t, w, ghapi.AllPermissions())
	// Tokens that are always within a minute of expiry: ghinstallation
	// mints a new one whenever one is asked for.
	a.lifetime = 59 * time.Second
	log, logs := logger()
	f, err := github.New(t.Context(), github.Options{
		BaseURL: a.srv.URL, App: &github.App{ID: a.appID, InstallationID: a.instID, PrivateKey: a.keyPEM()},
		Limits: github.Limits{TimeScale: scale}, Author: forge.Author{Name: "cutover[bot]", Email: "bot@example.invalid"},
		Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	repos, err := f.Repos(ctx, "acme", forge.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(repos) != 121 {
		t.Errorf("%d installation repositories, want 121", len(repos))
	}
	if err := f.Preflight(ctx, repos[0]); err != nil {
		t.Fatal(err)
	}
	repo := repoOf(t, f, "acme/widget")
	for i := range 3 {
		before := len(a.mints())
		res, err := f.Push(ctx, repo, forge.Change{Branch: "cutover/app", LastPushed: branchSHA(t, w, "acme", "widget", "cutover/app"),
			Files: map[string][]byte{"N.md": []byte(fmt.Sprint(i))}})
		if err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
		if res.SHA != branchSHA(t, w, "acme", "widget", "cutover/app") {
			t.Fatalf("push %d did not land", i)
		}
		if after := len(a.mints()); after < before+2 {
			t.Errorf("push %d minted %d tokens; want a fresh one for the clone and the push", i, after-before)
		}
	}
	pr, err := f.EnsurePR(ctx, repo, forge.PRSpec{Head: "cutover/app", Title: "by the app"})
	if err != nil || pr.Number == 0 {
		t.Fatal(pr, err)
	}
	for _, tok := range a.mints() {
		if strings.Contains(logs.String(), tok) || strings.Contains(fmt.Sprintf("%+v %#v", f, f), tok) {
			t.Errorf("installation token %q leaked", tok)
		}
	}

	// An installation without the workflows permission is named.
	perms := maps.Clone(ghapi.AllPermissions())
	delete(perms, ghapi.PermWorkflows)
	b := newAppFront(t, w, perms)
	fb, err := github.New(t.Context(), github.Options{
		BaseURL: b.srv.URL, App: &github.App{ID: b.appID, InstallationID: b.instID, PrivateKey: b.keyPEM()},
		Limits: github.Limits{TimeScale: scale},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = fb.Preflight(ctx, repo)
	if err == nil || !strings.HasSuffix(err.Error(), `on "acme/widget": workflows (write)`) {
		t.Errorf("preflight without workflows = %v", err)
	}
}

// TestAppSandbox signs in through the sandbox's own App flow: the
// installation is found on the organisation with the App's JWT, and the
// preflight names what the installation lacks.
func TestAppSandbox(t *testing.T) {
	t.Parallel()
	w := startWorld(t, sandbox.Options{})
	perms := maps.Clone(ghapi.AllPermissions())
	delete(perms, ghapi.PermSecrets)
	delete(perms, ghapi.PermIssues)
	inst, err := w.InstallApp("acme", perms, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	f, err := github.New(ctx, github.Options{
		BaseURL: w.URL, App: &github.App{ID: inst.ID, Org: "acme", PrivateKey: inst.PrivateKeyPEM},
		Limits: github.Limits{TimeScale: scale},
	})
	if err != nil {
		t.Fatal(err)
	}
	repo := repoOf(t, f, "acme/widget")
	err = f.Preflight(ctx, repo)
	if err == nil || !strings.HasSuffix(err.Error(), `the GitHub App installation lacks permissions the campaign needs on "acme/widget": issues (write), secrets (write)`) {
		t.Errorf("preflight: %v", err)
	}
	if _, err := github.New(ctx, github.Options{
		BaseURL: w.URL, App: &github.App{ID: inst.ID, Org: "elsewhere", PrivateKey: inst.PrivateKeyPEM},
	}); err == nil || !strings.Contains(err.Error(), `the GitHub App 4242 is not installed on "elsewhere"`) {
		t.Errorf("no installation: %v", err)
	}
	if _, err := github.New(ctx, github.Options{
		BaseURL: w.URL, App: &github.App{ID: inst.ID, PrivateKey: inst.PrivateKeyPEM},
	}); err == nil || !strings.Contains(err.Error(), "no installation id and no organisation") {
		t.Errorf("no organisation: %v", err)
	}
}
