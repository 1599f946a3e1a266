package github_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// TestTokenNeverLeaks runs every operation, failures included, with a
// debug logger, and looks for the token in logs, errors and the printed
// Forge.
func TestTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	w := startWorld(t, sandbox.Options{Faults: ghapi.Faults{Seed: 7, Rules: []ghapi.FaultRule{{ErrorRate: 0.1, ResetRate: 0.05}}}})
	if err := w.API.SetRepoSecret("acme", "widget", "NPM_TOKEN", ghapi.SecretOptions{}); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for i, tok := range []string{tokFull, tokNoFlow, tokReadOnly, "ghp_UNKNOWNtokenVALUEneverPRINTED9"} {
		branch := fmt.Sprint("leak-", i)
		log, logs := logger()
		f, _ := newForge(t, w, github.Options{BaseURL: w.URL, Logger: log, ProbeWorkflows: true}, tok)
		ctx := t.Context()
		note := func(err error) {
			if err != nil {
				texts = append(texts, err.Error(), fmt.Sprintf("%+v %#v", err, err))
			}
		}
		repo := forge.Repo{FullName: "acme/widget", DefaultBranch: "main", CloneURL: w.GitURL + "acme/widget.git", ID: 1}
		_, err := f.Repos(ctx, "acme", forge.ListOptions{})
		note(err)
		_, _, err = f.Snapshot(ctx, repo, "", relevant)
		note(err)
		res, err := f.Push(ctx, repo, forge.Change{Branch: branch, Files: map[string][]byte{".github/workflows/x.yml": []byte("on: push\n")}})
		note(err)
		_, err = f.Push(ctx, repo, forge.Change{Branch: branch, LastPushed: "0000000000000000000000000000000000000000", Files: map[string][]byte{"y": []byte("y")}})
		note(err)
		_, err = f.EnsurePR(ctx, repo, forge.PRSpec{Head: branch, Title: "t"})
		note(err)
		_, err = f.PR(ctx, repo, 999)
		note(err)
		note(f.SetVariable(ctx, repo, "V", "x"))
		_, _, err = f.Variable(ctx, repo, "V")
		note(err)
		_, err = f.Secrets(ctx, repo)
		note(err)
		note(f.DeleteSecret(ctx, repo, forge.Secret{Name: "NPM_TOKEN", Scope: "repo"}))
		_, err = f.EnsureIssue(ctx, repo, forge.IssueSpec{Marker: "m", Title: "t"})
		note(err)
		note(f.CloseIssue(ctx, repo, "m", "bye"))
		note(f.Preflight(ctx, repo))
		_ = res
		texts = append(texts, logs.String(), fmt.Sprintf("%+v", f), fmt.Sprintf("%#v", f), fmt.Sprintf("%v", f))

	}
	all := strings.Join(texts, "\n")
	if !strings.Contains(all, "level=DEBUG") || !strings.Contains(all, "level=INFO") {
		t.Error("nothing was logged")
	}
	for _, tok := range []string{tokFull, tokNoFlow, tokReadOnly, "ghp_UNKNOWNtokenVALUEneverPRINTED9"} {
		if strings.Contains(all, tok) || strings.Contains(all, tok[4:20]) {
			t.Errorf("token %s… leaked", tok[:8])
		}
	}
	if !strings.Contains(all, "the token lacks the workflow permission needed to change .github/workflows") {
		t.Errorf("the failures did not happen:\n%s", all)
	}
}

func TestResolveToken(t *testing.T) {
	// Not parallel: it changes PATH.
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	ctx := t.Context()
	t.Setenv("PATH", t.TempDir())
	tok, err := github.ResolveToken(ctx, "", env(map[string]string{"GH_TOKEN": " b ", "GITHUB_TOKEN": "a"}))
	if err != nil || tok != "a" {
		t.Errorf("GITHUB_TOKEN first: %q, %v", tok, err)
	}
	tok, err = github.ResolveToken(ctx, "", env(map[string]string{"GH_TOKEN": " b "}))
	if err != nil || tok != "b" {
		t.Errorf("GH_TOKEN: %q, %v", tok, err)
	}
	tok, err = github.ResolveToken(ctx, "ghe.example.com", env(map[string]string{"GH_ENTERPRISE_TOKEN": "e", "GITHUB_TOKEN": "a"}))
	if err != nil || tok != "e" {
		t.Errorf("enterprise: %q, %v", tok, err)
	}
	if _, err := github.ResolveToken(ctx, "", env(nil)); !errors.Is(err, github.ErrNoToken) {
		t.Errorf("no gh: %v", err)
	}

	dir := t.TempDir()
	script := "#!/bin/sh\nif [ \"$1 $2\" = \"auth token\" ]; then\n  if [ \"$3\" = --hostname ]; then echo ghp_from_gh_$4; else echo ghp_from_gh; fi\n  exit 0\nfi\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "gh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if tok, err := github.ResolveToken(ctx, "", env(nil)); err != nil || tok != "ghp_from_gh" {
		t.Errorf("gh auth token: %q, %v", tok, err)
	}
	if tok, err := github.ResolveToken(ctx, "ghe.example.com", env(nil)); err != nil || tok != "ghp_from_gh_ghe.example.com" {
		t.Errorf("gh auth token --hostname: %q, %v", tok, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gh"), []byte("#!/bin/sh\necho 'not logged in' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := github.ResolveToken(ctx, "", env(nil)); !errors.Is(err, github.ErrNoToken) || !strings.Contains(err.Error(), "not logged in") {
		t.Errorf("gh logged out: %v", err)
	}
	// gh's complaint is cut to 200 bytes after redaction: a token across
	// the cut is not printed in part.
	leak := "ghp_" + strings.Repeat("Z", 36)
	complaint := strings.Repeat("x", 190) + " " + leak + " and more"
	if err := os.WriteFile(filepath.Join(dir, "gh"), []byte("#!/bin/sh\necho '"+complaint+"' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := github.ResolveToken(ctx, "", env(nil)); !errors.Is(err, github.ErrNoToken) || strings.Contains(err.Error(), "ghp_Z") ||
		!strings.Contains(err.Error(), "[REDACTED") {
		t.Errorf("gh's complaint with a token across the cut: %v", err)
	}
	// New uses the environment it is given.
	f, err := github.New(ctx, github.Options{APIURL: "http://127.0.0.1:1/", Getenv: env(map[string]string{"GITHUB_TOKEN": "ghp_env"})})
	if err != nil || f == nil {
		t.Fatalf("New with GITHUB_TOKEN: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := github.New(ctx, github.Options{Getenv: env(nil)}); !errors.Is(err, github.ErrNoToken) {
		t.Errorf("New without a token: %v", err)
	}
}

// TestAppErrorCutAfterRedaction: GitHub's answer in an error is cut to 200
// bytes after redaction, so a token across the cut is not printed in part.
func TestAppErrorCutAfterRedaction(t *testing.T) {
	t.Parallel()
	leak := "ghs_" + strings.Repeat("Q", 36)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(rw, strings.Repeat("y", 190)+" "+leak+" upstream failed")
	}))
	defer srv.Close()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	_, err = github.New(t.Context(), github.Options{BaseURL: srv.URL + "/", App: &github.App{ID: 7, Org: "acme", PrivateKey: keyPEM}})
	if err == nil || strings.Contains(err.Error(), "ghs_Q") || !strings.Contains(err.Error(), "[REDACTED") || !strings.Contains(err.Error(), "502") {
		t.Errorf("error with a token across the cut: %v", err)
	}
}
