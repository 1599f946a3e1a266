package rewrite

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
)

// otherCIDir holds the golden cases of the GitLab and CircleCI playbooks:
// <case>.txtar is a repository (as in testdata/detect); <case>.golden.txtar
// holds, for the oidc playbook and then cleanup run on its output, the
// FileResults as JSON ("oidc.json", "cleanup.json") and every rewritten
// file ("oidc/<path>", "cleanup/<path>").
//
// go test ./rewrite -run TestOtherCIGolden -update regenerates them.
const otherCIDir = "testdata/otherci"

func TestOtherCIGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join(otherCIDir, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, file := range cases {
		if strings.HasSuffix(file, ".golden.txtar") {
			continue
		}
		n++
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			snap := archiveSnapshot(ar)
			got := &txtar.Archive{}
			for _, pb := range []Playbook{PlaybookOIDC, PlaybookCleanup} {
				res, err := Rewrite(snap, RewriteOptions{Playbook: pb, Registry: TestRegistry})
				if err != nil {
					t.Fatal(err)
				}
				b, err := json.MarshalIndent(res.Files, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				got.Files = append(got.Files, txtar.File{Name: string(pb) + ".json", Data: append(b, '\n')})
				next := Snapshot{Repo: snap.Repo, Files: map[string][]byte{}}
				for k, v := range snap.Files {
					next.Files[k] = v
				}
				for _, f := range res.Files {
					if f.Status == StatusRewritten {
						got.Files = append(got.Files, txtar.File{Name: string(pb) + "/" + f.Path, Data: f.After})
						next.Files[f.Path] = f.After
					}
				}
				// Idempotent: the playbook on its own output changes nothing.
				again, err := Rewrite(next, RewriteOptions{Playbook: pb, Registry: TestRegistry})
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range again.Files {
					if f.Status == StatusRewritten {
						t.Errorf("%s is not idempotent on %s:\n%s", pb, f.Path, f.After)
					}
				}
				snap = next
			}
			golden := filepath.Join(otherCIDir, name+".golden.txtar")
			if *update {
				if err := os.WriteFile(golden, txtar.Format(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := txtar.ParseFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./rewrite -run TestOtherCIGolden -update)", err)
			}
			if diff := cmp.Diff(string(txtar.Format(want)), string(txtar.Format(got))); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if n == 0 {
		t.Fatalf("no cases in %s", otherCIDir)
	}
}

// TestOtherCIRewriteKeepsBytes checks that the playbooks only add or remove
// whole lines: every line of the input that is not removed is still there.
func TestOtherCIRewriteKeepsBytes(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join(otherCIDir, "*.txtar"))
	for _, file := range cases {
		if strings.HasSuffix(file, ".golden.txtar") {
			continue
		}
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		snap := archiveSnapshot(ar)
		res, err := Rewrite(snap, RewriteOptions{Registry: TestRegistry})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Files {
			if f.Status != StatusRewritten {
				continue
			}
			for _, line := range bytes.Split(f.Before, []byte("\n")) {
				if !bytes.Contains(f.After, line) {
					t.Errorf("%s: oidc dropped the line %q", file, line)
				}
			}
		}
	}
}

// FuzzOtherCI runs both playbooks over arbitrary GitLab and CircleCI files:
// they never panic, a rewritten file parses, and the oidc playbook is
// idempotent.
func FuzzOtherCI(f *testing.F) {
	cases, _ := filepath.Glob(filepath.Join(otherCIDir, "*.txtar"))
	for _, file := range cases {
		if strings.HasSuffix(file, ".golden.txtar") {
			continue
		}
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, af := range ar.Files {
			if isOtherCIPath(af.Name) {
				f.Add(af.Name == CircleCIConfig, af.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, circle bool, data []byte) {
		p := GitLabCIPath
		if circle {
			p = CircleCIConfig
		}
		snap := Snapshot{Repo: "acme/fuzz", Files: map[string][]byte{p: data, "package.json": []byte(`{"name":"fuzz","version":"1.0.0"}`)}}
		Detect(snap, Options{Registry: TestRegistry})
		res, err := Rewrite(snap, RewriteOptions{Registry: TestRegistry})
		if err != nil {
			t.Fatal(err)
		}
		for _, fr := range res.Files {
			if fr.Status != StatusRewritten {
				continue
			}
			next := Snapshot{Repo: snap.Repo, Files: map[string][]byte{fr.Path: fr.After, "package.json": snap.Files["package.json"]}}
			again, err := Rewrite(next, RewriteOptions{Registry: TestRegistry})
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range again.Files {
				if g.Status == StatusRewritten {
					t.Fatalf("oidc not idempotent on %s:\n%s\n-- again --\n%s", g.Path, fr.After, g.After)
				}
			}
		}
	})
}
