package github

import (
	"context"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/forge"
)

// Repos lists the repositories of org, 100 a page, and filters them. As a
// GitHub App it lists the installation's repositories owned by org (all of
// them when org is empty). Disabled repositories are always left out.
func (f *Forge) Repos(ctx context.Context, org string, opts forge.ListOptions) ([]forge.Repo, error) {
	var all []*gh.Repository
	var err error
	if f.app != nil {
		all, err = f.installationRepos(ctx, org)
	} else {
		all, err = f.orgRepos(ctx, org)
	}
	if err != nil {
		return nil, err
	}
	var out []forge.Repo
	for _, r := range all {
		if keep(r, opts) {
			out = append(out, toRepo(r))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FullName < out[j].FullName })
	return out, nil
}

// orgRepos pages through GET /orgs/{org}/repos, or /users/{org}/repos when
// org is a user.
func (f *Forge) orgRepos(ctx context.Context, org string) ([]*gh.Repository, error) {
	var all []*gh.Repository
	user := false
	opt := &gh.RepositoryListByOrgOptions{Type: "all", Sort: "full_name", ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		var page []*gh.Repository
		resp, err := f.do(ctx, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			if user {
				page, resp, err = f.client.Repositories.ListByUser(ctx, org, &gh.RepositoryListByUserOptions{
					Type: "owner", Sort: "full_name", ListOptions: opt.ListOptions})
			} else {
				page, resp, err = f.client.Repositories.ListByOrg(ctx, org, opt)
			}
			return resp, err
		})
		if err != nil && !user && opt.Page <= 1 && isNotFound(err) {
			user = true
			continue
		}
		if err != nil {
			return nil, apiError(err, "list the repositories of "+strconv.Quote(org))
		}
		all = append(all, page...)
		if resp.NextPage == 0 {
			return all, nil
		}
		opt.Page = resp.NextPage
	}
}

// installationRepos pages through GET /installation/repositories.
func (f *Forge) installationRepos(ctx context.Context, org string) ([]*gh.Repository, error) {
	var all []*gh.Repository
	opt := &gh.ListOptions{PerPage: 100}
	for {
		var page *gh.ListRepositories
		resp, err := f.do(ctx, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			page, resp, err = f.client.Apps.ListRepos(ctx, opt)
			return resp, err
		})
		if err != nil {
			return nil, apiError(err, "list the repositories of the GitHub App installation")
		}
		for _, r := range page.Repositories {
			if org == "" || strings.EqualFold(r.GetOwner().GetLogin(), org) {
				all = append(all, r)
			}
		}
		if resp.NextPage == 0 {
			return all, nil
		}
		opt.Page = resp.NextPage
	}
}

// keep applies the filters of opts to one repository.
func keep(r *gh.Repository, opts forge.ListOptions) bool {
	switch {
	case r.GetDisabled():
		return false
	case r.GetArchived() && !opts.Archived:
		return false
	case r.GetFork() && !opts.Forks:
		return false
	case opts.Visibility != "" && !strings.EqualFold(visibility(r), opts.Visibility):
		return false
	}
	if len(opts.Topics) > 0 && !slices.ContainsFunc(r.Topics, func(t string) bool {
		return slices.ContainsFunc(opts.Topics, func(want string) bool { return strings.EqualFold(t, want) })
	}) {
		return false
	}
	match := func(globs []string) bool {
		for _, g := range globs {
			if ok, _ := path.Match(g, r.GetName()); ok {
				return true
			}
			if ok, _ := path.Match(g, r.GetFullName()); ok {
				return true
			}
		}
		return false
	}
	if len(opts.Include) > 0 && !match(opts.Include) {
		return false
	}
	return !match(opts.Exclude)
}

// visibility is public, private or internal; older servers only say private.
func visibility(r *gh.Repository) string {
	if v := r.GetVisibility(); v != "" {
		return v
	}
	if r.GetPrivate() {
		return "private"
	}
	return "public"
}

func toRepo(r *gh.Repository) forge.Repo {
	return forge.Repo{
		FullName: r.GetFullName(), ID: r.GetID(), DefaultBranch: r.GetDefaultBranch(),
		Visibility: visibility(r), CloneURL: r.GetCloneURL(), Archived: r.GetArchived(),
		Fork: r.GetFork(), Topics: append([]string(nil), r.Topics...),
	}
}

// Repo reads one repository.
func (f *Forge) Repo(ctx context.Context, fullName string) (forge.Repo, error) {
	owner, name, err := split(forge.Repo{FullName: fullName})
	if err != nil {
		return forge.Repo{}, err
	}
	var r *gh.Repository
	_, err = f.do(ctx, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		r, resp, err = f.client.Repositories.Get(ctx, owner, name)
		return resp, err
	})
	if err != nil {
		return forge.Repo{}, apiError(err, "read the repository "+strconv.Quote(fullName))
	}
	return toRepo(r), nil
}
