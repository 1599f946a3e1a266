package rewrite

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

// TestFinishValidatesEachFile: the files of a repository are validated
// side by side, each result stays with its file in path order, and a
// validation failure leaves only that file untouched.
func TestFinishValidatesEachFile(t *testing.T) {
	const wf = "on: push\njobs:\n  p:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm publish\n        env:\n          NODE_AUTH_TOKEN: ${{ secrets.T }}\n"
	snap := Snapshot{Repo: "acme/many", Files: map[string][]byte{"package.json": []byte(`{"name":"many","version":"1.0.0"}`)}}
	names := []string{"a.yml", "b.yml", "c.yml", "d.yml", "e.yml"}
	for _, n := range names {
		snap.Files[".github/workflows/"+n] = []byte(wf)
	}
	var mu sync.Mutex
	var seen []string
	validate := func(p string, before, after []byte) error {
		mu.Lock()
		seen = append(seen, p)
		mu.Unlock()
		if strings.HasSuffix(p, "/c.yml") {
			return errors.New("refused for the test")
		}
		return Lint(p, before, after)
	}
	res, err := Rewrite(snap, RewriteOptions{Registry: TestRegistry, Validate: validate})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(names) {
		t.Fatalf("validated %v, want each of the %d files once", seen, len(names))
	}
	if len(res.Files) != len(names) {
		t.Fatalf("%d results, want %d", len(res.Files), len(names))
	}
	for i, f := range res.Files {
		if want := ".github/workflows/" + names[i]; f.Path != want {
			t.Fatalf("result %d is %s, want %s", i, f.Path, want)
		}
		if names[i] == "c.yml" {
			if f.Status != StatusManual || !strings.Contains(strings.Join(f.Reasons, " "), "refused for the test") || string(f.After) != wf || len(f.Edits) != 0 {
				t.Errorf("%s: %s %q, want manual with the validator's reason and the file as it was", f.Path, f.Status, f.Reasons)
			}
			continue
		}
		if f.Status != StatusRewritten || !strings.Contains(string(f.After), "vars.CUTOVER_NPM_OIDC != 'true'") || len(f.Edits) == 0 {
			t.Errorf("%s: %s %q, want rewritten with its edits", f.Path, f.Status, f.Reasons)
		}
	}
}

// TestFinishValidatorPanic: a validator that panics fails its file only;
// validation runs on goroutines of its own, where a panic would otherwise
// end the process instead of one repository's rewrite.
func TestFinishValidatorPanic(t *testing.T) {
	const wf = "on: push\njobs:\n  p:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm publish\n        env:\n          NODE_AUTH_TOKEN: ${{ secrets.T }}\n"
	snap := Snapshot{Repo: "acme/two", Files: map[string][]byte{
		".github/workflows/a.yml": []byte(wf), ".github/workflows/b.yml": []byte(wf),
		"package.json": []byte(`{"name":"two","version":"1.0.0"}`),
	}}
	validate := func(p string, before, after []byte) error {
		if strings.HasSuffix(p, "/a.yml") {
			panic("validator bug")
		}
		return nil
	}
	res, err := Rewrite(snap, RewriteOptions{Registry: TestRegistry, Validate: validate})
	if err != nil {
		t.Fatal(err)
	}
	if f := res.Files[0]; f.Status != StatusManual || !strings.Contains(strings.Join(f.Reasons, " "), "validation panicked: validator bug") {
		t.Errorf("%s: %s %q, want manual naming the panic", f.Path, f.Status, f.Reasons)
	}
	if f := res.Files[1]; f.Status != StatusRewritten {
		t.Errorf("%s: %s %q, want rewritten", f.Path, f.Status, f.Reasons)
	}
}
