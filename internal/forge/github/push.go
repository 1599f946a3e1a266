package github

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	gittransport "github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
	gh "github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/interrupt"
)

// ErrNoChange is returned (wrapped) by Push when the change leaves the base
// branch exactly as it is, so there is nothing to commit.
var ErrNoChange = errors.New("the change leaves the base branch as it is")

// workflowMessage is what Push says when GitHub refuses a workflow change.
const workflowMessage = "the token lacks the workflow permission needed to change .github/workflows"

// gitUser is the user name GitHub expects with a token over HTTPS.
const gitUser = "x-access-token"

// Push clones the base branch (depth 1, that branch only, in memory),
// writes ch.Files over it (a nil value deletes the file), commits with the
// change's author and pushes the campaign branch. Before that it reads the
// campaign branch through the API: absent, it is created; at
// ch.LastPushed, it is replaced; holding exactly the wanted files, nothing
// is pushed (Unchanged); anything else is someone else's work and Push
// returns an error wrapping [forge.ErrForeignBranch].
func (f *Forge) Push(ctx context.Context, repo forge.Repo, ch forge.Change) (forge.PushResult, error) {
	owner, name, err := split(repo)
	if err != nil {
		return forge.PushResult{}, err
	}
	base := ch.Base
	if base == "" {
		base = repo.DefaultBranch
	}
	switch {
	case ch.Branch == "" || base == "":
		return forge.PushResult{}, fmt.Errorf("could not push to %q: the change needs a branch and a base", repo.FullName)
	case ch.Branch == base:
		return forge.PushResult{}, fmt.Errorf("could not push to %q: the campaign branch %q is the base branch", repo.FullName, ch.Branch)
	case len(ch.Files) == 0:
		return forge.PushResult{}, fmt.Errorf("could not push to %q: the change has no files", repo.FullName)
	case repo.CloneURL == "":
		return forge.PushResult{}, fmt.Errorf("could not push to %q: the repository has no clone URL", repo.FullName)
	}
	for p := range ch.Files {
		if err := validPath(p); err != nil {
			return forge.PushResult{}, fmt.Errorf("could not push to %q: %w", repo.FullName, err)
		}
	}
	author := ch.Author
	if author.Name == "" {
		author = f.author
	}
	if author.Name == "" || author.Email == "" {
		return forge.PushResult{}, fmt.Errorf("could not push to %q: no commit author configured", repo.FullName)
	}

	select {
	case f.gitSem <- struct{}{}:
	case <-ctx.Done():
		return forge.PushResult{}, ctx.Err()
	case <-interrupt.Done(ctx):
		return forge.PushResult{}, interrupt.Waiting("a free git connection")
	}
	defer func() { <-f.gitSem }()

	r, baseHead, err := f.clone(ctx, repo, base)
	if err != nil {
		return forge.PushResult{}, err
	}
	baseCommit, err := r.CommitObject(baseHead)
	if err != nil {
		return forge.PushResult{}, fmt.Errorf("could not read the head of %q in %q: %w", base, repo.FullName, err)
	}
	tree, err := editTree(r.Storer, baseCommit.TreeHash, ch.Files)
	if err != nil {
		return forge.PushResult{}, fmt.Errorf("could not apply the change to %q: %w", repo.FullName, err)
	}
	if tree == baseCommit.TreeHash {
		return forge.PushResult{}, fmt.Errorf("could not push to %q: %w", repo.FullName, ErrNoChange)
	}

	remote, exists, err := f.branchHead(ctx, owner, name, ch.Branch)
	if err != nil {
		return forge.PushResult{}, err
	}
	if exists {
		remoteTree, err := f.commitTree(ctx, owner, name, remote)
		if err != nil {
			return forge.PushResult{}, err
		}
		if remoteTree == tree.String() {
			return forge.PushResult{SHA: remote, Unchanged: true}, nil
		}
		if remote != ch.LastPushed {
			return forge.PushResult{}, fmt.Errorf("could not push %q to %q: the branch is at %s, not at %s which cutover pushed last: %w",
				ch.Branch, repo.FullName, short(remote), orNone(ch.LastPushed), forge.ErrForeignBranch)
		}
	}

	now := f.now()
	sig := object.Signature{Name: author.Name, Email: author.Email, When: now}
	msg := ch.Message
	if msg == "" {
		msg = "cutover: " + ch.Branch
	}
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	commit, err := writeObject(r.Storer, &object.Commit{
		Author: sig, Committer: sig, Message: msg, TreeHash: tree, ParentHashes: []plumbing.Hash{baseHead},
	})
	if err != nil {
		return forge.PushResult{}, fmt.Errorf("could not commit to %q: %w", repo.FullName, err)
	}
	local := plumbing.NewBranchReferenceName(ch.Branch)
	if err := r.Storer.SetReference(plumbing.NewHashReference(local, commit)); err != nil {
		return forge.PushResult{}, fmt.Errorf("could not commit to %q: %w", repo.FullName, err)
	}

	spec := config.RefSpec(local.String() + ":" + local.String())
	var require []config.RefSpec
	if exists {
		// Replace only what cutover pushed: git checks the old value too.
		spec = "+" + spec
		require = []config.RefSpec{config.RefSpec(remote + ":" + local.String())}
	}
	before := remote
	err = f.write(ctx, func() error {
		return f.pushRef(ctx, r, repo, spec, require)
	}, func() (bool, error) {
		now, ok, err := f.branchHead(ctx, owner, name, ch.Branch)
		if err != nil {
			return false, err
		}
		if ok && now == commit.String() {
			return true, nil
		}
		if ok != exists || now != before {
			return false, fmt.Errorf("the branch moved to %s while cutover pushed: %w", short(now), forge.ErrForeignBranch)
		}
		return false, nil
	})
	if err != nil {
		err = f.pushError(ctx, err, owner, name, repo.FullName, ch.Branch, commit.String())
		if !errors.Is(err, forge.ErrPermission) && !errors.Is(err, forge.ErrForeignBranch) {
			// The branch explains a refused push better than git's words:
			// it may hold the commit after all, or have moved meanwhile.
			now, ok, lerr := f.branchHead(ctx, owner, name, ch.Branch)
			switch {
			case lerr != nil:
			case ok && now == commit.String():
				return forge.PushResult{SHA: now}, nil
			case ok != exists || now != before:
				err = fmt.Errorf("could not push %q to %q: the branch moved to %s during the push: %w",
					ch.Branch, repo.FullName, short(now), forge.ErrForeignBranch)
			}
		}
		return forge.PushResult{}, err
	}
	f.log.Info("github: pushed", "repo", repo.FullName, "branch", ch.Branch, "sha", commit.String(), "replaced", exists)
	return forge.PushResult{SHA: commit.String()}, nil
}

// clone fetches the head commit of branch into memory and returns it.
func (f *Forge) clone(ctx context.Context, repo forge.Repo, branch string) (*git.Repository, plumbing.Hash, error) {
	var r *git.Repository
	var lastErr error
	for attempt := 0; attempt <= f.lim.lim.Retries; attempt++ {
		if attempt > 0 {
			if err := f.lim.wait(ctx, f.lim.backoff(attempt-1), "a retry of a clone"); err != nil {
				return nil, plumbing.ZeroHash, err
			}
		}
		auth, err := f.gitAuth(ctx)
		if err != nil {
			return nil, plumbing.ZeroHash, err
		}
		r, lastErr = git.CloneContext(ctx, memory.NewStorage(), nil, &git.CloneOptions{
			URL: repo.CloneURL, Auth: auth, ReferenceName: plumbing.NewBranchReferenceName(branch),
			SingleBranch: true, Depth: 1, Tags: git.NoTags, CABundle: f.caPEM,
		})
		if lastErr == nil {
			break
		}
		if !retryableGit(ctx, lastErr) {
			return nil, plumbing.ZeroHash, gitError(lastErr, fmt.Sprintf("clone %q", repo.FullName))
		}
		f.log.Debug("github: retrying a clone", "repo", repo.FullName, "error", lastErr)
	}
	if lastErr != nil {
		return nil, plumbing.ZeroHash, gitError(lastErr, fmt.Sprintf("clone %q", repo.FullName))
	}
	head, err := r.Head()
	if err != nil {
		return nil, plumbing.ZeroHash, fmt.Errorf("could not read the head of %q in %q: %w", branch, repo.FullName, err)
	}
	return r, head.Hash(), nil
}

// pushRef pushes one refspec with a fresh token.
func (f *Forge) pushRef(ctx context.Context, r *git.Repository, repo forge.Repo, spec config.RefSpec, require []config.RefSpec) error {
	auth, err := f.gitAuth(ctx)
	if err != nil {
		return err
	}
	err = r.PushContext(ctx, &git.PushOptions{
		RemoteName: git.DefaultRemoteName, RemoteURL: repo.CloneURL, Auth: auth,
		RefSpecs: []config.RefSpec{spec}, RequireRemoteRefs: require, CABundle: f.caPEM,
	})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	if err != nil && retryableGit(ctx, err) {
		return &ambiguousError{err}
	}
	return err
}

// pushError explains a failed push.
func (f *Forge) pushError(ctx context.Context, err error, owner, name, full, branch, commit string) error {
	var ae *ambiguousError
	if errors.As(err, &ae) {
		err = ae.err
	}
	msg := err.Error()
	switch {
	case errors.Is(err, forge.ErrForeignBranch):
		return fmt.Errorf("could not push %q to %q: %w", branch, full, err)
	case strings.Contains(msg, "refusing to allow") && strings.Contains(msg, "workflow"):
		return &permissionError{workflowMessage}
	case strings.Contains(msg, "required to be"):
		// The lease failed: the branch moved since the lookup.
		return fmt.Errorf("could not push %q to %q: the branch moved before the push: %w", branch, full, forge.ErrForeignBranch)
	}
	return gitError(err, fmt.Sprintf("push %q to %q", branch, full))
}

// gitAuth returns the git credentials: the token, or a fresh installation
// token for an App (ghinstallation refreshes it before it expires).
func (f *Forge) gitAuth(ctx context.Context) (*githttp.BasicAuth, error) {
	if f.app != nil {
		tok, err := f.app.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("could not get an installation token: %w", err)
		}
		return &githttp.BasicAuth{Username: gitUser, Password: tok}, nil
	}
	return &githttp.BasicAuth{Username: gitUser, Password: f.cred.token}, nil
}

// ambiguousError marks a push whose outcome is unknown.
type ambiguousError struct{ err error }

// Error returns the underlying message.
func (e *ambiguousError) Error() string { return e.err.Error() }

// Unwrap returns the underlying error.
func (e *ambiguousError) Unwrap() error { return e.err }

// retryableGit reports git errors worth another try: broken connections and
// server errors, not refusals.
func retryableGit(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	switch {
	case errors.Is(err, gittransport.ErrAuthenticationRequired), errors.Is(err, gittransport.ErrAuthorizationFailed),
		errors.Is(err, gittransport.ErrRepositoryNotFound), errors.Is(err, gittransport.ErrEmptyRemoteRepository),
		errors.Is(err, plumbing.ErrReferenceNotFound):
		return false
	}
	msg := err.Error()
	return !strings.Contains(msg, "command error on") && !strings.Contains(msg, "required to be") &&
		!strings.Contains(msg, "non-fast-forward") && !strings.Contains(msg, "couldn't find remote ref")
}

// gitError names what failed; refusals of the token wrap ErrPermission.
func gitError(err error, what string) error {
	switch {
	case errors.Is(err, gittransport.ErrAuthenticationRequired):
		return fmt.Errorf("could not %s: the token was refused: %w", what, err)
	case errors.Is(err, gittransport.ErrAuthorizationFailed):
		return &permissionError{fmt.Sprintf("could not %s: the token may not do that (contents permission): %v", what, err)}
	}
	return fmt.Errorf("could not %s: %w", what, err)
}

// branchHead reads a branch through the API.
func (f *Forge) branchHead(ctx context.Context, owner, name, branch string) (sha string, ok bool, err error) {
	var ref *gh.Reference
	_, err = f.do(ctx, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		ref, resp, err = f.client.Git.GetRef(ctx, owner, name, "heads/"+branch)
		return resp, err
	})
	if isNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, apiError(err, fmt.Sprintf("read the branch %q of %q", branch, owner+"/"+name))
	}
	if ref.GetRef() != "refs/heads/"+branch {
		// GitHub answers a prefix match with a list; go-github fails it,
		// but be sure.
		return "", false, nil
	}
	return ref.GetObject().GetSHA(), true, nil
}

// commitTree returns the tree of a commit through the API.
func (f *Forge) commitTree(ctx context.Context, owner, name, sha string) (string, error) {
	var c *gh.Commit
	_, err := f.do(ctx, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		c, resp, err = f.client.Git.GetCommit(ctx, owner, name, sha)
		return resp, err
	})
	if err != nil {
		return "", apiError(err, fmt.Sprintf("read the commit %s of %q", short(sha), owner+"/"+name))
	}
	return c.GetTree().GetSHA(), nil
}

// validPath accepts slash-separated relative paths outside .git.
func validPath(p string) error {
	if p == "" || !fs.ValidPath(p) || path.Clean(p) != p {
		return fmt.Errorf("invalid file path %q", p)
	}
	for _, part := range strings.Split(p, "/") {
		if strings.EqualFold(part, ".git") {
			return fmt.Errorf("invalid file path %q", p)
		}
	}
	return nil
}

// editTree writes files over the tree root (a nil value deletes a file) and
// returns the new root; existing files keep their mode.
func editTree(st storer.EncodedObjectStorer, root plumbing.Hash, files map[string][]byte) (plumbing.Hash, error) {
	h, _, err := editDir(st, root, files)
	return h, err
}

// editDir edits one folder; empty reports that nothing is left in it.
func editDir(st storer.EncodedObjectStorer, dir plumbing.Hash, files map[string][]byte) (h plumbing.Hash, empty bool, err error) {
	entries := map[string]object.TreeEntry{}
	if !dir.IsZero() {
		obj, err := st.EncodedObject(plumbing.TreeObject, dir)
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		var t object.Tree
		if err := t.Decode(obj); err != nil {
			return plumbing.ZeroHash, false, err
		}
		for _, e := range t.Entries {
			entries[e.Name] = e
		}
	}
	sub := map[string]map[string][]byte{}
	for p, data := range files {
		first, rest, nested := strings.Cut(p, "/")
		if nested {
			if sub[first] == nil {
				sub[first] = map[string][]byte{}
			}
			sub[first][rest] = data
			continue
		}
		old, had := entries[p]
		if had && old.Mode == filemode.Dir {
			return plumbing.ZeroHash, false, fmt.Errorf("%q is a folder", p)
		}
		if data == nil {
			delete(entries, p)
			continue
		}
		blob, err := writeBlob(st, data)
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		mode := filemode.Regular
		if had && old.Mode == filemode.Executable {
			mode = filemode.Executable
		}
		entries[p] = object.TreeEntry{Name: p, Mode: mode, Hash: blob}
	}
	for name, changes := range sub {
		old, had := entries[name]
		var oldHash plumbing.Hash
		if had {
			if old.Mode != filemode.Dir {
				return plumbing.ZeroHash, false, fmt.Errorf("%q is a file, not a folder", name)
			}
			oldHash = old.Hash
		}
		h, empty, err := editDir(st, oldHash, changes)
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		if empty {
			delete(entries, name)
			continue
		}
		entries[name] = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, true, nil
	}
	t := &object.Tree{}
	for _, e := range entries {
		t.Entries = append(t.Entries, e)
	}
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(t.Entries, func(i, j int) bool { return key(t.Entries[i]) < key(t.Entries[j]) })
	h, err = writeObject(st, t)
	return h, false, err
}

// encoder is a git object that can encode itself.
type encoder interface {
	Encode(plumbing.EncodedObject) error
}

func writeObject(st storer.EncodedObjectStorer, o encoder) (plumbing.Hash, error) {
	obj := st.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

func writeBlob(st storer.EncodedObjectStorer, data []byte) (plumbing.Hash, error) {
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
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

// short abbreviates a SHA for messages.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func orNone(sha string) string {
	if sha == "" {
		return "nothing"
	}
	return short(sha)
}
