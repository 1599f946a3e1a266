package github

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	gh "github.com/google/go-github/v66/github"
	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/internal/forge"
)

// treeEntry is a file of a tree, with its full path.
type treeEntry struct {
	path, mode, typ, sha string
	size                 int
}

// Snapshot reads the files relevant selects at the head of the default
// branch: one call for the head (a 304 when it is still knownCommit), one
// recursive tree call (subtrees walked one by one when GitHub truncates it),
// then one blob call per relevant file not in the cache. Files over the size
// limit, symbolic links and submodules are listed in Problems.
func (f *Forge) Snapshot(ctx context.Context, repo forge.Repo, knownCommit string, relevant func(path string) bool) (forge.Snapshot, bool, error) {
	owner, name, err := split(repo)
	if err != nil {
		return forge.Snapshot{}, false, err
	}
	branch := repo.DefaultBranch
	if branch == "" {
		r, err := f.Repo(ctx, repo.FullName)
		if err != nil {
			return forge.Snapshot{}, false, err
		}
		branch = r.DefaultBranch
	}
	var head string
	_, err = f.do(ctx, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		head, resp, err = f.client.Repositories.GetCommitSHA1(ctx, owner, name, branch, knownCommit)
		return resp, err
	})
	if knownCommit != "" && statusOf(err) == http.StatusNotModified {
		return forge.Snapshot{Commit: knownCommit}, true, nil
	}
	if err != nil {
		return forge.Snapshot{}, false, apiError(err, fmt.Sprintf("read the head of %q in %q", branch, repo.FullName))
	}
	if head == knownCommit {
		return forge.Snapshot{Commit: knownCommit}, true, nil
	}

	snap := forge.Snapshot{Commit: head, Files: map[string][]byte{}, Problems: map[string]string{}}
	var entries []treeEntry
	if err := f.walkTree(ctx, owner, name, head, "", &entries, snap.Problems); err != nil {
		return forge.Snapshot{}, false, apiError(err, fmt.Sprintf("read the tree of %q at %s", repo.FullName, head))
	}

	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.lim.lim.Reads)
	for _, e := range entries {
		if relevant != nil && !relevant(e.path) {
			continue
		}
		switch {
		case e.typ == "commit":
			snap.Problems[e.path] = "submodule, not read"
			continue
		case e.typ != "blob":
			continue
		case e.mode == "120000":
			snap.Problems[e.path] = "symbolic link, not followed"
			continue
		case int64(e.size) > f.maxFile:
			snap.Problems[e.path] = fmt.Sprintf("file is %d bytes, over the %d-byte limit; not read", e.size, f.maxFile)
			continue
		}
		g.Go(func() error {
			data, err := f.blob(gctx, owner, name, e.sha)
			if err != nil {
				return apiError(err, fmt.Sprintf("read %q of %q", e.path, repo.FullName))
			}
			mu.Lock()
			snap.Files[e.path] = data
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return forge.Snapshot{}, false, err
	}
	return snap, false, nil
}

// walkTree lists the files under tree sha, prefixed with prefix: one
// recursive call, or, when GitHub truncates it, the tree's own entries and
// then each subtree the same way.
func (f *Forge) walkTree(ctx context.Context, owner, name, sha, prefix string, out *[]treeEntry, problems map[string]string) error {
	t, err := f.tree(ctx, owner, name, sha, true)
	if err != nil {
		return err
	}
	if !t.GetTruncated() {
		for _, e := range t.Entries {
			*out = append(*out, entry(prefix, e))
		}
		return nil
	}
	f.log.Debug("github: tree truncated, walking its subtrees", "repo", owner+"/"+name, "path", prefix)
	t, err = f.tree(ctx, owner, name, sha, false)
	if err != nil {
		return err
	}
	if t.GetTruncated() {
		dir := prefix
		if dir == "" {
			dir = "."
		}
		problems[dir] = "folder holds more entries than the API lists; some were not read"
	}
	for _, e := range t.Entries {
		te := entry(prefix, e)
		*out = append(*out, te)
		if te.typ == "tree" {
			if err := f.walkTree(ctx, owner, name, te.sha, te.path+"/", out, problems); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *Forge) tree(ctx context.Context, owner, name, sha string, recursive bool) (*gh.Tree, error) {
	var t *gh.Tree
	_, err := f.do(ctx, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		t, resp, err = f.client.Git.GetTree(ctx, owner, name, sha, recursive)
		return resp, err
	})
	return t, err
}

func entry(prefix string, e *gh.TreeEntry) treeEntry {
	return treeEntry{path: prefix + e.GetPath(), mode: e.GetMode(), typ: e.GetType(), sha: e.GetSHA(), size: e.GetSize()}
}

// blob reads a blob from the cache or the API, checking its SHA.
func (f *Forge) blob(ctx context.Context, owner, name, sha string) ([]byte, error) {
	if data, ok := f.cache.get(sha); ok {
		f.stats.blobsCached.Add(1)
		return data, nil
	}
	var data []byte
	_, err := f.do(ctx, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		data, resp, err = f.client.Git.GetBlobRaw(ctx, owner, name, sha)
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	if got := blobSHA(data); got != sha {
		return nil, fmt.Errorf("blob %s arrived with the content of %s", sha, got)
	}
	f.stats.blobsFetched.Add(1)
	f.cache.put(sha, data)
	return data, nil
}

// blobSHA is git's object name of a blob.
func blobSHA(data []byte) string {
	h := sha1.New()
	h.Write([]byte("blob " + strconv.Itoa(len(data)) + "\x00"))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// blobCache keeps blobs on disk by SHA; blobs never change, so entries
// never expire. A nil cache holds nothing.
type blobCache struct {
	dir string
}

func newBlobCache(dir string) (*blobCache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("could not create the blob cache %q: %w", dir, err)
	}
	return &blobCache{dir: dir}, nil
}

func (c *blobCache) path(sha string) string {
	return filepath.Join(c.dir, sha[:2], sha[2:])
}

// get returns a cached blob whose content still matches its SHA.
func (c *blobCache) get(sha string) ([]byte, bool) {
	if c == nil || len(sha) != 40 {
		return nil, false
	}
	data, err := os.ReadFile(c.path(sha))
	if err != nil || blobSHA(data) != sha {
		return nil, false
	}
	return data, true
}

// put stores a blob atomically; failures only cost a later fetch.
func (c *blobCache) put(sha string, data []byte) {
	if c == nil || len(sha) != 40 {
		return
	}
	writeFileAtomic(c.path(sha), data, 0o755)
}

// writeFileAtomic writes data to p through a temporary file renamed over
// it, creating p's folder with dirPerm, so a reader sees the old file or
// the whole new one. The caches it serves ignore failures (a miss costs a
// later fetch); a failed write leaves no temporary file behind.
func writeFileAtomic(p string, data []byte, dirPerm os.FileMode) {
	if err := os.MkdirAll(filepath.Dir(p), dirPerm); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), p) != nil {
		os.Remove(tmp.Name())
	}
}
