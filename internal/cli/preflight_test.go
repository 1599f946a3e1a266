package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// Token values of the preflight tests: never printed.
const (
	pfGood    = "npm_PREFLIGHTgoodTOKENvalue0000000001"
	pfSoon    = "npm_PREFLIGHTsoonTOKENvalue0000000002"
	pfRevoked = "npm_PREFLIGHTrevokedTOKENvalue00000003"
)

// preflightRegistry starts the npm emulator with user ci and its tokens.
func preflightRegistry(t *testing.T, now time.Time) string {
	t.Helper()
	reg := npmreg.New(npmreg.Options{Now: func() time.Time { return now }, Seed: 9, Prefix: "/npm"})
	if err := reg.AddUser(npmreg.UserSpec{Name: "ci"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []npmreg.TokenSpec{
		{User: "ci", Value: pfGood, Key: "k-good", Name: "ci-good", Created: now.Add(-10 * 24 * time.Hour)},
		{User: "ci", Value: pfSoon, Key: "k-soon", Name: "ci-soon", Created: now.Add(-85 * 24 * time.Hour), Expires: now.Add(3 * 24 * time.Hour)},
		{User: "ci", Value: pfRevoked, Key: "k-revoked", Name: "ci-revoked", Created: now.Add(-20 * 24 * time.Hour)},
	} {
		if _, err := reg.AddToken(s); err != nil {
			t.Fatal(err)
		}
	}
	reg.RevokeToken("k-revoked")
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	return srv.URL + "/npm/"
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	url := preflightRegistry(t, now)

	// A ledger export, written by cutover ledger export from a ledger with
	// the tokens' prefixes.
	exp := now.Add(30 * 24 * time.Hour)
	dir := t.TempDir()
	db := filepath.Join(dir, "cutover.db")
	led, err := ledger.Open(t.Context(), db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = led.UpsertTokens(t.Context(), []ledger.Token{
		{Key: "k-good", Prefix: pfGood[:18], Name: "ci-good", Created: now.Add(-10 * 24 * time.Hour)},
		{Key: "k-soon", Prefix: pfSoon[:18], Name: "ci-soon", Created: now.Add(-85 * 24 * time.Hour), Expires: &exp},
	})
	led.Close()
	if err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(dir, "ledger.json")
	if r := run(t, nil, "ledger", "export", "--ledger", db, "--out", export); r.code != ExitOK {
		t.Fatalf("ledger export: exit %d\n%s", r.code, r.err)
	}
	var doc []byte
	// A raw export whose estimated expiry is 90 days after creation.
	old := filepath.Join(t.TempDir(), "old.json")
	doc, _ = json.Marshal(map[string]any{"ledger": map[string]any{"tokens": []ledger.Token{
		{Key: "k-good", Prefix: pfGood[:18], Name: "ci-good", Created: now.Add(-86 * 24 * time.Hour)},
	}}})
	if err := os.WriteFile(old, doc, 0o644); err != nil {
		t.Fatal(err)
	}

	day := func(d int) string { return now.Add(time.Duration(d) * 24 * time.Hour).Format(time.DateOnly) }
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		out  []string
	}{
		{"unset", nil, nil, ExitFindings, []string{"::error title=cutover preflight::NPM_TOKEN is not set or empty: pass the secret to this job (env: NPM_TOKEN: ${{ secrets.NPM_TOKEN }})"}},
		{"blank", map[string]string{"NPM_TOKEN": "  "}, nil, ExitFindings, []string{"::error title=cutover preflight::NPM_TOKEN is not set or empty"}},
		{"white space", map[string]string{"NPM_TOKEN": pfGood + "\n"}, nil, ExitFindings, []string{"NPM_TOKEN has leading or trailing white space"}},
		{"revoked", map[string]string{"NPM_TOKEN": pfRevoked}, nil, ExitFindings, []string{"::error title=cutover preflight::the registry " + url + " refused the token in NPM_TOKEN (401): it is expired, revoked or mistyped"}},
		{"ok, expiry unknown", map[string]string{"NPM_TOKEN": pfGood}, nil, ExitOK, []string{`ok: NPM_TOKEN is accepted by ` + url + ` as "ci"; its expiry is not known`}},
		{"other variable", map[string]string{"NODE_AUTH_TOKEN": pfGood}, []string{"--token-env", "NODE_AUTH_TOKEN"}, ExitOK, []string{`ok: NODE_AUTH_TOKEN is accepted`}},
		{"expires flag, enough", map[string]string{"NPM_TOKEN": pfGood}, []string{"--expires", day(40)}, ExitOK, []string{"it expires on " + day(40) + ", in 39 day(s) (--expires)"}},
		{"expires flag, too soon", map[string]string{"NPM_TOKEN": pfGood}, []string{"--expires", day(5)}, ExitFindings, []string{"::error title=cutover preflight::the token in NPM_TOKEN expires on " + day(5) + ", in 4 day(s), less than --min-days 7 (--expires): create a new token"}},
		{"expires flag, warning", map[string]string{"NPM_TOKEN": pfGood}, []string{"--expires", day(10)}, ExitOK, []string{"::warning title=cutover preflight::the token in NPM_TOKEN expires on " + day(10), "ok: NPM_TOKEN is accepted"}},
		{"expired but accepted", map[string]string{"NPM_TOKEN": pfGood}, []string{"--expires", day(-1)}, ExitFindings, []string{"expired on " + day(-1)}},
		{"min days", map[string]string{"NPM_TOKEN": pfGood}, []string{"--expires", day(5), "--min-days", "2"}, ExitOK, []string{"ok:"}},
		{"export, matched by prefix", map[string]string{"NPM_TOKEN": pfSoon}, []string{"--ledger-export", export}, ExitOK, []string{"expires on " + exp.Format(time.DateOnly) + ", in 29 day(s)"}},
		{"export, matched by name", map[string]string{"NPM_TOKEN": pfGood}, []string{"--ledger-export", export, "--token-name", "ci-soon", "--min-days", "40"}, ExitFindings, []string{"less than --min-days 40 (from the ledger export)"}},
		{"export, estimated", map[string]string{"NPM_TOKEN": pfGood}, []string{"--ledger-export", old}, ExitFindings, []string{"in 3 day(s), less than --min-days 7 (estimated: created " + day(-86) + " plus npm's 90-day cap on write tokens)"}},
		{"export, unknown token", map[string]string{"NPM_TOKEN": pfGood}, []string{"--ledger-export", export, "--token-name", "nope"}, ExitOK, []string{"its expiry is not known"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"NPM_CONFIG_REGISTRY": url}
			for k, v := range tt.env {
				env[k] = v
			}
			r := run(t, env, append([]string{"preflight"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.out, r.err)
			}
			for _, want := range tt.out {
				if !strings.Contains(r.out, want) {
					t.Errorf("stdout does not contain %q:\n%s", want, r.out)
				}
			}
			if tt.code == ExitFindings && !strings.HasPrefix(r.err, "error: ") {
				t.Errorf("stderr: %q", r.err)
			}
			for _, secret := range []string{pfGood, pfSoon, pfRevoked, pfGood[:16]} {
				if strings.Contains(r.out+r.err, secret) {
					t.Errorf("the token reached the output:\n%s\n%s", r.out, r.err)
				}
			}
		})
	}
}

func TestPreflightUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"preflight", "--expires", "next week"},
		{"preflight", "--min-days", "-1"},
		{"preflight", "--token-env", "NPM TOKEN"},
		{"preflight", "--ledger-export", "/nonexistent/ledger.json"},
	} {
		r := run(t, map[string]string{"NPM_CONFIG_REGISTRY": "http://127.0.0.1:1/", "NPM_TOKEN": "x"}, args...)
		if args[1] == "--ledger-export" {
			// The registry is unreachable first: a failed check, not a usage error.
			if r.code != ExitFindings || !strings.Contains(r.out, "could not check the token in NPM_TOKEN") {
				t.Errorf("%v: %d\n%s%s", args, r.code, r.out, r.err)
			}
			continue
		}
		if r.code != ExitUsage {
			t.Errorf("%v: exit code %d\n%s", args, r.code, r.err)
		}
	}
}

func TestAnnotationEscape(t *testing.T) {
	t.Parallel()
	if got := annotationEscape("50% done\r\nnext"); got != "50%25 done%0D%0Anext" {
		t.Errorf("got %q", got)
	}
	var b bytes.Buffer
	err := preflightFailure(&b, "a\nb")
	if b.String() != "::error title=cutover preflight::a%0Ab\n" || err == nil {
		t.Errorf("%q %v", b.String(), err)
	}
	_ = context.Background()
}
