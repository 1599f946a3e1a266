package rewrite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRewrite feeds arbitrary YAML to every playbook as the one workflow of
// a repository. No input may panic; a rewritten file must parse, and a
// second run over the output must change nothing. Validation is off so that
// a broken splice shows up here instead of being turned into a manual
// result by Lint. Seeds: the shared corpus (when it is beside the checkout)
// and the golden inputs.
func FuzzRewrite(f *testing.F) {
	for _, dir := range []string{filepath.Join(corpusDir, "files"), filepath.Join(rewriteDir, "*")} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.y*ml"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	noValidate := func(string, []byte, []byte) error { return nil }
	const wf = ".github/workflows/release.yml"
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, pb := range []Playbook{PlaybookOIDC, PlaybookCleanup, PlaybookTokenBridge} {
			opts := RewriteOptions{Playbook: pb, Registry: TestRegistry, Validate: noValidate, Stage: true, PublicRepo: true}
			snap := Snapshot{Repo: "acme/widget", Files: map[string][]byte{wf: data}}
			res, err := Rewrite(snap, opts)
			if err != nil {
				t.Fatalf("%s: %v", pb, err)
			}
			fr := res.Files[0]
			if fr.Status != StatusRewritten {
				if !bytes.Equal(fr.After, data) {
					t.Fatalf("%s: status %s but the bytes changed", pb, fr.Status)
				}
				continue
			}
			if _, err := ParseWorkflow(wf, fr.After); err != nil {
				t.Fatalf("%s: rewritten file does not parse: %v\n--- in\n%s\n--- out\n%s", pb, err, data, fr.After)
			}
			again, err := Rewrite(Snapshot{Repo: snap.Repo, Files: map[string][]byte{wf: fr.After}}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if g := again.Files[0]; g.Status == StatusRewritten || !bytes.Equal(g.After, fr.After) {
				t.Fatalf("%s: second run changed the file (status %s):\n%s", pb, g.Status, unifiedDiff(string(fr.After), string(g.After)))
			}
			if !bytes.Contains(data, []byte("\r")) && bytes.Contains(fr.After, []byte("\r")) {
				t.Fatalf("%s: a file with LF line endings got a CR", pb)
			}
		}
	})
}
