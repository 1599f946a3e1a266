package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	gh "github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/forge"
)

// EnsurePR finds the open pull request from spec.Head or opens it, then
// brings its title, body, labels, reviewers, team reviewers and assignees
// to spec (labels, reviewers and assignees are added, never removed): a
// new pull request costs one create, one issue update when it gets labels
// or assignees, and one review request when reviewers are configured; one
// already up to date costs no write at all. A 422
// "already exists" on create counts as found. A pull request someone closed
// without merging while the branch still holds the same commit is returned
// as it is (state closed), not opened again. The REST API cannot change the
// draft state of an existing pull request, so spec.Draft only applies when
// it is opened.
func (f *Forge) EnsurePR(ctx context.Context, repo forge.Repo, spec forge.PRSpec) (forge.PR, error) {
	owner, name, err := split(repo)
	if err != nil {
		return forge.PR{}, err
	}
	if spec.Base == "" {
		spec.Base = repo.DefaultBranch
	}
	if spec.Head == "" || spec.Base == "" || spec.Title == "" {
		return forge.PR{}, fmt.Errorf("could not open a pull request in %q: it needs a head, a base and a title", repo.FullName)
	}
	pr, err := f.openPR(ctx, owner, name, spec.Head)
	if err != nil {
		return forge.PR{}, err
	}
	if pr == nil {
		// A pull request someone closed for exactly this commit stays
		// closed: the answer is the closed one, not a second one.
		closed, err := f.closedPR(ctx, owner, name, spec.Head)
		if err != nil {
			return forge.PR{}, err
		}
		if closed != nil {
			f.log.Info("github: the pull request for this commit was closed; not opening another", "repo", repo.FullName, "number", closed.GetNumber())
			return f.PR(ctx, repo, closed.GetNumber())
		}
		if pr, err = f.createPR(ctx, owner, name, spec); err != nil {
			return forge.PR{}, err
		}
		f.log.Info("github: opened a pull request", "repo", repo.FullName, "number", pr.GetNumber())
	}
	// Once the pull request exists, an error (an interrupt during the
	// labels' pacing, a refused reviewer) comes with it, so that the
	// caller records it.
	opened := forge.PR{Number: pr.GetNumber(), URL: pr.GetHTMLURL(), State: "open", Draft: pr.GetDraft(), HeadSHA: pr.GetHead().GetSHA(), Checks: "none"}
	if err := f.updatePR(ctx, owner, name, pr, spec); err != nil {
		return opened, err
	}
	out, err := f.PR(ctx, repo, pr.GetNumber())
	if err != nil {
		return opened, err
	}
	return out, nil
}

// openPR returns the open pull request from head, or nil.
func (f *Forge) openPR(ctx context.Context, owner, name, head string) (*gh.PullRequest, error) {
	var list []*gh.PullRequest
	_, err := f.do(ctx, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		list, resp, err = f.client.PullRequests.List(ctx, owner, name, &gh.PullRequestListOptions{
			Head: owner + ":" + head, State: "open", ListOptions: gh.ListOptions{PerPage: 100}})
		return resp, err
	})
	if err != nil {
		return nil, apiError(err, fmt.Sprintf("list the pull requests of %q", owner+"/"+name))
	}
	for _, pr := range list {
		if pr.GetHead().GetRef() == head && pr.GetState() == "open" {
			return pr, nil
		}
	}
	return nil, nil
}

// closedPR returns a closed, unmerged pull request from head whose head
// is the branch's current commit, or nil.
func (f *Forge) closedPR(ctx context.Context, owner, name, head string) (*gh.PullRequest, error) {
	var list []*gh.PullRequest
	_, err := f.do(ctx, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		list, resp, err = f.client.PullRequests.List(ctx, owner, name, &gh.PullRequestListOptions{
			Head: owner + ":" + head, State: "closed", ListOptions: gh.ListOptions{PerPage: 100}})
		return resp, err
	})
	if err != nil {
		return nil, apiError(err, fmt.Sprintf("list the pull requests of %q", owner+"/"+name))
	}
	if len(list) == 0 {
		return nil, nil
	}
	sha, ok, err := f.branchHead(ctx, owner, name, head)
	if err != nil || !ok {
		return nil, err
	}
	for _, pr := range list {
		if pr.GetHead().GetRef() == head && pr.MergedAt == nil && pr.GetHead().GetSHA() == sha {
			return pr, nil
		}
	}
	return nil, nil
}

// createPR opens the pull request. A create that fails without a clear
// answer is only sent again once a lookup shows no pull request; a 422
// (GitHub's "A pull request already exists") is answered by the lookup.
func (f *Forge) createPR(ctx context.Context, owner, name string, spec forge.PRSpec) (*gh.PullRequest, error) {
	var pr *gh.PullRequest
	lookup := func() (bool, error) {
		found, err := f.openPR(ctx, owner, name, spec.Head)
		if found != nil {
			pr = found
		}
		return found != nil, err
	}
	err := f.write(ctx, func() error {
		_, err := f.do(ctx, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			pr, resp, err = f.client.PullRequests.Create(ctx, owner, name, &gh.NewPullRequest{
				Title: gh.String(spec.Title), Head: gh.String(spec.Head), Base: gh.String(spec.Base),
				Body: gh.String(spec.Body), Draft: gh.Bool(spec.Draft), MaintainerCanModify: gh.Bool(true)})
			return resp, err
		})
		return err
	}, lookup)
	if statusOf(err) == http.StatusUnprocessableEntity {
		if found, lerr := lookup(); lerr == nil && found {
			f.log.Info("github: the pull request already existed", "repo", owner+"/"+name, "number", pr.GetNumber())
			return pr, nil
		}
	}
	if err != nil {
		return nil, apiError(err, fmt.Sprintf("open a pull request from %q in %q", spec.Head, owner+"/"+name))
	}
	return pr, nil
}

// updatePR brings an open pull request to spec with as few writes as the
// API allows: nothing when it already matches; otherwise one issue update
// (PATCH /issues/{n}, which pull requests share) sets whatever differs of
// title, body, labels and assignees at once, the labels and assignees it
// sends being those already there plus the missing ones; and one review
// request only when reviewers are configured and not yet asked.
func (f *Forge) updatePR(ctx context.Context, owner, name string, pr *gh.PullRequest, spec forge.PRSpec) error {
	full, n := owner+"/"+name, pr.GetNumber()
	reread := func() (*gh.PullRequest, error) {
		var p *gh.PullRequest
		_, err := f.do(ctx, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			p, resp, err = f.client.PullRequests.Get(ctx, owner, name, n)
			return resp, err
		})
		return p, err
	}
	labelsOf := func(p *gh.PullRequest) []string { return namesOf(p.Labels, (*gh.Label).GetName) }
	assigneesOf := func(p *gh.PullRequest) []string { return namesOf(p.Assignees, (*gh.User).GetLogin) }
	upToDate := func(p *gh.PullRequest) bool {
		return p.GetTitle() == spec.Title && p.GetBody() == spec.Body &&
			len(missingFold(spec.Labels, labelsOf(p))) == 0 && len(missingFold(spec.Assignees, assigneesOf(p))) == 0
	}
	if !upToDate(pr) {
		req := &gh.IssueRequest{}
		if pr.GetTitle() != spec.Title {
			req.Title = gh.String(spec.Title)
		}
		if pr.GetBody() != spec.Body {
			req.Body = gh.String(spec.Body)
		}
		if missing := missingFold(spec.Labels, labelsOf(pr)); len(missing) > 0 {
			all := append(labelsOf(pr), missing...)
			req.Labels = &all
		}
		if missing := missingFold(spec.Assignees, assigneesOf(pr)); len(missing) > 0 {
			all := append(assigneesOf(pr), missing...)
			req.Assignees = &all
		}
		err := f.write(ctx, func() error {
			_, err := f.do(ctx, func() (*gh.Response, error) {
				_, resp, err := f.client.Issues.Edit(ctx, owner, name, n, req)
				return resp, err
			})
			return err
		}, func() (bool, error) {
			p, err := reread()
			return err == nil && upToDate(p), err
		})
		if err != nil {
			return apiError(err, fmt.Sprintf("update pull request #%d of %q", n, full))
		}
	}

	author := pr.GetUser().GetLogin()
	reviewers := missingFold(spec.Reviewers, append(namesOf(pr.RequestedReviewers, (*gh.User).GetLogin), author))
	teamReviewers := missingFold(spec.TeamReviewers, namesOf(pr.RequestedTeams, (*gh.Team).GetSlug))
	if len(reviewers) == 0 && len(teamReviewers) == 0 {
		return nil
	}
	err := f.write(ctx, func() error {
		_, err := f.do(ctx, func() (*gh.Response, error) {
			_, resp, err := f.client.PullRequests.RequestReviewers(ctx, owner, name, n, gh.ReviewersRequest{
				Reviewers: reviewers, TeamReviewers: teamReviewers})
			return resp, err
		})
		return err
	}, func() (bool, error) {
		p, err := reread()
		if err != nil {
			return false, err
		}
		return len(missingFold(reviewers, namesOf(p.RequestedReviewers, (*gh.User).GetLogin))) == 0 &&
			len(missingFold(teamReviewers, namesOf(p.RequestedTeams, (*gh.Team).GetSlug))) == 0, nil
	})
	if err != nil {
		return apiError(err, fmt.Sprintf("request reviews on pull request #%d of %q", n, full))
	}
	return nil
}

// namesOf returns the name of each of xs.
func namesOf[T any](xs []T, name func(T) string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, name(x))
	}
	return out
}

// missingFold returns the items of want not in have, ignoring case and
// blanks, without repeats.
func missingFold(want, have []string) []string {
	var out []string
	for _, w := range want {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		eq := func(h string) bool { return strings.EqualFold(h, w) }
		if !slices.ContainsFunc(have, eq) && !slices.ContainsFunc(out, eq) {
			out = append(out, w)
		}
	}
	return out
}

// PR reads a pull request: its state (open, closed or merged), draft,
// head, mergeability (empty while GitHub computes it) and the combined
// result of its head's check runs and commit statuses.
func (f *Forge) PR(ctx context.Context, repo forge.Repo, number int) (forge.PR, error) {
	owner, name, err := split(repo)
	if err != nil {
		return forge.PR{}, err
	}
	var pr *gh.PullRequest
	_, err = f.do(ctx, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		pr, resp, err = f.client.PullRequests.Get(ctx, owner, name, number)
		return resp, err
	})
	if err != nil {
		return forge.PR{}, apiError(err, fmt.Sprintf("read pull request #%d of %q", number, repo.FullName))
	}
	out := forge.PR{
		Number: pr.GetNumber(), URL: pr.GetHTMLURL(), State: pr.GetState(), Draft: pr.GetDraft(),
		HeadSHA: pr.GetHead().GetSHA(),
	}
	if pr.GetMerged() || pr.MergedAt != nil {
		out.State = "merged"
	}
	if pr.Mergeable != nil {
		out.Mergeable = "no"
		if *pr.Mergeable {
			out.Mergeable = "yes"
		}
	}
	if out.Checks, err = f.checks(ctx, owner, name, out.HeadSHA); err != nil {
		return forge.PR{}, err
	}
	return out, nil
}

// checks combines the check runs and the commit statuses of a commit into
// success, failure, pending or none.
func (f *Forge) checks(ctx context.Context, owner, name, sha string) (string, error) {
	if sha == "" {
		return "none", nil
	}
	full := owner + "/" + name
	failed, pending, passed := false, false, false
	opt := &gh.ListCheckRunsOptions{Filter: gh.String("latest"), ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		var res *gh.ListCheckRunsResults
		resp, err := f.do(ctx, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			res, resp, err = f.client.Checks.ListCheckRunsForRef(ctx, owner, name, sha, opt)
			return resp, err
		})
		if err != nil {
			return "", apiError(err, fmt.Sprintf("read the check runs of %s in %q", short(sha), full))
		}
		for _, cr := range res.CheckRuns {
			if cr.GetStatus() != "completed" {
				pending = true
				continue
			}
			switch cr.GetConclusion() {
			case "success", "neutral", "skipped":
				passed = true
			default:
				failed = true
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	var st *gh.CombinedStatus
	_, err := f.do(ctx, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		st, resp, err = f.client.Repositories.GetCombinedStatus(ctx, owner, name, sha, &gh.ListOptions{PerPage: 100})
		return resp, err
	})
	if err != nil {
		return "", apiError(err, fmt.Sprintf("read the commit statuses of %s in %q", short(sha), full))
	}
	if st.GetTotalCount() > 0 || len(st.Statuses) > 0 {
		switch st.GetState() {
		case "success":
			passed = true
		case "pending":
			pending = true
		default:
			failed = true
		}
	}
	switch {
	case failed:
		return "failure", nil
	case pending:
		return "pending", nil
	case passed:
		return "success", nil
	}
	return "none", nil
}

// MergePR merges an open pull request with method (merge, squash or
// rebase; empty means merge), only while its head is still sha when sha is
// given. Merging one already merged is not an error.
func (f *Forge) MergePR(ctx context.Context, repo forge.Repo, number int, method, sha string) error {
	owner, name, err := split(repo)
	if err != nil {
		return err
	}
	merged := func() (bool, error) {
		p, err := f.PR(ctx, repo, number)
		return err == nil && p.State == "merged", err
	}
	err = f.write(ctx, func() error {
		_, err := f.do(ctx, func() (*gh.Response, error) {
			_, resp, err := f.client.PullRequests.Merge(ctx, owner, name, number, "", &gh.PullRequestOptions{
				SHA: sha, MergeMethod: method})
			return resp, err
		})
		return err
	}, merged)
	if err != nil && statusOf(err) == http.StatusMethodNotAllowed {
		if ok, _ := merged(); ok {
			return nil
		}
	}
	if st := statusOf(err); st == http.StatusMethodNotAllowed || st == http.StatusConflict {
		why := err.Error()
		var er *gh.ErrorResponse
		if errors.As(err, &er) && er.Message != "" {
			why = er.Message
		}
		return fmt.Errorf("%w: pull request #%d of %q: %s", forge.ErrMergeRefused, number, repo.FullName, why)
	}
	return apiError(err, fmt.Sprintf("merge pull request #%d of %q", number, repo.FullName))
}

// ClosePR closes a pull request without merging it; closing a closed one
// is not an error.
func (f *Forge) ClosePR(ctx context.Context, repo forge.Repo, number int) error {
	owner, name, err := split(repo)
	if err != nil {
		return err
	}
	err = f.write(ctx, func() error {
		_, err := f.do(ctx, func() (*gh.Response, error) {
			_, resp, err := f.client.PullRequests.Edit(ctx, owner, name, number, &gh.PullRequest{State: gh.String("closed")})
			return resp, err
		})
		return err
	}, func() (bool, error) {
		p, err := f.PR(ctx, repo, number)
		return err == nil && p.State != "open", err
	})
	return apiError(err, fmt.Sprintf("close pull request #%d of %q", number, repo.FullName))
}
