package checkout

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	gitconfig "github.com/go-git/go-git/v5/config"

	"github.com/cutover/cutover/rewrite"
)

// Options tune Read. The zero value reads with the defaults.
type Options struct {
	// MaxFileBytes caps the size of a file read; 0 means rewrite.MaxFileBytes.
	MaxFileBytes int64
	// Repo overrides the "owner/name" read from the origin remote.
	Repo string
	// Extra reports additional paths to read (manual-publish docs named in
	// config), beside those rewrite.Relevant selects.
	Extra func(rel string) bool
}

// Read walks the checkout at root and returns the files detection reads.
// It fails only when root is missing or not a directory; unreadable files,
// oversized files and symlinks that leave the repository are recorded in
// Snapshot.Problems and the walk goes on.
func Read(root string, opts Options) (rewrite.Snapshot, error) {
	max := opts.MaxFileBytes
	if max <= 0 {
		max = rewrite.MaxFileBytes
	}
	snap := rewrite.Snapshot{Files: map[string][]byte{}, Problems: map[string]string{}}
	fi, err := os.Stat(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return snap, fmt.Errorf("repository %q: no such directory", root)
		}
		return snap, fmt.Errorf("repository %q: %w", root, err)
	}
	if !fi.IsDir() {
		return snap, fmt.Errorf("repository %q: not a directory", root)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return snap, fmt.Errorf("repository %q: %w", root, err)
	}
	realRoot, err = filepath.Abs(realRoot)
	if err != nil {
		return snap, fmt.Errorf("repository %q: %w", root, err)
	}
	snap.Repo = opts.Repo
	if snap.Repo == "" {
		snap.Repo = originRepo(realRoot)
	}
	if snap.Repo == "" {
		snap.Repo = filepath.Base(realRoot)
	}
	err = filepath.WalkDir(realRoot, func(p string, d fs.DirEntry, err error) error {
		rel, relErr := filepath.Rel(realRoot, p)
		if relErr != nil {
			return relErr
		}
		rel = filepath.ToSlash(rel)
		if err != nil {
			if rel != "." {
				snap.Problems[rel] = "cannot read: " + err.Error()
			}
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules":
				return fs.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 && linkedDir(realRoot, p, rel, &snap) {
			return nil
		}
		if !rewrite.Relevant(rel) && (opts.Extra == nil || !opts.Extra(rel)) {
			return nil
		}
		readFile(&snap, realRoot, p, rel, d, max)
		return nil
	})
	if err != nil {
		return snap, fmt.Errorf("repository %q: %w", root, err)
	}
	return snap, nil
}

func readFile(snap *rewrite.Snapshot, root, p, rel string, d fs.DirEntry, max int64) {
	target := p
	if d.Type()&fs.ModeSymlink != 0 {
		t, err := filepath.EvalSymlinks(p)
		if err != nil {
			snap.Problems[rel] = "broken symlink: " + err.Error()
			return
		}
		if !within(root, t) {
			snap.Problems[rel] = "symlink points outside the repository; not followed"
			return
		}
		target = t
	}
	fi, err := os.Stat(target)
	if err != nil {
		snap.Problems[rel] = "cannot read: " + err.Error()
		return
	}
	if !fi.Mode().IsRegular() {
		// A named pipe, socket or device: reading it could block or never
		// end, and it is not what GitHub would run.
		snap.Problems[rel] = fmt.Sprintf("not a regular file (%s); not read", fileKind(fi.Mode()))
		return
	}
	if fi.Size() > max {
		snap.Problems[rel] = fmt.Sprintf("file is %d bytes, over the %d-byte limit; not read", fi.Size(), max)
		return
	}
	data, err := os.ReadFile(target)
	if err != nil {
		snap.Problems[rel] = "cannot read: " + err.Error()
		return
	}
	snap.Files[rel] = data
}

// linkedDir handles a symlink to a directory, which the walk does not
// follow: under .github (where workflows and actions live) it is recorded
// as a problem, saying whether it leaves the repository. It reports whether
// p was a directory link.
func linkedDir(root, p, rel string, snap *rewrite.Snapshot) bool {
	fi, err := os.Stat(p)
	if err != nil || !fi.IsDir() {
		return false
	}
	if rel != ".github" && !strings.HasPrefix(rel, ".github/") {
		return true
	}
	t, err := filepath.EvalSymlinks(p)
	switch {
	case err != nil:
		snap.Problems[rel] = "broken symlink: " + err.Error()
	case !within(root, t):
		snap.Problems[rel] = "symlinked directory points outside the repository; its workflows are not read"
	default:
		snap.Problems[rel] = "symlinked directory; GitHub does not follow it and cutover does not read it"
	}
	return true
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return m.Type().String()
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

var githubRemoteRe = regexp.MustCompile(`[:/]([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$`)

// originRepo returns "owner/name" from the origin remote's URL, or "".
func originRepo(root string) string {
	f, err := os.Open(filepath.Join(root, ".git", "config"))
	if err != nil {
		return ""
	}
	defer f.Close()
	cfg, err := gitconfig.ReadConfig(f)
	if err != nil {
		return ""
	}
	r, ok := cfg.Remotes["origin"]
	if !ok || len(r.URLs) == 0 {
		return ""
	}
	return RepoFromURL(r.URLs[0])
}

// RepoFromURL extracts "owner/name" from a git remote URL (https or scp-like).
func RepoFromURL(u string) string {
	m := githubRemoteRe.FindStringSubmatch(strings.TrimSpace(u))
	if m == nil {
		return ""
	}
	return m[1] + "/" + m[2]
}
