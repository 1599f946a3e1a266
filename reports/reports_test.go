package reports

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/ledger"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testRegistry is the only package site tests link to.
const testRegistry = "https://npm-registry.invalid/"

func fixtureMeta() Meta {
	return Meta{
		GeneratedAt: time.Date(2026, 3, 9, 8, 5, 0, 0, time.UTC),
		ToolVersion: "v0.1.0-test",
		PackageURL:  testRegistry + "package/",
		HTMLURL:     "https://ci.invalid/acme/campaign/artifacts/report.html",
	}
}

func loadSnapshot(t testing.TB) *ledger.Snapshot {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	var snap ledger.Snapshot
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&snap); err != nil {
		t.Fatalf("testdata/snapshot.json: %v", err)
	}
	return &snap
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test ./reports -update rewrites it):\n%s", name, diff)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	r := Build(loadSnapshot(t), fixtureMeta())
	for _, tc := range []struct {
		name   string
		render func(*Report) ([]byte, error)
	}{
		{"report.golden.json", JSON},
		{"report.golden.md", Markdown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.render(r)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, got)
		})
	}
}

func TestBuildDeterministic(t *testing.T) {
	t.Parallel()
	snap := loadSnapshot(t)
	a, _ := JSON(Build(snap, fixtureMeta()))
	b, _ := JSON(Build(snap, fixtureMeta()))
	if !bytes.Equal(a, b) {
		t.Error("two builds of the same snapshot differ")
	}
}

func TestStates(t *testing.T) {
	t.Parallel()
	r := Build(loadSnapshot(t), fixtureMeta())
	want := map[string]string{
		"acme/widget":                    StateDone,
		"acme/monorepo":                  StateVerified,
		"acme/private-lib":               StateBlocked,
		"acme/gizmo":                     StatePROpen,
		"acme/legacy-builder":            StateBridged,
		"acme/<script>alert(1)</script>": StateBlocked,
		"acme/gadget":                    StateBlocked,
		"acme/docs-site":                 StateNotPublishing,
		"acme/new-thing":                 StateInventoried,
		"acme/already-oidc":              StateDone,
		"acme/sprocket":                  StatePlanned,
		"acme/flagged":                   StateFlagOn,
		"acme/merged-only":               StateMerged,
	}
	got := map[string]string{}
	for _, c := range r.Repos {
		got[c.Repo] = c.State
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
	s := r.Summary
	if s.Repos != 13 || s.InScope != 12 || s.Finished != 3 || s.Blocked != 3 || s.ProgressPercent != 25 {
		t.Errorf("summary = %+v", s)
	}
	if s.TokensRevoked != 1 || s.TokensRemaining != 2 || s.SecretsDeleted != 1 {
		t.Errorf("token counts = revoked %d, remaining %d, secrets deleted %d", s.TokensRevoked, s.TokensRemaining, s.SecretsDeleted)
	}
	if len(r.Failures) != 2 || r.Failures[0].Reason != "push rejected" || r.Failures[0].Count != 2 {
		t.Errorf("failures = %+v", r.Failures)
	}
	if n := len(r.VerifiedCanaries); n != 3 {
		t.Errorf("verified canaries = %d, want 3", n)
	}
	last := r.Burndown[len(r.Burndown)-1]
	if r.Burndown[0].Remaining != 11 || r.Burndown[0].Finished != 1 || last.Remaining != 9 || last.Finished != 3 {
		t.Errorf("burndown from %+v to %+v", r.Burndown[0], last)
	}
}

func TestEmpty(t *testing.T) {
	t.Parallel()
	for name, snap := range map[string]*ledger.Snapshot{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			r := Build(snap, Meta{})
			for _, render := range []func(*Report) ([]byte, error){JSON, HTML, Markdown} {
				if _, err := render(r); err != nil {
					t.Fatal(err)
				}
			}
			validate(t, r)
		})
	}
}

func TestMarkdownEscapes(t *testing.T) {
	t.Parallel()
	md, err := Markdown(Build(loadSnapshot(t), fixtureMeta()))
	if err != nil {
		t.Fatal(err)
	}
	s := string(md)
	for _, bad := range []string{"<script>", "</script>", "<b>", "<img"} {
		if strings.Contains(s, bad) {
			t.Errorf("Markdown holds raw %q", bad)
		}
	}
	if !strings.Contains(s, "acme/&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("Markdown does not show the script repository's name as text")
	}
	if !strings.Contains(s, "(https://ci.invalid/acme/campaign/artifacts/report.html)") {
		t.Error("Markdown does not link the HTML report")
	}
}

func TestURLsMustBeHTTP(t *testing.T) {
	t.Parallel()
	m := fixtureMeta()
	m.PackageURL = "javascript:alert(1)//"
	m.HTMLURL = "javascript:alert(2)"
	r := Build(loadSnapshot(t), m)
	out, _ := JSON(r)
	if bytes.Contains(out, []byte("javascript:")) {
		t.Error("a javascript: URL reached the report")
	}
	if r.Campaign.ReportURL != "report.html" {
		t.Errorf("report URL = %q, want the default report.html", r.Campaign.ReportURL)
	}
}

// TestMarkdownLists checks that report.md lists revoked token keys whole and
// verified canaries, each capped with "and N more".
func TestMarkdownLists(t *testing.T) {
	t.Parallel()
	r := Build(synth(1000), fixtureMeta())
	md, err := Markdown(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.RevokedTokens) <= mdListMax || len(r.VerifiedCanaries) <= mdListMax {
		t.Fatalf("synth(1000) has %d revoked tokens and %d verified canaries; the test needs more than %d of each",
			len(r.RevokedTokens), len(r.VerifiedCanaries), mdListMax)
	}
	for _, want := range []string{
		"### Revoked npm tokens (" + itoa(len(r.RevokedTokens)) + ")",
		"`` " + r.RevokedTokens[0].Key + " ``",
		"- and " + itoa(len(r.RevokedTokens)-mdListMax) + " more; see the full report.",
		"### Verified canaries (" + itoa(len(r.VerifiedCanaries)) + ")",
		"`` " + r.VerifiedCanaries[0].Package + "@" + r.VerifiedCanaries[0].Version + " ``",
		"- and " + itoa(len(r.VerifiedCanaries)-mdListMax) + " more; see the full report.",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md has no %q", want)
		}
	}
	if len(r.RevokedTokens[0].Key) != 32 {
		t.Errorf("revoked key %q is not whole", r.RevokedTokens[0].Key)
	}
	if strings.Contains(string(md), "`` "+r.RevokedTokens[mdListMax].Key+" ``") {
		t.Error("report.md lists more revoked tokens than its cap")
	}
}

// TestSandboxHeader checks that a campaign run on a sandbox (pull
// requests on a loopback address, or Meta.Sandbox) says so in its header.
func TestSandboxHeader(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		url     string
		meta    bool
		sandbox bool
	}{
		{"forge", "https://forge.invalid/o/r/pull/1", false, false},
		{"loopback", "http://127.0.0.1:40123/o/r/pull/1", false, true},
		{"localhost", "http://localhost:8080/o/r/pull/1", false, true},
		{"meta", "https://forge.invalid/o/r/pull/1", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			snap := synth(20)
			for i := range snap.Repos {
				if ch := snap.Repos[i].Change; ch != nil {
					ch.URL = tc.url
				}
			}
			meta := fixtureMeta()
			meta.Sandbox = tc.meta
			r := Build(snap, meta)
			if r.Campaign.Sandbox != tc.sandbox {
				t.Fatalf("Campaign.Sandbox = %v, want %v", r.Campaign.Sandbox, tc.sandbox)
			}
			md, err := Markdown(r)
			if err != nil {
				t.Fatal(err)
			}
			page, err := HTML(r)
			if err != nil {
				t.Fatal(err)
			}
			const note = "links point at a sandbox that no longer runs"
			if got := strings.Contains(string(md), note); got != tc.sandbox {
				t.Errorf("report.md says %q: %v, want %v", note, got, tc.sandbox)
			}
			if got := strings.Contains(string(page), note); got != tc.sandbox {
				t.Errorf("report.html says %q: %v, want %v", note, got, tc.sandbox)
			}
		})
	}
}

// TestWaveTitle checks that a wave's name is not repeated when it only
// repeats its number.
func TestWaveTitle(t *testing.T) {
	for _, tc := range []struct {
		n          int
		name, want string
	}{
		{1, "", "wave 1"}, {1, "wave 1", "wave 1"}, {1, "Wave 1", "wave 1"}, {2, "2", "wave 2"},
		{0, "canaries", "wave 0 (canaries)"}, {3, "wave 2", "wave 3 (wave 2)"},
	} {
		if got := waveTitle(tc.n, tc.name); got != tc.want {
			t.Errorf("waveTitle(%d, %q) = %q, want %q", tc.n, tc.name, got, tc.want)
		}
	}
}

// TestLastStep checks that a card's last step is the latest of its events
// and engine steps, not the inventory that came first.
func TestLastStep(t *testing.T) {
	t.Parallel()
	snap := synth(40)
	r := Build(snap, fixtureMeta())
	seen := 0
	for i, c := range r.Repos {
		rs := snap.Repos[i]
		var last *ledger.Event
		for j := range snap.Events {
			if e := &snap.Events[j]; e.Repo == rs.Repo.FullName && (last == nil || !e.Time.Before(last.Time)) {
				last = e
			}
		}
		text := lastStepText(&c)
		switch {
		case last != nil && (rs.Step == nil || last.Time.After(rs.Step.At)):
			seen++
			if want := last.Message + " (" + last.Kind + "), " + fmtTime(last.Time); text != want {
				t.Errorf("%s: last step %q, want %q", c.Repo, text, want)
			}
		case rs.Step != nil:
			if !strings.HasPrefix(text, rs.Step.Name+" "+rs.Step.Outcome) {
				t.Errorf("%s: last step %q, want the %s step", c.Repo, text, rs.Step.Name)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no card's last step came from an event")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
