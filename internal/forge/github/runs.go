package github

import (
	"context"
	"fmt"
	"time"

	gh "github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/forge"
)

// maxRunPages bounds how many pages of runs Runs reads (100 runs a page).
const maxRunPages = 10

// Runs lists the repository's workflow runs created at or after since,
// newest first (GET /repos/{owner}/{repo}/actions/runs?created=>=since).
func (f *Forge) Runs(ctx context.Context, repo forge.Repo, since time.Time) ([]forge.Run, error) {
	owner, name, err := split(repo)
	if err != nil {
		return nil, err
	}
	opt := &gh.ListWorkflowRunsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	if !since.IsZero() {
		opt.Created = ">=" + since.UTC().Format(time.RFC3339)
	}
	var out []forge.Run
	for page := 0; page < maxRunPages; page++ {
		var res *gh.WorkflowRuns
		resp, err := f.do(ctx, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			res, resp, err = f.client.Actions.ListRepositoryWorkflowRuns(ctx, owner, name, opt)
			return resp, err
		})
		if err != nil {
			return nil, apiError(err, fmt.Sprintf("list the workflow runs of %q", repo.FullName))
		}
		for _, r := range res.WorkflowRuns {
			created := r.GetCreatedAt().Time
			if !since.IsZero() && created.Before(since) {
				continue
			}
			out = append(out, forge.Run{
				ID: r.GetID(), Workflow: r.GetPath(), Event: r.GetEvent(), Branch: r.GetHeadBranch(), HeadSHA: r.GetHeadSHA(),
				Status: r.GetStatus(), Conclusion: r.GetConclusion(), Created: created, URL: r.GetHTMLURL(),
			})
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return out, nil
}
