package ghapi

import (
	"encoding/base64"
	"io"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// gitRepo runs fn on the request's bare repository after checking the API
// knows it; it answers 404 itself when not.
func (c *call) gitRepo(fn func(r *git.Repository)) {
	owner, name := c.r.PathValue("owner"), c.r.PathValue("repo")
	c.s.mu.Lock()
	_, ok := c.s.st.Repos[owner+"/"+name]
	c.s.mu.Unlock()
	if !ok {
		c.notFound()
		return
	}
	err := c.s.opts.Git.With(owner, name, func(r *git.Repository) error {
		fn(r)
		return nil
	})
	if err != nil {
		c.notFound()
	}
}

// repoAPI is the API URL of the request's repository, ending in "/".
func (c *call) repoAPI() string {
	return c.api + "repos/" + c.r.PathValue("owner") + "/" + c.r.PathValue("repo") + "/"
}

// refJSON renders a reference.
func (c *call) refJSON(r *git.Repository, rf *plumbing.Reference) map[string]any {
	typ := "commit"
	if _, err := r.TagObject(rf.Hash()); err == nil {
		typ = "tag"
	}
	sha := rf.Hash().String()
	return map[string]any{
		"ref":     rf.Name().String(),
		"node_id": "REF_" + sha[:12],
		"url":     c.repoAPI() + "git/" + rf.Name().String(),
		"object":  map[string]any{"type": typ, "sha": sha, "url": c.repoAPI() + "git/" + typ + "s/" + sha},
	}
}

// getRef serves GET /repos/{owner}/{repo}/git/ref/{ref...}.
func (c *call) getRef() {
	name := plumbing.ReferenceName("refs/" + c.r.PathValue("ref"))
	c.gitRepo(func(r *git.Repository) {
		rf, err := r.Reference(name, false)
		if err != nil || rf.Type() != plumbing.HashReference {
			c.notFound()
			return
		}
		c.json(http.StatusOK, c.refJSON(r, rf))
	})
}

// matchingRefs serves GET /repos/{owner}/{repo}/git/matching-refs/{ref...}.
func (c *call) matchingRefs() {
	prefix := "refs/" + c.r.PathValue("ref")
	c.gitRepo(func(r *git.Repository) {
		iter, err := r.References()
		if err != nil {
			c.error(http.StatusInternalServerError, err.Error())
			return
		}
		var refs []*plumbing.Reference
		_ = iter.ForEach(func(rf *plumbing.Reference) error {
			if rf.Type() == plumbing.HashReference && strings.HasPrefix(rf.Name().String(), prefix) {
				refs = append(refs, rf)
			}
			return nil
		})
		sort.Slice(refs, func(i, j int) bool { return refs[i].Name() < refs[j].Name() })
		out := []any{}
		for _, rf := range paginate(c, refs) {
			out = append(out, c.refJSON(r, rf))
		}
		c.json(http.StatusOK, out)
	})
}

// createRef serves POST /repos/{owner}/{repo}/git/refs.
func (c *call) createRef() {
	var body struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if !c.decode(&body) {
		return
	}
	if !strings.HasPrefix(body.Ref, "refs/") || strings.Count(body.Ref, "/") < 2 {
		c.unprocessable("Reference name must start with 'refs/' and have at least two slashes.")
		return
	}
	ok := false
	c.gitRepo(func(r *git.Repository) {
		name := plumbing.ReferenceName(body.Ref)
		if _, err := r.Reference(name, false); err == nil {
			c.unprocessable("Reference already exists")
			return
		}
		h := plumbing.NewHash(body.SHA)
		if !isSHA(body.SHA) {
			c.unprocessable("Object does not exist")
			return
		}
		if _, err := r.Storer.EncodedObject(plumbing.AnyObject, h); err != nil {
			c.unprocessable("Object does not exist")
			return
		}
		if !c.workflowsAllowed(r, plumbing.ZeroHash, h) {
			return
		}
		rf := plumbing.NewHashReference(name, h)
		if err := r.Storer.SetReference(rf); err != nil {
			c.error(http.StatusInternalServerError, err.Error())
			return
		}
		ok = true
		c.json(http.StatusCreated, c.refJSON(r, rf))
	})
	if ok {
		c.s.SyncRepo(c.r.PathValue("owner"), c.r.PathValue("repo"))
	}
}

// workflowsAllowed refuses, with GitHub's message, a ref move that brings
// workflow changes when the token lacks the workflows permission.
func (c *call) workflowsAllowed(r *git.Repository, old, new plumbing.Hash) bool {
	if c.id.Can(PermWorkflows, Write) {
		return true
	}
	if _, err := r.CommitObject(new); err != nil {
		return true
	}
	f, err := workflowChangeInRange(r, old, new)
	if err != nil || f == "" {
		return true
	}
	c.error(http.StatusForbidden, workflowRefusal(f))
	return false
}

// updateRef serves PATCH /repos/{owner}/{repo}/git/refs/{ref...}.
func (c *call) updateRef() {
	var body struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if !c.decode(&body) {
		return
	}
	name := plumbing.ReferenceName("refs/" + c.r.PathValue("ref"))
	ok := false
	c.gitRepo(func(r *git.Repository) {
		old, err := r.Reference(name, false)
		if err != nil {
			c.unprocessable("Reference does not exist")
			return
		}
		h := plumbing.NewHash(body.SHA)
		if _, err := r.Storer.EncodedObject(plumbing.AnyObject, h); !isSHA(body.SHA) || err != nil {
			c.unprocessable("Object does not exist")
			return
		}
		if !body.Force && !isAncestor(r, old.Hash(), h) {
			c.unprocessable("Update is not a fast forward")
			return
		}
		if !c.workflowsAllowed(r, old.Hash(), h) {
			return
		}
		rf := plumbing.NewHashReference(name, h)
		if err := r.Storer.CheckAndSetReference(rf, old); err != nil {
			c.unprocessable("Reference cannot be updated")
			return
		}
		ok = true
		c.json(http.StatusOK, c.refJSON(r, rf))
	})
	if ok {
		c.s.SyncRepo(c.r.PathValue("owner"), c.r.PathValue("repo"))
	}
}

// deleteRef serves DELETE /repos/{owner}/{repo}/git/refs/{ref...}.
func (c *call) deleteRef() {
	name := plumbing.ReferenceName("refs/" + c.r.PathValue("ref"))
	ok := false
	c.gitRepo(func(r *git.Repository) {
		if _, err := r.Reference(name, false); err != nil {
			c.unprocessable("Reference does not exist")
			return
		}
		if err := r.Storer.RemoveReference(name); err != nil {
			c.error(http.StatusInternalServerError, err.Error())
			return
		}
		ok = true
		c.noContent()
	})
	if ok {
		c.s.SyncRepo(c.r.PathValue("owner"), c.r.PathValue("repo"))
	}
}

// signatureJSON renders a commit author or committer.
func signatureJSON(s object.Signature) map[string]any {
	return map[string]any{"name": s.Name, "email": s.Email, "date": ts(s.When)}
}

// gitCommitJSON renders a commit as the git data API does.
func (c *call) gitCommitJSON(cm *object.Commit) map[string]any {
	parents := []any{}
	for _, p := range cm.ParentHashes {
		parents = append(parents, map[string]any{"sha": p.String(), "url": c.repoAPI() + "git/commits/" + p.String(),
			"html_url": c.web + c.r.PathValue("owner") + "/" + c.r.PathValue("repo") + "/commit/" + p.String()})
	}
	sha := cm.Hash.String()
	return map[string]any{
		"sha":       sha,
		"node_id":   "C_" + sha[:12],
		"url":       c.repoAPI() + "git/commits/" + sha,
		"html_url":  c.web + c.r.PathValue("owner") + "/" + c.r.PathValue("repo") + "/commit/" + sha,
		"author":    signatureJSON(cm.Author),
		"committer": signatureJSON(cm.Committer),
		"message":   cm.Message,
		"tree":      map[string]any{"sha": cm.TreeHash.String(), "url": c.repoAPI() + "git/trees/" + cm.TreeHash.String()},
		"parents":   parents,
		"verification": map[string]any{
			"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil,
		},
	}
}

// getGitCommit serves GET /repos/{owner}/{repo}/git/commits/{sha}.
func (c *call) getGitCommit() {
	sha := c.r.PathValue("sha")
	c.gitRepo(func(r *git.Repository) {
		if !isSHA(sha) {
			c.notFound()
			return
		}
		cm, err := r.CommitObject(plumbing.NewHash(sha))
		if err != nil {
			c.notFound()
			return
		}
		c.json(http.StatusOK, c.gitCommitJSON(cm))
	})
}

// repoCommitJSON renders a commit as the repository commits API does.
func (c *call) repoCommitJSON(cm *object.Commit) map[string]any {
	g := c.gitCommitJSON(cm)
	sha := cm.Hash.String()
	inner := map[string]any{
		"author": g["author"], "committer": g["committer"], "message": g["message"], "tree": g["tree"],
		"url": g["url"], "comment_count": 0, "verification": g["verification"],
	}
	return map[string]any{
		"sha":          sha,
		"node_id":      g["node_id"],
		"commit":       inner,
		"url":          c.repoAPI() + "commits/" + sha,
		"html_url":     g["html_url"],
		"comments_url": c.repoAPI() + "commits/" + sha + "/comments",
		"author":       nil,
		"committer":    nil,
		"parents":      g["parents"],
	}
}

// commitsSubtree serves GET /repos/{owner}/{repo}/commits/{rest...}: a
// commit, or the check runs or combined status of a ref (refs may hold slashes).
func (c *call) commitsSubtree() {
	rest := c.r.PathValue("rest")
	switch {
	case strings.HasSuffix(rest, "/check-runs"):
		if c.require(checksR) {
			c.listCheckRuns(strings.TrimSuffix(rest, "/check-runs"))
		}
	case strings.HasSuffix(rest, "/status"):
		if c.require(statusesR) {
			c.combinedStatus(strings.TrimSuffix(rest, "/status"))
		}
	case strings.HasSuffix(rest, "/statuses"):
		if c.require(statusesR) {
			c.listStatuses(strings.TrimSuffix(rest, "/statuses"))
		}
	default:
		if c.require(contentsR) {
			c.getRepoCommit(rest)
		}
	}
}

// getRepoCommit serves GET /repos/{owner}/{repo}/commits/{ref}, including
// the SHA media type with ETag and 304.
func (c *call) getRepoCommit(ref string) {
	c.gitRepo(func(r *git.Repository) {
		cm, err := resolveCommit(r, ref)
		if err != nil {
			c.error(http.StatusUnprocessableEntity, "No commit found for SHA: "+ref)
			return
		}
		sha := cm.Hash.String()
		if strings.Contains(c.r.Header.Get("Accept"), ".sha") {
			etag := `"` + sha + `"`
			c.w.Header().Set("ETag", etag)
			if inm := c.r.Header.Get("If-None-Match"); inm == etag || inm == sha {
				c.w.WriteHeader(http.StatusNotModified)
				return
			}
			c.w.Header().Set("Content-Type", "application/vnd.github.sha; charset=utf-8")
			_, _ = io.WriteString(c.w, sha)
			return
		}
		c.json(http.StatusOK, c.repoCommitJSON(cm))
	})
}

// resolveTree finds the tree a tree SHA, commit SHA or ref names.
func resolveTree(r *git.Repository, ref string) (*object.Tree, error) {
	if isSHA(ref) {
		if t, err := r.TreeObject(plumbing.NewHash(ref)); err == nil {
			return t, nil
		}
	}
	cm, err := resolveCommit(r, ref)
	if err != nil {
		return nil, err
	}
	return cm.Tree()
}

// getTree serves GET /repos/{owner}/{repo}/git/trees/{sha}[?recursive=1].
func (c *call) getTree() {
	ref := c.r.PathValue("sha")
	recursive := c.r.URL.Query().Get("recursive")
	c.gitRepo(func(r *git.Repository) {
		t, err := resolveTree(r, ref)
		if err != nil {
			c.notFound()
			return
		}
		entries := []any{}
		truncated := false
		add := func(p string, e object.TreeEntry) bool {
			if len(entries) >= c.s.opts.TreeLimit {
				truncated = true
				return false
			}
			h := e.Hash.String()
			typ := entryType(e.Mode)
			m := map[string]any{"path": p, "mode": modeString(e.Mode), "type": typ, "sha": h,
				"url": c.repoAPI() + "git/" + typ + "s/" + h}
			if typ == "commit" {
				delete(m, "url")
			}
			if typ == "blob" {
				if obj, err := r.Storer.EncodedObject(plumbing.BlobObject, e.Hash); err == nil {
					m["size"] = obj.Size()
				}
			}
			entries = append(entries, m)
			return true
		}
		var walk func(prefix string, t *object.Tree) bool
		walk = func(prefix string, t *object.Tree) bool {
			for _, e := range t.Entries {
				p := path.Join(prefix, e.Name)
				if !add(p, e) {
					return false
				}
				if e.Mode == filemode.Dir && recursive != "" && recursive != "0" && recursive != "false" {
					sub, err := r.TreeObject(e.Hash)
					if err == nil && !walk(p, sub) {
						return false
					}
				}
			}
			return true
		}
		walk("", t)
		c.json(http.StatusOK, map[string]any{
			"sha": t.Hash.String(), "url": c.repoAPI() + "git/trees/" + t.Hash.String(),
			"tree": entries, "truncated": truncated,
		})
	})
}

// wantsRaw reports whether the client asked for the raw media type.
func (c *call) wantsRaw() bool {
	return strings.Contains(c.r.Header.Get("Accept"), ".raw")
}

// writeRaw answers with bytes, as the raw media type does.
func (c *call) writeRaw(data []byte) {
	c.w.Header().Set("Content-Type", "application/vnd.github.raw; charset=utf-8")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(data)
}

// base64Lines encodes as GitHub does: base64 in lines of 60 characters.
func base64Lines(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60])
		b.WriteByte('\n')
		enc = enc[60:]
	}
	b.WriteString(enc)
	b.WriteByte('\n')
	return b.String()
}

// readBlob reads a blob's bytes.
func readBlob(r *git.Repository, h plumbing.Hash) ([]byte, error) {
	b, err := r.BlobObject(h)
	if err != nil {
		return nil, err
	}
	rd, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// getBlob serves GET /repos/{owner}/{repo}/git/blobs/{sha}.
func (c *call) getBlob() {
	sha := c.r.PathValue("sha")
	c.gitRepo(func(r *git.Repository) {
		if !isSHA(sha) {
			c.notFound()
			return
		}
		data, err := readBlob(r, plumbing.NewHash(sha))
		if err != nil {
			c.notFound()
			return
		}
		if c.wantsRaw() {
			c.writeRaw(data)
			return
		}
		c.json(http.StatusOK, map[string]any{
			"sha": sha, "node_id": "B_" + sha[:12], "size": len(data), "url": c.repoAPI() + "git/blobs/" + sha,
			"content": base64Lines(data), "encoding": "base64",
		})
	})
}

// maxContentsSize is the largest file the contents API returns inline.
const maxContentsSize = 1 << 20

// orDefaultBranch returns ref, or the repository's default branch when ref
// is empty (as GitHub reads a missing ref or sha parameter).
func (c *call) orDefaultBranch(ref string) string {
	if ref != "" {
		return ref
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if rp := c.s.st.Repos[c.r.PathValue("owner")+"/"+c.r.PathValue("repo")]; rp != nil {
		return rp.DefaultBranch
	}
	return ""
}

// getContents serves GET /repos/{owner}/{repo}/contents/{path...}?ref=.
func (c *call) getContents() {
	p := strings.Trim(c.r.PathValue("path"), "/")
	ref := c.orDefaultBranch(c.r.URL.Query().Get("ref"))
	c.gitRepo(func(r *git.Repository) {
		cm, err := resolveCommit(r, ref)
		if err != nil {
			c.error(http.StatusNotFound, "No commit found for the ref "+ref)
			return
		}
		root, err := cm.Tree()
		if err != nil {
			c.notFound()
			return
		}
		if p == "" {
			c.json(http.StatusOK, c.dirContents(r, "", root, ref))
			return
		}
		e, err := root.FindEntry(p)
		if err != nil {
			c.notFound()
			return
		}
		if e.Mode == filemode.Dir {
			sub, err := r.TreeObject(e.Hash)
			if err != nil {
				c.notFound()
				return
			}
			c.json(http.StatusOK, c.dirContents(r, p, sub, ref))
			return
		}
		data, err := readBlob(r, e.Hash)
		if err != nil {
			c.notFound()
			return
		}
		if c.wantsRaw() {
			c.writeRaw(data)
			return
		}
		m := c.contentEntry(r, p, *e, ref)
		m["encoding"], m["content"] = "base64", base64Lines(data)
		if len(data) > maxContentsSize {
			m["encoding"], m["content"] = "none", ""
		}
		c.json(http.StatusOK, m)
	})
}

// contentEntry renders one entry of the contents API.
func (c *call) contentEntry(r *git.Repository, p string, e object.TreeEntry, ref string) map[string]any {
	typ := "file"
	switch e.Mode {
	case filemode.Dir:
		typ = "dir"
	case filemode.Symlink:
		typ = "symlink"
	case filemode.Submodule:
		typ = "submodule"
	}
	full := c.r.PathValue("owner") + "/" + c.r.PathValue("repo")
	self := c.repoAPI() + "contents/" + p + "?ref=" + ref
	gitURL := c.repoAPI() + "git/" + map[bool]string{true: "trees", false: "blobs"}[typ == "dir"] + "/" + e.Hash.String()
	html := c.web + full + "/blob/" + ref + "/" + p
	size := int64(0)
	var download any
	if typ == "file" {
		if obj, err := r.Storer.EncodedObject(plumbing.BlobObject, e.Hash); err == nil {
			size = obj.Size()
		}
		download = c.web + full + "/raw/" + ref + "/" + p
	}
	return map[string]any{
		"type": typ, "name": path.Base(p), "path": p, "sha": e.Hash.String(), "size": size,
		"url": self, "git_url": gitURL, "html_url": html, "download_url": download,
		"_links": map[string]any{"self": self, "git": gitURL, "html": html},
	}
}

// dirContents lists a folder for the contents API.
func (c *call) dirContents(r *git.Repository, dir string, t *object.Tree, ref string) []any {
	out := []any{}
	for _, e := range t.Entries {
		out = append(out, c.contentEntry(r, path.Join(dir, e.Name), e, ref))
	}
	return out
}

// getBranch serves GET /repos/{owner}/{repo}/branches/{branch...}.
func (c *call) getBranch() {
	name := c.r.PathValue("branch")
	prot := c.branchProtection(name) // before the git lock: the state lock is never taken inside it
	c.gitRepo(func(r *git.Repository) {
		rf, err := r.Reference(plumbing.NewBranchReferenceName(name), true)
		if err != nil {
			c.error(http.StatusNotFound, "Branch not found")
			return
		}
		cm, err := r.CommitObject(rf.Hash())
		if err != nil {
			c.error(http.StatusNotFound, "Branch not found")
			return
		}
		protection := map[string]any{
			"enabled":                false,
			"required_status_checks": map[string]any{"enforcement_level": "off", "contexts": []string{}, "checks": []any{}},
		}
		if prot != nil {
			level := "non_admins"
			if prot.EnforceAdmins {
				level = "everyone"
			}
			checks := []any{}
			for _, ctx := range prot.RequiredChecks {
				checks = append(checks, map[string]any{"context": ctx, "app_id": nil})
			}
			protection = map[string]any{
				"enabled": true,
				"required_status_checks": map[string]any{"enforcement_level": level,
					"contexts": append([]string{}, prot.RequiredChecks...), "checks": checks},
			}
		}
		c.json(http.StatusOK, map[string]any{
			"name":           name,
			"commit":         c.repoCommitJSON(cm),
			"protected":      prot != nil,
			"protection":     protection,
			"protection_url": c.repoAPI() + "branches/" + name + "/protection",
			"_links":         map[string]any{"self": c.repoAPI() + "branches/" + name, "html": c.web + c.r.PathValue("owner") + "/" + c.r.PathValue("repo") + "/tree/" + name},
		})
	})
}

// listBranches serves GET /repos/{owner}/{repo}/branches.
func (c *call) listBranches() {
	protected := c.protectedBranches() // before the git lock: the state lock is never taken inside it
	c.gitRepo(func(r *git.Repository) {
		iter, err := r.Branches()
		if err != nil {
			c.error(http.StatusInternalServerError, err.Error())
			return
		}
		var refs []*plumbing.Reference
		_ = iter.ForEach(func(rf *plumbing.Reference) error {
			refs = append(refs, rf)
			return nil
		})
		sort.Slice(refs, func(i, j int) bool { return refs[i].Name() < refs[j].Name() })
		out := []any{}
		for _, rf := range paginate(c, refs) {
			sha := rf.Hash().String()
			out = append(out, map[string]any{
				"name":      rf.Name().Short(),
				"commit":    map[string]any{"sha": sha, "url": c.repoAPI() + "commits/" + sha},
				"protected": protected[rf.Name().Short()],
			})
		}
		c.json(http.StatusOK, out)
	})
}

// maxListedCommits bounds the history listCommits walks.
const maxListedCommits = 1000

// listCommits serves GET /repos/{owner}/{repo}/commits with the sha (a
// branch, tag or SHA; the default branch when empty), since and until
// filters (committer dates, ISO 8601), newest first, paginated.
func (c *call) listCommits() {
	q := c.r.URL.Query()
	var since, until time.Time
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"since", &since}, {"until", &until}} {
		if v := q.Get(f.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				c.error(http.StatusBadRequest, "Invalid value for '"+f.name+"' parameter: "+v)
				return
			}
			*f.t = t
		}
	}
	ref := c.orDefaultBranch(q.Get("sha"))
	c.gitRepo(func(r *git.Repository) {
		head, err := resolveCommit(r, ref)
		if err != nil {
			c.error(http.StatusNotFound, "No commit found for SHA: "+ref)
			return
		}
		var list []*object.Commit
		seen := map[plumbing.Hash]bool{head.Hash: true}
		queue := []*object.Commit{head}
		for len(queue) > 0 && len(seen) <= maxListedCommits {
			cm := queue[0]
			queue = queue[1:]
			if (since.IsZero() || !cm.Committer.When.Before(since)) && (until.IsZero() || !cm.Committer.When.After(until)) {
				list = append(list, cm)
			}
			for _, h := range cm.ParentHashes {
				if seen[h] {
					continue
				}
				seen[h] = true
				if p, err := r.CommitObject(h); err == nil {
					queue = append(queue, p)
				}
			}
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].Committer.When.After(list[j].Committer.When) })
		out := []any{}
		for _, cm := range paginate(c, list) {
			out = append(out, c.repoCommitJSON(cm))
		}
		c.json(http.StatusOK, out)
	})
}
