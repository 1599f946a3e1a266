package rewrite

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
	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/detect")

// detectDir holds the golden cases: <case>.txtar is a repository (the
// archive's files, and in its comment "repo: owner/name" and any number of
// "problem: path: reason" lines for Snapshot.Problems); <case>.golden.json is
// the Result Detect must return for it.
const detectDir = "testdata/detect"

// archiveSnapshot turns a txtar archive into the Snapshot of a repository.
func archiveSnapshot(ar *txtar.Archive) Snapshot {
	snap := Snapshot{Files: map[string][]byte{}}
	for _, line := range strings.Split(string(ar.Comment), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "repo":
			snap.Repo = val
		case "problem":
			p, reason, _ := strings.Cut(val, ":")
			if snap.Problems == nil {
				snap.Problems = map[string]string{}
			}
			snap.Problems[strings.TrimSpace(p)] = strings.TrimSpace(reason)
		}
	}
	for _, f := range ar.Files {
		snap.Files[f.Name] = f.Data
	}
	return snap
}

// marshalResult is the golden form of a Result: indented JSON and a newline.
func marshalResult(tb testing.TB, r *Result) []byte {
	tb.Helper()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	return append(b, '\n')
}

// decodeResult reads a Result back from JSON, so that two results compare
// by what the JSON contract carries and nothing else.
func decodeResult(tb testing.TB, b []byte) Result {
	tb.Helper()
	var r Result
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		tb.Fatalf("decode result: %v", err)
	}
	return r
}

func TestDetectGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join(detectDir, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("no cases in %s", detectDir)
	}
	for _, file := range cases {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			snap := archiveSnapshot(ar)
			before := len(snap.Files)
			res := Detect(snap, Options{Registry: TestRegistry})
			if len(snap.Files) != before {
				t.Errorf("Detect changed the snapshot: %d files before, %d after", before, len(snap.Files))
			}
			checkResult(t, snap, res)
			got := marshalResult(t, res)
			golden := filepath.Join(detectDir, name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./rewrite -run TestDetectGolden -update to create it)", err)
			}
			if diff := cmp.Diff(decodeResult(t, want), decodeResult(t, got)); diff != "" {
				t.Errorf("Detect(%s) mismatch (-want +got):\n%s", file, diff)
			}
		})
	}
}

// TestDetectBadInput covers inputs too awkward to keep in a txtar file: each
// must give a finding naming the file, fast, while the rest is still read.
func TestDetectBadInput(t *testing.T) {
	publish := []byte(`on: push
permissions:
  id-token: write
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-node@v6
        with:
          node-version: 24
          registry-url: https://npm-registry.invalid/
      - run: npm publish
`)
	pkg := []byte(`{"name": "bad-input", "version": "1.0.0"}`)
	big := bytes.Repeat([]byte("# padding to push the file over the limit\n"), MaxFileBytes/40+1)
	bigWorkflow := append(append([]byte{}, publish...), big...)
	bomb := []byte("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		bomb = append(bomb, []byte(n+": &"+n+" [*"+prev+",*"+prev+",*"+prev+",*"+prev+",*"+prev+",*"+prev+",*"+prev+",*"+prev+",*"+prev+"]\n")...)
		prev = n
	}
	bomb = append(bomb, []byte("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    env: *i\n    steps:\n      - run: npm publish\n")...)

	tests := []struct {
		name     string
		files    map[string][]byte
		problems map[string]string
		// wantCode is the finding the bad file must give, on wantFile.
		wantCode, wantFile string
		// wantPublishes is what the rest of the repository still says.
		wantPublishes bool
	}{
		{
			name:          "workflow over 1 MiB",
			files:         map[string][]byte{".github/workflows/big.yml": bigWorkflow, ".github/workflows/release.yml": publish, "package.json": pkg},
			wantCode:      "file-too-large",
			wantFile:      ".github/workflows/big.yml",
			wantPublishes: true,
		},
		{
			name:          "package.json over 1 MiB",
			files:         map[string][]byte{".github/workflows/release.yml": publish, "package.json": append([]byte(`{"name":"x","description":"`), append(bytes.Repeat([]byte("x"), MaxFileBytes), []byte(`"}`)...)...)},
			wantCode:      "file-too-large",
			wantFile:      "package.json",
			wantPublishes: true,
		},
		{
			name:          "workflow in Latin-1",
			files:         map[string][]byte{".github/workflows/latin1.yml": append([]byte("name: Ver\xf6ffentlichen\n"), publish...), ".github/workflows/release.yml": publish, "package.json": pkg},
			wantCode:      "not-utf8",
			wantFile:      ".github/workflows/latin1.yml",
			wantPublishes: true,
		},
		{
			name:          "package.json in UTF-16",
			files:         map[string][]byte{".github/workflows/release.yml": publish, "package.json": {0xff, 0xfe, '{', 0, '}', 0}},
			wantCode:      "not-utf8",
			wantFile:      "package.json",
			wantPublishes: true,
		},
		{
			name:          "alias bomb",
			files:         map[string][]byte{".github/workflows/bomb.yml": bomb, ".github/workflows/release.yml": publish, "package.json": pkg},
			wantCode:      "workflow-invalid",
			wantFile:      ".github/workflows/bomb.yml",
			wantPublishes: true,
		},
		{
			name:          "problem reported by the reader",
			files:         map[string][]byte{".github/workflows/release.yml": publish, "package.json": pkg},
			problems:      map[string]string{".npmrc": "symlink points outside the repository; not followed"},
			wantCode:      "unreadable-file",
			wantFile:      ".npmrc",
			wantPublishes: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			snap := Snapshot{Repo: "example/bad-input", Files: tt.files, Problems: tt.problems}
			sizes := map[string]int{}
			for p, b := range tt.files {
				sizes[p] = len(b)
			}
			start := time.Now()
			res := Detect(snap, Options{Registry: TestRegistry})
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("Detect took %v", el)
			}
			if len(snap.Files) != len(sizes) {
				t.Errorf("Detect removed files from the caller's snapshot: %d left of %d", len(snap.Files), len(sizes))
			}
			found := false
			for _, f := range res.Findings {
				if f.Code == tt.wantCode && f.File == tt.wantFile {
					found = true
					if f.Severity != SevError {
						t.Errorf("finding %s on %s has severity %s, want error", f.Code, f.File, f.Severity)
					}
				}
			}
			if !found {
				t.Errorf("no %s finding on %s; findings: %+v", tt.wantCode, tt.wantFile, res.Findings)
			}
			if res.Publishes != tt.wantPublishes {
				t.Errorf("Publishes = %v, want %v (the rest of the repository must still be read)", res.Publishes, tt.wantPublishes)
			}
		})
	}
}
