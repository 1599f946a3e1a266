package npmreg_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/clocktest"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

const prefix = "/npm"

type world struct {
	reg   *npmreg.Registry
	clk   *clocktest.Clock
	srv   *httptest.Server
	base  string
	alice npmreg.Token // fixed OTP 123456, maintainer of everything
	bob   npmreg.Token // web auth
	bot   npmreg.Token // alice's bypass-2FA automation token
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newWorld(t testing.TB) *world {
	t.Helper()
	clk := clocktest.New(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	reg := npmreg.New(npmreg.Options{Now: clk.Now, Seed: 7, Prefix: prefix, TokensPerPage: 2})
	must(t, reg.AddUser(npmreg.UserSpec{Name: "alice", OTP: "123456"}))
	must(t, reg.AddUser(npmreg.UserSpec{Name: "bob", WebAuth: true}))
	w := &world{reg: reg, clk: clk}
	var err error
	w.alice, err = reg.AddToken(npmreg.TokenSpec{User: "alice", Name: "laptop", Session: true})
	must(t, err)
	w.bob, err = reg.AddToken(npmreg.TokenSpec{User: "bob", Name: "bob-session", Session: true})
	must(t, err)
	w.bot, err = reg.AddToken(npmreg.TokenSpec{User: "alice", Name: "ci", Bypass2FA: true, Created: clk.Now().Add(-24 * time.Hour)})
	must(t, err)
	for _, n := range []string{"@acme/widget", "plain", "@acme/secret"} {
		must(t, reg.AddPackage(npmreg.PackageSpec{Name: n, Maintainers: []string{"alice", "bob"}, Private: n == "@acme/secret", Created: clk.Now().Add(-72 * time.Hour)}))
		must(t, reg.AddVersion(n, npmreg.VersionSpec{Version: "1.0.0", By: "alice", Published: clk.Now().Add(-48 * time.Hour)}))
	}
	wf := &npmreg.Workflow{Repository: "acme/widget", Path: ".github/workflows/release.yml"}
	must(t, reg.AddVersion("@acme/widget", npmreg.VersionSpec{Version: "1.1.0", OIDC: wf, Provenance: wf, Published: clk.Now().Add(-24 * time.Hour)}))
	w.srv = httptest.NewServer(reg)
	t.Cleanup(w.srv.Close)
	w.base = w.srv.URL + prefix
	return w
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (w *world) do(t testing.TB, method, path, token, otp string, body any) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		must(t, err)
		rd = bytes.NewReader(b)
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = w.base + path
	}
	req, err := http.NewRequest(method, u, rd)
	must(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if otp != "" {
		req.Header.Set("npm-otp", otp)
	}
	resp, err := w.srv.Client().Do(req)
	must(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(t, err)
	rep := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &rep.body)
	return rep
}

func TestEOTPShape(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	got := w.do(t, "GET", "/-/package/@acme%2fwidget/trust", w.alice.Value, "", nil)
	if got.status != 401 || got.header.Get("WWW-Authenticate") != "OTP" {
		t.Fatalf("status %d, www-authenticate %q", got.status, got.header.Get("WWW-Authenticate"))
	}
	if diff := cmp.Diff(map[string]any{"error": "This operation requires a one-time password."}, got.body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if got := w.do(t, "GET", "/-/package/@acme%2fwidget/trust", w.alice.Value, "999999", nil); got.status != 401 {
		t.Errorf("wrong OTP: status %d, want 401", got.status)
	}
	if got := w.do(t, "GET", "/-/package/@acme%2fwidget/trust", w.alice.Value, "123456", nil); got.status != 200 || string(got.raw) != "[]" {
		t.Errorf("with OTP: %d %s", got.status, got.raw)
	}
	if got := w.do(t, "GET", "/-/package/@acme%2fwidget/trust", w.bot.Value, "123456", nil); got.status != 403 {
		t.Errorf("bypass token on trust: status %d, want 403", got.status)
	}
}

func TestWebAuthWindow(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	first := w.do(t, "GET", "/-/package/plain/trust", w.bob.Value, "", nil)
	authURL, _ := first.body["authUrl"].(string)
	doneURL, _ := first.body["doneUrl"].(string)
	if first.status != 401 || !strings.HasPrefix(authURL, w.base+"/-/sandbox/auth/") || !strings.HasPrefix(doneURL, w.base+"/-/v1/done?authId=") {
		t.Fatalf("EOTP for web auth: %d %s", first.status, first.raw)
	}
	pending := w.do(t, "GET", doneURL, "", "", nil)
	if pending.status != 202 || pending.header.Get("Retry-After") != "1" {
		t.Fatalf("pending done: %d retry-after %q", pending.status, pending.header.Get("Retry-After"))
	}
	id := authURL[strings.LastIndexByte(authURL, '/')+1:]
	if diff := cmp.Diff([]string{id}, w.reg.PendingApprovals()); diff != "" {
		t.Errorf("pending approvals (-want +got):\n%s", diff)
	}
	if got := w.do(t, "POST", "/-/sandbox/approve/"+id, "", "", nil); got.status != 200 {
		t.Fatalf("approve: %d %s", got.status, got.raw)
	}
	done := w.do(t, "GET", doneURL, "", "", nil)
	otp, _ := done.body["token"].(string)
	if done.status != 200 || otp == "" {
		t.Fatalf("done after approval: %d %s", done.status, done.raw)
	}
	for range 3 {
		w.clk.Advance(time.Minute)
		if got := w.do(t, "GET", "/-/package/plain/trust", w.bob.Value, otp, nil); got.status != 200 {
			t.Fatalf("reuse inside the window: %d %s", got.status, got.raw)
		}
	}
	w.clk.Advance(2*time.Minute + time.Second)
	if got := w.do(t, "GET", "/-/package/plain/trust", w.bob.Value, otp, nil); got.status != 401 || got.body["authUrl"] == nil {
		t.Fatalf("after the window: %d %s", got.status, got.raw)
	}
}

func TestExchangeMatching(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, err := w.reg.SetTrust("@acme/widget", npmreg.TrustSpec{Repository: "acme/widget", File: "release.yml"})
	must(t, err)
	_, err = w.reg.SetTrust("plain", npmreg.TrustSpec{Repository: "acme/plain", File: "publish.yaml", Environment: "npm"})
	must(t, err)
	_, err = w.reg.SetTrust("@acme/secret", npmreg.TrustSpec{Repository: "acme/secret", File: "release.yml", Permissions: []string{npmreg.PermissionStagePublish}})
	must(t, err)
	mint := func(c npmreg.IDTokenClaims) string {
		tok, err := w.reg.MintIDToken(c)
		must(t, err)
		return tok
	}
	gh := npmreg.GitHubClaims
	selfHosted := gh("acme/widget", ".github/workflows/release.yml", "", "")
	selfHosted.RunnerEnvironment = "self-hosted"
	audience := func(aud string) npmreg.IDTokenClaims {
		c := gh("acme/widget", ".github/workflows/release.yml", "", "")
		c.Audience = aud
		return c
	}
	tests := []struct {
		name   string
		pkg    string
		token  string
		status int
	}{
		{"match", "@acme%2fwidget", mint(gh("acme/widget", ".github/workflows/release.yml", "refs/tags/v1.2.0", "")), 201},
		{"unescaped scope", "@acme/widget", mint(gh("acme/widget", ".github/workflows/release.yml", "", "")), 201},
		{"environment in claim, none configured", "@acme%2fwidget", mint(gh("acme/widget", ".github/workflows/release.yml", "", "prod")), 201},
		{"repository case", "@acme%2fwidget", mint(gh("Acme/widget", ".github/workflows/release.yml", "", "")), 404},
		{"file case", "@acme%2fwidget", mint(gh("acme/widget", ".github/workflows/Release.yml", "", "")), 404},
		{"yaml vs yml", "@acme%2fwidget", mint(gh("acme/widget", ".github/workflows/release.yaml", "", "")), 404},
		{"other file", "@acme%2fwidget", mint(gh("acme/widget", ".github/workflows/ci.yml", "", "")), 404},
		{"self-hosted runner", "@acme%2fwidget", mint(selfHosted), 404},
		{"environment match", "plain", mint(gh("acme/plain", ".github/workflows/publish.yaml", "", "npm")), 201},
		{"environment missing", "plain", mint(gh("acme/plain", ".github/workflows/publish.yaml", "", "")), 404},
		{"environment case", "plain", mint(gh("acme/plain", ".github/workflows/publish.yaml", "", "NPM")), 404},
		{"stage-only config", "@acme%2fsecret", mint(gh("acme/secret", ".github/workflows/release.yml", "", "")), 403},
		{"unknown package", "nope", mint(gh("acme/widget", ".github/workflows/release.yml", "", "")), 404},
		{"audience of this registry", "@acme%2fwidget", mint(audience("npm:127.0.0.1")), 201},
		{"audience of another registry", "@acme%2fwidget", mint(audience("npm:evil.example")), 401},
		{"audience with the port", "@acme%2fwidget", mint(audience("npm:" + strings.TrimPrefix(w.srv.URL, "http://"))), 401},
		{"GitHub's default audience (none asked for)", "@acme%2fwidget", mint(audience("https://github.com/acme")), 401},
		{"forged token", "@acme%2fwidget", "eyJhbGciOiJub25lIn0.eyJyZXBvc2l0b3J5IjoiYWNtZS93aWRnZXQifQ.", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := w.do(t, "POST", "/-/npm/v1/oidc/token/exchange/package/"+tt.pkg, tt.token, "", nil)
			if got.status != tt.status {
				t.Fatalf("status %d, want %d: %s", got.status, tt.status, got.raw)
			}
			switch tt.status {
			case 201:
				if tok, _ := got.body["token"].(string); !strings.HasPrefix(tok, "npm_oidc_") {
					t.Errorf("token %q", tok)
				}
			case 404:
				if diff := cmp.Diff(map[string]any{"message": "OIDC token exchange error - package not found"}, got.body); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestExpiredIDToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, err := w.reg.SetTrust("plain", npmreg.TrustSpec{Repository: "acme/plain", File: "release.yml"})
	must(t, err)
	tok, err := w.reg.MintIDToken(npmreg.GitHubClaims("acme/plain", ".github/workflows/release.yml", "", ""))
	must(t, err)
	w.clk.Advance(npmreg.DefaultIDTokenTTL)
	if got := w.do(t, "POST", "/-/npm/v1/oidc/token/exchange/package/plain", tok, "", nil); got.status != 401 {
		t.Fatalf("expired ID token: %d %s", got.status, got.raw)
	}
}

func versionDoc(t testing.TB, w *world, pkg, version string) map[string]any {
	t.Helper()
	got := w.do(t, "GET", "/"+strings.Replace(pkg, "/", "%2f", 1)+"/"+version, w.alice.Value, "", nil)
	if got.status != 200 {
		t.Fatalf("GET %s@%s: %d %s", pkg, version, got.status, got.raw)
	}
	return got.body
}

func TestPublishCanary(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, err := w.reg.SetTrust("@acme/widget", npmreg.TrustSpec{Repository: "acme/widget", File: "release.yml"})
	must(t, err)
	good, err := w.reg.MintIDToken(npmreg.GitHubClaims("acme/widget", ".github/workflows/release.yml", "refs/tags/v2.0.0", ""))
	must(t, err)
	wrongCase, err := w.reg.MintIDToken(npmreg.GitHubClaims("acme/widget", ".github/workflows/Release.yml", "", ""))
	must(t, err)
	expired, err := w.reg.AddToken(npmreg.TokenSpec{User: "alice", Bypass2FA: true, Expires: w.clk.Now().Add(-time.Hour)})
	must(t, err)
	plainToken, err := w.reg.AddToken(npmreg.TokenSpec{User: "alice"})
	must(t, err)

	tests := []struct {
		name      string
		version   string
		via       npmreg.PublishPath
		wantCode  string
		wantUser  string
		wantTP    bool
		wantProv  bool
		wantError string
	}{
		{name: "oidc", version: "2.0.0-canary.1", via: npmreg.PublishPath{OIDC: true, IDToken: good}, wantUser: "GitHub Actions", wantTP: true, wantProv: true},
		{name: "oidc wins over token", version: "2.0.0-canary.2", via: npmreg.PublishPath{OIDC: true, IDToken: good, Token: w.bot.Value}, wantUser: "GitHub Actions", wantTP: true, wantProv: true},
		{name: "mismatch falls back to token", version: "2.0.0-canary.3", via: npmreg.PublishPath{OIDC: true, IDToken: wrongCase, Token: w.bot.Value}, wantUser: "alice"},
		{name: "token with provenance", version: "2.0.0-canary.4", via: npmreg.PublishPath{OIDC: true, IDToken: wrongCase, Token: w.bot.Value, Provenance: true}, wantUser: "alice", wantProv: true},
		{name: "no id-token permission", version: "2.0.0-canary.5", via: npmreg.PublishPath{IDToken: good}, wantCode: "ENEEDAUTH"},
		{name: "mismatch without token", version: "2.0.0-canary.6", via: npmreg.PublishPath{OIDC: true, IDToken: wrongCase}, wantCode: "ENEEDAUTH"},
		{name: "expired token", version: "2.0.0-canary.7", via: npmreg.PublishPath{OIDC: true, IDToken: wrongCase, Token: expired.Value}, wantCode: "E404"},
		{name: "token needs 2FA", version: "2.0.0-canary.8", via: npmreg.PublishPath{Token: plainToken.Value}, wantCode: "E403", wantError: "bypass 2fa"},
		{name: "republish", version: "1.0.0", via: npmreg.PublishPath{Token: w.bot.Value}, wantCode: "E403", wantError: "previously published"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := w.reg.PublishCanary("@acme/widget", tt.version, "canary", tt.via)
			if tt.wantCode != "" {
				var e *npmreg.Error
				if !errors.As(err, &e) || e.Code != tt.wantCode || !strings.Contains(e.Message, tt.wantError) {
					t.Fatalf("error %v, want code %s containing %q", err, tt.wantCode, tt.wantError)
				}
				return
			}
			must(t, err)
			doc := versionDoc(t, w, "@acme/widget", tt.version)
			user, _ := doc["_npmUser"].(map[string]any)
			_, hasTP := user["trustedPublisher"]
			dist, _ := doc["dist"].(map[string]any)
			_, hasProv := dist["attestations"]
			if user["name"] != tt.wantUser || hasTP != tt.wantTP || hasProv != tt.wantProv {
				t.Errorf("_npmUser %v, attestations %v; want user %q trustedPublisher %v provenance %v", user, hasProv, tt.wantUser, tt.wantTP, tt.wantProv)
			}
		})
	}
	if got := w.reg.DistTags("@acme/widget")["latest"]; got != "1.1.0" {
		t.Errorf("latest moved to %q", got)
	}
}

func TestHTTPPublishWithProvenance(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cfg, err := w.reg.SetTrust("plain", npmreg.TrustSpec{Repository: "acme/plain", File: "release.yml"})
	must(t, err)
	idTok, err := w.reg.MintIDToken(npmreg.GitHubClaims("acme/plain", ".github/workflows/release.yml", "refs/tags/v1.2.0", ""))
	must(t, err)
	ex := w.do(t, "POST", "/-/npm/v1/oidc/token/exchange/package/plain", idTok, "", nil)
	pubTok, _ := ex.body["token"].(string)
	if ex.status != 201 {
		t.Fatalf("exchange: %d %s", ex.status, ex.raw)
	}
	body := func(version, repoURL string) map[string]any {
		tgz := npmreg.Tarball("plain", version)
		name, data, err := w.reg.ProvenanceAttachment(idTok, "plain", version, tgz)
		must(t, err)
		return map[string]any{
			"name":      "plain",
			"dist-tags": map[string]string{"latest": version},
			"versions":  map[string]any{version: map[string]any{"name": "plain", "version": version, "repository": map[string]string{"type": "git", "url": repoURL}}},
			"_attachments": map[string]any{
				"plain-" + version + ".tgz": map[string]any{"content_type": "application/octet-stream", "data": base64.StdEncoding.EncodeToString(tgz), "length": len(tgz)},
				name:                        map[string]any{"content_type": "application/vnd.dev.sigstore.bundle.v0.3+json", "data": string(data), "length": len(data)},
			},
		}
	}
	if got := w.do(t, "PUT", "/plain", pubTok, "", body("1.2.0", "git+https://github.com/acme/fork.git")); got.status != 422 || !strings.Contains(got.body["error"].(string), `"repository.url" is "https://github.com/acme/fork"`) {
		t.Fatalf("repository mismatch: %d %s", got.status, got.raw)
	}
	if got := w.do(t, "PUT", "/plain", pubTok, "", body("1.2.0", "git+https://github.com/acme/plain.git")); got.status != 200 {
		t.Fatalf("publish: %d %s", got.status, got.raw)
	}
	doc := versionDoc(t, w, "plain", "1.2.0")
	wantUser := map[string]any{"name": "GitHub Actions", "email": "npm-oidc-no-reply@github.com",
		"trustedPublisher": map[string]any{"id": "github", "oidcConfigId": "oidc:" + cfg}}
	if diff := cmp.Diff(wantUser, doc["_npmUser"]); diff != "" {
		t.Errorf("_npmUser (-want +got):\n%s", diff)
	}
	dist := doc["dist"].(map[string]any)
	wantAtt := map[string]any{"url": w.base + "/-/npm/v1/attestations/plain@1.2.0", "provenance": map[string]any{"predicateType": npmreg.SLSAProvenanceV1}}
	if diff := cmp.Diff(wantAtt, dist["attestations"]); diff != "" {
		t.Errorf("dist.attestations (-want +got):\n%s", diff)
	}
	if tb := dist["tarball"].(string); tb != w.base+"/plain/-/plain-1.2.0.tgz" {
		t.Errorf("tarball URL %q", tb)
	}
	att := w.do(t, "GET", "/-/npm/v1/attestations/plain@1.2.0", "", "", nil)
	var parsed struct {
		Attestations []struct {
			PredicateType string `json:"predicateType"`
			Bundle        struct {
				DSSEEnvelope struct {
					Payload     string `json:"payload"`
					PayloadType string `json:"payloadType"`
				} `json:"dsseEnvelope"`
			} `json:"bundle"`
		} `json:"attestations"`
	}
	must(t, json.Unmarshal(att.raw, &parsed))
	if len(parsed.Attestations) != 2 || parsed.Attestations[0].PredicateType != npmreg.SLSAProvenanceV1 || parsed.Attestations[0].Bundle.DSSEEnvelope.PayloadType != npmreg.InTotoPayloadType {
		t.Fatalf("attestations: %s", att.raw)
	}
	payload, err := base64.StdEncoding.DecodeString(parsed.Attestations[0].Bundle.DSSEEnvelope.Payload)
	must(t, err)
	for _, want := range []string{`"repository":"https://github.com/acme/plain"`, `"path":".github/workflows/release.yml"`, `"ref":"refs/tags/v1.2.0"`, `"id":"https://github.com/actions/runner/github-hosted"`, `"name":"pkg:npm/plain@1.2.0"`} {
		if !strings.Contains(string(payload), want) {
			t.Errorf("statement lacks %s: %s", want, payload)
		}
	}
	if got := w.do(t, "GET", "/plain/-/plain-1.2.0.tgz", "", "", nil); got.status != 200 || !bytes.Equal(got.raw, npmreg.Tarball("plain", "1.2.0")) {
		t.Errorf("tarball: %d", got.status)
	}
	w.clk.Advance(npmreg.DefaultExchangeTokenTTL)
	if got := w.do(t, "PUT", "/plain", pubTok, "", body("1.3.0", "git+https://github.com/acme/plain.git")); got.status != 404 || got.header.Get("npm-notice") == "" {
		t.Errorf("expired publish token: %d %v", got.status, got.header)
	}
}

func TestTokensPaginationAndRevoke(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for i := range 3 {
		_, err := w.reg.AddToken(npmreg.TokenSpec{User: "alice", Name: "t" + string(rune('a'+i)), Created: w.clk.Now().Add(time.Duration(i) * time.Minute)})
		must(t, err)
	}
	var names []string
	next := prefix + "/-/npm/v1/tokens"
	for next != "" {
		got := w.do(t, "GET", w.srv.URL+next, w.alice.Value, "", nil)
		if got.status != 200 || got.body["total"] != float64(4) {
			t.Fatalf("list: %d %s", got.status, got.raw)
		}
		for _, o := range got.body["objects"].([]any) {
			obj := o.(map[string]any)
			names = append(names, obj["name"].(string))
			if len(obj["token"].(string)) > 6 {
				t.Errorf("token list shows %d characters of a token", len(obj["token"].(string)))
			}
		}
		next, _ = got.body["urls"].(map[string]any)["next"].(string)
		if next != "" && !strings.HasPrefix(next, prefix+"/") {
			t.Fatalf("next %q lacks the prefix", next)
		}
	}
	if diff := cmp.Diff([]string{"ci", "ta", "tb", "tc"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if got := w.do(t, "DELETE", "/-/npm/v1/tokens/token/"+w.bot.Key, w.alice.Value, "", nil); got.status != 401 {
		t.Errorf("revoke without OTP: %d", got.status)
	}
	if got := w.do(t, "DELETE", "/-/npm/v1/tokens/token/"+w.bot.Key, w.bot.Value, "", nil); got.status != 403 {
		t.Errorf("revoke with a bypass token: %d", got.status)
	}
	if got := w.do(t, "DELETE", "/-/npm/v1/tokens/token/"+w.bot.Key, w.alice.Value, "123456", nil); got.status != 204 {
		t.Errorf("revoke: %d %s", got.status, got.raw)
	}
	if got := w.do(t, "GET", "/-/whoami", w.bot.Value, "", nil); got.status != 401 {
		t.Errorf("whoami with a revoked token: %d", got.status)
	}
	if got := w.do(t, "GET", "/-/whoami", w.alice.Value, "", nil); got.body["username"] != "alice" {
		t.Errorf("whoami: %s", got.raw)
	}
}

func TestPackumentAndPrivacy(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, path := range []string{"/@acme%2fwidget", "/@acme/widget", "/@acme%2Fwidget"} {
		got := w.do(t, "GET", path, "", "", nil)
		if got.status != 200 || got.body["name"] != "@acme/widget" {
			t.Fatalf("GET %s: %d %s", path, got.status, got.raw)
		}
		times := got.body["time"].(map[string]any)
		for _, k := range []string{"created", "modified", "1.0.0", "1.1.0"} {
			if _, ok := times[k]; !ok {
				t.Errorf("time lacks %q", k)
			}
		}
		if got.body["maintainers"] == nil || got.body["dist-tags"].(map[string]any)["latest"] != "1.1.0" {
			t.Errorf("packument: %s", got.raw)
		}
	}
	if got := w.do(t, "GET", "/@acme%2fsecret", "", "", nil); got.status != 404 {
		t.Errorf("private anonymously: %d", got.status)
	}
	if got := w.do(t, "GET", "/-/package/@acme%2fsecret/visibility", w.alice.Value, "", nil); got.status != 200 || got.body["public"] != false {
		t.Errorf("visibility: %d %s", got.status, got.raw)
	}
	if got := w.do(t, "GET", "/nope", "", "", nil); got.status != 404 {
		t.Errorf("unknown: %d", got.status)
	}
	if got := w.do(t, "GET", "/plain", "", "", nil); got.status != 200 {
		t.Errorf("outside prefix must be served under %s: %d", prefix, got.status)
	}
	resp, err := w.srv.Client().Get(w.srv.URL + "/plain")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET without the prefix: %d, want 404", resp.StatusCode)
	}
}

func TestDistTagsAndTrust(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if got := w.do(t, "PUT", "/-/package/@acme%2fwidget/dist-tags/next", w.bot.Value, "", "1.0.0"); got.status != 200 {
		t.Fatalf("set tag: %d %s", got.status, got.raw)
	}
	if got := w.do(t, "PUT", "/-/package/@acme%2fwidget/dist-tags/next", w.alice.Value, "", "1.0.0"); got.status != 401 {
		t.Errorf("set tag without OTP: %d", got.status)
	}
	if got := w.do(t, "DELETE", "/-/package/@acme%2fwidget/dist-tags/latest", w.bot.Value, "", nil); got.status != 400 {
		t.Errorf("delete latest: %d", got.status)
	}
	got := w.do(t, "GET", "/-/package/@acme%2fwidget/dist-tags", "", "", nil)
	if diff := cmp.Diff(map[string]any{"latest": "1.1.0", "next": "1.0.0"}, got.body); diff != "" {
		t.Errorf("dist-tags (-want +got):\n%s", diff)
	}
	cfg := []map[string]any{{"type": "github", "claims": map[string]any{"repository": "acme/widget", "workflow_ref": map[string]string{"file": "release.yml"}, "environment": "npm"}, "permissions": []string{"createPackage"}}}
	created := w.do(t, "POST", "/-/package/@acme%2fwidget/trust", w.alice.Value, "123456", cfg)
	if created.status != 201 {
		t.Fatalf("create trust: %d %s", created.status, created.raw)
	}
	if got := w.do(t, "POST", "/-/package/@acme%2fwidget/trust", w.alice.Value, "123456", cfg); got.status != 409 {
		t.Errorf("second create: %d, want 409", got.status)
	}
	list := w.do(t, "GET", "/-/package/@acme%2fwidget/trust", w.alice.Value, "123456", nil)
	var items []map[string]any
	must(t, json.Unmarshal(list.raw, &items))
	if len(items) != 1 || items[0]["id"] == "" {
		t.Fatalf("list: %s", list.raw)
	}
	id := items[0]["id"].(string)
	if got := w.do(t, "DELETE", "/-/package/@acme%2fwidget/trust/"+id, w.alice.Value, "123456", nil); got.status != 204 {
		t.Errorf("delete: %d", got.status)
	}
	if _, ok := w.reg.Trust("@acme/widget"); ok {
		t.Error("trust config still there")
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	a, b := newWorld(t), newWorld(t)
	pa, err := a.reg.Packument("@acme/widget", "http://sandbox.invalid")
	must(t, err)
	pb, err := b.reg.Packument("@acme/widget", "http://sandbox.invalid")
	must(t, err)
	if !bytes.Equal(pa, pb) || a.alice != b.alice {
		t.Error("two registries with the same seed differ")
	}
}

func TestTOTP(t *testing.T) {
	t.Parallel()
	// RFC 6238 appendix B, SHA-1, truncated to 6 digits.
	got, err := npmreg.TOTP("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", time.Unix(59, 0))
	must(t, err)
	if got != "287082" {
		t.Errorf("TOTP = %q, want 287082", got)
	}
}

func TestTokenCreate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	body := map[string]any{"name": "release", "password": "", "expires": 30, "cidr_whitelist": []string{"10.0.0.0/8"}, "bypass_2fa": true}
	if got := w.do(t, "POST", "/-/npm/v1/tokens", w.alice.Value, "", body); got.status != 401 {
		t.Fatalf("create without OTP: %d", got.status)
	}
	if got := w.do(t, "POST", "/-/npm/v1/tokens", w.bot.Value, "123456", body); got.status != 403 {
		t.Fatalf("create with a bypass token: %d", got.status)
	}
	got := w.do(t, "POST", "/-/npm/v1/tokens", w.alice.Value, "123456", body)
	if got.status != 201 || got.body["expires"] != "2026-12-02T09:00:00.000Z" || got.body["name"] != "release" {
		t.Fatalf("create: %d %s", got.status, got.raw)
	}
	value := got.body["token"].(string)
	if who := w.do(t, "GET", "/-/whoami", value, "", nil); who.body["username"] != "alice" {
		t.Errorf("new token whoami: %s", who.raw)
	}
	body["expires"] = 91
	if got := w.do(t, "POST", "/-/npm/v1/tokens", w.alice.Value, "123456", body); got.status != 400 {
		t.Errorf("a 91-day write token: %d", got.status)
	}
	w.clk.Advance(30 * 24 * time.Hour)
	if who := w.do(t, "GET", "/-/whoami", value, "", nil); who.status != 401 {
		t.Errorf("expired token whoami: %d", who.status)
	}
}

func TestHTTPPublishWithToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	body := func(name, version string) map[string]any {
		tgz := npmreg.Tarball(name, version)
		return map[string]any{
			"name":      name,
			"access":    "public",
			"dist-tags": map[string]string{"next": version},
			"versions":  map[string]any{version: map[string]any{"name": name, "version": version}},
			"_attachments": map[string]any{
				name + "-" + version + ".tgz": map[string]any{"data": base64.StdEncoding.EncodeToString(tgz), "length": len(tgz)},
			},
		}
	}
	// A web-auth account gets an interactive EOTP on publish.
	if got := w.do(t, "PUT", "/plain", w.bob.Value, "", body("plain", "1.1.0")); got.status != 401 || got.body["authUrl"] == nil {
		t.Fatalf("web account without OTP: %d %s", got.status, got.raw)
	}
	if got := w.do(t, "PUT", "/plain", w.alice.Value, "123456", body("plain", "1.1.0")); got.status != 200 {
		t.Fatalf("publish with OTP: %d %s", got.status, got.raw)
	}
	doc := versionDoc(t, w, "plain", "1.1.0")
	if diff := cmp.Diff(map[string]any{"name": "alice", "email": "alice@example.invalid"}, doc["_npmUser"]); diff != "" {
		t.Errorf("_npmUser (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"latest": "1.0.0", "next": "1.1.0"}, w.reg.DistTags("plain")); diff != "" {
		t.Errorf("dist-tags (-want +got):\n%s", diff)
	}
	// A first publish creates the package with the publisher as maintainer.
	if got := w.do(t, "PUT", "/@acme%2fnew", w.bot.Value, "", body("@acme/new", "0.1.0")); got.status != 200 {
		t.Fatalf("first publish: %d %s", got.status, got.raw)
	}
	if got := w.do(t, "GET", "/@acme%2fnew", "", "", nil); got.status != 200 || got.body["maintainers"].([]any)[0].(map[string]any)["name"] != "alice" {
		t.Errorf("new package: %d %s", got.status, got.raw)
	}
	if got := w.do(t, "PUT", "/plain", "", "", body("plain", "1.2.0")); got.status != 401 {
		t.Errorf("anonymous publish: %d", got.status)
	}
	if got := w.do(t, "PUT", "/plain", "npm_unknown", "", body("plain", "1.2.0")); got.status != 404 || got.header.Get("npm-notice") == "" {
		t.Errorf("unknown token publish: %d", got.status)
	}
}

func TestRegistrySignatures(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	keys := w.do(t, "GET", "/-/npm/v1/keys", "", "", nil)
	if keys.status != 200 {
		t.Fatalf("keys: %d %s", keys.status, keys.raw)
	}
	var kd struct {
		Keys []struct {
			KeyID   string  `json:"keyid"`
			KeyType string  `json:"keytype"`
			Scheme  string  `json:"scheme"`
			Key     string  `json:"key"`
			Expires *string `json:"expires"`
		} `json:"keys"`
	}
	must(t, json.Unmarshal(keys.raw, &kd))
	if len(kd.Keys) != 1 || kd.Keys[0].KeyType != "ecdsa-sha2-nistp256" || kd.Keys[0].Scheme != "ecdsa-sha2-nistp256" || kd.Keys[0].Expires != nil {
		t.Fatalf("keys %s", keys.raw)
	}
	der, err := base64.StdEncoding.DecodeString(kd.Keys[0].Key)
	must(t, err)
	pub, err := x509.ParsePKIXPublicKey(der)
	must(t, err)
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		t.Fatalf("key is %T, want a P-256 ECDSA key", pub)
	}
	sum := sha256.Sum256(der)
	if want := "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]); kd.Keys[0].KeyID != want {
		t.Errorf("keyid %q, want %q", kd.Keys[0].KeyID, want)
	}
	for _, v := range []string{"1.0.0", "1.1.0"} {
		doc := versionDoc(t, w, "@acme/widget", v)
		dist := doc["dist"].(map[string]any)
		integrity := dist["integrity"].(string)
		sigs := dist["signatures"].([]any)
		if len(sigs) != 1 {
			t.Fatalf("%s: signatures %v", v, sigs)
		}
		sig := sigs[0].(map[string]any)
		if sig["keyid"] != kd.Keys[0].KeyID {
			t.Errorf("%s: keyid %v", v, sig["keyid"])
		}
		raw, err := base64.StdEncoding.DecodeString(sig["sig"].(string))
		must(t, err)
		msg := sha256.Sum256([]byte("@acme/widget@" + v + ":" + integrity))
		if !ecdsa.VerifyASN1(ec, msg[:], raw) {
			t.Errorf("%s: the signature does not verify", v)
		}
		bad := sha256.Sum256([]byte("@acme/widget@" + v + ":sha512-AAAA"))
		if ecdsa.VerifyASN1(ec, bad[:], raw) {
			t.Errorf("%s: the signature verifies another integrity", v)
		}
	}
}

func TestPingAccessListAndAlias(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	must(t, w.reg.AddUser(npmreg.UserSpec{Name: "carol"}))
	carol, err := w.reg.AddToken(npmreg.TokenSpec{User: "carol", Name: "carol"})
	must(t, err)
	tests := []struct {
		name, path, token string
		status            int
		want              map[string]any
	}{
		{"ping", "/-/ping?write=true", "", 200, map[string]any{}},
		{"org as maintainer", "/-/org/acme/package", w.alice.Value, 200, map[string]any{"@acme/widget": "read-write", "@acme/secret": "read-write"}},
		{"org as an outsider", "/-/org/acme/package", carol.Value, 200, map[string]any{"@acme/widget": "read-only"}},
		{"org, anonymous", "/-/org/acme/package", "", 200, map[string]any{"@acme/widget": "read-only"}},
		{"unknown org", "/-/org/nobody/package", w.alice.Value, 404, nil},
		{"user", "/-/user/alice/package", w.alice.Value, 200, map[string]any{"@acme/widget": "read-write", "@acme/secret": "read-write", "plain": "read-write"}},
		{"user with nothing", "/-/user/carol/package", carol.Value, 200, map[string]any{}},
		{"unknown user", "/-/user/nobody/package", w.alice.Value, 404, nil},
		{"collaborators", "/-/package/@acme%2fwidget/collaborators", "", 200, map[string]any{"alice": "read-write", "bob": "read-write"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := w.do(t, "GET", tt.path, tt.token, "", nil)
			if got.status != tt.status {
				t.Fatalf("status %d, want %d: %s", got.status, tt.status, got.raw)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, got.body); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
		})
	}

	// The same registry at the root of another server: its URLs follow.
	root := httptest.NewServer(w.reg.Handler(""))
	t.Cleanup(root.Close)
	got := w.do(t, "GET", root.URL+"/plain/1.0.0", "", "", nil)
	if got.status != 200 {
		t.Fatalf("root: %d %s", got.status, got.raw)
	}
	if tb := got.body["dist"].(map[string]any)["tarball"]; tb != root.URL+"/plain/-/plain-1.0.0.tgz" {
		t.Errorf("tarball at the root: %v", tb)
	}
	if got := w.do(t, "GET", root.URL+"/npm/plain", "", "", nil); got.status != 404 {
		t.Errorf("prefixed path on the root handler: %d", got.status)
	}
}
