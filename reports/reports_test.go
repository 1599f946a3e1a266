package reports

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
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
