package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/rewrite"
)

func TestCheckNoSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool // true: rejected
	}{
		{fakeNPMToken, true},
		{"Authorization: Bearer " + fakeNPMToken + " end", true},
		{fakeGitHubToken, true},
		{"gho_" + strings.Repeat("a", 20), true},
		{"ghu_" + strings.Repeat("b", 30), true},
		{"ghs_" + strings.Repeat("C", 40), true},
		{"ghr_" + strings.Repeat("9", 20), true},
		{fakeFineGrained, true},
		{"npm_Ab12", false},                       // the display prefix npm shows
		{"npm_" + strings.Repeat("a", 35), false}, // one short
		{"ghp_" + strings.Repeat("a", 19), false}, // one short
		{"ghx_" + strings.Repeat("a", 30), false}, // not a GitHub prefix
		{"github_pat_short", false},               // too short
		{"${{ secrets.NPM_TOKEN }}", false},       // a reference, not a value
		{"NODE_AUTH_TOKEN", false},
		{"", false},
	}
	for _, tt := range tests {
		err := CheckNoSecret(tt.in)
		if got := err != nil; got != tt.want {
			t.Errorf("CheckNoSecret(%.12q…) = %v, want rejected=%v", tt.in, err, tt.want)
		}
		if err != nil && (!errors.Is(err, ErrSecretValue) || strings.Contains(err.Error(), tt.in)) {
			t.Errorf("error %q must wrap ErrSecretValue and not quote the value", err)
		}
	}
}

// TestTokenGuard writes a token through every write method, in every kind
// of field (plain columns, JSON documents, event data), and checks that each
// write fails, that no error repeats the value, and that the value is
// nowhere in the database file afterwards.
func TestTokenGuard(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "ledger.db")
	clk := newClock()
	l, err := Open(ctx, path, Options{Now: clk.Now})
	must(t, err)
	must(t, l.SetCampaign(ctx, "c", ""))
	addRepos(t, l, "acme/a")
	res := sampleResult("acme/a")
	must(t, l.RecordDetection(ctx, "acme/a", "c1", res))
	must(t, l.SetWaves(ctx, []Wave{{Number: 0, Members: []string{"acme/a"}}}))
	must(t, l.UpsertTokens(ctx, []Token{{Key: "k1", Prefix: "npm_Ab12"}}))
	run, err := l.StartRun(ctx, "job", "me")
	must(t, err)

	for _, tok := range []string{fakeNPMToken, fakeGitHubToken, fakeFineGrained} {
		leaked := func(s string) string { return "x " + s + " y" }(tok)
		leakyResult := *res
		leakyResult.Findings = []rewrite.Finding{{Severity: rewrite.SevError, Code: "literal-token", Message: "found " + tok}}
		writes := map[string]func(context.Context) error{
			"SetCampaign": func(ctx context.Context) error { return l.SetCampaign(ctx, "c", leaked) },
			"UpsertRepo": func(ctx context.Context) error {
				return l.UpsertRepo(ctx, Repo{FullName: "acme/a", CloneURL: "https://x-access-token:" + tok + "@github.com/acme/a.git"})
			},
			"RecordDetection": func(ctx context.Context) error { return l.RecordDetection(ctx, "acme/a", "c2", &leakyResult) },
			"SetTrust":        func(ctx context.Context) error { return l.SetTrust(ctx, "acme/a", "@acme/a", TrustMismatch, leaked) },
			"RecordStep": func(ctx context.Context) error {
				return l.RecordStep(ctx, Step{Repo: "acme/a", Name: "push", Outcome: OutcomeFailed, Error: "auth failed for " + tok})
			},
			"SetWaves": func(ctx context.Context) error {
				return l.SetWaves(ctx, []Wave{{Number: 0, Name: leaked, Members: []string{"acme/a"}}})
			},
			"SetWaveState": func(ctx context.Context) error { return l.SetWaveState(ctx, 0, WaveRunning, leaked) },
			"RecordChange": func(ctx context.Context) error {
				return l.RecordChange(ctx, Change{Repo: "acme/a", Branch: "cutover/x", Title: leaked})
			},
			"SetFlag": func(ctx context.Context) error { return l.SetFlag(ctx, "acme/a", "NPM_TOKEN", tok) },
			"RecordVerification": func(ctx context.Context) error {
				_, err := l.RecordVerification(ctx, Verification{Repo: "acme/a", Package: "p", Version: "1.0.0",
					Checks: []Check{{Name: "exists", Message: leaked}}})
				return err
			},
			"UpsertTokens": func(ctx context.Context) error {
				return l.UpsertTokens(ctx, []Token{{Key: "k2", Prefix: "npm_Cd34"}, {Key: "k3", Prefix: tok}})
			},
			"RecordRevocation": func(ctx context.Context) error { _, err := l.RecordRevocation(ctx, "k1", leaked); return err },
			"RecordSecret": func(ctx context.Context) error {
				return l.RecordSecret(ctx, Secret{Repo: "acme/a", Scope: ScopeRepo, Name: tok})
			},
			"MarkSecretDeleted": func(ctx context.Context) error {
				return l.MarkSecretDeleted(ctx, Secret{Repo: "acme/a", Scope: ScopeRepo, Name: "NPM_TOKEN"}, leaked)
			},
			"RecordReminder": func(ctx context.Context) error {
				return l.RecordReminder(ctx, Reminder{Repo: "acme/a", Topic: "t", Message: leaked})
			},
			"AppendEvent message": func(ctx context.Context) error {
				_, err := l.AppendEvent(ctx, Event{Kind: "k", Message: leaked})
				return err
			},
			"AppendEvent data": func(ctx context.Context) error {
				data, _ := json.Marshal(map[string]string{"token": tok})
				_, err := l.AppendEvent(ctx, Event{Kind: "k", Data: data})
				return err
			},
			"StartRun":    func(ctx context.Context) error { _, err := l.StartRun(ctx, "job", leaked); return err },
			"FinishRun":   func(ctx context.Context) error { return l.FinishRun(ctx, run, OutcomeFailed, leaked) },
			"AcquireLock": func(ctx context.Context) error { _, err := l.AcquireLock(ctx, "s", leaked, time.Minute); return err },
		}
		for name, write := range writes {
			err := write(ctx)
			if !errors.Is(err, ErrSecretValue) {
				t.Errorf("%s with a %.4s… token: %v, want ErrSecretValue", name, tok, err)
				continue
			}
			if strings.Contains(err.Error(), tok) {
				t.Errorf("%s: the error repeats the token: %v", name, err)
			}
		}
	}
	// Reads looking up a token-shaped name do not echo it either.
	if _, err := l.Repo(ctx, fakeNPMToken); !errors.Is(err, ErrNotFound) || strings.Contains(err.Error(), fakeNPMToken) {
		t.Errorf("Repo(token) = %v, want ErrNotFound without the value", err)
	}
	// The failed writes left nothing behind: the batch of tokens and the
	// run were rolled back whole.
	if _, err := l.Token(ctx, "k2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("token k2 of the refused batch: %v, want ErrNotFound", err)
	}
	must(t, l.Close())
	for _, name := range []string{"ledger.db", "ledger.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		must(t, err)
		for _, tok := range []string{fakeNPMToken, fakeGitHubToken, fakeFineGrained} {
			if bytes.Contains(b, []byte(tok)) {
				t.Errorf("%s holds a token value", name)
			}
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	in := "push failed: https://x:" + fakeGitHubToken + "@github.com and NPM_TOKEN=" + fakeNPMToken
	got := Redact(in)
	if err := CheckNoSecret(got); err != nil {
		t.Errorf("Redact left a token: %q", got)
	}
	if want := "push failed: https://x:[redacted]@github.com and NPM_TOKEN=[redacted]"; got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
	if s := "nothing to see"; Redact(s) != s {
		t.Errorf("Redact changed %q", s)
	}
}
