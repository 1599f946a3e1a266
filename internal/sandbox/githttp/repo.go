package githttp

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// ErrRepoNotFound is returned for a repository the server does not hold.
var ErrRepoNotFound = errors.New("repository not found")

// ErrRepoExists is returned when creating a repository that already exists.
var ErrRepoExists = errors.New("repository already exists")

// nameRE is what GitHub accepts in owner and repository names.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// InitOptions describe the first commit of a new repository.
type InitOptions struct {
	// Branch is the default branch; empty means "main".
	Branch string
	// Files maps slash-separated paths to contents. No files means an empty repository.
	Files map[string][]byte
	// Executable lists paths whose mode is 100755.
	Executable []string
	// Author signs the commit; empty means "Sandbox <sandbox@users.noreply.invalid>" now.
	Author object.Signature
	// Message is the commit message; empty means "Initial commit".
	Message string
}

// hookScript is the pre-receive hook installed into every bare repository.
// It refuses changes under .github/workflows/ when the HTTP handler says the
// token lacks the workflows permission, and tells the handler which file.
const hookScript = `#!/bin/sh
# Installed by the cutover sandbox: a token without the workflows permission
# may not create, update or delete files under .github/workflows/.
[ "$CUTOVER_SANDBOX_NO_WORKFLOW" = 1 ] || exit 0
zero=0000000000000000000000000000000000000000
bt=$(printf '\140')
status=0
while read old new ref; do
	[ "$new" = "$zero" ] && continue
	if [ "$old" = "$zero" ]; then
		f=$(git log --format= --name-only "$new" --not --all -- .github/workflows | sed -n '/./{p;q;}')
	else
		f=$(git diff --name-only "$old" "$new" -- .github/workflows | sed -n '/./{p;q;}')
	fi
	if [ -n "$f" ]; then
		msg="refusing to allow a Personal Access Token to create or update workflow ${bt}$f${bt} without ${bt}workflow${bt} scope"
		echo "$msg" >&2
		if [ -n "$CUTOVER_SANDBOX_REJECT_FILE" ]; then
			printf '%s %s\n' "$ref" "$msg" >>"$CUTOVER_SANDBOX_REJECT_FILE"
		fi
		status=1
	fi
done
exit $status
`

// CreateRepo creates the bare repository owner/name with one commit holding
// opts.Files on opts.Branch, and returns that commit (zero without files).
func (s *Server) CreateRepo(owner, name string, opts InitOptions) (plumbing.Hash, error) {
	if !nameRE.MatchString(owner) || !nameRE.MatchString(name) || owner == "." || owner == ".." || name == "." || name == ".." {
		return plumbing.ZeroHash, fmt.Errorf("invalid repository name %q", owner+"/"+name)
	}
	dir := s.repoDir(owner, name)
	if _, err := os.Stat(dir); err == nil {
		return plumbing.ZeroHash, fmt.Errorf("could not create %q: %w", owner+"/"+name, ErrRepoExists)
	}
	branch := opts.Branch
	if branch == "" {
		branch = "main"
	}
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(branch)},
	})
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("could not create %q: %w", owner+"/"+name, err)
	}
	if err := configure(repo, dir); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("could not configure %q: %w", owner+"/"+name, err)
	}
	if len(opts.Files) == 0 {
		return plumbing.ZeroHash, nil
	}
	exec := map[string]bool{}
	for _, p := range opts.Executable {
		exec[p] = true
	}
	tree, err := WriteTree(repo.Storer, opts.Files, exec)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("could not write the files of %q: %w", owner+"/"+name, err)
	}
	author := opts.Author
	if author.Name == "" {
		author = object.Signature{Name: "Sandbox", Email: "sandbox@users.noreply.invalid", When: time.Now()}
	}
	msg := opts.Message
	if msg == "" {
		msg = "Initial commit"
	}
	commit, err := WriteCommit(repo.Storer, &object.Commit{Author: author, Committer: author, Message: msg, TreeHash: tree})
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("could not commit to %q: %w", owner+"/"+name, err)
	}
	ref := plumbing.NewHashReference(plumbing.NewBranchReferenceName(branch), commit)
	if err := repo.Storer.SetReference(ref); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("could not set branch %q of %q: %w", branch, owner+"/"+name, err)
	}
	return commit, nil
}

// configure turns on what the sandbox serves and installs the hook.
func configure(repo *git.Repository, dir string) error {
	cfg, err := repo.Config()
	if err != nil {
		return err
	}
	cfg.Raw.Section("http").SetOption("receivepack", "true")
	cfg.Raw.Section("uploadpack").SetOption("allowFilter", "true")
	cfg.Raw.Section("uploadpack").SetOption("allowAnySHA1InWant", "true")
	cfg.Raw.Section("receive").SetOption("autogc", "false")
	cfg.Raw.Section("gc").SetOption("auto", "0")
	if err := repo.SetConfig(cfg); err != nil {
		return err
	}
	hooks := filepath.Join(dir, "hooks")
	if err := os.MkdirAll(hooks, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(hooks, "pre-receive"), []byte(hookScript), 0o755)
}

// WriteTree stores files (path → contents) as blobs and nested trees and
// returns the root tree. Paths in executable get mode 100755.
func WriteTree(st storer.EncodedObjectStorer, files map[string][]byte, executable map[string]bool) (plumbing.Hash, error) {
	type dir struct {
		files map[string]plumbing.Hash
		modes map[string]filemode.FileMode
		dirs  map[string]*dir
	}
	newDir := func() *dir {
		return &dir{files: map[string]plumbing.Hash{}, modes: map[string]filemode.FileMode{}, dirs: map[string]*dir{}}
	}
	root := newDir()
	for p, data := range files {
		clean := path.Clean(strings.TrimPrefix(p, "/"))
		if clean == "." || strings.HasPrefix(clean, "../") || !fs.ValidPath(clean) {
			return plumbing.ZeroHash, fmt.Errorf("invalid file path %q", p)
		}
		h, err := writeObject(st, plumbing.BlobObject, data)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		parts := strings.Split(clean, "/")
		d := root
		for _, part := range parts[:len(parts)-1] {
			sub, ok := d.dirs[part]
			if !ok {
				sub = newDir()
				d.dirs[part] = sub
			}
			d = sub
		}
		leaf := parts[len(parts)-1]
		d.files[leaf] = h
		d.modes[leaf] = filemode.Regular
		if executable[p] || executable[clean] {
			d.modes[leaf] = filemode.Executable
		}
	}
	var write func(d *dir) (plumbing.Hash, error)
	write = func(d *dir) (plumbing.Hash, error) {
		var t object.Tree
		for name, h := range d.files {
			t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: d.modes[name], Hash: h})
		}
		for name, sub := range d.dirs {
			h, err := write(sub)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
		}
		SortTreeEntries(t.Entries)
		obj := st.NewEncodedObject()
		if err := t.Encode(obj); err != nil {
			return plumbing.ZeroHash, err
		}
		return st.SetEncodedObject(obj)
	}
	return write(root)
}

// SortTreeEntries sorts entries in git's tree order, where a folder sorts
// as its name followed by a slash.
func SortTreeEntries(entries []object.TreeEntry) {
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
}

// WriteCommit stores a commit and returns its hash.
func WriteCommit(st storer.EncodedObjectStorer, c *object.Commit) (plumbing.Hash, error) {
	obj := st.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

// writeObject stores one object of type t.
func writeObject(st storer.EncodedObjectStorer, t plumbing.ObjectType, data []byte) (plumbing.Hash, error) {
	obj := st.NewEncodedObject()
	obj.SetType(t)
	obj.SetSize(int64(len(data)))
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

// Exists reports whether the server holds owner/name.
func (s *Server) Exists(owner, name string) bool {
	if !nameRE.MatchString(owner) || !nameRE.MatchString(name) {
		return false
	}
	fi, err := os.Stat(s.repoDir(owner, name))
	return err == nil && fi.IsDir()
}

// With runs fn on the opened bare repository owner/name while holding that
// repository's lock, so calls on one repository are serial. The opened
// repository is cached until a push or [Server.Invalidate].
func (s *Server) With(owner, name string, fn func(*git.Repository) error) error {
	if !s.Exists(owner, name) {
		return fmt.Errorf("could not open %q: %w", owner+"/"+name, ErrRepoNotFound)
	}
	e := s.entry(owner, name)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.repo == nil {
		repo, err := git.PlainOpen(s.repoDir(owner, name))
		if err != nil {
			return fmt.Errorf("could not open %q: %w", owner+"/"+name, err)
		}
		e.repo = repo
	}
	return fn(e.repo)
}

// Invalidate drops the cached repository of owner/name, so the next
// [Server.With] sees objects that git wrote behind go-git's back.
func (s *Server) Invalidate(owner, name string) {
	e := s.entry(owner, name)
	e.mu.Lock()
	e.repo = nil
	e.mu.Unlock()
}

// Dir returns the folder of the bare repository owner/name.
func (s *Server) Dir(owner, name string) string { return s.repoDir(owner, name) }

func (s *Server) entry(owner, name string) *repoEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := owner + "/" + name
	e, ok := s.repos[k]
	if !ok {
		e = &repoEntry{}
		s.repos[k] = e
	}
	return e
}
