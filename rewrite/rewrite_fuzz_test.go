package rewrite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/cutover/cutover/internal/corpus"
)

// FuzzRewrite feeds arbitrary YAML to every playbook as the one workflow of
// a repository. No input may panic; a rewritten file must parse, and a
// second run over the output must change nothing. Validation is off so that
// a broken splice shows up here instead of being turned into a manual
// result by Lint. line and op make a line-level edit first (mutateLine),
// which reaches shapes byte-level mutation of a seed rarely keeps valid,
// and crlf turns the input's line endings into CRLF.
// Seeds: the shared corpus (when it is beside the checkout) and the golden
// inputs.
func FuzzRewrite(f *testing.F) {
	for _, dir := range []string{filepath.Join(corpus.Dir(), "files"), filepath.Join(rewriteDir, "*")} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.y*ml"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b, false, uint16(0), uint8(0))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, crlf bool, line uint16, op uint8) {
		data = mutateLine(data, int(line), op)
		if crlf {
			data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
		}
		checkAnyInput(t, data)
	})
}

// checkAnyInput runs every playbook on data as a repository's one
// workflow and checks what FuzzRewrite promises.
func checkAnyInput(t *testing.T, data []byte) {
	t.Helper()
	noValidate := func(string, []byte, []byte) error { return nil }
	const wf = ".github/workflows/release.yml"
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
			t.Fatalf("%s: second run changed the file (status %s %v):\n--- in\n%s\n--- diff\n%s", pb, g.Status, g.Reasons, data, unifiedDiff(string(fr.After), string(g.After)))
		}
		if !bytes.Contains(data, []byte("\r")) && bytes.Contains(fr.After, []byte("\r")) {
			t.Fatalf("%s: a file with LF line endings got a CR", pb)
		}
	}
}

// mutateLine edits line n (modulo the line count) of a file: op 1 deletes
// it, 2 doubles it, 3 indents it two more spaces, 4 removes two spaces of
// indentation, 5 puts a comment line above it, 6 a blank line, 7 appends a
// comment to it, 8 turns its first "e" into a two-byte "é" (YAML columns
// count characters); anything else leaves the file alone.
func mutateLine(data []byte, n int, op uint8) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) == 0 || op%9 == 0 {
		return data
	}
	n %= len(lines)
	l := lines[n]
	body := bytes.TrimRight(l, "\r\n")
	nl := l[len(body):]
	ind := body[:len(body)-len(bytes.TrimLeft(body, " "))]
	var repl [][]byte
	switch op % 9 {
	case 1:
	case 2:
		repl = [][]byte{l, l}
	case 3:
		repl = [][]byte{append([]byte("  "), l...)}
	case 4:
		repl = [][]byte{bytes.TrimPrefix(l, []byte("  "))}
	case 5:
		repl = [][]byte{append(append(append([]byte{}, ind...), "# note"...), '\n'), l}
	case 6:
		repl = [][]byte{[]byte("\n"), l}
	case 7:
		repl = [][]byte{append(append(append([]byte{}, body...), " # nöte"...), nl...)}
	case 8:
		repl = [][]byte{bytes.Replace(l, []byte("e"), []byte("é"), 1)}
	}
	out := append([][]byte{}, lines[:n]...)
	out = append(out, repl...)
	out = append(out, lines[n+1:]...)
	return bytes.Join(out, nil)
}
