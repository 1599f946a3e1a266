package github

import (
	"context"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/forge"
)

// EnsureIssue finds the issue whose body carries spec.Marker (as
// [forge.MarkerComment]) or opens it, and brings its title, body and labels
// to spec (labels are added, never removed); a closed one is reopened. A
// create that fails without a clear answer is sent again only after a
// lookup by marker finds nothing, so there is never a second issue.
func (f *Forge) EnsureIssue(ctx context.Context, repo forge.Repo, spec forge.IssueSpec) (forge.Issue, error) {
	owner, name, err := split(repo)
	if err != nil {
		return forge.Issue{}, err
	}
	if spec.Marker == "" || spec.Title == "" {
		return forge.Issue{}, fmt.Errorf("could not open an issue in %q: it needs a marker and a title", repo.FullName)
	}
	marker := forge.MarkerComment(spec.Marker)
	body := spec.Body
	if !strings.Contains(body, marker) {
		if body != "" && !strings.HasSuffix(body, "\n") {
			body += "\n"
		}
		if body != "" {
			body += "\n"
		}
		body += marker + "\n"
	}
	what := fmt.Sprintf("open the issue %q in %q", spec.Marker, repo.FullName)

	is, err := f.findIssue(ctx, owner, name, marker, "all")
	if err != nil {
		return forge.Issue{}, apiError(err, what)
	}
	if is == nil {
		lookup := func() (bool, error) {
			found, err := f.findIssue(ctx, owner, name, marker, "all")
			if found != nil {
				is = found
			}
			return found != nil, err
		}
		err := f.write(ctx, func() error {
			req := &gh.IssueRequest{Title: gh.String(spec.Title), Body: gh.String(body)}
			if len(spec.Labels) > 0 {
				req.Labels = &spec.Labels
			}
			_, err := f.do(ctx, func() (*gh.Response, error) {
				var resp *gh.Response
				var err error
				is, resp, err = f.client.Issues.Create(ctx, owner, name, req)
				return resp, err
			})
			return err
		}, lookup)
		if err != nil {
			return forge.Issue{}, apiError(err, what)
		}
		f.log.Info("github: opened an issue", "repo", repo.FullName, "number", is.GetNumber(), "marker", spec.Marker)
	}

	n := is.GetNumber()
	var labels []string
	for _, l := range is.Labels {
		labels = append(labels, l.GetName())
	}
	missing := missingFold(spec.Labels, labels)
	if is.GetTitle() != spec.Title || is.GetBody() != body || is.GetState() != "open" || len(missing) > 0 {
		req := &gh.IssueRequest{Title: gh.String(spec.Title), Body: gh.String(body), State: gh.String("open")}
		if len(missing) > 0 {
			all := append(labels, missing...)
			req.Labels = &all
		}
		// Editing to a full state is idempotent.
		err := f.write(ctx, func() error {
			_, err := f.do(ctx, func() (*gh.Response, error) {
				var resp *gh.Response
				var err error
				is, resp, err = f.client.Issues.Edit(ctx, owner, name, n, req)
				return resp, err
			})
			return err
		}, func() (bool, error) {
			cur, err := f.issue(ctx, owner, name, n)
			return err == nil && cur.GetState() == "open" && cur.GetTitle() == spec.Title && cur.GetBody() == body, err
		})
		if err != nil {
			return forge.Issue{}, apiError(err, fmt.Sprintf("update issue #%d of %q", n, repo.FullName))
		}
	}
	return forge.Issue{Number: n, URL: is.GetHTMLURL(), State: "open"}, nil
}

// CloseIssue closes the open issue carrying marker, after posting comment
// on it (once: a comment with the same body is not posted again). No open
// issue is not an error.
func (f *Forge) CloseIssue(ctx context.Context, repo forge.Repo, marker, comment string) error {
	owner, name, err := split(repo)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("close the issue %q of %q", marker, repo.FullName)
	is, err := f.findIssue(ctx, owner, name, forge.MarkerComment(marker), "open")
	if err != nil {
		return apiError(err, what)
	}
	if is == nil {
		return nil
	}
	n := is.GetNumber()
	if comment != "" {
		posted := func() (bool, error) { return f.hasComment(ctx, owner, name, n, comment) }
		done, err := posted()
		if err != nil {
			return apiError(err, what)
		}
		if !done {
			err = f.write(ctx, func() error {
				_, err := f.do(ctx, func() (*gh.Response, error) {
					_, resp, err := f.client.Issues.CreateComment(ctx, owner, name, n, &gh.IssueComment{Body: gh.String(comment)})
					return resp, err
				})
				return err
			}, posted)
			if err != nil {
				return apiError(err, fmt.Sprintf("comment on issue #%d of %q", n, repo.FullName))
			}
		}
	}
	err = f.write(ctx, func() error {
		_, err := f.do(ctx, func() (*gh.Response, error) {
			_, resp, err := f.client.Issues.Edit(ctx, owner, name, n, &gh.IssueRequest{
				State: gh.String("closed"), StateReason: gh.String("completed")})
			return resp, err
		})
		return err
	}, func() (bool, error) {
		cur, err := f.issue(ctx, owner, name, n)
		return err == nil && cur.GetState() == "closed", err
	})
	if err != nil {
		return apiError(err, fmt.Sprintf("close issue #%d of %q", n, repo.FullName))
	}
	f.log.Info("github: closed an issue", "repo", repo.FullName, "number", n, "marker", marker)
	return nil
}

// findIssue returns the issue (not pull request) whose body holds marker,
// in state (open or all), oldest first; nil when there is none. It looks
// through the identity's own issues first, when the API says who that is,
// then through everyone's.
func (f *Forge) findIssue(ctx context.Context, owner, name, marker, state string) (*gh.Issue, error) {
	if me := f.viewer(ctx); me != "" {
		is, err := f.scanIssues(ctx, owner, name, marker, state, me)
		if is != nil || err != nil {
			return is, err
		}
	}
	return f.scanIssues(ctx, owner, name, marker, state, "")
}

// scanIssues pages through the issues of a repository for marker.
func (f *Forge) scanIssues(ctx context.Context, owner, name, marker, state, creator string) (*gh.Issue, error) {
	opt := &gh.IssueListByRepoOptions{State: state, Creator: creator, Sort: "created", Direction: "asc",
		ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		var list []*gh.Issue
		resp, err := f.do(ctx, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			list, resp, err = f.client.Issues.ListByRepo(ctx, owner, name, opt)
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		for _, is := range list {
			if !is.IsPullRequest() && strings.Contains(is.GetBody(), marker) {
				return is, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opt.Page = resp.NextPage
	}
}

func (f *Forge) issue(ctx context.Context, owner, name string, n int) (*gh.Issue, error) {
	var is *gh.Issue
	_, err := f.do(ctx, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		is, resp, err = f.client.Issues.Get(ctx, owner, name, n)
		return resp, err
	})
	return is, err
}

// hasComment reports whether issue n already carries a comment with body.
func (f *Forge) hasComment(ctx context.Context, owner, name string, n int, body string) (bool, error) {
	opt := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		var list []*gh.IssueComment
		resp, err := f.do(ctx, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			list, resp, err = f.client.Issues.ListComments(ctx, owner, name, n, opt)
			return resp, err
		})
		if err != nil {
			return false, err
		}
		for _, c := range list {
			if strings.TrimSpace(c.GetBody()) == strings.TrimSpace(body) {
				return true, nil
			}
		}
		if resp.NextPage == 0 {
			return false, nil
		}
		opt.Page = resp.NextPage
	}
}
