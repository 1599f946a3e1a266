package ghapi

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// errNoObject is returned when a ref or SHA names nothing.
var errNoObject = errors.New("no such object")

// isSHA reports whether s looks like a full object name.
func isSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// resolveCommit finds the commit a SHA, branch, tag or full ref names.
func resolveCommit(r *git.Repository, ref string) (*object.Commit, error) {
	if isSHA(ref) {
		if c, err := r.CommitObject(plumbing.NewHash(ref)); err == nil {
			return c, nil
		}
	}
	for _, name := range []string{"refs/heads/" + ref, "refs/tags/" + ref, ref} {
		if !strings.HasPrefix(name, "refs/") {
			continue
		}
		rf, err := r.Reference(plumbing.ReferenceName(name), true)
		if err != nil {
			continue
		}
		return peelCommit(r, rf.Hash())
	}
	return nil, errNoObject
}

// peelCommit follows annotated tags to a commit.
func peelCommit(r *git.Repository, h plumbing.Hash) (*object.Commit, error) {
	for range 10 {
		if c, err := r.CommitObject(h); err == nil {
			return c, nil
		}
		t, err := r.TagObject(h)
		if err != nil {
			return nil, errNoObject
		}
		h = t.Target
	}
	return nil, errNoObject
}

// treeFiles lists every file of a tree (path → blob hash).
func treeFiles(t *object.Tree) (map[string]plumbing.Hash, error) {
	out := map[string]plumbing.Hash{}
	w := object.NewTreeWalker(t, true, nil)
	defer w.Close()
	for {
		name, e, err := w.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if e.Mode != filemode.Dir {
			out[name] = e.Hash
		}
	}
}

// subtreeHash returns the hash of the folder dir in a commit's tree, or zero.
func subtreeHash(c *object.Commit, dir string) plumbing.Hash {
	t, err := c.Tree()
	if err != nil {
		return plumbing.ZeroHash
	}
	e, err := t.FindEntry(dir)
	if err != nil {
		return plumbing.ZeroHash
	}
	return e.Hash
}

// workflowsDir is the folder whose changes need the workflows permission.
const workflowsDir = ".github/workflows"

// changedWorkflow returns the first workflow file that differs between two
// commits (either may be nil), or "".
func changedWorkflow(a, b *object.Commit) string {
	var ha, hb plumbing.Hash
	if a != nil {
		ha = subtreeHash(a, workflowsDir)
	}
	if b != nil {
		hb = subtreeHash(b, workflowsDir)
	}
	if ha == hb {
		return ""
	}
	files := func(c *object.Commit) map[string]plumbing.Hash {
		if c == nil {
			return nil
		}
		t, err := c.Tree()
		if err != nil {
			return nil
		}
		sub, err := t.Tree(workflowsDir)
		if err != nil {
			return nil
		}
		f, _ := treeFiles(sub)
		return f
	}
	fa, fb := files(a), files(b)
	var changed []string
	for p, h := range fb {
		if fa[p] != h {
			changed = append(changed, p)
		}
	}
	for p := range fa {
		if _, ok := fb[p]; !ok {
			changed = append(changed, p)
		}
	}
	if len(changed) == 0 {
		return workflowsDir
	}
	sort.Strings(changed)
	return workflowsDir + "/" + changed[0]
}

// workflowChangeInRange returns the first workflow file that moving a ref
// from old (zero for a new ref) to new would create, update or delete,
// looking at the commits new brings that no ref reaches yet, as GitHub does.
func workflowChangeInRange(r *git.Repository, old, new plumbing.Hash) (string, error) {
	newC, err := r.CommitObject(new)
	if err != nil {
		return "", err
	}
	if !old.IsZero() {
		oldC, err := r.CommitObject(old)
		if err != nil {
			return "", err
		}
		return changedWorkflow(oldC, newC), nil
	}
	known := map[plumbing.Hash]bool{}
	refs, err := r.References()
	if err != nil {
		return "", err
	}
	_ = refs.ForEach(func(rf *plumbing.Reference) error {
		if rf.Type() != plumbing.HashReference {
			return nil
		}
		c, err := peelCommit(r, rf.Hash())
		if err != nil {
			return nil
		}
		it := object.NewCommitPreorderIter(c, known, nil)
		_ = it.ForEach(func(c *object.Commit) error {
			known[c.Hash] = true
			return nil
		})
		return nil
	})
	queue := []*object.Commit{newC}
	seen := map[plumbing.Hash]bool{}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if known[c.Hash] || seen[c.Hash] {
			continue
		}
		seen[c.Hash] = true
		if c.NumParents() == 0 {
			if f := changedWorkflow(nil, c); f != "" {
				return f, nil
			}
		}
		for _, ph := range c.ParentHashes {
			p, err := r.CommitObject(ph)
			if err != nil {
				continue
			}
			if f := changedWorkflow(p, c); f != "" {
				return f, nil
			}
			queue = append(queue, p)
		}
	}
	return "", nil
}

// workflowRefusal is GitHub's message for a workflow change without the permission.
func workflowRefusal(file string) string {
	return fmt.Sprintf("refusing to allow a Personal Access Token to create or update workflow `%s` without `workflow` scope", file)
}

// headFiles returns every file under prefix at a commit, for the simulated CI.
func headFiles(r *git.Repository, sha, prefix string) (map[string][]byte, error) {
	c, err := r.CommitObject(plumbing.NewHash(sha))
	if err != nil {
		return nil, err
	}
	t, err := c.Tree()
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	w := object.NewTreeWalker(t, true, nil)
	defer w.Close()
	for {
		name, e, err := w.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if e.Mode == filemode.Dir || !strings.HasPrefix(name, prefix) || e.Mode == filemode.Submodule {
			continue
		}
		b, err := r.BlobObject(e.Hash)
		if err != nil {
			return nil, err
		}
		rd, err := b.Reader()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(rd)
		rd.Close()
		if err != nil {
			return nil, err
		}
		out[name] = data
	}
}

// isAncestor reports whether a is an ancestor of (or equal to) b.
func isAncestor(r *git.Repository, a, b plumbing.Hash) bool {
	if a == b {
		return true
	}
	ca, err := r.CommitObject(a)
	if err != nil {
		return false
	}
	cb, err := r.CommitObject(b)
	if err != nil {
		return false
	}
	ok, err := ca.IsAncestor(cb)
	return err == nil && ok
}

// modeString renders a file mode as the API does ("100644", "040000").
func modeString(m filemode.FileMode) string { return fmt.Sprintf("%06o", uint32(m)) }

// entryType is the API type of a tree entry.
func entryType(m filemode.FileMode) string {
	switch m {
	case filemode.Dir:
		return "tree"
	case filemode.Submodule:
		return "commit"
	}
	return "blob"
}
