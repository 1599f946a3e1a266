package rewrite

import (
	"strconv"
	"strings"
	"testing"
)

// TestMaxFileBytes checks that the file limit is the caller's: detection
// reads a file up to it and reports a larger one, and a rewrite whose output
// would pass it is refused (cutover could not read its own result back).
func TestMaxFileBytes(t *testing.T) {
	src := largeWorkflow(40) // about 5 KiB in, about 14 KiB out
	const path = ".github/workflows/release.yml"
	snap := Snapshot{Repo: "acme/big", Files: map[string][]byte{path: src, "package.json": []byte(`{"name":"big","version":"1.0.0"}`)}}
	tooLarge := func(r *Result) bool {
		for _, f := range r.Findings {
			if f.Code == "file-too-large" && f.File == path {
				return true
			}
		}
		return false
	}
	cases := []struct {
		name      string
		limit     int64
		tooLarge  bool
		status    Status
		reasonHas string
	}{
		{name: "default", limit: 0, status: StatusRewritten},
		{name: "input over the limit", limit: int64(len(src)) - 1, tooLarge: true, status: StatusUnchanged, reasonHas: "not read"},
		{name: "output over the limit", limit: int64(len(src)) + 100, status: StatusManual, reasonHas: "over the " + strconv.Itoa(len(src)+100) + "-byte limit cutover reads (scan.max_file_bytes)"},
		{name: "raised limit", limit: 64 << 20, status: StatusRewritten},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			det := Detect(snap, Options{Registry: TestRegistry, MaxFileBytes: c.limit})
			if got := tooLarge(det); got != c.tooLarge {
				t.Fatalf("file-too-large finding = %v, want %v (%+v)", got, c.tooLarge, det.Findings)
			}
			if !c.tooLarge && len(det.Pipelines) != 40 {
				t.Fatalf("%d pipelines, want 40", len(det.Pipelines))
			}
			res, err := Rewrite(snap, RewriteOptions{Registry: TestRegistry, MaxFileBytes: c.limit})
			if err != nil {
				t.Fatal(err)
			}
			f := res.Files[0]
			if f.Status != c.status {
				t.Fatalf("status %s, want %s (%v)", f.Status, c.status, f.Reasons)
			}
			if c.reasonHas != "" && !strings.Contains(strings.Join(f.Reasons, "\n"), c.reasonHas) {
				t.Fatalf("reasons %q do not say %q", f.Reasons, c.reasonHas)
			}
			if f.Status == StatusRewritten && int64(len(f.After)) > fileLimit(c.limit) {
				t.Fatalf("rewritten to %d bytes, over the %d-byte limit", len(f.After), fileLimit(c.limit))
			}
			if f.Status != StatusRewritten && string(f.After) != string(src) {
				t.Fatal("a refused file was changed")
			}
		})
	}
}
