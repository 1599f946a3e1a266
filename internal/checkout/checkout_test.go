package checkout

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func write(t *testing.T, root, rel, body string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	outside := t.TempDir()
	write(t, root, ".github/workflows/release.yml", "on: push\n")
	write(t, root, "package.json", `{"name":"a"}`)
	write(t, root, "node_modules/x/package.json", `{"name":"x"}`)
	write(t, root, "src/index.js", "code")
	write(t, root, ".git/config", "[remote \"origin\"]\n\turl = git@github.com:acme/widgets.git\n")
	write(t, root, "packages/big/package.json", strings.Repeat(" ", 2000))
	write(t, outside, "secret.yml", "on: push\n")
	if err := os.Symlink(filepath.Join(outside, "secret.yml"), filepath.Join(root, ".github/workflows/evil.yml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("release.yml", filepath.Join(root, ".github/workflows/alias.yml")); err != nil {
		t.Fatal(err)
	}
	snap, err := Read(root, Options{MaxFileBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for p := range snap.Files {
		got = append(got, p)
	}
	want := []string{".github/workflows/alias.yml", ".github/workflows/release.yml", "package.json"}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if snap.Repo != "acme/widgets" {
		t.Errorf("repo = %q, want acme/widgets", snap.Repo)
	}
	if !strings.Contains(snap.Problems[".github/workflows/evil.yml"], "outside the repository") {
		t.Errorf("symlink outside not reported: %v", snap.Problems)
	}
	if !strings.Contains(snap.Problems["packages/big/package.json"], "over the 1000-byte limit") {
		t.Errorf("large file not reported: %v", snap.Problems)
	}
}

func TestReadMissing(t *testing.T) {
	t.Parallel()
	_, err := Read(filepath.Join(t.TempDir(), "nope"), Options{})
	if err == nil || !strings.Contains(err.Error(), "no such directory") {
		t.Fatalf("err = %v, want no such directory", err)
	}
}

func TestRepoFromURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://github.com/acme/widgets.git": "acme/widgets",
		"git@github.com:acme/widgets.git":     "acme/widgets",
		"https://ghe.example/acme/w-1":        "acme/w-1",
		"not a url":                           "",
	} {
		if got := RepoFromURL(in); got != want {
			t.Errorf("RepoFromURL(%q) = %q, want %q", in, got, want)
		}
	}
}
