package github

import (
	"context"
	"fmt"
	"time"

	gh "github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/forge"
)

// maxCheckPages bounds how many pages of statuses and of check runs
// CommitChecks reads (100 a page).
const maxCheckPages = 5

// CommitChecks reads the latest commit status of each context (GET
// /repos/{owner}/{repo}/commits/{ref}/status) and the latest check run of
// each name (GET /repos/{owner}/{repo}/commits/{ref}/check-runs) of ref.
func (f *Forge) CommitChecks(ctx context.Context, repo forge.Repo, ref string) ([]forge.CommitCheck, error) {
	owner, name, err := split(repo)
	if err != nil {
		return nil, err
	}
	var out []forge.CommitCheck
	sopt := &gh.ListOptions{PerPage: 100}
	for page := 0; page < maxCheckPages; page++ {
		var st *gh.CombinedStatus
		resp, err := f.do(ctx, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			st, resp, err = f.client.Repositories.GetCombinedStatus(ctx, owner, name, ref, sopt)
			return resp, err
		})
		if err != nil {
			return nil, apiError(err, fmt.Sprintf("read the commit statuses of %s in %q", ref, repo.FullName))
		}
		for _, s := range st.Statuses {
			c := forge.CommitCheck{Kind: forge.CheckStatus, Name: s.GetContext(), Raw: s.GetState(), SHA: st.GetSHA(),
				Updated: s.GetUpdatedAt().Time, Description: s.GetDescription(), URL: s.GetTargetURL()}
			if c.Updated.IsZero() {
				c.Updated = s.GetCreatedAt().Time
			}
			switch c.Raw {
			case "success", "pending":
				c.State = c.Raw
			default:
				c.State = "failure"
			}
			out = append(out, c)
		}
		if resp.NextPage == 0 {
			break
		}
		sopt.Page = resp.NextPage
	}
	copt := &gh.ListCheckRunsOptions{Filter: gh.String("latest"), ListOptions: gh.ListOptions{PerPage: 100}}
	for page := 0; page < maxCheckPages; page++ {
		var res *gh.ListCheckRunsResults
		resp, err := f.do(ctx, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			res, resp, err = f.client.Checks.ListCheckRunsForRef(ctx, owner, name, ref, copt)
			return resp, err
		})
		if err != nil {
			return nil, apiError(err, fmt.Sprintf("read the check runs of %s in %q", ref, repo.FullName))
		}
		for _, cr := range res.CheckRuns {
			c := forge.CommitCheck{Kind: forge.CheckRun, Name: cr.GetName(), App: cr.GetApp().GetSlug(), SHA: cr.GetHeadSHA(),
				Updated: cr.GetStartedAt().Time, Description: cr.GetOutput().GetTitle(), URL: cr.GetDetailsURL()}
			if c.URL == "" {
				c.URL = cr.GetHTMLURL()
			}
			c.Raw, c.State = checkRunState(cr.GetStatus(), cr.GetConclusion())
			if t := cr.GetCompletedAt(); !t.IsZero() {
				c.Updated = t.Time
			}
			out = append(out, c)
		}
		if resp.NextPage == 0 {
			break
		}
		copt.Page = resp.NextPage
	}
	return out, nil
}

// checkRunState maps a check run's status and conclusion to its raw value
// and to success, failure or pending.
func checkRunState(status, conclusion string) (raw, state string) {
	if status != "completed" {
		return status, "pending"
	}
	switch conclusion {
	case "success", "neutral", "skipped":
		return conclusion, "success"
	}
	return conclusion, "failure"
}

// Commits lists the SHAs of at most limit commits of ref committed at or
// after since, newest first (GET /repos/{owner}/{repo}/commits?sha=&since=).
func (f *Forge) Commits(ctx context.Context, repo forge.Repo, ref string, since time.Time, limit int) ([]string, error) {
	owner, name, err := split(repo)
	if err != nil {
		return nil, err
	}
	opt := &gh.CommitsListOptions{SHA: ref, Since: since, ListOptions: gh.ListOptions{PerPage: min(max(limit, 1), 100)}}
	var out []string
	for len(out) < limit {
		var res []*gh.RepositoryCommit
		resp, err := f.do(ctx, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			res, resp, err = f.client.Repositories.ListCommits(ctx, owner, name, opt)
			return resp, err
		})
		if err != nil {
			return nil, apiError(err, fmt.Sprintf("list the commits of %s in %q", ref, repo.FullName))
		}
		for _, c := range res {
			if len(out) < limit {
				out = append(out, c.GetSHA())
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return out, nil
}
