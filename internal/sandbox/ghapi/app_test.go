package ghapi_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"

	"github.com/cutover/cutover/internal/clocktest"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

func appJWT(t *testing.T, key *rsa.PrivateKey, iss string, iat time.Time, life time.Duration) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer: iss, IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(iat.Add(life)),
	}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// send makes one request with an Authorization header and decodes the body.
func send(t *testing.T, method, url, auth string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestAppFlow(t *testing.T) {
	t.Parallel()
	clk := clocktest.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	f := newFixture(t, ghapi.Options{Now: clk.Now})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	insts := f.api.AddApp(ghapi.App{ID: 31, Slug: "migrator", PublicKey: &key.PublicKey, TokenLifetime: 30 * time.Minute},
		ghapi.Installation{Account: "acme", Permissions: map[string]string{"contents": "write", "actions_variables": "write"}})
	inst := insts[0].ID
	if inst == 0 {
		t.Fatal("no installation id assigned")
	}
	good := appJWT(t, key, "31", clk.Now().Add(-30*time.Second), 10*time.Minute)

	// Refusals: no JWT, a token where a JWT belongs, another key, an
	// unknown App, an expired JWT, one that lives too long.
	refused := map[string]string{
		"none":      "",
		"token":     tokFull,
		"other key": appJWT(t, other, "31", clk.Now(), 10*time.Minute),
		"other app": appJWT(t, key, "32", clk.Now(), 10*time.Minute),
		"expired":   appJWT(t, key, "31", clk.Now().Add(-20*time.Minute), 10*time.Minute),
		"too long":  appJWT(t, key, "31", clk.Now(), time.Hour),
	}
	for name, jwt := range refused {
		if code, body := send(t, "POST", fmt.Sprintf("%sapp/installations/%d/access_tokens", f.url, inst), jwt); code != http.StatusUnauthorized {
			t.Errorf("%s: %d %v, want 401", name, code, body)
		}
	}

	// Discovery, under /api/v3 as on GitHub Enterprise Server too.
	code, body := send(t, "GET", f.url+"api/v3/orgs/acme/installation", good)
	if code != http.StatusOK || body["id"] != float64(inst) {
		t.Fatalf("GET /orgs/acme/installation: %d %v", code, body)
	}
	if want := fmt.Sprintf("%sapi/v3/app/installations/%d/access_tokens", f.url, inst); body["access_tokens_url"] != want {
		t.Errorf("access_tokens_url %v, want %s", body["access_tokens_url"], want)
	}
	if code, _ := send(t, "GET", f.url+"orgs/elsewhere/installation", good); code != http.StatusNotFound {
		t.Errorf("installation on an org without it: %d, want 404", code)
	}
	if code, _ := send(t, "POST", f.url+"app/installations/999999/access_tokens", good); code != http.StatusNotFound {
		t.Errorf("token for an unknown installation: %d, want 404", code)
	}

	// The installation token acts as the App's bot with the installation's
	// permissions, and lists the account's repositories.
	code, body = send(t, "POST", fmt.Sprintf("%sapp/installations/%d/access_tokens", f.url, inst), good)
	if code != http.StatusCreated {
		t.Fatalf("mint: %d %v", code, body)
	}
	tok, _ := body["token"].(string)
	if !strings.HasPrefix(tok, "ghs_") {
		t.Fatalf("token %q", tok)
	}
	if want := clk.Now().Add(30 * time.Minute).Format(time.RFC3339); body["expires_at"] != want {
		t.Errorf("expires_at %v, want %s", body["expires_at"], want)
	}
	if p, _ := body["permissions"].(map[string]any); p["actions_variables"] != "write" || p["contents"] != "write" {
		t.Errorf("permissions %v", body["permissions"])
	}
	if code, body := send(t, "GET", f.url+"user", tok); code != http.StatusOK || body["login"] != "migrator[bot]" || body["type"] != "Bot" {
		t.Errorf("GET /user: %d %v", code, body)
	}
	code, body = send(t, "GET", f.url+"installation/repositories", tok)
	if code != http.StatusOK || body["total_count"] != float64(1) {
		t.Errorf("GET /installation/repositories: %d %v", code, body)
	}
	if code, _ := send(t, "GET", f.url+"installation/repositories", tokFull); code != http.StatusForbidden {
		t.Errorf("installation repositories with a personal token: %d, want 403", code)
	}
	if code, _ := send(t, "POST", f.url+"repos/acme/widget/pulls", tok); code != http.StatusForbidden {
		t.Errorf("a pull request without pull_requests write: %d, want 403", code)
	}
	if _, ok := f.api.GitAccess(tok, "acme", "widget"); !ok {
		t.Error("git refuses the installation token")
	}

	// It expires: the API and git refuse it afterwards.
	clk.Advance(30*time.Minute + time.Second)
	if code, _ := send(t, "GET", f.url+"repos/acme/widget", tok); code != http.StatusUnauthorized {
		t.Errorf("an expired installation token: %d, want 401", code)
	}
	if _, ok := f.api.GitAccess(tok, "acme", "widget"); ok {
		t.Error("git accepts an expired installation token")
	}
	if code, _ := send(t, "GET", f.url+"app", appJWT(t, key, strconv.Itoa(31), clk.Now(), 5*time.Minute)); code != http.StatusOK {
		t.Errorf("GET /app: %d", code)
	}
}
