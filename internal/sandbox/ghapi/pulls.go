package ghapi

import (
	"bytes"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/cutover/cutover/internal/sandbox/githttp"
)

// branchHeads reads the tips of the named branches of owner/name; a missing
// branch is absent from the map.
func (s *Server) branchHeads(owner, name string, branches ...string) map[string]string {
	out := map[string]string{}
	_ = s.opts.Git.With(owner, name, func(r *git.Repository) error {
		for _, b := range branches {
			if rf, err := r.Reference(plumbing.NewBranchReferenceName(b), true); err == nil {
				out[b] = rf.Hash().String()
			}
		}
		return nil
	})
	return out
}

// pullJSON renders a pull request; mergeable is nil unless known.
func (c *call) pullJSON(rp *repo, is *issue, mergeable *bool, mergeableState string) map[string]any {
	p := is.Pull
	full := rp.Owner + "/" + rp.Name
	n := strconv.Itoa(is.Number)
	api := c.api + "repos/" + full + "/pulls/" + n
	html := c.web + full + "/pull/" + n
	repoJSON := c.repoJSON(rp)
	branch := func(ref, sha string) map[string]any {
		return map[string]any{"label": rp.Owner + ":" + ref, "ref": ref, "sha": sha, "user": c.user(rp.Owner), "repo": repoJSON}
	}
	var mergedBy any
	if p.MergedBy != "" {
		mergedBy = c.user(p.MergedBy)
	}
	var assignee any
	if len(is.Assignees) > 0 {
		assignee = c.user(is.Assignees[0])
	}
	teams := []any{}
	for _, t := range p.TeamReviewers {
		teams = append(teams, map[string]any{"slug": t, "name": t})
	}
	var m any
	if mergeable != nil {
		m = *mergeable
	}
	if mergeableState == "" {
		mergeableState = "unknown"
	}
	return map[string]any{
		"id": p.ID, "node_id": nodeID("PR", p.ID), "number": is.Number, "state": is.State, "locked": false,
		"title": is.Title, "body": nilIfEmpty(is.Body), "user": c.user(is.User),
		"labels": c.labelsJSON(rp, is.Labels), "assignee": assignee, "assignees": c.usersJSON(is.Assignees),
		"requested_reviewers": c.usersJSON(p.Reviewers), "requested_teams": teams,
		"created_at": ts(is.CreatedAt), "updated_at": ts(is.UpdatedAt), "closed_at": tsPtr(is.ClosedAt),
		"merged_at": tsPtr(p.MergedAt), "merge_commit_sha": nilIfEmpty(p.MergeCommitSHA),
		"draft": p.Draft, "merged": p.Merged, "mergeable": m, "mergeable_state": mergeableState, "merged_by": mergedBy,
		"maintainer_can_modify": p.MaintainerCanModify, "author_association": "MEMBER", "auto_merge": nil,
		"comments": len(rp.Comments[is.Number]), "review_comments": 0, "commits": 1,
		"url": api, "html_url": html, "diff_url": html + ".diff", "patch_url": html + ".patch",
		"issue_url": c.api + "repos/" + full + "/issues/" + n, "commits_url": api + "/commits",
		"comments_url": c.api + "repos/" + full + "/issues/" + n + "/comments",
		"statuses_url": c.api + "repos/" + full + "/statuses/" + p.HeadSHA,
		"head":         branch(p.HeadRef, p.HeadSHA), "base": branch(p.BaseRef, p.BaseSHA),
		"milestone": nil, "active_lock_reason": nil,
		"review_comments_url": api + "/comments",
		"review_comment_url":  c.api + "repos/" + full + "/pulls/comments{/number}",
		"_links": map[string]any{
			"self": href(api), "html": href(html), "issue": href(c.api + "repos/" + full + "/issues/" + n),
			"comments":        href(c.api + "repos/" + full + "/issues/" + n + "/comments"),
			"review_comments": href(api + "/comments"), "review_comment": href(c.api + "repos/" + full + "/pulls/comments{/number}"),
			"commits": href(api + "/commits"), "statuses": href(c.api + "repos/" + full + "/statuses/" + p.HeadSHA),
		},
	}
}

// href is a hypermedia link object.
func href(u string) map[string]string { return map[string]string{"href": u} }

// withStats adds what a pull request changes to its JSON, as the single
// pull request endpoints answer: lines added and deleted, files changed
// and commits, from the merge base of base and head to head.
func (c *call) withStats(rp *repo, is *issue, out map[string]any) map[string]any {
	add, del, files, commits := 0, 0, 0, 0
	p := is.Pull
	_ = c.s.opts.Git.With(rp.Owner, rp.Name, func(r *git.Repository) error {
		head, err := r.CommitObject(plumbing.NewHash(p.HeadSHA))
		if err != nil {
			return err
		}
		base, err := r.CommitObject(plumbing.NewHash(p.BaseSHA))
		if err != nil {
			return err
		}
		from := base
		if mb, err := head.MergeBase(base); err == nil && len(mb) > 0 {
			from = mb[0]
		}
		if patch, err := from.Patch(head); err == nil {
			for _, st := range patch.Stats() {
				add += st.Addition
				del += st.Deletion
				files++
			}
		}
		iter, err := r.Log(&git.LogOptions{From: head.Hash})
		if err != nil {
			return err
		}
		defer iter.Close()
		for commits < 250 {
			cm, err := iter.Next()
			if err != nil || cm.Hash == from.Hash {
				break
			}
			commits++
		}
		return nil
	})
	if p.Merged && commits == 0 {
		commits = 1
	}
	out["additions"], out["deletions"], out["changed_files"], out["commits"] = add, del, files, commits
	return out
}

// pullLocked finds pull request {number}; s.mu must be held.
func (c *call) pullLocked() (*repo, *issue) {
	rp, is := c.issueLocked()
	if is == nil {
		return nil, nil
	}
	if is.Pull == nil {
		c.notFound()
		return nil, nil
	}
	return rp, is
}

// openPullLocked returns the open pull request from head to base, if any.
func openPullLocked(rp *repo, head, base string) *issue {
	for _, is := range rp.Issues {
		if is.Pull != nil && is.State == "open" && is.Pull.HeadRef == head && is.Pull.BaseRef == base {
			return is
		}
	}
	return nil
}

// splitHead parses "owner:branch" or "branch".
func splitHead(head, defaultOwner string) (string, string) {
	if o, b, ok := strings.Cut(head, ":"); ok {
		return o, b
	}
	return defaultOwner, head
}

// createPull serves POST /repos/{owner}/{repo}/pulls.
func (c *call) createPull() {
	var body struct {
		Title               string `json:"title"`
		Head                string `json:"head"`
		Base                string `json:"base"`
		Body                string `json:"body"`
		Draft               bool   `json:"draft"`
		MaintainerCanModify *bool  `json:"maintainer_can_modify"`
	}
	if !c.decode(&body) {
		return
	}
	owner, name := c.r.PathValue("owner"), c.r.PathValue("repo")
	headOwner, headRef := splitHead(body.Head, owner)
	heads := c.s.branchHeads(owner, name, headRef, body.Base)

	c.s.mu.Lock()
	rp := c.repoLocked()
	if rp == nil {
		c.s.mu.Unlock()
		return
	}
	fail := func(f map[string]any) {
		c.invalid(f)
		c.s.mu.Unlock()
	}
	switch {
	case body.Title == "":
		fail(map[string]any{"resource": "PullRequest", "field": "title", "code": "missing_field"})
		return
	case body.Base == "" || heads[body.Base] == "":
		fail(map[string]any{"resource": "PullRequest", "field": "base", "code": "invalid"})
		return
	case headOwner != rp.Owner || heads[headRef] == "":
		fail(map[string]any{"resource": "PullRequest", "field": "head", "code": "invalid"})
		return
	}
	if openPullLocked(rp, headRef, body.Base) != nil {
		fail(map[string]any{"resource": "PullRequest", "code": "custom",
			"message": "A pull request already exists for " + rp.Owner + ":" + headRef + "."})
		return
	}
	if heads[headRef] == heads[body.Base] {
		fail(map[string]any{"resource": "PullRequest", "code": "custom",
			"message": "No commits between " + body.Base + " and " + headRef})
		return
	}
	now := c.s.now()
	is := &issue{
		ID: c.s.st.id(), Number: rp.NextNumber, Title: body.Title, Body: body.Body, State: "open",
		User: c.id.Login, CreatedAt: now, UpdatedAt: now,
		Pull: &pull{ID: c.s.st.id(), HeadOwner: rp.Owner, HeadRef: headRef, HeadSHA: heads[headRef],
			BaseRef: body.Base, BaseSHA: heads[body.Base], Draft: body.Draft,
			MaintainerCanModify: body.MaintainerCanModify == nil || *body.MaintainerCanModify},
	}
	rp.NextNumber++
	rp.Issues[is.Number] = is
	c.w.Header().Set("Location", c.api+"repos/"+rp.Owner+"/"+rp.Name+"/pulls/"+strconv.Itoa(is.Number))
	out := c.withStats(rp, is, c.pullJSON(rp, is, nil, ""))
	headSHA := is.Pull.HeadSHA
	c.s.mu.Unlock()
	// The simulated CI has run when the client reads the response, so a
	// test sees the head's check run at once.
	c.s.runCI(owner, name, headSHA)
	c.json(http.StatusCreated, out)
}

// getPull serves GET /repos/{owner}/{repo}/pulls/{number}, computing mergeable.
func (c *call) getPull() {
	owner, name := c.r.PathValue("owner"), c.r.PathValue("repo")
	c.s.mu.Lock()
	rp, is := c.pullLocked()
	if is == nil {
		c.s.mu.Unlock()
		return
	}
	open, base, head := is.State == "open", is.Pull.BaseRef, is.Pull.HeadSHA
	c.s.mu.Unlock()

	var mergeable *bool
	state := "unknown"
	if open {
		ok, clean := c.s.mergeability(owner, name, base, head)
		mergeable, state = &ok, "dirty"
		if clean {
			state = "clean"
		}
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.json(http.StatusOK, c.withStats(rp, is, c.pullJSON(rp, is, mergeable, state)))
}

// mergeability reports whether head merges cleanly into the base branch.
func (s *Server) mergeability(owner, name, baseRef, head string) (mergeable, clean bool) {
	_ = s.opts.Git.With(owner, name, func(r *git.Repository) error {
		rf, err := r.Reference(plumbing.NewBranchReferenceName(baseRef), true)
		if err != nil {
			return nil
		}
		h := plumbing.NewHash(head)
		if isAncestor(r, rf.Hash(), h) {
			mergeable, clean = true, true
			return nil
		}
		_, err = s.mergeTree(owner, name, rf.Hash(), h)
		mergeable, clean = err == nil, err == nil
		return nil
	})
	return mergeable, clean
}

// errConflict is returned by mergeTree when the sides conflict.
var errConflict = fmt.Errorf("merge conflict")

// mergeTree merges two commits with git merge-tree and returns the tree.
func (s *Server) mergeTree(owner, name string, a, b plumbing.Hash) (plumbing.Hash, error) {
	cmd := exec.Command(s.opts.Git.GitPath(), "--git-dir", s.opts.Git.Dir(owner, name), "merge-tree", "--write-tree", a.String(), b.String())
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
			return plumbing.ZeroHash, errConflict
		}
		return plumbing.ZeroHash, fmt.Errorf("could not run git merge-tree: %w", err)
	}
	line, _, _ := strings.Cut(out.String(), "\n")
	if !isSHA(line) {
		return plumbing.ZeroHash, fmt.Errorf("unexpected git merge-tree output %q", line)
	}
	return plumbing.NewHash(line), nil
}

// listPulls serves GET /repos/{owner}/{repo}/pulls with state, head, base,
// sort and direction.
func (c *call) listPulls() {
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp := c.repoLocked()
	if rp == nil {
		return
	}
	var headOwner, headRef string
	if h := q.Get("head"); h != "" {
		headOwner, headRef = splitHead(h, rp.Owner)
	}
	base := q.Get("base")
	var list []*issue
	for _, is := range rp.Issues {
		if is.Pull == nil || (state != "all" && is.State != state) {
			continue
		}
		if headRef != "" && (headOwner != is.Pull.HeadOwner || headRef != is.Pull.HeadRef) {
			continue
		}
		if base != "" && base != is.Pull.BaseRef {
			continue
		}
		list = append(list, is)
	}
	asc := q.Get("direction") == "asc" || (q.Get("direction") == "" && q.Get("sort") == "popularity")
	sort.Slice(list, func(i, j int) bool {
		if asc {
			return list[i].Number < list[j].Number
		}
		return list[i].Number > list[j].Number
	})
	out := []any{}
	for _, is := range paginate(c, list) {
		out = append(out, c.pullJSON(rp, is, nil, ""))
	}
	c.json(http.StatusOK, out)
}

// updatePull serves PATCH /repos/{owner}/{repo}/pulls/{number}.
func (c *call) updatePull() {
	var body struct {
		Title               *string `json:"title"`
		Body                *string `json:"body"`
		State               *string `json:"state"`
		Base                *string `json:"base"`
		MaintainerCanModify *bool   `json:"maintainer_can_modify"`
	}
	if !c.decode(&body) {
		return
	}
	owner, name := c.r.PathValue("owner"), c.r.PathValue("repo")
	var heads map[string]string
	if body.Base != nil {
		heads = c.s.branchHeads(owner, name, *body.Base)
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp, is := c.pullLocked()
	if is == nil {
		return
	}
	p := is.Pull
	now := c.s.now()
	if body.Base != nil && *body.Base != p.BaseRef {
		if heads[*body.Base] == "" {
			c.invalid(map[string]any{"resource": "PullRequest", "field": "base", "code": "invalid"})
			return
		}
		if is.State == "open" && openPullLocked(rp, p.HeadRef, *body.Base) != nil {
			c.invalid(map[string]any{"resource": "PullRequest", "code": "custom",
				"message": "A pull request already exists for base branch '" + *body.Base + "' and head branch '" + p.HeadRef + "'"})
			return
		}
		p.BaseRef, p.BaseSHA = *body.Base, heads[*body.Base]
	}
	if body.State != nil {
		switch *body.State {
		case "closed":
			if is.State == "open" {
				is.State, is.ClosedAt = "closed", &now
			}
		case "open":
			if p.Merged {
				c.invalid(map[string]any{"resource": "PullRequest", "code": "custom", "message": "state cannot be changed. The pull request has been merged."})
				return
			}
			if is.State != "open" {
				if openPullLocked(rp, p.HeadRef, p.BaseRef) != nil {
					c.invalid(map[string]any{"resource": "PullRequest", "code": "custom",
						"message": "A pull request already exists for " + rp.Owner + ":" + p.HeadRef + "."})
					return
				}
				is.State, is.ClosedAt = "open", nil
			}
		default:
			c.invalid(map[string]any{"resource": "PullRequest", "field": "state", "code": "invalid"})
			return
		}
	}
	if body.Title != nil {
		is.Title = *body.Title
	}
	if body.Body != nil {
		is.Body = *body.Body
	}
	if body.MaintainerCanModify != nil {
		p.MaintainerCanModify = *body.MaintainerCanModify
	}
	is.UpdatedAt = now
	c.json(http.StatusOK, c.withStats(rp, is, c.pullJSON(rp, is, nil, "")))
}

// requestReviewers serves POST /repos/{owner}/{repo}/pulls/{number}/requested_reviewers.
func (c *call) requestReviewers() {
	var body struct {
		Reviewers     []string `json:"reviewers"`
		TeamReviewers []string `json:"team_reviewers"`
	}
	if !c.decode(&body) {
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp, is := c.pullLocked()
	if is == nil {
		return
	}
	if slices.Contains(body.Reviewers, is.User) {
		c.invalid(map[string]any{"resource": "PullRequest", "code": "custom", "message": "Review cannot be requested from pull request author."})
		return
	}
	is.Pull.Reviewers = addUnique(is.Pull.Reviewers, body.Reviewers)
	is.Pull.TeamReviewers = addUnique(is.Pull.TeamReviewers, body.TeamReviewers)
	is.UpdatedAt = c.s.now()
	c.json(http.StatusCreated, c.withStats(rp, is, c.pullJSON(rp, is, nil, "")))
}

// mergePull serves PUT /repos/{owner}/{repo}/pulls/{number}/merge.
func (c *call) mergePull() {
	var body struct {
		CommitTitle   string  `json:"commit_title"`
		CommitMessage *string `json:"commit_message"`
		SHA           string  `json:"sha"`
		MergeMethod   string  `json:"merge_method"`
	}
	if !c.decode(&body) {
		return
	}
	owner, name := c.r.PathValue("owner"), c.r.PathValue("repo")
	c.s.mu.Lock()
	_, is := c.pullLocked()
	if is == nil {
		c.s.mu.Unlock()
		return
	}
	if is.State != "open" {
		c.s.mu.Unlock()
		c.error(http.StatusMethodNotAllowed, "Pull Request is not mergeable")
		return
	}
	if is.Pull.Draft {
		c.s.mu.Unlock()
		c.error(http.StatusMethodNotAllowed, "Pull Request is still a draft")
		return
	}
	p := *is.Pull
	number, title := is.Number, is.Title
	c.s.mu.Unlock()

	method := body.MergeMethod
	if method == "" {
		method = "merge"
	}
	if method != "merge" && method != "squash" && method != "rebase" {
		c.invalid(map[string]any{"resource": "PullRequest", "field": "merge_method", "code": "invalid"})
		return
	}
	msg := title
	if body.CommitMessage != nil {
		msg = *body.CommitMessage
	}
	var merged plumbing.Hash
	var status int
	var reason string
	// refs resolves the head and base branches, or sets status and reason.
	refs := func(r *git.Repository) (head, base *plumbing.Reference) {
		headRef, err := r.Reference(plumbing.NewBranchReferenceName(p.HeadRef), true)
		if err != nil {
			status, reason = http.StatusMethodNotAllowed, "Head branch was deleted"
			return nil, nil
		}
		if body.SHA != "" && body.SHA != headRef.Hash().String() {
			status, reason = http.StatusConflict, "Head branch was modified. Review and try the merge again."
			return nil, nil
		}
		baseRef, err := r.Reference(plumbing.NewBranchReferenceName(p.BaseRef), true)
		if err != nil {
			status, reason = http.StatusMethodNotAllowed, "Base branch was deleted"
			return nil, nil
		}
		return headRef, baseRef
	}
	// The base branch's protection is checked against the head as it is
	// now; the merge then takes that head only.
	var checked plumbing.Hash
	upToDate := false
	_ = c.s.opts.Git.With(owner, name, func(r *git.Repository) error {
		if head, base := refs(r); head != nil {
			checked, upToDate = head.Hash(), isAncestor(r, base.Hash(), head.Hash())
		}
		return nil
	})
	if status == 0 {
		c.s.mu.Lock()
		if rp := c.s.st.Repos[owner+"/"+name]; rp != nil && rp.Issues[number] != nil {
			if why := protectionRefusalLocked(rp, rp.Issues[number], checked.String(), upToDate); why != "" {
				status, reason = http.StatusMethodNotAllowed, why
			}
		}
		c.s.mu.Unlock()
	}
	if status == 0 {
		_ = c.s.opts.Git.With(owner, name, func(r *git.Repository) error {
			head, base := refs(r)
			switch {
			case head == nil:
			case head.Hash() != checked:
				status, reason = http.StatusConflict, "Head branch was modified. Review and try the merge again."
			default:
				merged, status, reason = c.s.mergeCommits(r, owner, name, base, head.Hash(), method, number, p.HeadOwner+"/"+p.HeadRef, body.CommitTitle, title, msg, c.id.Login)
			}
			return nil
		})
	}
	if status != 0 {
		c.error(status, reason)
		return
	}
	c.s.opts.Git.Invalidate(owner, name)
	now := c.s.now()
	c.s.mu.Lock()
	if rp := c.s.st.Repos[owner+"/"+name]; rp != nil {
		if is := rp.Issues[number]; is != nil && is.Pull != nil {
			is.State, is.ClosedAt, is.UpdatedAt = "closed", &now, now
			is.Pull.Merged, is.Pull.MergedAt, is.Pull.MergedBy, is.Pull.MergeCommitSHA = true, &now, c.id.Login, merged.String()
		}
	}
	c.s.mu.Unlock()
	c.s.SyncRepo(owner, name)
	c.json(http.StatusOK, map[string]any{"sha": merged.String(), "merged": true, "message": "Pull Request successfully merged"})
}

// mergeCommits merges head into the base branch with method and moves the
// branch; it returns the new tip, or an HTTP status and reason.
func (s *Server) mergeCommits(r *git.Repository, owner, name string, baseRef *plumbing.Reference, head plumbing.Hash, method string, number int, headLabel, commitTitle, prTitle, msg, login string) (plumbing.Hash, int, string) {
	base := baseRef.Hash()
	ff := isAncestor(r, base, head)
	var newTip plumbing.Hash
	if method == "rebase" && ff {
		newTip = head
	} else {
		headC, err := r.CommitObject(head)
		if err != nil {
			return plumbing.ZeroHash, http.StatusMethodNotAllowed, "Pull Request is not mergeable"
		}
		tree := headC.TreeHash
		if !ff {
			tree, err = s.mergeTree(owner, name, base, head)
			if err != nil {
				return plumbing.ZeroHash, http.StatusMethodNotAllowed, "Pull Request is not mergeable"
			}
		}
		now := s.now()
		sig := object.Signature{Name: login, Email: login + "@users.noreply.invalid", When: now}
		committer := object.Signature{Name: "GitHub", Email: "noreply@github.invalid", When: now}
		parents := []plumbing.Hash{base, head}
		title := commitTitle
		if title == "" {
			title = fmt.Sprintf("Merge pull request #%d from %s", number, headLabel)
		}
		if method != "merge" {
			parents = parents[:1]
			if commitTitle == "" {
				title = fmt.Sprintf("%s (#%d)", prTitle, number)
			}
		}
		full := title
		if msg != "" {
			full += "\n\n" + msg
		}
		newTip, err = githttp.WriteCommit(r.Storer, &object.Commit{Author: sig, Committer: committer, Message: full, TreeHash: tree, ParentHashes: parents})
		if err != nil {
			return plumbing.ZeroHash, http.StatusInternalServerError, err.Error()
		}
	}
	if err := r.Storer.CheckAndSetReference(plumbing.NewHashReference(baseRef.Name(), newTip), baseRef); err != nil {
		return plumbing.ZeroHash, http.StatusConflict, "Base branch was modified. Review and try the merge again."
	}
	return newTip, 0, ""
}
