package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"

	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/rewrite"
)

// circlePrefix is where the sandbox serves its CircleCI API emulator, on the
// API's port: CircleCIAPIURL is the base URL a client appends
// "project/{project-slug}/envvar" to, as it would to CircleCI's
// "/api/v2/".
const circlePrefix = sandboxPrefix + "circleci/api/v2/"

// circleState is the sandbox's CircleCI: projects (their IDs and
// environment variables), contexts (their IDs and variables), and the
// personal API tokens it accepts.
type circleState struct {
	mu       sync.Mutex
	projects map[string]*circleProject // "org/repo" → project
	contexts map[string]*circleContext // context name → context
	tokens   map[string]bool
}

type circleProject struct {
	ids       rewrite.CircleCIProject
	env       map[string]string
	pipelines []circlePipeline
}

// circlePipeline is one simulated pipeline run of a project.
type circlePipeline struct {
	sha    string
	failed bool
}

type circleContext struct {
	id  string
	env map[string]string
}

func (w *World) circle() *circleState {
	w.circleOnce.Do(func() {
		w.circleCI = &circleState{projects: map[string]*circleProject{}, contexts: map[string]*circleContext{}, tokens: map[string]bool{}}
	})
	return w.circleCI
}

// AddCircleCIProject follows repo ("owner/name") on the sandbox's CircleCI
// with the project's IDs.
func (w *World) AddCircleCIProject(repo string, ids rewrite.CircleCIProject) {
	c := w.circle()
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.projects[repo]; ok {
		p.ids = ids
		return
	}
	c.projects[repo] = &circleProject{ids: ids, env: map[string]string{}}
}

// CircleCIProject returns the IDs of repo's CircleCI project, if it has one.
func (w *World) CircleCIProject(repo string) (rewrite.CircleCIProject, bool) {
	c := w.circle()
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.projects[repo]
	if !ok {
		return rewrite.CircleCIProject{}, false
	}
	return p.ids, true
}

// SetCircleCIContextVar sets an environment variable of a CircleCI context,
// creating the context with id when it does not exist.
func (w *World) SetCircleCIContextVar(context, id, name, value string) {
	c := w.circle()
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, ok := c.contexts[context]
	if !ok {
		ctx = &circleContext{id: id, env: map[string]string{}}
		c.contexts[context] = ctx
	}
	ctx.env[name] = value
}

// CircleCIProjectVar returns a project environment variable of repo.
func (w *World) CircleCIProjectVar(repo, name string) (string, bool) {
	c := w.circle()
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.projects[repo]
	if !ok {
		return "", false
	}
	v, ok := p.env[name]
	return v, ok
}

// circleJobEnv is what a CircleCI job of repo running with contexts sees:
// the variable's value (contexts first, in order, then the project) and
// the IDs of the contexts that exist.
func (w *World) circleJobEnv(repo string, contexts []string) (lookup func(string) (string, bool), contextIDs []string) {
	c := w.circle()
	c.mu.Lock()
	defer c.mu.Unlock()
	env := map[string]string{}
	if p, ok := c.projects[repo]; ok {
		for k, v := range p.env {
			env[k] = v
		}
	}
	for i := len(contexts) - 1; i >= 0; i-- {
		ctx, ok := c.contexts[contexts[i]]
		if !ok {
			continue
		}
		contextIDs = append([]string{ctx.id}, contextIDs...)
		for k, v := range ctx.env {
			env[k] = v
		}
	}
	return func(name string) (string, bool) { v, ok := env[name]; return v, ok }, contextIDs
}

// CircleCIToken registers and returns a new personal API token of the
// sandbox's CircleCI, for the Circle-Token header.
func (w *World) CircleCIToken() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	tok := "CCIPAT_sandbox_" + hex.EncodeToString(b)
	c := w.circle()
	c.mu.Lock()
	c.tokens[tok] = true
	c.mu.Unlock()
	return tok
}

// CircleCIStatusContext is the context of the commit status CircleCI posts
// on GitHub for a job.
func CircleCIStatusContext(job string) string { return "ci/circleci: " + job }

// postCircleStatus posts the commit status CircleCI posts on GitHub when a
// job of pipeline number n of repo ends: context "ci/circleci: JOB",
// success or failure, linking to the job.
func (w *World) postCircleStatus(repo, sha, job string, n int, failed bool) error {
	owner, name, _ := strings.Cut(repo, "/")
	st := ghapi.Status{Context: CircleCIStatusContext(job), State: "success", Description: "Your tests passed on CircleCI!",
		TargetURL: fmt.Sprintf("https://app.circleci.com/pipelines/github/%s/%d", repo, n)}
	if failed {
		st.State, st.Description = "failure", "Your tests failed on CircleCI"
	}
	if err := w.API.SetStatus(owner, name, sha, st); err != nil {
		return fmt.Errorf("could not post the CircleCI status of %s on %s: %w", job, repo, err)
	}
	return nil
}

// CircleCIAPIURL is the base URL of the sandbox's CircleCI API, ending in
// "/": the [circleci] api_url of a campaign against the sandbox.
func (w *World) CircleCIAPIURL() string { return w.URL + strings.TrimPrefix(circlePrefix, "/") }

// CircleCISettingsURL is the web page of repo's project environment
// variables on CircleCI.
func CircleCISettingsURL(repo string) string {
	return "https://app.circleci.com/settings/project/github/" + repo + "/environment-variables"
}

// circleRoutes registers the CircleCI API emulator: project lookup and the
// project environment variables (POST /project/{slug}/envvar, GET and
// DELETE /project/{slug}/envvar/{name}), for slugs "gh/org/repo" and
// "github/org/repo", with CircleCI's answers and error messages.
func (w *World) circleRoutes(mux *http.ServeMux) {
	base := circlePrefix + "project/{vcs}/{org}/{repo}"
	mux.HandleFunc("GET "+base, w.serveCircle)
	mux.HandleFunc("POST "+base+"/envvar", w.serveCircle)
	mux.HandleFunc("GET "+base+"/envvar/{name}", w.serveCircle)
	mux.HandleFunc("DELETE "+base+"/envvar/{name}", w.serveCircle)
}

func (w *World) serveCircle(rw http.ResponseWriter, r *http.Request) {
	c := w.circle()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.tokens[r.Header.Get("Circle-Token")] {
		writeJSON(rw, http.StatusUnauthorized, map[string]string{"message": "You must log in first."})
		return
	}
	vcs, repo := r.PathValue("vcs"), r.PathValue("org")+"/"+r.PathValue("repo")
	p, ok := c.projects[repo]
	if !ok || (vcs != "gh" && vcs != "github") {
		writeJSON(rw, http.StatusNotFound, map[string]string{"message": "Project not found"})
		return
	}
	name := r.PathValue("name")
	switch {
	case r.Method == http.MethodGet && name == "":
		org, _, _ := strings.Cut(repo, "/")
		writeJSON(rw, http.StatusOK, map[string]any{
			"slug": "gh/" + repo, "name": r.PathValue("repo"), "id": p.ids.ProjectID,
			"organization_name": org, "organization_slug": "gh/" + org, "organization_id": p.ids.OrgID,
			"vcs_info": map[string]string{"vcs_url": "https://" + p.ids.VCSOrigin, "provider": "GitHub", "default_branch": "main"},
		})
	case r.Method == http.MethodPost:
		var in struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil || in.Name == "" {
			writeJSON(rw, http.StatusBadRequest, map[string]string{"message": "name and value are required"})
			return
		}
		p.env[in.Name] = in.Value
		writeJSON(rw, http.StatusCreated, map[string]string{"name": in.Name, "value": maskCircle(in.Value)})
	case r.Method == http.MethodGet:
		v, ok := p.env[name]
		if !ok {
			writeJSON(rw, http.StatusNotFound, map[string]string{"message": "Environment variable not found."})
			return
		}
		writeJSON(rw, http.StatusOK, map[string]string{"name": name, "value": maskCircle(v)})
	case r.Method == http.MethodDelete:
		delete(p.env, name)
		writeJSON(rw, http.StatusOK, map[string]string{"message": "Environment variable deleted."})
	}
}

// maskCircle is how CircleCI shows a stored value: "xxxx" and its last four
// characters.
func maskCircle(v string) string {
	if len(v) > 4 {
		v = v[len(v)-4:]
	}
	return "xxxx" + v
}

// WriteGitLabCheckouts writes the portfolio's GitLab projects as local git
// checkouts under dir, one folder each, whose origin is the project on
// GitLab.com ("https://gitlab.com/<org>/<name>.git"), for `cutover scan
// DIR...`; registryURL is the registry their pipelines publish to. It
// returns the folders, in the order of Portfolio.GitLab.
func (p Portfolio) WriteGitLabCheckouts(dir, registryURL string) ([]string, error) {
	var out []string
	for _, r := range p.GitLab {
		files, err := p.Files(r, registryURL)
		if err != nil {
			return nil, err
		}
		root := filepath.Join(dir, r.Name)
		for name, b := range files {
			f := filepath.Join(root, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(f, b, 0o644); err != nil {
				return nil, err
			}
		}
		repo, err := git.PlainInit(root, false)
		if err != nil {
			return nil, fmt.Errorf("could not initialise the checkout of %q: %w", r.Name, err)
		}
		if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{"https://gitlab.com/" + r.FullName(p.Org) + ".git"}}); err != nil {
			return nil, err
		}
		out = append(out, root)
	}
	return out, nil
}

// CircleCIProjects returns the IDs of the projects the sandbox's CircleCI
// follows, by "owner/name".
func (w *World) CircleCIProjects() map[string]rewrite.CircleCIProject {
	c := w.circle()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]rewrite.CircleCIProject{}
	for repo, p := range c.projects {
		out[repo] = p.ids
	}
	return out
}
