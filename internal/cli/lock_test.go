package cli

import (
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox"
)

// TestTwoWritersOneLedger runs two apply --execute on one ledger at once:
// the campaign lock makes the second wait for the first, so each pull
// request is opened, and recorded, once. A third command with --wait 0
// refuses at once, naming the holder.
func TestTwoWritersOneLedger(t *testing.T) {
	t.Parallel()
	c := newNPMCLI(t, 8, sandbox.KindNPM)
	ok := []int{ExitOK}
	c.mustRun(t, ok, "inventory")
	c.mustRun(t, ok, "plan")
	wave, err := ledgerWave(t, c.ledger)
	if err != nil {
		t.Fatal(err)
	}

	// The test holds the lock first, so that both commands must wait.
	led, held := holdCampaignLock(t, c.ledger)

	refused := c.run(t, "status", "--wait", "0")
	host, _ := os.Hostname()
	if refused.code != ExitFatal || !strings.Contains(refused.err, `"test holder"`) ||
		!strings.Contains(refused.err, "pid "+strconv.Itoa(os.Getpid())) || !strings.Contains(refused.err, host) ||
		!strings.Contains(refused.err, "since ") {
		t.Errorf("status --wait 0 while the lock is held: exit %d, want %d and the holder named\n%s", refused.code, ExitFatal, refused.err)
	}

	var wg sync.WaitGroup
	codes := make([]int, 2)
	stderr := &approvingWriter{reg: c.w.NPM} // both commands' stderr, read while they run
	started := time.Now()
	for i := range codes {
		wg.Go(func() {
			args := []string{"apply", "--wave", "0", "--execute", "--ledger", c.ledger, "--log-format", "json"}
			codes[i] = Main(t.Context(), args, Streams{In: strings.NewReader(""), Out: io.Discard, Err: stderr},
				func(k string) string { return c.env[k] })
		})
	}
	// Both wait for the test's lock; then the test lets go.
	for deadline := time.Now().Add(30 * time.Second); ; {
		if n := strings.Count(stderr.String(), "is writing to the ledger"); n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the two applies did not both wait for the lock:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := held.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	t.Logf("two applies took %v", time.Since(started))
	for i, code := range codes {
		if code != ExitOK && code != ExitFindings {
			t.Fatalf("apply %d: exit %d\n%s", i, code, stderr.String())
		}
	}

	evs, err := led.Events(t.Context(), ledger.EventFilter{Kind: "pr.opened"})
	if err != nil {
		t.Fatal(err)
	}
	perRepo := map[string]int{}
	for _, e := range evs {
		perRepo[e.Repo]++
	}
	for _, repo := range wave {
		if perRepo[repo] != 1 {
			t.Errorf("%s: %d pr.opened events, want 1", repo, perRepo[repo])
		}
	}
	if len(perRepo) != len(wave) {
		t.Errorf("pr.opened for %d repositories, want the wave's %d: %v", len(perRepo), len(wave), perRepo)
	}
	// The second apply found every pull request the first opened: no
	// repository may end up failed ("branch changed by someone else").
	failed, err := led.FailedRepos(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range failed {
		t.Errorf("%s: step %s failed after two applies: %s", s.Repo, s.Name, s.Reason)
	}
	applied, err := led.Events(t.Context(), ledger.EventFilter{Kind: "wave.applied"})
	if err != nil {
		t.Fatal(err)
	}
	// The second apply finds the wave done: its record must agree with
	// the first (the issue saw two contradictory ones).
	for _, e := range applied {
		if e.Message != applied[0].Message || !strings.Contains(e.Message, " 0 failed") {
			t.Errorf("wave.applied %q, want each to agree with %q and none failed", e.Message, applied[0].Message)
		}
	}
	if len(applied) > 2 {
		t.Errorf("%d wave.applied events", len(applied))
	}
	if _, err := led.LockHolder(context.Background(), ledger.CampaignLockName); err == nil {
		t.Error("the campaign lock is still held after both commands ended")
	}
}

// TestWritingCommandsTakeTheLock: every command that writes to the ledger
// takes the campaign lock, so with --wait 0 each one refuses at once while
// another holds it, naming the holder, and records nothing.
func TestWritingCommandsTakeTheLock(t *testing.T) {
	t.Parallel()
	c := newNPMCLI(t, 4, sandbox.KindNPM)
	u := strings.TrimPrefix(strings.TrimPrefix(c.w.RegistryURL, "http:"), "https:")
	c.env["NPM_CONFIG_USERCONFIG"] = c.write(t, "npmrc", "registry="+c.w.RegistryURL+"\n"+u+":_authToken="+c.s.NPMToken+"\n")
	cfg, err := os.ReadFile(c.env["CUTOVER_CONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	c.write(t, "cutover.toml", string(cfg)+"\n[dashboard]\nrepo = \"acme/campaign\"\n\n[[schedule.job]]\nname = \"nightly\"\nspec = \"@daily\"\nrun = \"sweep\"\n")
	ok := []int{ExitOK}
	c.mustRun(t, ok, "inventory")
	c.mustRun(t, ok, "plan")

	led, held := holdCampaignLock(t, c.ledger)
	defer held.Release(context.Background())
	before, err := led.Events(t.Context(), ledger.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}

	otp := c.s.NPMOTP
	for _, args := range [][]string{
		{"inventory"},
		{"plan"},
		{"trust", "--wave", "0", "--otp", otp},
		{"trust", "--wave", "0", "--execute", "--otp", otp},
		{"apply", "--wave", "0"},
		{"apply", "--wave", "0", "--execute"},
		{"status"},
		{"merge", "--wave", "0", "--execute"},
		{"flag", "on", "--wave", "0", "--otp", otp},
		{"flag", "off", "--wave", "0"},
		{"verify", "--wave", "0"},
		{"lockdown", "--wave", "0", "--execute", "--otp", otp},
		{"revoke", "tokens", "--migrated", "--execute", "--otp", otp},
		{"revoke", "secrets", "--wave", "0", "--execute"},
		{"retry", "--failed"},
		{"sweep"},
		{"sweep", "--execute"},
		{"schedule", "--once", "nightly"},
		{"dashboard", "--dry-run"},
		{"dashboard"},
	} {
		r := c.run(t, append(args, "--wait", "0")...)
		if r.code != ExitFatal || !strings.Contains(r.err, "is in use") || !strings.Contains(r.err, `"test holder"`) {
			t.Errorf("cutover %s --wait 0 while the lock is held: exit %d, want %d refusing and naming the holder\n%s",
				strings.Join(args, " "), r.code, ExitFatal, r.err)
		}
	}
	after, err := led.Events(t.Context(), ledger.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("%d events recorded by commands that did not hold the lock: %v", len(after)-len(before), after[len(before):])
	}
}

// holdCampaignLock opens the ledger at path and takes its campaign lock as
// the command "test holder"; the ledger is closed when the test ends.
func holdCampaignLock(t *testing.T, path string) (*ledger.Ledger, *ledger.CampaignLock) {
	t.Helper()
	led, err := ledger.Open(t.Context(), path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	held, err := led.LockCampaign(t.Context(), ledger.LockOptions{Command: "test holder"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return led, held
}
