// Package forgetest is an in-memory [forge.Forge] for unit tests of the
// campaign engine: repositories with files on their default branch,
// campaign branches, pull requests with checks, variables, secrets, issues
// workflow runs, commit statuses and check runs. It records every call and can be told to fail one.
package forgetest

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/forge"
)

// Call is one recorded call: the method, the repository ("" for Repos) and
// a short description of the arguments.
type Call struct {
	Method string
	Repo   string
	Args   string
}

// Forge is the fake. The zero value is not usable: call New.
type Forge struct {
	mu     sync.Mutex
	repos  map[string]*repo
	calls  []Call
	fails  []failure
	nextID int64
	// Now is the clock for run and commit times; nil means time.Now.
	Now func() time.Time
}

var _ forge.Forge = (*Forge)(nil)

type failure struct {
	method, repo string
	err          error
	times        int // 0 means always
}

type repo struct {
	info     forge.Repo
	branches map[string]*branch
	prs      []*pr
	vars     map[string]string
	secrets  []forge.Secret
	issues   map[string]*forge.Issue
	runs     []forge.Run
	// checks are the commit statuses and check runs by commit, oldest first.
	checks map[string][]forge.CommitCheck
	// refuse, when set, is why branch protection refuses merges.
	refuse string
}

type branch struct {
	files  map[string][]byte
	commit string
	// at is when AddCommit made the head commit (zero otherwise); history
	// are the commits AddCommit moved past, oldest first.
	at      time.Time
	history []commit
}

type commit struct {
	sha string
	at  time.Time
}

type pr struct {
	forge.PR
	head, base string
	method     string
}

// New returns an empty fake forge.
func New() *Forge {
	return &Forge{repos: map[string]*repo{}}
}

func (f *Forge) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// commitID returns a SHA-like id for a branch's files.
func (f *Forge) commitID(files map[string][]byte) string {
	h := sha1.New()
	f.nextID++
	fmt.Fprintf(h, "%d\n", f.nextID)
	for _, k := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(h, "%s\n%s\n", k, files[k])
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// AddRepo adds a repository ("owner/name") whose default branch "main"
// holds files, and returns it as the forge lists it.
func (f *Forge) AddRepo(fullName string, files map[string][]byte) forge.Repo {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	info := forge.Repo{FullName: fullName, ID: f.nextID, DefaultBranch: "main", Visibility: "public", CloneURL: "https://forge.invalid/" + fullName + ".git"}
	cp := maps.Clone(files)
	if cp == nil {
		cp = map[string][]byte{}
	}
	f.repos[fullName] = &repo{info: info, branches: map[string]*branch{"main": {files: cp, commit: f.commitID(cp)}},
		vars: map[string]string{}, issues: map[string]*forge.Issue{}}
	return info
}

// Fail makes method (a Forge method name, such as "SetVariable") fail with
// err on repo ("" means every repository) for the next times calls (0
// means every call until Reset).
func (f *Forge) Fail(method, repo string, err error, times int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails = append(f.fails, failure{method: method, repo: repo, err: err, times: times})
}

// Reset forgets the failures Fail set.
func (f *Forge) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails = nil
}

// Calls returns the recorded calls, in order; with methods given, only
// the calls to those.
func (f *Forge) Calls(methods ...string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if len(methods) == 0 || slices.Contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// Protect makes branch protection refuse every merge on repo with why;
// "" lifts it.
func (f *Forge) Protect(fullName, why string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repos[fullName].refuse = why
}

// SetChecks sets the checks (success, failure, pending, none) of a pull request.
func (f *Forge) SetChecks(fullName string, number int, checks string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.repos[fullName].pr(number); p != nil {
		p.Checks = checks
	}
}

// SetDraft marks a pull request as a draft or ready.
func (f *Forge) SetDraft(fullName string, number int, draft bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.repos[fullName].pr(number); p != nil {
		p.Draft = draft
	}
}

// MergeMethod returns the method a pull request was merged with, "" when
// it is not merged.
func (f *Forge) MergeMethod(fullName string, number int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.repos[fullName].pr(number); p != nil {
		return p.method
	}
	return ""
}

// AddRun records a workflow run; a zero Created means now.
func (f *Forge) AddRun(fullName string, run forge.Run) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if run.Created.IsZero() {
		run.Created = f.now()
	}
	if run.ID == 0 {
		f.nextID++
		run.ID = f.nextID
	}
	if run.Status == "" {
		run.Status = "completed"
	}
	r := f.repos[fullName]
	r.runs = append(r.runs, run)
}

// AddCommitCheck records a commit status or check run on c.SHA (empty
// means the default branch's head); a zero Updated means now, an empty
// Kind a status, an empty State c.Raw's meaning.
func (f *Forge) AddCommitCheck(fullName string, c forge.CommitCheck) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.repos[fullName]
	if c.SHA == "" {
		c.SHA = r.branches[r.info.DefaultBranch].commit
	}
	if c.Updated.IsZero() {
		c.Updated = f.now()
	}
	if c.Kind == "" {
		c.Kind = forge.CheckStatus
	}
	if c.State == "" {
		switch c.Raw {
		case "success", "neutral", "skipped":
			c.State = "success"
		case "pending", "queued", "in_progress":
			c.State = "pending"
		default:
			c.State = "failure"
		}
	}
	if r.checks == nil {
		r.checks = map[string][]forge.CommitCheck{}
	}
	r.checks[c.SHA] = append(r.checks[c.SHA], c)
}

// AddCommit moves the default branch to a new commit with the same files,
// committed now, as a merge on the forge would, and returns its SHA.
func (f *Forge) AddCommit(fullName string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.repos[fullName]
	b := r.branches[r.info.DefaultBranch]
	b.history = append(b.history, commit{sha: b.commit, at: b.at})
	b.commit, b.at = f.commitID(b.files), f.now()
	return b.commit
}

// Commits lists the default branch's head and the commits AddCommit moved
// past, committed at or after since, newest first, at most limit.
func (f *Forge) Commits(_ context.Context, rp forge.Repo, ref string, since time.Time, limit int) ([]string, error) {
	r, err := f.enter("Commits", rp.FullName, ref+" "+since.UTC().Format(time.RFC3339))
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b, ok := r.branches[ref]
	if !ok {
		return nil, fmt.Errorf("Commits: no branch %q in %q (404)", ref, rp.FullName)
	}
	all := append(slices.Clone(b.history), commit{sha: b.commit, at: b.at})
	var out []string
	for i := len(all) - 1; i >= 0 && len(out) < limit; i-- {
		if !all[i].at.Before(since) {
			out = append(out, all[i].sha)
		}
	}
	return out, nil
}

// Head returns the commit at the head of a repository's default branch.
func (f *Forge) Head(fullName string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.repos[fullName]
	return r.branches[r.info.DefaultBranch].commit
}

// File returns a file of the repository's default branch.
func (f *Forge) File(fullName, p string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.repos[fullName]
	b, ok := r.branches[r.info.DefaultBranch].files[p]
	return b, ok
}

// VariableValue returns a repository variable as SetVariable left it.
func (f *Forge) VariableValue(fullName, name string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.repos[fullName].vars[name]
	return v, ok
}

func (r *repo) pr(number int) *pr {
	for _, p := range r.prs {
		if p.Number == number {
			return p
		}
	}
	return nil
}

// enter records the call and returns the repository, or the failure the
// test asked for; f.mu is held on return.
func (f *Forge) enter(method, fullName, args string) (*repo, error) {
	f.mu.Lock()
	f.calls = append(f.calls, Call{Method: method, Repo: fullName, Args: args})
	for i := range f.fails {
		fl := &f.fails[i]
		if fl.method != method || (fl.repo != "" && fl.repo != fullName) || fl.times < 0 {
			continue
		}
		if fl.times > 0 {
			fl.times--
			if fl.times == 0 {
				fl.times = -1
			}
		}
		return nil, fl.err
	}
	if fullName == "" {
		return nil, nil
	}
	r := f.repos[fullName]
	if r == nil {
		return nil, fmt.Errorf("%s: repository %q not found (404)", method, fullName)
	}
	return r, nil
}

// Repos lists the repositories after filtering, by name.
func (f *Forge) Repos(_ context.Context, org string, opts forge.ListOptions) ([]forge.Repo, error) {
	if _, err := f.enter("Repos", "", org); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	defer f.mu.Unlock()
	var out []forge.Repo
	for _, name := range slices.Sorted(maps.Keys(f.repos)) {
		info := f.repos[name].info
		if org != "" && !strings.HasPrefix(name, org+"/") {
			continue
		}
		if (info.Archived && !opts.Archived) || (info.Fork && !opts.Forks) || (opts.Visibility != "" && info.Visibility != opts.Visibility) {
			continue
		}
		if len(opts.Include) > 0 && !matchAny(opts.Include, name) {
			continue
		}
		if matchAny(opts.Exclude, name) {
			continue
		}
		if len(opts.Topics) > 0 && !slices.ContainsFunc(opts.Topics, func(t string) bool { return slices.Contains(info.Topics, t) }) {
			continue
		}
		out = append(out, info)
	}
	return out, nil
}

func matchAny(globs []string, full string) bool {
	short := full[strings.Index(full, "/")+1:]
	for _, g := range globs {
		if ok, _ := path.Match(g, full); ok {
			return true
		}
		if ok, _ := path.Match(g, short); ok {
			return true
		}
	}
	return false
}

// Snapshot returns the relevant files of the default branch.
func (f *Forge) Snapshot(_ context.Context, rp forge.Repo, knownCommit string, relevant func(string) bool) (forge.Snapshot, bool, error) {
	r, err := f.enter("Snapshot", rp.FullName, knownCommit)
	defer f.mu.Unlock()
	if err != nil {
		return forge.Snapshot{}, false, err
	}
	b := r.branches[r.info.DefaultBranch]
	if knownCommit != "" && knownCommit == b.commit {
		return forge.Snapshot{Commit: b.commit}, true, nil
	}
	snap := forge.Snapshot{Commit: b.commit, Files: map[string][]byte{}, Problems: map[string]string{}}
	for p, data := range b.files {
		if relevant == nil || relevant(p) {
			snap.Files[p] = slices.Clone(data)
		}
	}
	return snap, false, nil
}

// Push writes the change's files on top of the base branch.
func (f *Forge) Push(_ context.Context, rp forge.Repo, ch forge.Change) (forge.PushResult, error) {
	r, err := f.enter("Push", rp.FullName, ch.Branch)
	defer f.mu.Unlock()
	if err != nil {
		return forge.PushResult{}, err
	}
	base := r.branches[ch.Base]
	if base == nil {
		return forge.PushResult{}, fmt.Errorf("push %s: base branch %q not found", rp.FullName, ch.Base)
	}
	files := maps.Clone(base.files)
	maps.Copy(files, ch.Files)
	if cur := r.branches[ch.Branch]; cur != nil {
		if cur.commit != ch.LastPushed {
			return forge.PushResult{}, fmt.Errorf("push %s: %w", rp.FullName, forge.ErrForeignBranch)
		}
		if maps.EqualFunc(cur.files, files, func(a, b []byte) bool { return string(a) == string(b) }) {
			return forge.PushResult{SHA: cur.commit, Unchanged: true}, nil
		}
	}
	b := &branch{files: files, commit: f.commitID(files)}
	r.branches[ch.Branch] = b
	for _, p := range r.prs {
		if p.head == ch.Branch && p.State == "open" {
			p.HeadSHA = b.commit
			p.Checks = "pending"
		}
	}
	return forge.PushResult{SHA: b.commit}, nil
}

// EnsurePR finds the open pull request for spec.Head or opens it.
func (f *Forge) EnsurePR(_ context.Context, rp forge.Repo, spec forge.PRSpec) (forge.PR, error) {
	r, err := f.enter("EnsurePR", rp.FullName, spec.Head)
	defer f.mu.Unlock()
	if err != nil {
		return forge.PR{}, err
	}
	b := r.branches[spec.Head]
	if b == nil {
		return forge.PR{}, fmt.Errorf("open a pull request on %s: branch %q not found", rp.FullName, spec.Head)
	}
	for _, p := range r.prs {
		if p.head == spec.Head && p.State == "open" {
			p.Draft = spec.Draft
			return p.PR, nil
		}
	}
	n := len(r.prs) + 1
	p := &pr{PR: forge.PR{Number: n, URL: fmt.Sprintf("https://forge.invalid/%s/pull/%d", rp.FullName, n), State: "open", Draft: spec.Draft, HeadSHA: b.commit, Mergeable: "yes", Checks: "pending"},
		head: spec.Head, base: spec.Base}
	r.prs = append(r.prs, p)
	return p.PR, nil
}

// PR reads a pull request.
func (f *Forge) PR(_ context.Context, rp forge.Repo, number int) (forge.PR, error) {
	r, err := f.enter("PR", rp.FullName, fmt.Sprint(number))
	defer f.mu.Unlock()
	if err != nil {
		return forge.PR{}, err
	}
	p := r.pr(number)
	if p == nil {
		return forge.PR{}, fmt.Errorf("pull request #%d of %s not found (404)", number, rp.FullName)
	}
	return p.PR, nil
}

// MergePR merges the pull request's branch into its base, unless branch
// protection (Protect) refuses or the head moved.
func (f *Forge) MergePR(_ context.Context, rp forge.Repo, number int, method, sha string) error {
	r, err := f.enter("MergePR", rp.FullName, fmt.Sprintf("#%d %s", number, method))
	defer f.mu.Unlock()
	if err != nil {
		return err
	}
	p := r.pr(number)
	switch {
	case p == nil:
		return fmt.Errorf("pull request #%d of %s not found (404)", number, rp.FullName)
	case p.State == "merged":
		return nil
	case p.State != "open":
		return fmt.Errorf("%w: pull request #%d of %q: Pull Request is not mergeable", forge.ErrMergeRefused, number, rp.FullName)
	case r.refuse != "":
		return fmt.Errorf("%w: pull request #%d of %q: %s", forge.ErrMergeRefused, number, rp.FullName, r.refuse)
	case sha != "" && sha != p.HeadSHA:
		//lint:ignore ST1005 GitHub's own message, quoted
		return fmt.Errorf("%w: pull request #%d of %q: Head branch was modified. Review and try the merge again.", forge.ErrMergeRefused, number, rp.FullName)
	}
	if method == "" {
		method = "merge"
	}
	head, base := r.branches[p.head], r.branches[p.base]
	files := maps.Clone(base.files)
	maps.Copy(files, head.files)
	r.branches[p.base] = &branch{files: files, commit: f.commitID(files)}
	p.State, p.method = "merged", method
	return nil
}

// Variable reads a repository variable.
func (f *Forge) Variable(_ context.Context, rp forge.Repo, name string) (string, bool, error) {
	r, err := f.enter("Variable", rp.FullName, name)
	defer f.mu.Unlock()
	if err != nil {
		return "", false, err
	}
	v, ok := r.vars[name]
	return v, ok, nil
}

// SetVariable sets a repository variable.
func (f *Forge) SetVariable(_ context.Context, rp forge.Repo, name, value string) error {
	r, err := f.enter("SetVariable", rp.FullName, name+"="+value)
	defer f.mu.Unlock()
	if err != nil {
		return err
	}
	r.vars[name] = value
	return nil
}

// AddSecret adds an Actions secret to a repository.
func (f *Forge) AddSecret(fullName string, s forge.Secret) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.repos[fullName]
	r.secrets = append(r.secrets, s)
}

// Secrets lists the repository's secrets.
func (f *Forge) Secrets(_ context.Context, rp forge.Repo) ([]forge.Secret, error) {
	r, err := f.enter("Secrets", rp.FullName, "")
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return slices.Clone(r.secrets), nil
}

// DeleteSecret deletes a secret; deleting a missing one is not an error.
func (f *Forge) DeleteSecret(_ context.Context, rp forge.Repo, s forge.Secret) error {
	r, err := f.enter("DeleteSecret", rp.FullName, s.Scope+":"+s.Name)
	defer f.mu.Unlock()
	if err != nil {
		return err
	}
	r.secrets = slices.DeleteFunc(r.secrets, func(x forge.Secret) bool {
		return x.Name == s.Name && x.Scope == s.Scope && x.Environment == s.Environment
	})
	return nil
}

// EnsureIssue opens or updates the issue carrying spec.Marker.
func (f *Forge) EnsureIssue(_ context.Context, rp forge.Repo, spec forge.IssueSpec) (forge.Issue, error) {
	r, err := f.enter("EnsureIssue", rp.FullName, spec.Marker)
	defer f.mu.Unlock()
	if err != nil {
		return forge.Issue{}, err
	}
	is := r.issues[spec.Marker]
	if is == nil {
		n := len(r.prs) + len(r.issues) + 1000
		is = &forge.Issue{Number: n, URL: fmt.Sprintf("https://forge.invalid/%s/issues/%d", rp.FullName, n)}
		r.issues[spec.Marker] = is
	}
	is.State = "open"
	return *is, nil
}

// CloseIssue closes the issue carrying marker.
func (f *Forge) CloseIssue(_ context.Context, rp forge.Repo, marker, _ string) error {
	r, err := f.enter("CloseIssue", rp.FullName, marker)
	defer f.mu.Unlock()
	if err != nil {
		return err
	}
	if is := r.issues[marker]; is != nil {
		is.State = "closed"
	}
	return nil
}

// Runs lists the workflow runs created at or after since, newest first.
func (f *Forge) Runs(_ context.Context, rp forge.Repo, since time.Time) ([]forge.Run, error) {
	r, err := f.enter("Runs", rp.FullName, since.UTC().Format(time.RFC3339))
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var out []forge.Run
	for _, run := range r.runs {
		if !run.Created.Before(since) {
			out = append(out, run)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// CommitChecks returns the latest status of each context and the latest
// check run of each app and name on ref, a branch or a commit.
func (f *Forge) CommitChecks(_ context.Context, rp forge.Repo, ref string) ([]forge.CommitCheck, error) {
	r, err := f.enter("CommitChecks", rp.FullName, ref)
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	sha := ref
	if b, ok := r.branches[ref]; ok {
		sha = b.commit
	}
	var out []forge.CommitCheck
	at := map[[3]string]int{}
	for _, c := range r.checks[sha] {
		k := [3]string{c.Kind, c.App, c.Name}
		if i, ok := at[k]; ok {
			out[i] = c
			continue
		}
		at[k] = len(out)
		out = append(out, c)
	}
	return out, nil
}

// ErrInjected is a ready-made error for Fail.
var ErrInjected = errors.New("forgetest: injected failure")
