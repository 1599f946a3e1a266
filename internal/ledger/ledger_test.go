package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/classdoc"
	"github.com/cutover/cutover/rewrite"
	"github.com/google/go-cmp/cmp"
)

func TestOpenSettings(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "l.db")
	l, err := Open(t.Context(), path, Options{})
	must(t, err)
	var mode string
	var fk, busy int
	must(t, l.db.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode))
	must(t, l.db.QueryRowContext(t.Context(), "PRAGMA foreign_keys").Scan(&fk))
	must(t, l.db.QueryRowContext(t.Context(), "PRAGMA busy_timeout").Scan(&busy))
	if mode != "wal" || fk != 1 || busy != 10000 {
		t.Errorf("journal_mode=%s foreign_keys=%d busy_timeout=%d, want wal, 1, 10000", mode, fk, busy)
	}
	if got, want := l.SchemaVersion(), LatestSchemaVersion(); got != want || want < 2 {
		t.Errorf("schema version %d, want %d (at least 2)", got, want)
	}
	must(t, l.Close())

	// Opening again migrates nothing and keeps the version history.
	l, err = Open(t.Context(), path, Options{})
	must(t, err)
	defer l.Close()
	var n int
	must(t, l.db.QueryRowContext(t.Context(), "SELECT count(*) FROM schema_version").Scan(&n))
	if n != LatestSchemaVersion() {
		t.Errorf("schema_version has %d rows, want %d", n, LatestSchemaVersion())
	}
}

func TestOpenMemory(t *testing.T) {
	t.Parallel()
	l, err := Open(t.Context(), ":memory:", Options{})
	must(t, err)
	defer l.Close()
	addRepos(t, l, "acme/one")
	if _, err := l.Repo(t.Context(), "acme/one"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	if _, err := Open(t.Context(), "", Options{}); err == nil {
		t.Error("Open with no path: no error")
	}
	if _, err := Open(t.Context(), filepath.Join(t.TempDir(), "missing", "dir", "l.db"), Options{}); err == nil {
		t.Error("Open in a missing directory: no error")
	}
	junk := filepath.Join(t.TempDir(), "junk.db")
	must(t, os.WriteFile(junk, bytes.Repeat([]byte("not a database "), 512), 0o600))
	if _, err := Open(t.Context(), junk, Options{}); err == nil || !strings.Contains(err.Error(), junk) {
		t.Errorf("Open of a file that is no database: %v, want an error naming it", err)
	}
}

func TestReposAndDetection(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, clk := openTest(t)
	addRepos(t, l, "acme/mono", "acme/single")

	if err := l.RecordDetection(ctx, "acme/nope", "c0", sampleResult("acme/nope")); !errors.Is(err, ErrNotFound) {
		t.Errorf("detection for an unknown repository: %v, want ErrNotFound", err)
	}
	must(t, l.RecordDetection(ctx, "acme/mono", "c1", sampleResult("acme/mono")))
	must(t, l.SetTrust(ctx, "acme/mono", "@acme/a", TrustConfigured, ""))
	must(t, l.SetTrust(ctx, "acme/mono", "@acme/b", TrustMismatch, "environment differs"))
	if err := l.SetTrust(ctx, "acme/mono", "@acme/zzz", TrustMissing, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetTrust for an unknown package: %v, want ErrNotFound", err)
	}
	if err := l.SetTrust(ctx, "acme/mono", "@acme/a", "great", ""); err == nil {
		t.Error("SetTrust with an unknown state: no error")
	}

	// Inventory again: forge fields change, detection stays.
	clk.Advance(time.Hour)
	must(t, l.UpsertRepo(ctx, Repo{FullName: "acme/mono", DefaultBranch: "trunk", Visibility: "private", Owner: "@acme/platform"}))
	r, err := l.Repo(ctx, "acme/mono")
	must(t, err)
	if r.DefaultBranch != "trunk" || r.Owner != "@acme/platform" || r.Commit != "c1" || !r.Publishes ||
		r.Credential != rewrite.CredToken {
		t.Errorf("repo after second upsert = %+v", r)
	}
	if d := cmp.Diff(classdoc.FromResult(sampleResult("acme/mono")), r.Classification); d != "" {
		t.Errorf("classification read back (-want +got):\n%s", d)
	}
	if !r.Updated.Equal(clk.Now()) || r.DetectedAt.Equal(clk.Now()) {
		t.Errorf("updated %v detected %v, want updated now and detected an hour ago", r.Updated, r.DetectedAt)
	}

	// A new detection: @acme/a unchanged keeps its state, @acme/b's
	// environment changed so it goes back to unknown, root is gone.
	res := sampleResult("acme/mono")
	res.Packages = res.Packages[:2]
	res.Trust[1].Environment = "release"
	must(t, l.RecordDetection(ctx, "acme/mono", "c2", res))
	pkgs, err := l.Packages(ctx, "acme/mono")
	must(t, err)
	want := []Package{
		{Repo: "acme/mono", Name: "@acme/a", Dir: "packages/a", Publishable: true, Access: "public",
			TrustRepository: "acme/mono", TrustWorkflow: "release.yml", TrustState: TrustConfigured,
			TrustChecked: clk.Now().Add(-time.Hour)},
		{Repo: "acme/mono", Name: "@acme/b", Dir: "packages/b", Publishable: true,
			TrustRepository: "acme/mono", TrustWorkflow: "release.yml", TrustEnvironment: "release",
			TrustState: TrustUnknown, TrustChecked: clk.Now().Add(-time.Hour)},
	}
	if d := cmp.Diff(want, pkgs); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}

	all, err := l.Repos(ctx)
	must(t, err)
	if len(all) != 2 || all[0].FullName != "acme/mono" || all[1].Classification != nil {
		t.Errorf("Repos = %+v", all)
	}
	if _, err := l.Repo(ctx, "acme/none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Repo(unknown) = %v, want ErrNotFound", err)
	}
}

func TestCampaign(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, clk := openTest(t)
	c, err := l.Campaign(ctx)
	must(t, err)
	if c.Name != "" {
		t.Errorf("campaign before SetCampaign = %+v", c)
	}
	must(t, l.SetCampaign(ctx, "npm-oidc", "sha256:1"))
	clk.Advance(time.Minute)
	must(t, l.SetCampaign(ctx, "npm-oidc", "sha256:2"))
	c, err = l.Campaign(ctx)
	must(t, err)
	if c.ConfigDigest != "sha256:2" || !c.Updated.After(c.Created) {
		t.Errorf("campaign = %+v", c)
	}
	if err := l.SetCampaign(ctx, "other", "x"); err == nil || !strings.Contains(err.Error(), `belongs to campaign "npm-oidc"`) {
		t.Errorf("SetCampaign with another name: %v", err)
	}
}

func TestSteps(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, _ := openTest(t)
	addRepos(t, l, "acme/a", "acme/b", "acme/c")
	steps := []Step{
		{Repo: "acme/a", Name: "push", Outcome: OutcomeFailed, Reason: "push rejected", Hint: "check branch protection"},
		{Repo: "acme/a", Name: "push", Outcome: OutcomeFailed, Reason: "push rejected"},
		{Repo: "acme/b", Name: "inventory", Outcome: OutcomeOK},
		{Repo: "acme/b", Name: "apply", Outcome: OutcomeFailed, Reason: "validate", Error: "actionlint: 2 errors"},
		{Repo: "acme/c", Name: "apply", Outcome: OutcomeFailed},
		{Repo: "acme/c", Name: "apply", Outcome: OutcomeOK},
	}
	for _, s := range steps {
		must(t, l.RecordStep(ctx, s))
	}
	failed, err := l.FailedRepos(ctx)
	must(t, err)
	var got []string
	for _, s := range failed {
		got = append(got, s.Repo+":"+s.Name+":"+s.Reason+":"+string(rune('0'+s.Attempts)))
	}
	if d := cmp.Diff([]string{"acme/a:push:push rejected:2", "acme/b:apply:validate:1"}, got); d != "" {
		t.Errorf("failed repos (-want +got):\n%s", d)
	}
	last, err := l.LastStep(ctx, "acme/c")
	must(t, err)
	if last.Outcome != OutcomeOK || last.Attempts != 2 {
		t.Errorf("last step of acme/c = %+v", last)
	}
	for _, bad := range []Step{
		{Repo: "acme/a", Name: "", Outcome: OutcomeOK},
		{Repo: "acme/a", Name: "x", Outcome: "meh"},
		{Repo: "acme/zz", Name: "x", Outcome: OutcomeOK},
	} {
		if err := l.RecordStep(ctx, bad); err == nil {
			t.Errorf("RecordStep(%+v): no error", bad)
		}
	}
}

func TestWaves(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, clk := openTest(t)
	addRepos(t, l, "acme/a", "acme/b", "acme/c", "acme/d")
	gate := Gate{Require: []string{GateChecks, GateVerified}, MaxFailureRatio: 0.1}
	plan := []Wave{
		{Number: 0, Name: "canaries", Gate: gate, Members: []string{"acme/c", "acme/a"}},
		{Number: 1, Members: []string{"acme/b"}},
		{Number: 2, Members: []string{"acme/d"}},
	}
	must(t, l.SetWaves(ctx, plan))
	repos, err := l.ReposInWave(ctx, 0)
	must(t, err)
	if len(repos) != 2 || repos[0].FullName != "acme/c" || repos[1].FullName != "acme/a" {
		t.Errorf("wave 0 repos = %v, want c then a", repos)
	}

	start := clk.Advance(time.Minute)
	must(t, l.SetWaveState(ctx, 0, WaveRunning, ""))
	clk.Advance(time.Minute)
	must(t, l.SetWaveState(ctx, 0, WaveRunning, "")) // no change, no event
	must(t, l.SetWaveState(ctx, 0, WaveGated, ""))
	end := clk.Advance(time.Minute)
	must(t, l.SetWaveState(ctx, 0, WaveDone, "forced: canary owner on leave"))
	w, err := l.Wave(ctx, 0)
	must(t, err)
	want := Wave{Number: 0, Name: "canaries", Gate: gate, State: WaveDone, Started: start, Finished: end,
		Members: []string{"acme/c", "acme/a"}}
	if d := cmp.Diff(want, w); d != "" {
		t.Errorf("wave 0 (-want +got):\n%s", d)
	}
	zero := 0
	evs, err := l.Events(ctx, EventFilter{Kind: EventWaveState, Wave: &zero})
	must(t, err)
	if len(evs) != 3 || !strings.Contains(evs[2].Message, "forced: canary owner on leave") {
		t.Errorf("wave events = %+v", evs)
	}

	// Re-planning may move repositories between planned waves, never in or
	// out of a wave that started.
	must(t, l.SetWaves(ctx, []Wave{plan[0], {Number: 1, Members: []string{"acme/b", "acme/d"}}}))
	if _, err := l.Wave(ctx, 2); !errors.Is(err, ErrNotFound) {
		t.Errorf("wave 2 after re-plan: %v, want ErrNotFound", err)
	}
	w, err = l.Wave(ctx, 0)
	must(t, err)
	if w.State != WaveDone || !w.Started.Equal(start) {
		t.Errorf("re-plan lost wave 0's state: %+v", w)
	}
	for name, bad := range map[string][]Wave{
		"started wave changes": {{Number: 0, Members: []string{"acme/c"}}},
		"started wave removed": {{Number: 1, Members: []string{"acme/b"}}},
		"repository twice":     {plan[0], {Number: 1, Members: []string{"acme/a"}}},
		"unknown repository":   {plan[0], {Number: 1, Members: []string{"acme/zzz"}}},
		"negative wave":        {plan[0], {Number: -1}},
		"wave number repeated": {plan[0], {Number: 1}, {Number: 1}},
	} {
		if err := l.SetWaves(ctx, bad); err == nil {
			t.Errorf("%s: SetWaves accepted %+v", name, bad)
		}
	}
	if err := l.SetWaveState(ctx, 7, WaveRunning, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetWaveState(7) = %v, want ErrNotFound", err)
	}
	if err := l.SetWaveState(ctx, 1, "paused", ""); err == nil {
		t.Error("SetWaveState with an unknown state: no error")
	}
}

func TestChangesAndFlags(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, _ := openTest(t)
	addRepos(t, l, "acme/a")
	c := Change{Repo: "acme/a", Branch: "cutover/npm-oidc", Base: "main", Playbook: "oidc", PushedSHA: "abc123"}
	must(t, l.RecordChange(ctx, c))
	c.PRNumber, c.URL, c.Title, c.Checks = 7, "https://github.example/acme/a/pull/7", "Publish with OIDC", "pending"
	must(t, l.RecordChange(ctx, c))
	c.Checks, c.Mergeable = "success", "yes" // no event: state, PR and SHA unchanged
	must(t, l.RecordChange(ctx, c))
	c.State = ChangeMerged
	must(t, l.RecordChange(ctx, c))
	got, err := l.Change(ctx, "acme/a")
	must(t, err)
	c.Updated = got.Updated
	if d := cmp.Diff(c, got); d != "" {
		t.Errorf("change (-want +got):\n%s", d)
	}
	evs, err := l.Events(ctx, EventFilter{Kind: "change.*", Repo: "acme/a"})
	must(t, err)
	if len(evs) != 3 {
		t.Errorf("%d change events, want 3: %+v", len(evs), evs)
	}
	if _, err := l.Change(ctx, "acme/none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Change(unknown) = %v", err)
	}
	if err := l.RecordChange(ctx, Change{Repo: "acme/a", Branch: "b", State: "weird"}); err == nil {
		t.Error("RecordChange with an unknown state: no error")
	}

	for _, v := range []string{"true", "true", "false", "true"} {
		must(t, l.SetFlag(ctx, "acme/a", "CUTOVER_NPM_OIDC", v))
	}
	f, err := l.Flag(ctx, "acme/a", "CUTOVER_NPM_OIDC")
	must(t, err)
	if f.Value != "true" {
		t.Errorf("flag = %+v", f)
	}
	evs, err = l.Events(ctx, EventFilter{Kind: EventFlag})
	must(t, err)
	if len(evs) != 3 {
		t.Errorf("%d flag events, want 3 (one per flip)", len(evs))
	}
	if err := l.SetFlag(ctx, "acme/none", "X", "1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetFlag(unknown repo) = %v", err)
	}
}

func TestVerifications(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, clk := openTest(t)
	addRepos(t, l, "acme/a")
	bad := Verification{Repo: "acme/a", Package: "@acme/a", Version: "1.1.0-canary.0", Tag: "canary",
		Passed: true, // ignored: computed from the checks
		Checks: []Check{{Name: "exists", OK: true}, {Name: "trusted-publisher", Message: "published with a token"}}}
	v1, err := l.RecordVerification(ctx, bad)
	must(t, err)
	if v1.Passed || v1.ID == 0 {
		t.Errorf("verification with a failed check = %+v", v1)
	}
	clk.Advance(time.Hour)
	good := bad
	good.Version = "1.1.0-canary.1"
	good.Checks = []Check{{Name: "exists", OK: true}, {Name: "provenance", OK: true, Skipped: true, Message: "private"}}
	v2, err := l.RecordVerification(ctx, good)
	must(t, err)
	_, err = l.RecordVerification(ctx, Verification{Repo: "acme/a", Package: "other", Version: "1.0.0"})
	must(t, err)
	latest, err := l.LatestVerifications(ctx, "acme/a")
	must(t, err)
	if len(latest) != 2 || latest[0].ID != v2.ID || !latest[0].Passed || latest[1].Passed {
		t.Errorf("latest = %+v (no checks must not pass)", latest)
	}
	all, err := l.Verifications(ctx, "acme/a")
	must(t, err)
	if d := cmp.Diff(v1, all[0]); d != "" {
		t.Errorf("stored verification (-want +got):\n%s", d)
	}
}

func TestTokensAndRevocations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, clk := openTest(t)
	addRepos(t, l, "acme/a")
	exp := clk.Now().Add(30 * 24 * time.Hour)
	yes := true
	must(t, l.UpsertTokens(ctx, []Token{
		{Key: "k1", Prefix: "npm_Ab12", Name: "ci acme/a", Created: clk.Now().Add(-70 * 24 * time.Hour),
			Expires: &exp, CIDR: []string{"10.0.0.0/8"}, Bypass2FA: &yes, Source: "ledger", Repo: "acme/a"},
		{Key: "k2", Prefix: "npm_Cd34", Name: "laptop", Readonly: true, Source: "registry"},
	}))
	// The registry's list knows nothing of repositories or bypass-2FA.
	clk.Advance(time.Hour)
	must(t, l.UpsertTokens(ctx, []Token{{Key: "k1", Prefix: "npm_Ab12", Name: "ci acme/a (renamed)",
		Created: clk.Now().Add(-70 * 24 * time.Hour), Expires: &exp, CIDR: []string{"10.0.0.0/8"}}}))
	tok, err := l.Token(ctx, "k1")
	must(t, err)
	if tok.Repo != "acme/a" || tok.Source != "ledger" || tok.Bypass2FA == nil || !*tok.Bypass2FA ||
		tok.Name != "ci acme/a (renamed)" || tok.Expires == nil || !tok.Expires.Equal(exp) {
		t.Errorf("token after registry refresh = %+v", tok)
	}
	if err := l.UpsertTokens(ctx, []Token{{Key: "k3", Repo: "acme/none"}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("token for an unknown repository: %v", err)
	}

	at := clk.Advance(time.Minute)
	r1, err := l.RecordRevocation(ctx, "k1", "cutover revoke")
	must(t, err)
	clk.Advance(time.Minute)
	r2, err := l.RecordRevocation(ctx, "k1", "someone else")
	must(t, err)
	want := Revocation{Key: "k1", Prefix: "npm_Ab12", Name: "ci acme/a (renamed)", Repo: "acme/a", RevokedAt: at, By: "cutover revoke"}
	if d := cmp.Diff(want, r1); d != "" {
		t.Errorf("revocation (-want +got):\n%s", d)
	}
	if d := cmp.Diff(r1, r2); d != "" {
		t.Errorf("second revocation changed the record (-first +second):\n%s", d)
	}
	if _, err := l.RecordRevocation(ctx, "nope", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoking an unknown token: %v", err)
	}
	evs, err := l.Events(ctx, EventFilter{Kind: EventTokenRevoked})
	must(t, err)
	if len(evs) != 1 || evs[0].Repo != "acme/a" {
		t.Errorf("revocation events = %+v", evs)
	}
	revs, err := l.Revocations(ctx)
	must(t, err)
	if len(revs) != 1 {
		t.Errorf("revocations = %+v", revs)
	}
}

func TestSecretsAndReminders(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, clk := openTest(t)
	addRepos(t, l, "acme/a")
	rotated := clk.Now().Add(-61 * 24 * time.Hour)
	repoSecret := Secret{Repo: "acme/a", Scope: ScopeRepo, Name: "NPM_TOKEN", UpdatedAt: rotated}
	envSecret := Secret{Repo: "acme/a", Scope: ScopeEnv, Environment: "npm", Name: "NPM_TOKEN", UpdatedAt: rotated}
	orgSecret := Secret{Scope: ScopeOrg, Name: "NPM_TOKEN", UpdatedAt: rotated}
	for _, s := range []Secret{repoSecret, envSecret, orgSecret, repoSecret} {
		must(t, l.RecordSecret(ctx, s))
	}
	del := clk.Advance(time.Hour)
	must(t, l.MarkSecretDeleted(ctx, envSecret, "cutover revoke"))
	must(t, l.MarkSecretDeleted(ctx, envSecret, "cutover revoke")) // no second event
	must(t, l.MarkSecretDeleted(ctx, Secret{Repo: "acme/a", Scope: ScopeRepo, Name: "OLD_NPM"}, "cutover revoke"))
	got, err := l.Secrets(ctx, "acme/a")
	must(t, err)
	if len(got) != 3 || got[0].Scope != ScopeEnv || got[0].DeletedAt == nil || !got[0].DeletedAt.Equal(del) ||
		got[1].Name != "NPM_TOKEN" || got[1].DeletedAt != nil || !got[1].UpdatedAt.Equal(rotated) || got[2].DeletedAt == nil {
		t.Errorf("secrets of acme/a = %+v", got)
	}
	org, err := l.Secrets(ctx, "")
	must(t, err)
	if len(org) != 1 || org[0].Scope != ScopeOrg {
		t.Errorf("org secrets = %+v", org)
	}
	// A deleted secret that reappears was re-created: drift.
	must(t, l.RecordSecret(ctx, envSecret))
	got, err = l.Secrets(ctx, "acme/a")
	must(t, err)
	if got[0].DeletedAt != nil {
		t.Errorf("re-created secret still marked deleted: %+v", got[0])
	}
	evs, err := l.Events(ctx, EventFilter{Kind: EventSecretDeleted})
	must(t, err)
	if len(evs) != 2 {
		t.Errorf("%d secret deletion events, want 2", len(evs))
	}
	for _, bad := range []Secret{
		{Scope: ScopeOrg, Repo: "acme/a", Name: "X"},
		{Scope: ScopeEnv, Repo: "acme/a", Name: "X"},
		{Scope: ScopeRepo, Repo: "acme/a", Environment: "e", Name: "X"},
		{Scope: "team", Repo: "acme/a", Name: "X"},
		{Scope: ScopeRepo, Repo: "acme/a"},
		{Scope: ScopeRepo, Repo: "acme/none", Name: "X"},
	} {
		if err := l.RecordSecret(ctx, bad); err == nil {
			t.Errorf("RecordSecret(%+v): no error", bad)
		}
	}

	rem := Reminder{Repo: "acme/a", Topic: "token-age:NPM_TOKEN", IssueNumber: 12, IssueURL: "https://github.example/acme/a/issues/12",
		Message: "NPM_TOKEN is 61 days old"}
	must(t, l.RecordReminder(ctx, rem))
	sent := clk.Advance(24 * time.Hour)
	rem.Level = 1
	must(t, l.RecordReminder(ctx, rem))
	closed := clk.Advance(time.Hour)
	must(t, l.CloseReminder(ctx, rem.Repo, rem.Topic))
	r, err := l.Reminder(ctx, rem.Repo, rem.Topic)
	must(t, err)
	rem.State, rem.LastSent, rem.ClosedAt = ReminderClosed, sent, &closed
	if d := cmp.Diff(rem, r); d != "" {
		t.Errorf("reminder (-want +got):\n%s", d)
	}
	if err := l.CloseReminder(ctx, rem.Repo, "other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("closing an unknown reminder: %v", err)
	}
	all, err := l.Reminders(ctx)
	must(t, err)
	if len(all) != 1 {
		t.Errorf("reminders = %+v", all)
	}
}

func TestEvents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, clk := openTest(t)
	one, two := 1, 2
	in := []Event{
		{Kind: "inventory.done", Message: "3 repositories"},
		{Kind: "apply.start", Wave: &one},
		{Kind: "apply.repo", Repo: "acme/a", Wave: &one, Data: json.RawMessage(`{ "files": 2 }`)},
		{Kind: "apply.repo", Repo: "acme/b", Wave: &two},
	}
	var stored []Event
	for _, e := range in {
		clk.Advance(time.Second)
		got, err := l.AppendEvent(ctx, e)
		must(t, err)
		stored = append(stored, got)
	}
	if string(stored[2].Data) != `{"files":2}` {
		t.Errorf("event data stored as %s, want it compacted", stored[2].Data)
	}
	if _, err := l.AppendEvent(ctx, Event{}); err == nil {
		t.Error("event without kind: no error")
	}
	if _, err := l.AppendEvent(ctx, Event{Kind: "x", Data: json.RawMessage(`{`)}); err == nil {
		t.Error("event with bad JSON data: no error")
	}
	tests := []struct {
		name string
		f    EventFilter
		want []Event
	}{
		{"all", EventFilter{}, stored},
		{"kind", EventFilter{Kind: "apply.repo"}, stored[2:]},
		{"kind prefix", EventFilter{Kind: "apply.*"}, stored[1:]},
		{"repo", EventFilter{Repo: "acme/b"}, stored[3:]},
		{"wave", EventFilter{Wave: &one}, stored[1:3]},
		{"since", EventFilter{Since: stored[2].Time}, stored[2:]},
		{"until", EventFilter{Until: stored[1].Time}, stored[:1]},
		{"after id", EventFilter{AfterID: stored[0].ID, Limit: 2}, stored[1:3]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := l.Events(ctx, tt.f)
			must(t, err)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
		})
	}
}

// TestEventsAppendOnly checks both halves of the promise: the API has no
// way to change an event, and SQL that tries is aborted by the schema.
func TestEventsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, _ := openTest(t)
	e, err := l.AppendEvent(ctx, Event{Kind: "x", Message: "before"})
	must(t, err)

	typ := reflect.TypeFor[*Ledger]()
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		if strings.Contains(name, "Event") && name != "AppendEvent" && name != "Events" {
			t.Errorf("Ledger has method %s: events must only be appended and read", name)
		}
	}

	for _, stmt := range []string{
		`UPDATE events SET message = 'after' WHERE id = ?`,
		`DELETE FROM events WHERE id = ?`,
		`INSERT OR REPLACE INTO events (id, time, kind) VALUES (?, '2026-01-01T00:00:00.000000000Z', 'y')`,
	} {
		_, err := l.db.ExecContext(ctx, stmt, e.ID)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the append-only trigger to abort it", stmt, err)
		}
	}
	got, err := l.Events(ctx, EventFilter{})
	must(t, err)
	if len(got) != 1 || got[0].Message != "before" || got[0].Kind != "x" {
		t.Errorf("events after tampering = %+v", got)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, clk := openTest(t)
	must(t, l.SetCampaign(ctx, "npm-oidc", "sha256:abc"))
	addRepos(t, l, "acme/a", "acme/b", "acme/c")
	must(t, l.RecordDetection(ctx, "acme/a", "c1", sampleResult("acme/a")))
	must(t, l.SetTrust(ctx, "acme/a", "@acme/a", TrustConfigured, ""))
	must(t, l.SetWaves(ctx, []Wave{{Number: 0, Name: "canaries", Members: []string{"acme/a"}},
		{Number: 1, Gate: Gate{Require: []string{GateMerged}}, Members: []string{"acme/b"}}}))
	must(t, l.SetWaveState(ctx, 0, WaveRunning, ""))
	must(t, l.RecordStep(ctx, Step{Repo: "acme/b", Name: "push", Outcome: OutcomeFailed, Reason: "push rejected"}))
	must(t, l.RecordChange(ctx, Change{Repo: "acme/a", Branch: "cutover/npm-oidc", PushedSHA: "abc", PRNumber: 3}))
	must(t, l.SetFlag(ctx, "acme/a", "CUTOVER_NPM_OIDC", "true"))
	_, err := l.RecordVerification(ctx, Verification{Repo: "acme/a", Package: "@acme/a", Version: "1.0.1",
		Checks: []Check{{Name: "exists", OK: true}}})
	must(t, err)
	exp := clk.Now().Add(24 * time.Hour)
	must(t, l.UpsertTokens(ctx, []Token{{Key: "k1", Prefix: "npm_Ab", Repo: "acme/a", Expires: &exp, CIDR: []string{"0.0.0.0/0"}},
		{Key: "k2", Prefix: "npm_Cd"}}))
	_, err = l.RecordRevocation(ctx, "k1", "test")
	must(t, err)
	must(t, l.RecordSecret(ctx, Secret{Repo: "acme/a", Scope: ScopeRepo, Name: "NPM_TOKEN"}))
	must(t, l.RecordSecret(ctx, Secret{Scope: ScopeOrg, Name: "NPM_TOKEN"}))
	must(t, l.MarkSecretDeleted(ctx, Secret{Repo: "acme/a", Scope: ScopeRepo, Name: "NPM_TOKEN"}, "test"))
	must(t, l.RecordReminder(ctx, Reminder{Repo: "acme/b", Topic: "token-age", Level: 2}))
	run, err := l.StartRun(ctx, "nightly", "host:1")
	must(t, err)
	must(t, l.FinishRun(ctx, run, OutcomeOK, "3 repositories"))
	_, err = l.AppendEvent(ctx, Event{Kind: "note", Data: json.RawMessage(`{"a":[1,2]}`)})
	must(t, err)

	s, err := l.Snapshot(ctx)
	must(t, err)
	if s.Campaign.Name != "npm-oidc" || len(s.Repos) != 3 || len(s.Waves) != 2 || len(s.Tokens) != 2 ||
		len(s.Revocations) != 1 || len(s.OrgSecrets) != 1 || len(s.ScheduleRuns) != 1 || len(s.Events) < 6 {
		t.Fatalf("snapshot is missing parts: %+v", s)
	}
	a, b, c := s.Repos[0], s.Repos[1], s.Repos[2]
	if a.Wave == nil || *a.Wave != 0 || len(a.Packages) != 3 || a.Change == nil || a.Change.PRNumber != 3 ||
		len(a.Flags) != 1 || len(a.Verifications) != 1 || len(a.Tokens) != 1 || len(a.Revocations) != 1 ||
		len(a.Secrets) != 1 || a.Secrets[0].DeletedAt == nil || a.Repo.Classification == nil {
		t.Errorf("acme/a in snapshot = %+v", a)
	}
	if b.Step == nil || b.Step.Reason != "push rejected" || len(b.Reminders) != 1 || b.Wave == nil || *b.Wave != 1 {
		t.Errorf("acme/b in snapshot = %+v", b)
	}
	if c.Wave != nil || c.Change != nil || c.Packages == nil || c.Step != nil {
		t.Errorf("acme/c in snapshot = %+v", c)
	}

	doc, err := json.Marshal(s)
	must(t, err)
	var back Snapshot
	must(t, json.Unmarshal(doc, &back))
	if d := cmp.Diff(s, &back); d != "" {
		t.Errorf("snapshot changed through JSON (-before +after):\n%s", d)
	}

	// The same ledger gives the same snapshot.
	again, err := l.Snapshot(ctx)
	must(t, err)
	if d := cmp.Diff(s, again); d != "" {
		t.Errorf("second snapshot differs (-first +second):\n%s", d)
	}
}

func TestSnapshotEmpty(t *testing.T) {
	t.Parallel()
	l, _ := openTest(t)
	s, err := l.Snapshot(t.Context())
	must(t, err)
	doc, err := json.Marshal(s)
	must(t, err)
	for _, key := range []string{`"repos":[]`, `"waves":[]`, `"tokens":[]`, `"events":[]`, `"org_secrets":[]`} {
		if !strings.Contains(string(doc), key) {
			t.Errorf("empty snapshot lacks %s: %s", key, doc)
		}
	}
}
