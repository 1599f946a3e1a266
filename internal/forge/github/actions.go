package github

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"

	gh "github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/forge"
)

// Variable reads a repository Actions variable; ok is false when it is not
// set.
func (f *Forge) Variable(ctx context.Context, repo forge.Repo, name string) (string, bool, error) {
	owner, rname, err := split(repo)
	if err != nil {
		return "", false, err
	}
	var v *gh.ActionsVariable
	_, err = f.do(ctx, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		v, resp, err = f.client.Actions.GetRepoVariable(ctx, owner, rname, name)
		return resp, err
	})
	if isNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, apiError(err, fmt.Sprintf("read the variable %q of %q", name, repo.FullName))
	}
	return v.Value, true, nil
}

// SetVariable creates a repository Actions variable or updates its value;
// it writes nothing when the value is already set.
func (f *Forge) SetVariable(ctx context.Context, repo forge.Repo, name, value string) error {
	owner, rname, err := split(repo)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("set the variable %q of %q", name, repo.FullName)
	cur, ok, err := f.Variable(ctx, repo, name)
	if err != nil {
		return err
	}
	if ok && cur == value {
		return nil
	}
	isSet := func() (bool, error) {
		v, ok, err := f.Variable(ctx, repo, name)
		return ok && v == value, err
	}
	v := &gh.ActionsVariable{Name: name, Value: value}
	update := func() error {
		_, err := f.do(ctx, func() (*gh.Response, error) {
			return f.client.Actions.UpdateRepoVariable(ctx, owner, rname, v)
		})
		return err
	}
	if ok {
		return apiError(f.write(ctx, update, isSet), what)
	}
	err = f.write(ctx, func() error {
		_, err := f.do(ctx, func() (*gh.Response, error) {
			return f.client.Actions.CreateRepoVariable(ctx, owner, rname, v)
		})
		return err
	}, func() (bool, error) {
		_, ok, err := f.Variable(ctx, repo, name)
		return ok, err
	})
	if s := statusOf(err); s == http.StatusConflict || s == http.StatusUnprocessableEntity {
		// Someone created it meanwhile.
		err = f.write(ctx, update, isSet)
	}
	if err == nil {
		if done, lerr := isSet(); lerr == nil && !done {
			// The create's lookup saw the variable, perhaps with a value of
			// someone else's.
			err = f.write(ctx, update, isSet)
		}
	}
	return apiError(err, what)
}

// Secrets lists the repository's Actions secrets, those of each of its
// environments, and the organisation's secrets visible to it, with the
// time each was last updated.
func (f *Forge) Secrets(ctx context.Context, repo forge.Repo) ([]forge.Secret, error) {
	owner, name, err := split(repo)
	if err != nil {
		return nil, err
	}
	var out []forge.Secret
	add := func(scope, env string, list []*gh.Secret) {
		for _, s := range list {
			out = append(out, forge.Secret{Name: s.Name, Scope: scope, Environment: env, UpdatedAt: s.UpdatedAt.Time})
		}
	}
	pages := func(what string, call func(opt *gh.ListOptions) (*gh.Secrets, *gh.Response, error), scope, env string) error {
		opt := &gh.ListOptions{PerPage: 100}
		for {
			var res *gh.Secrets
			resp, err := f.do(ctx, func() (*gh.Response, error) {
				var resp *gh.Response
				var err error
				res, resp, err = call(opt)
				return resp, err
			})
			if err != nil {
				return apiError(err, what)
			}
			add(scope, env, res.Secrets)
			if resp.NextPage == 0 {
				return nil
			}
			opt.Page = resp.NextPage
		}
	}
	if err := pages(fmt.Sprintf("list the secrets of %q", repo.FullName), func(opt *gh.ListOptions) (*gh.Secrets, *gh.Response, error) {
		return f.client.Actions.ListRepoSecrets(ctx, owner, name, opt)
	}, "repo", ""); err != nil {
		return nil, err
	}
	envs, err := f.environments(ctx, owner, name)
	if err != nil {
		return nil, err
	}
	if len(envs) > 0 && repo.ID == 0 {
		r, err := f.Repo(ctx, repo.FullName)
		if err != nil {
			return nil, err
		}
		repo.ID = r.ID
	}
	for _, env := range envs {
		if err := pages(fmt.Sprintf("list the secrets of environment %q of %q", env, repo.FullName), func(opt *gh.ListOptions) (*gh.Secrets, *gh.Response, error) {
			// go-github v66 uses the legacy /repositories/{id}/environments
			// path and does not escape the name.
			return f.client.Actions.ListEnvSecrets(ctx, int(repo.ID), url.PathEscape(env), opt)
		}, "env", env); err != nil {
			return nil, err
		}
	}
	if err := pages(fmt.Sprintf("list the organisation secrets visible to %q", repo.FullName), func(opt *gh.ListOptions) (*gh.Secrets, *gh.Response, error) {
		return f.client.Actions.ListRepoOrgSecrets(ctx, owner, name, opt)
	}, "org", ""); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Scope != b.Scope {
			return scopeRank(a.Scope) < scopeRank(b.Scope)
		}
		if a.Environment != b.Environment {
			return a.Environment < b.Environment
		}
		return a.Name < b.Name
	})
	return out, nil
}

func scopeRank(s string) int {
	switch s {
	case "repo":
		return 0
	case "env":
		return 1
	}
	return 2
}

// environments lists the names of a repository's environments.
func (f *Forge) environments(ctx context.Context, owner, name string) ([]string, error) {
	var out []string
	opt := &gh.EnvironmentListOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		var res *gh.EnvResponse
		resp, err := f.do(ctx, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			res, resp, err = f.client.Repositories.ListEnvironments(ctx, owner, name, opt)
			return resp, err
		})
		if isNotFound(err) {
			return out, nil
		}
		if err != nil {
			return nil, apiError(err, fmt.Sprintf("list the environments of %q", owner+"/"+name))
		}
		for _, e := range res.Environments {
			out = append(out, e.GetName())
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
}

// DeleteSecret deletes one secret: of the repository, of one of its
// environments, or of the organisation (for every repository that sees
// it). A secret already gone is not an error.
func (f *Forge) DeleteSecret(ctx context.Context, repo forge.Repo, s forge.Secret) error {
	owner, name, err := split(repo)
	if err != nil {
		return err
	}
	var del, get func() (*gh.Response, error)
	var what string
	switch s.Scope {
	case "repo", "":
		what = fmt.Sprintf("delete the secret %q of %q", s.Name, repo.FullName)
		del = func() (*gh.Response, error) { return f.client.Actions.DeleteRepoSecret(ctx, owner, name, s.Name) }
		get = func() (*gh.Response, error) {
			_, resp, err := f.client.Actions.GetRepoSecret(ctx, owner, name, s.Name)
			return resp, err
		}
	case "env":
		if s.Environment == "" {
			return fmt.Errorf("could not delete the secret %q of %q: it names no environment", s.Name, repo.FullName)
		}
		if repo.ID == 0 {
			r, err := f.Repo(ctx, repo.FullName)
			if err != nil {
				return err
			}
			repo.ID = r.ID
		}
		what = fmt.Sprintf("delete the secret %q of environment %q of %q", s.Name, s.Environment, repo.FullName)
		del = func() (*gh.Response, error) {
			return f.client.Actions.DeleteEnvSecret(ctx, int(repo.ID), url.PathEscape(s.Environment), s.Name)
		}
		get = func() (*gh.Response, error) {
			_, resp, err := f.client.Actions.GetEnvSecret(ctx, int(repo.ID), url.PathEscape(s.Environment), s.Name)
			return resp, err
		}
	case "org":
		what = fmt.Sprintf("delete the organisation secret %q of %q", s.Name, owner)
		del = func() (*gh.Response, error) { return f.client.Actions.DeleteOrgSecret(ctx, owner, s.Name) }
		get = func() (*gh.Response, error) {
			_, resp, err := f.client.Actions.GetOrgSecret(ctx, owner, s.Name)
			return resp, err
		}
	default:
		return fmt.Errorf("could not delete the secret %q of %q: unknown scope %q", s.Name, repo.FullName, s.Scope)
	}
	err = f.write(ctx, func() error {
		_, err := f.do(ctx, del)
		if isNotFound(err) {
			return nil
		}
		return err
	}, func() (bool, error) {
		_, err := f.do(ctx, get)
		if isNotFound(err) {
			return true, nil
		}
		return false, err
	})
	return apiError(err, what)
}

// Environment is the desired state of a deployment environment. GitHub
// replaces the whole state on every update, so every field is sent.
type Environment struct {
	// Name is the environment's name.
	Name string
	// WaitTimer is the delay in minutes before a job may proceed.
	WaitTimer int
	// Reviewers are required reviewers: users or teams by numeric id.
	Reviewers []EnvReviewer
	// PreventSelfReview stops the one who triggered a job from approving it.
	PreventSelfReview bool
	// AdminsCannotBypass takes away the administrators' bypass.
	AdminsCannotBypass bool
	// ProtectedBranches allows deployments from protected branches only;
	// CustomBranches from branches matching configured policies. At most
	// one may be set; neither allows every branch.
	ProtectedBranches, CustomBranches bool
}

// EnvReviewer is a user or team that must approve deployments.
type EnvReviewer struct {
	// Type is "User" or "Team".
	Type string
	// ID is the user's or team's numeric id.
	ID int64
}

// EnsureEnvironment creates or updates an environment to exactly env (it
// needs the administration permission).
func (f *Forge) EnsureEnvironment(ctx context.Context, repo forge.Repo, env Environment) error {
	owner, name, err := split(repo)
	if err != nil {
		return err
	}
	if env.ProtectedBranches && env.CustomBranches {
		return fmt.Errorf("could not set the environment %q of %q: protected and custom branches exclude each other", env.Name, repo.FullName)
	}
	body := &gh.CreateUpdateEnvironment{
		WaitTimer:         gh.Int(env.WaitTimer),
		CanAdminsBypass:   gh.Bool(!env.AdminsCannotBypass),
		PreventSelfReview: gh.Bool(env.PreventSelfReview),
		Reviewers:         []*gh.EnvReviewers{},
	}
	for _, r := range env.Reviewers {
		body.Reviewers = append(body.Reviewers, &gh.EnvReviewers{Type: gh.String(r.Type), ID: gh.Int64(r.ID)})
	}
	if env.ProtectedBranches || env.CustomBranches {
		body.DeploymentBranchPolicy = &gh.BranchPolicy{
			ProtectedBranches: gh.Bool(env.ProtectedBranches), CustomBranchPolicies: gh.Bool(env.CustomBranches)}
	}
	// A PUT of the full state is idempotent.
	err = f.write(ctx, func() error {
		_, err := f.do(ctx, func() (*gh.Response, error) {
			_, resp, err := f.client.Repositories.CreateUpdateEnvironment(ctx, owner, name, url.PathEscape(env.Name), body)
			return resp, err
		})
		return err
	}, func() (bool, error) { return false, nil })
	return apiError(err, fmt.Sprintf("set the environment %q of %q", env.Name, repo.FullName))
}
