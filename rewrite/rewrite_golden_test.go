package rewrite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
)

// rewriteDir holds the golden cases of Rewrite, one directory per playbook
// (testdata/rewrite/oidc, …/cleanup, …/token-bridge). A case is:
//
//   - <case>.in.yaml: the workflow, at .github/workflows/<case>.yml in the
//     snapshot.
//   - <case>.txtar (optional): the rest of the repository (package.json, a
//     calling workflow, …). Its comment may hold "repo: owner/name" and
//     "options: stage public-repo flag-var=NAME npm-version=RANGE".
//   - <case>.want.json: every workflow's FileResult (status, edits, reasons,
//     manual steps), as the JSON report prints it.
//   - <case>.want.yaml: the rewritten workflow, present only when it is
//     rewritten; otherwise the test requires it byte-identical.
//   - <case>.want.txtar: the other files of the archive that were rewritten,
//     present only when there are some.
//
// A cleanup case whose name is also an oidc case takes that case's oidc
// output as its input: cleanup/<case>.in.yaml must equal
// oidc/<case>.want.yaml (and the extra files are the oidc case's, rewritten).
//
// go test ./rewrite -run TestRewriteGolden -update regenerates the want files
// and the cleanup inputs.
const rewriteDir = "testdata/rewrite"

// goldenCase is one case found on disk.
type goldenCase struct {
	playbook Playbook
	name     string
	dir      string
}

func (c goldenCase) file(suffix string) string {
	return filepath.Join(c.dir, c.name+suffix)
}

func (c goldenCase) workflowPath() string {
	return ".github/workflows/" + c.name + ".yml"
}

func findGoldenCases(tb testing.TB) []goldenCase {
	tb.Helper()
	var cases []goldenCase
	err := filepath.WalkDir(rewriteDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".in.yaml") {
			return nil
		}
		dir := filepath.Dir(p)
		cases = append(cases, goldenCase{
			playbook: Playbook(filepath.Base(dir)),
			name:     strings.TrimSuffix(filepath.Base(p), ".in.yaml"),
			dir:      dir,
		})
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(cases) == 0 {
		tb.Fatalf("no cases under %s", rewriteDir)
	}
	return cases
}

// caseInput is the snapshot and options of a case.
type caseInput struct {
	snap  Snapshot
	opts  RewriteOptions
	extra []string // paths of the archive's files, in archive order
}

// loadCase reads a case's input. For a cleanup case that mirrors an oidc
// case, the input is the oidc playbook's output, computed afresh.
func loadCase(tb testing.TB, c goldenCase) caseInput {
	tb.Helper()
	in := caseInput{
		snap: Snapshot{Repo: "acme/widget", Files: map[string][]byte{}},
		opts: RewriteOptions{Playbook: c.playbook, Registry: TestRegistry},
	}
	src := c
	if c.playbook == PlaybookCleanup {
		if o := (goldenCase{PlaybookOIDC, c.name, filepath.Join(rewriteDir, string(PlaybookOIDC))}); exists(o.file(".in.yaml")) {
			src = o
		}
	}
	wf, err := os.ReadFile(src.file(".in.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	in.snap.Files[c.workflowPath()] = wf
	if exists(src.file(".txtar")) {
		ar, err := txtar.ParseFile(src.file(".txtar"))
		if err != nil {
			tb.Fatal(err)
		}
		for _, line := range strings.Split(string(ar.Comment), "\n") {
			key, val, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(key) {
			case "repo":
				in.snap.Repo = strings.TrimSpace(val)
			case "options":
				for _, o := range strings.Fields(val) {
					k, v, _ := strings.Cut(o, "=")
					switch k {
					case "stage":
						in.opts.Stage = true
					case "public-repo":
						in.opts.PublicRepo = true
					case "flag-var":
						in.opts.FlagVar = v
					case "npm-version":
						in.opts.NPMVersion = v
					default:
						tb.Fatalf("%s: unknown option %q", src.file(".txtar"), o)
					}
				}
			}
		}
		for _, f := range ar.Files {
			in.snap.Files[f.Name] = f.Data
			in.extra = append(in.extra, f.Name)
		}
	}
	if src != c {
		// The oidc output is this case's input.
		oidcOpts := in.opts
		oidcOpts.Playbook = PlaybookOIDC
		res, err := Rewrite(in.snap, oidcOpts)
		if err != nil {
			tb.Fatal(err)
		}
		for _, f := range res.Files {
			in.snap.Files[f.Path] = f.After
		}
	}
	return in
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestRewriteGolden(t *testing.T) {
	for _, c := range findGoldenCases(t) {
		t.Run(string(c.playbook)+"/"+c.name, func(t *testing.T) {
			t.Parallel()
			in := loadCase(t, c)
			if c.playbook == PlaybookCleanup && exists(filepath.Join(rewriteDir, "oidc", c.name+".in.yaml")) {
				checkCleanupInput(t, c, in)
			}
			res, err := Rewrite(in.snap, in.opts)
			if err != nil {
				t.Fatal(err)
			}
			main := resultFor(t, res, c.workflowPath())
			if *update {
				writeGolden(t, c, in, res, main)
				return
			}
			compareGolden(t, c, in, res, main)
			for _, f := range res.Files {
				checkFileResult(t, in, f)
			}
			checkIdempotent(t, in, res)
		})
	}
}

// checkCleanupInput makes sure cleanup/<case>.in.yaml is the oidc output it
// claims to be, so a reader can diff the two directories.
func checkCleanupInput(t *testing.T, c goldenCase, in caseInput) {
	t.Helper()
	got := in.snap.Files[c.workflowPath()]
	if *update {
		if err := os.WriteFile(c.file(".in.yaml"), got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(c.file(".in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not the oidc output of the same case; run with -update", c.file(".in.yaml"))
	}
}

func resultFor(t *testing.T, res *RewriteResult, p string) FileResult {
	t.Helper()
	for _, f := range res.Files {
		if f.Path == p {
			return f
		}
	}
	t.Fatalf("no result for %s", p)
	return FileResult{}
}

// marshalFiles is the golden form of the file results.
func marshalFiles(t *testing.T, files []FileResult) []byte {
	t.Helper()
	b, err := json.MarshalIndent(files, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// changedExtras is an archive of the extra files a playbook rewrote.
func changedExtras(in caseInput, res *RewriteResult) *txtar.Archive {
	ar := &txtar.Archive{}
	for _, p := range in.extra {
		for _, f := range res.Files {
			if f.Path == p && f.Status == StatusRewritten {
				ar.Files = append(ar.Files, txtar.File{Name: p, Data: f.After})
			}
		}
	}
	return ar
}

func writeGolden(t *testing.T, c goldenCase, in caseInput, res *RewriteResult, main FileResult) {
	t.Helper()
	write := func(p string, b []byte) {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(c.file(".want.json"), marshalFiles(t, res.Files))
	os.Remove(c.file(".want.yaml"))
	if main.Status == StatusRewritten {
		write(c.file(".want.yaml"), main.After)
	}
	os.Remove(c.file(".want.txtar"))
	if ar := changedExtras(in, res); len(ar.Files) > 0 {
		write(c.file(".want.txtar"), txtar.Format(ar))
	}
}

func compareGolden(t *testing.T, c goldenCase, in caseInput, res *RewriteResult, main FileResult) {
	t.Helper()
	hint := " (go test ./rewrite -run TestRewriteGolden -update)"
	wantJSON, err := os.ReadFile(c.file(".want.json"))
	if err != nil {
		t.Fatal(err.Error() + hint)
	}
	var want, got []FileResult
	if err := json.Unmarshal(wantJSON, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(marshalFiles(t, res.Files), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("file results mismatch (-want +got):\n%s%s", diff, hint)
	}
	switch wantYAML, err := os.ReadFile(c.file(".want.yaml")); {
	case main.Status == StatusRewritten && err != nil:
		t.Errorf("rewritten, but %v%s", err, hint)
	case main.Status == StatusRewritten:
		if !bytes.Equal(wantYAML, main.After) {
			t.Errorf("rewritten file mismatch:\n%s%s", unifiedDiff(string(wantYAML), string(main.After)), hint)
		}
	case err == nil:
		t.Errorf("status %s, but %s exists%s", main.Status, c.file(".want.yaml"), hint)
	}
	var wantExtra txtar.Archive
	if b, err := os.ReadFile(c.file(".want.txtar")); err == nil {
		wantExtra = *txtar.Parse(b)
	}
	gotExtra := changedExtras(in, res)
	if !bytes.Equal(txtar.Format(&wantExtra), txtar.Format(gotExtra)) {
		t.Errorf("rewritten extra files mismatch:\n%s%s", unifiedDiff(string(txtar.Format(&wantExtra)), string(txtar.Format(gotExtra))), hint)
	}
}

// unifiedDiff shows how got differs from want, with rewrite's own diff.
func unifiedDiff(want, got string) string {
	return UnifiedDiff("want-then-got", []byte(want), []byte(got))
}

// checkFileResult checks the invariants of one file's result: unchanged
// and manual files are byte-identical, manual files say why, rewritten files
// parse, pass Lint and keep every line outside the edits.
func checkFileResult(t *testing.T, in caseInput, f FileResult) {
	t.Helper()
	if !bytes.Equal(f.Before, in.snap.Files[f.Path]) {
		t.Errorf("%s: Before is not the input", f.Path)
	}
	if f.Status != StatusRewritten {
		if !bytes.Equal(f.After, f.Before) {
			t.Errorf("%s: status %s but the bytes changed", f.Path, f.Status)
		}
		if f.Status == StatusManual && len(f.Reasons) == 0 {
			t.Errorf("%s: manual without a reason", f.Path)
		}
		return
	}
	if len(f.Edits) == 0 {
		t.Errorf("%s: rewritten without edits", f.Path)
	}
	if _, err := ParseWorkflow(f.Path, f.After); err != nil {
		t.Errorf("%s: output does not parse: %v", f.Path, err)
	}
	if err := Lint(f.Path, f.Before, f.After); err != nil {
		t.Errorf("%s: %v", f.Path, err)
	}
	checkMinimal(t, in.opts.Playbook, f)
}

// checkMinimal checks that a rewrite kept the file's bytes outside the
// lines it edited: the line-ending style is the file's own, a changed line
// keeps its indentation, and the oidc playbook (which only inserts lines or
// rewrites values in place) changes no more existing lines than it made
// edits.
func checkMinimal(t *testing.T, pb Playbook, f FileResult) {
	t.Helper()
	for _, p := range minimalProblems(pb, f) {
		t.Errorf("%s: %s", f.Path, p)
	}
}

// minimalProblems is checkMinimal's verdict, one message per problem.
func minimalProblems(pb Playbook, f FileResult) []string {
	var out []string
	crlf := bytes.Contains(f.Before, []byte("\r\n"))
	for i, l := range bytes.SplitAfter(f.After, []byte("\n")) {
		if len(l) == 0 || l[len(l)-1] != '\n' {
			continue
		}
		if hasCR := bytes.HasSuffix(l, []byte("\r\n")); hasCR != crlf {
			out = append(out, fmt.Sprintf("line %d: line ending differs from the file's own (CRLF=%v): %q", i+1, crlf, l))
		}
	}
	a := splitLines(string(f.Before))
	b := splitLines(string(f.After))
	touched := 0
	for _, ch := range lineChanges(a, b) {
		// A replaced run keeps the indentation of each line it replaces
		// one for one; a removed run counts as touched too.
		touched += ch.del
		if ch.del > 0 && ch.del == ch.ins {
			for k := range ch.del {
				if indent(a[ch.i+k]) != indent(b[ch.j+k]) {
					out = append(out, fmt.Sprintf("line %d changed its indentation:\n- %q\n+ %q", ch.i+k+1, a[ch.i+k], b[ch.j+k]))
				}
			}
		}
	}
	if pb == PlaybookOIDC && touched > len(f.Edits) {
		out = append(out, fmt.Sprintf("%d existing lines changed by %d edits", touched, len(f.Edits)))
	}
	return out
}

// TestCheckMinimal proves the minimality check catches what it is for: a
// line changed beyond the edits, a changed indentation, a foreign line
// ending; and passes an insertion plus an in-place value rewrite.
func TestCheckMinimal(t *testing.T) {
	before := "on: push\njobs:\n  p:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm publish\n        env:\n          T: ${{ secrets.T }}\n"
	minimal := "on: push\njobs:\n  p:\n    runs-on: ubuntu-latest\n    permissions:\n      id-token: write\n    steps:\n      - run: npm publish\n        env:\n          T: ${{ vars.F != 'true' && secrets.T || '' }}\n"
	two := []Edit{{Line: 5}, {Line: 8}}
	for _, tc := range []struct {
		name, after string
		edits       []Edit
		want        string // a substring of the one expected problem; "" for none
	}{
		{"minimal", minimal, two, ""},
		// Inserting counts as an edit that touches no existing line: two
		// edits may change two lines, not three.
		{"extra lines changed", strings.NewReplacer("runs-on: ubuntu-latest", "runs-on: ubuntu-24.04", "on: push", "on: [push]").Replace(minimal), two, "3 existing lines changed by 2 edits"},
		{"indentation changed", strings.Replace(minimal, "          T: ${{ vars", "            T: ${{ vars", 1), two, "changed its indentation"},
		{"CRLF line added", strings.Replace(minimal, "id-token: write\n", "id-token: write\r\n", 1), two, "line ending differs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := minimalProblems(PlaybookOIDC, FileResult{Path: "w.yml", Before: []byte(before), After: []byte(tc.after), Edits: tc.edits})
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("problems on a minimal rewrite: %q", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
				t.Errorf("got %q, want one problem containing %q", got, tc.want)
			}
		})
	}
}

// lineChange is one run of changed lines: del lines of a from line i (0-based)
// replaced by ins lines of b from line j.
type lineChange struct{ i, del, j, ins int }

// lineChanges groups rewrite's own line diff (the one `cutover rewrite`
// prints) into runs of removed and added lines.
func lineChanges(a, b []string) []lineChange {
	var out []lineChange
	i, j := 0, 0
	ops := lineDiff(a, b)
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			i, j, k = i+1, j+1, k+1
			continue
		}
		ch := lineChange{i: i, j: j}
		for ; k < len(ops) && ops[k].kind == '-'; k++ {
			ch.del++
		}
		for ; k < len(ops) && ops[k].kind == '+'; k++ {
			ch.ins++
		}
		i, j = i+ch.del, j+ch.ins
		out = append(out, ch)
	}
	return out
}

func indent(s string) string {
	return s[:len(s)-len(strings.TrimLeft(s, " \t"))]
}

// checkIdempotent runs the playbook again on its own output: nothing may
// change, and no file may turn manual.
func checkIdempotent(t *testing.T, in caseInput, res *RewriteResult) {
	t.Helper()
	next := Snapshot{Repo: in.snap.Repo, Files: map[string][]byte{}}
	for p, b := range in.snap.Files {
		next.Files[p] = b
	}
	for _, f := range res.Files {
		next.Files[f.Path] = f.After
	}
	again, err := Rewrite(next, in.opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range again.Files {
		prev := res.Files[i]
		if f.Path != prev.Path {
			t.Fatalf("second run lists %s where the first listed %s", f.Path, prev.Path)
		}
		if f.Status == StatusRewritten || !bytes.Equal(f.After, prev.After) {
			t.Errorf("%s: second run changed the file again:\n%s", f.Path, unifiedDiff(string(prev.After), string(f.After)))
		}
		if prev.Status == StatusRewritten && f.Status == StatusManual {
			t.Errorf("%s: second run turned manual: %v", f.Path, f.Reasons)
		}
	}
}
