package batch_test

import (
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// tokenEnv seeds alice's tokens (seven listed, two per page) and two
// repositories: acme/widget cut over and verified, acme/gadget not.
func tokenEnv(t *testing.T) *npmEnv {
	t.Helper()
	env := newNPMEnv(t, npmreg.Options{TokensPerPage: 2})
	ctx := t.Context()
	now := env.clk.Now()
	day := 24 * time.Hour
	for i, s := range []npmreg.TokenSpec{
		{Key: "key-widget-0001", Name: "ci-acme-widget", Created: now.Add(-200 * day), Expires: now.Add(30 * day), Bypass2FA: true, CIDR: []string{"10.0.0.0/8"}},
		{Key: "key-gadget-0002", Name: "ci-acme-gadget", Created: now.Add(-100 * day), Bypass2FA: true},
		{Key: "key-old-000003", Name: "ci-old", Created: now.Add(-400 * day), Value: npmOldToken},
		{Key: "key-laptop-0004", Name: "laptop", Created: now.Add(-10 * day), Readonly: true, Value: npmReadToken},
		{Key: "key-new-000005", Name: "ci-new", Created: now.Add(-1 * day), Value: npmCIToken},
		{Key: "key-misc-000006", Name: "misc", Created: now.Add(-60 * day)},
		{Key: "key-misc-000007", Name: "misc", Created: now.Add(-70 * day)},
	} {
		s.User = "alice"
		if s.Value == "" {
			s.Value = "npm_GENERATEDtokenVALUEforREVOKEtest00" + string(rune('0'+i))
		}
		_, err := env.reg.AddToken(s)
		npmMust(t, err)
	}
	env.seed(t, []string{"verified"},
		npmRepo{name: "acme/widget", workflow: "release.yml", pkgs: []string{"@acme/widget"}, feeds: []string{"NPM_TOKEN"}},
		npmRepo{name: "acme/gadget", workflow: "release.yml", pkgs: []string{"@acme/gadget"}, feeds: []string{"NPM_TOKEN"}},
	)
	npmMust(t, env.led.UpsertTokens(ctx, []ledger.Token{
		{Key: "key-widget-0001", Name: "ci-acme-widget", Source: "config", Repo: "acme/widget"},
		{Key: "key-gadget-0002", Name: "ci-acme-gadget", Source: "config", Repo: "acme/gadget"},
	}))
	markCutOver(t, env, "acme/widget", "@acme/widget")
	return env
}

// markCutOver records the flag on and a passing verification.
func markCutOver(t *testing.T, env *npmEnv, repo, pkg string) {
	t.Helper()
	ctx := t.Context()
	npmMust(t, env.led.SetFlag(ctx, repo, flagVar, "true"))
	_, err := env.led.RecordVerification(ctx, ledger.Verification{Repo: repo, Package: pkg, Version: "2.0.0-canary.1", Tag: "canary",
		Checks: []ledger.Check{{Name: "trusted-publisher", OK: true, Message: "ok"}}})
	npmMust(t, err)
}

func keys(rep batch.RevokeTokensReport) []string {
	var out []string
	for _, a := range rep.Tokens {
		out = append(out, a.Key)
	}
	return out
}

func TestRevokeTokensSelection(t *testing.T) {
	t.Parallel()
	env := tokenEnv(t)
	n := env.npm(env.client(npmAliceToken, npm.StaticOTP(npmAliceOTP)))
	ctx := t.Context()
	cutoff := env.clk.Now().Add(-50 * 24 * time.Hour)
	for _, tt := range []struct {
		name string
		opts batch.RevokeTokensOptions
		want []string
		err  string
	}{
		{name: "nothing selected", opts: batch.RevokeTokensOptions{}, err: "no tokens selected"},
		{name: "bad pattern", opts: batch.RevokeTokensOptions{Name: "ci-["}, err: "name pattern"},
		{name: "name and date", opts: batch.RevokeTokensOptions{Name: "ci-*", CreatedBefore: cutoff}, want: []string{"key-old-000003", "key-widget-0001", "key-gadget-0002"}},
		{name: "name", opts: batch.RevokeTokensOptions{Name: "misc"}, want: []string{"key-misc-000007", "key-misc-000006"}},
		{name: "migrated", opts: batch.RevokeTokensOptions{Migrated: true}, want: []string{"key-widget-0001"}},
		{name: "keys and prefix", opts: batch.RevokeTokensOptions{Keys: []string{"key-laptop-0004", "key-new-0"}}, want: []string{"key-laptop-0004", "key-new-000005"}},
		{name: "ambiguous and unknown keys", opts: batch.RevokeTokensOptions{Keys: []string{"key-misc-", "key-nope-999"}}, want: []string{"key-misc-", "key-nope-999"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := n.RevokeTokens(ctx, tt.opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			npmMust(t, err)
			if rep.Listed != 7 || !slices.Equal(keys(rep), tt.want) {
				t.Errorf("listed %d, selected %q, want 7 and %q", rep.Listed, keys(rep), tt.want)
			}
			for _, a := range rep.Tokens {
				if a.Kind == batch.Failed {
					if !strings.HasPrefix(a.Key, "key-misc-") && !strings.HasPrefix(a.Key, "key-nope") {
						t.Errorf("%s failed: %+v", a.Key, a)
					}
					continue
				}
				if a.Kind != batch.OK || a.Detail != "would revoke" || len(a.Prefix) != 6 {
					t.Errorf("dry run %s: %+v", a.Key, a)
				}
			}
		})
	}
	// Seven tokens at two a page: four pages per listing.
	if got := env.count("GET", "/-/npm/v1/tokens"); got != 4*5 {
		t.Errorf("%d token list requests for 5 listings, want 20", got)
	}
	if env.count("DELETE", "/-/npm/v1/tokens") != 0 {
		t.Error("a dry run revoked tokens")
	}
	// The ledger knows every listed token and still which repository two belong to.
	toks, err := env.led.Tokens(ctx)
	npmMust(t, err)
	if len(toks) != 7 {
		t.Errorf("%d tokens in the ledger, want 7", len(toks))
	}
	for _, tok := range toks {
		if tok.Key == "key-widget-0001" && (tok.Repo != "acme/widget" || tok.Prefix == "" || len(tok.CIDR) != 1 || tok.Expires == nil) {
			t.Errorf("ledger token: %+v", tok)
		}
	}
}

func TestRevokeTokensExecute(t *testing.T) {
	t.Parallel()
	env := tokenEnv(t)
	ctx := t.Context()
	otp := &countingSource{next: npm.StaticOTP(npmAliceOTP)}
	n := env.npm(env.client(npmAliceToken, otp))
	before := len(env.reg.Tokens("alice"))
	rep, err := n.RevokeTokens(ctx, batch.RevokeTokensOptions{Name: "ci-*", CreatedBefore: env.clk.Now().Add(-50 * 24 * time.Hour), Execute: true})
	npmMust(t, err)
	if rep.Failed() || len(rep.Tokens) != 3 {
		t.Fatalf("revoke: %+v", rep)
	}
	for _, a := range rep.Tokens {
		if a.Kind != batch.OK || a.RevokedAt == nil {
			t.Errorf("%s: %+v", a.Key, a)
		}
	}
	if after := len(env.reg.Tokens("alice")); after != before-3 {
		t.Errorf("registry has %d tokens, want %d", after, before-3)
	}
	if otp.count() != 1 {
		t.Errorf("asked for an OTP %d times for three revocations, want 1", otp.count())
	}
	revs, err := env.led.Revocations(ctx)
	npmMust(t, err)
	if len(revs) != 3 || revs[0].By != "test" || revs[0].RevokedAt.IsZero() {
		t.Errorf("revocations: %+v", revs)
	}
	evs, err := env.led.Events(ctx, ledger.EventFilter{Kind: ledger.EventTokenRevoked})
	npmMust(t, err)
	if len(evs) != 3 {
		t.Errorf("%d revocation events, want 3", len(evs))
	}

	// Again by key: the ledger says when it was revoked.
	rep, err = n.RevokeTokens(ctx, batch.RevokeTokensOptions{Keys: []string{"key-old-000003"}, Execute: true})
	npmMust(t, err)
	if len(rep.Tokens) != 1 || rep.Tokens[0].Kind != batch.Skipped || rep.Tokens[0].Reason != "already revoked" {
		t.Errorf("revoked twice: %+v", rep.Tokens)
	}
}

func TestRevokeTokensWebLogin(t *testing.T) {
	t.Parallel()
	env := newNPMEnv(t, npmreg.Options{TokensPerPage: 2})
	for i := range 5 {
		_, err := env.reg.AddToken(npmreg.TokenSpec{User: "bob", Name: "bob-ci", Created: env.clk.Now().Add(-time.Duration(i+1) * time.Hour)})
		npmMust(t, err)
	}
	web := &webApprover{reg: env.reg}
	n := env.npm(env.client(npmBobToken, web.source()))
	rep, err := n.RevokeTokens(t.Context(), batch.RevokeTokensOptions{Name: "bob-*", Execute: true})
	npmMust(t, err)
	if rep.Failed() || len(rep.Tokens) != 5 || web.count() != 1 {
		t.Errorf("%d web logins, report %+v", web.count(), rep)
	}
	if left := env.reg.Tokens("bob"); slices.ContainsFunc(left, func(i npmreg.TokenInfo) bool { return i.Name == "bob-ci" }) {
		t.Errorf("tokens left: %+v", left)
	}

	// A bypass-2FA token may not revoke tokens: the registry refuses (403).
	_, err = env.reg.AddToken(npmreg.TokenSpec{User: "bob", Name: "victim"})
	npmMust(t, err)
	_, err = env.reg.AddToken(npmreg.TokenSpec{User: "bob", Value: npmCIToken, Name: "bypass", Bypass2FA: true})
	npmMust(t, err)
	rep, err = env.npm(env.client(npmCIToken, nil)).RevokeTokens(t.Context(), batch.RevokeTokensOptions{Name: "victim", Execute: true})
	npmMust(t, err)
	if !rep.Failed() || rep.Tokens[0].Reason != "not allowed by the registry" {
		t.Errorf("bypass token revoked: %+v", rep.Tokens)
	}
}

// TestRevokeTokensRegistryShowsTooMuch checks that a registry listing whole
// token values does not put them into the report or the ledger.
func TestRevokeTokensRegistryShowsTooMuch(t *testing.T) {
	t.Parallel()
	env := newNPMEnv(t, npmreg.Options{})
	env.setWrap(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/-/npm/v1/tokens") {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"objects":[{"key":"key-leaky-01","token":%q,"name":"leaky","created":"2026-01-01T00:00:00.000Z","readonly":false,"cidr_whitelist":null}],"urls":{"next":null}}`, npmOldToken)
			return
		}
		next.ServeHTTP(w, r)
	})
	rep, err := env.npm(env.client(npmAliceToken, nil)).RevokeTokens(t.Context(), batch.RevokeTokensOptions{Name: "leaky"})
	npmMust(t, err)
	if len(rep.Tokens) != 1 || rep.Tokens[0].Prefix != npmOldToken[:8] {
		t.Fatalf("report: %+v", rep.Tokens)
	}
	snap, err := env.led.Snapshot(t.Context())
	npmMust(t, err)
	b, err := json.Marshal(snap)
	npmMust(t, err)
	if strings.Contains(string(b), npmOldToken) || strings.Contains(npmJSON(rep), npmOldToken) {
		t.Error("a token value listed by the registry reached the ledger or the report")
	}
}

// TestRevokeTokensOwnersFromConfig records which repository a token serves
// from name patterns ([[npm.token_owner]]) before --migrated selects.
func TestRevokeTokensOwnersFromConfig(t *testing.T) {
	t.Parallel()
	env := tokenEnv(t)
	n := env.npm(env.client(npmAliceToken, npm.StaticOTP(npmAliceOTP)))
	ctx := t.Context()
	rep, err := n.RevokeTokens(ctx, batch.RevokeTokensOptions{Migrated: true, Owners: []batch.TokenOwner{
		{Name: "ci-acme-gadg*", Repo: "acme/widget"},
		{Name: "misc*", Repo: "acme/not-inventoried"},
	}})
	npmMust(t, err)
	if got := keys(rep); !slices.Equal(got, []string{"key-widget-0001", "key-gadget-0002"}) {
		t.Errorf("selected %q, want the widget token and the gadget token now recorded for acme/widget", got)
	}
	tok, err := env.led.Token(ctx, "key-gadget-0002")
	npmMust(t, err)
	if tok.Repo != "acme/widget" || tok.Source != "config" {
		t.Errorf("ledger token: %+v", tok)
	}
	misc, err := env.led.Token(ctx, "key-misc-000006")
	npmMust(t, err)
	if misc.Repo != "" {
		t.Errorf("a token was recorded for a repository the inventory does not have: %+v", misc)
	}
}

// TestRevokeTokensNeverSelf checks that the token cutover authenticates with
// is left out of every selection, by key or by displayed prefix, unless
// IncludeSelf, and that the report says why.
func TestRevokeTokensNeverSelf(t *testing.T) {
	t.Parallel()
	const self = "npm_SELFtokenCUTOVERusesFORrevokeTEST0001"
	digest := sha512.Sum512([]byte(self))
	for _, tt := range []struct {
		name, key, detail string
		// twin is another listed token whose value starts like self's:
		// by prefix alone it cannot be told apart, so it is left out too;
		// a key match tells them apart.
		twin, twinSelected bool
	}{
		{name: "by key", key: hex.EncodeToString(digest[:]), detail: "cutover authenticates with this token; pass --include-self"},
		{name: "by key with a twin", key: hex.EncodeToString(digest[:]), twin: true, twinSelected: true, detail: "cutover authenticates with this token; pass --include-self"},
		{name: "by prefix", key: "key-self-000008", detail: "cutover authenticates with this token (its displayed prefix matches); pass --include-self"},
		{name: "by prefix with a twin", key: "key-self-000008", twin: true, detail: "(its displayed prefix matches)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := tokenEnv(t)
			ctx := t.Context()
			_, err := env.reg.AddToken(npmreg.TokenSpec{User: "alice", Key: tt.key, Value: self, Name: "ci-cutover", Created: env.clk.Now().Add(-300 * 24 * time.Hour)})
			npmMust(t, err)
			wantSelf := []string{tt.key}
			if tt.twin {
				_, err := env.reg.AddToken(npmreg.TokenSpec{User: "alice", Key: "key-twin-000009", Value: self[:10] + "someoneELSEsTOKEN000000000001", Name: "ci-twin", Created: env.clk.Now().Add(-5 * 24 * time.Hour)})
				npmMust(t, err)
				if !tt.twinSelected {
					wantSelf = []string{tt.key, "key-twin-000009"}
				}
			}
			n := env.npm(env.client(self, npm.StaticOTP(npmAliceOTP)))
			listed, others := 8, 7
			if tt.twin {
				listed = 9
				others = 9 - len(wantSelf)
			}

			for _, o := range []batch.RevokeTokensOptions{
				{Name: "*"},
				{Keys: []string{tt.key}},
				{Name: "ci-*", CreatedBefore: env.clk.Now()},
				{Migrated: true, Owners: []batch.TokenOwner{{Name: "ci-*", Repo: "acme/widget"}}},
			} {
				rep, err := n.RevokeTokens(ctx, o)
				npmMust(t, err)
				var self []string
				for _, a := range rep.Self() {
					self = append(self, a.Key)
					if a.Kind != batch.Skipped || !strings.Contains(a.Detail, tt.detail) {
						t.Errorf("%+v: self token reported as %+v", o, a)
					}
				}
				want := wantSelf
				if !slices.Equal(self, want) || slices.ContainsFunc(rep.Tokens, func(a batch.TokenAction) bool { return slices.Contains(wantSelf, a.Key) }) {
					t.Errorf("%+v: selected %q, left out as self %q, want %q left out", o, keys(rep), self, want)
				}
				if rep.Listed != listed || len(rep.Tokens)+len(rep.NotSelected) != listed {
					t.Errorf("%+v: %d listed, %d selected + %d not selected", o, rep.Listed, len(rep.Tokens), len(rep.NotSelected))
				}
			}

			// --include-self selects it.
			rep, err := n.RevokeTokens(ctx, batch.RevokeTokensOptions{Keys: []string{tt.key}, IncludeSelf: true})
			npmMust(t, err)
			if !slices.Equal(keys(rep), []string{tt.key}) || len(rep.Self()) != 0 {
				t.Errorf("--include-self: selected %q, self %+v", keys(rep), rep.Self())
			}

			// Executing everything leaves cutover's own token working.
			rep, err = n.RevokeTokens(ctx, batch.RevokeTokensOptions{Name: "*", Execute: true})
			npmMust(t, err)
			if rep.Failed() || len(rep.Tokens) != others {
				t.Fatalf("revoke *: %+v", rep)
			}
			left := env.reg.Tokens("alice")
			for _, k := range wantSelf {
				if !slices.ContainsFunc(left, func(i npmreg.TokenInfo) bool { return i.Key == k }) {
					t.Errorf("token %s was revoked", k)
				}
			}
			if _, err := n.RevokeTokens(ctx, batch.RevokeTokensOptions{Name: "*"}); err != nil {
				t.Errorf("cutover's own token no longer works after revoke --name '*': %v", err)
			}
			if strings.Contains(npmJSON(rep), self) {
				t.Error("the report holds the token value")
			}
		})
	}
}

// TestRevokeTokensMigratedSaysWhy checks that --migrated explains every
// token it leaves out.
func TestRevokeTokensMigratedSaysWhy(t *testing.T) {
	t.Parallel()
	env := tokenEnv(t)
	n := env.npm(env.client(npmAliceToken, npm.StaticOTP(npmAliceOTP)))
	ctx := t.Context()
	o := batch.RevokeTokensOptions{Migrated: true, Owners: []batch.TokenOwner{{Name: "misc", Repo: "acme/not-inventoried"}}}
	why := func() map[string]string {
		t.Helper()
		rep, err := n.RevokeTokens(ctx, o)
		npmMust(t, err)
		if !slices.Equal(keys(rep), []string{"key-widget-0001"}) {
			t.Errorf("selected %q, want the widget token", keys(rep))
		}
		out := map[string]string{}
		for _, a := range rep.NotSelected {
			if a.Kind != batch.Skipped || a.Detail == "" {
				t.Errorf("%s: %+v", a.Key, a)
			}
			out[a.Key] = a.Reason
			if a.Reason == batch.NotSelectedNoOwner && !strings.Contains(a.Hint, "[[npm.token_owner]]") {
				t.Errorf("%s: no hint at the owner mapping: %+v", a.Key, a)
			}
			if a.Key == "key-gadget-0002" && (a.Repo != "acme/gadget" || !strings.Contains(a.Hint, "acme/gadget")) {
				t.Errorf("gadget token: %+v", a)
			}
		}
		return out
	}
	want := map[string]string{
		"key-gadget-0002": batch.NotSelectedNotMigrated,
		"key-old-000003":  batch.NotSelectedNoOwner,
		"key-laptop-0004": batch.NotSelectedNoOwner,
		"key-new-000005":  batch.NotSelectedNoOwner,
		"key-misc-000006": batch.NotSelectedOwnerGone,
		"key-misc-000007": batch.NotSelectedOwnerGone,
	}
	if got := why(); !maps.Equal(got, want) {
		t.Errorf("flag off: reasons %v, want %v", got, want)
	}
	// The flag goes on for gadget, its canary is not verified yet.
	npmMust(t, env.led.SetFlag(ctx, "acme/gadget", flagVar, "true"))
	want["key-gadget-0002"] = batch.NotSelectedNotVerified
	if got := why(); !maps.Equal(got, want) {
		t.Errorf("flag on: reasons %v, want %v", got, want)
	}
}
