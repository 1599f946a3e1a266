package lint

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/cutover/cutover/rewrite"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/check")

// checkDir holds the golden cases of Check: <case>.txtar is a repository
// (its comment may hold "problem: path: reason" lines for
// Snapshot.Problems, "require-environment: true" and
// "ignore: RULE PATH -- REASON" lines for Options.Ignore); <case>.golden.json
// is the results.
const checkDir = "testdata/check"

func TestCheckGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join(checkDir, "*.txtar"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases in %s: %v", checkDir, err)
	}
	for _, file := range cases {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			snap := rewrite.Snapshot{Repo: "acme/lint-golden", Files: map[string][]byte{}}
			opts := Options{Registry: testRegistry, FlagVar: rewrite.DefaultFlagVar}
			for _, line := range strings.Split(string(ar.Comment), "\n") {
				key, val, ok := strings.Cut(line, ":")
				if !ok {
					continue
				}
				val = strings.TrimSpace(val)
				switch strings.TrimSpace(key) {
				case "problem":
					p, reason, _ := strings.Cut(val, ":")
					if snap.Problems == nil {
						snap.Problems = map[string]string{}
					}
					snap.Problems[strings.TrimSpace(p)] = strings.TrimSpace(reason)
				case "require-environment":
					opts.RequireEnvironment = val == "true"
				case "ignore":
					// ignore: RULE PATH -- REASON
					rule, rest, _ := strings.Cut(val, " ")
					p, reason, _ := strings.Cut(rest, " -- ")
					opts.Ignore = append(opts.Ignore, Ignore{Rule: rule, Path: strings.TrimSpace(p), Reason: strings.TrimSpace(reason)})
				}
			}
			for _, f := range ar.Files {
				snap.Files[f.Name] = f.Data
			}
			res := Check(snap, opts)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(nonNil(res)); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			golden := filepath.Join(checkDir, name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/lint -run TestCheckGolden -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("Check(%s) mismatch (-want +got):\n%s", file, diff)
			}
		})
	}
}

func nonNil(rs []Result) []Result {
	if rs == nil {
		return []Result{}
	}
	return rs
}
