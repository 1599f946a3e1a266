package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
	"github.com/cutover/cutover/rewrite"
)

// ReleaseOptions tune World.Release. The zero value releases the default
// branch's head under the dist-tag "canary", reading the flag variable
// rewrite.DefaultFlagVar.
type ReleaseOptions struct {
	// FlagVar is the repository variable that turns the OIDC path on; empty means rewrite.DefaultFlagVar.
	FlagVar string `json:"flag_var,omitempty"`
	// Ref is the branch to release; empty means the default branch.
	Ref string `json:"ref,omitempty"`
	// Workflow picks the publishing pipeline by workflow path or file name when several publish; empty means the first.
	Workflow string `json:"workflow,omitempty"`
	// Tag is the dist-tag of the canary; empty means "canary".
	Tag string `json:"tag,omitempty"`
}

// ReleaseResult is what a simulated release did.
type ReleaseResult struct {
	// Repo is "owner/name".
	Repo string `json:"repo"`
	// Ref and SHA are the released branch and commit.
	Ref string `json:"ref"`
	SHA string `json:"sha"`
	// Provider is the CI that ran the job: empty for GitHub Actions,
	// "circleci" for a CircleCI pipeline (then Flag is the CircleCI
	// project or context variable, and no workflow run is recorded).
	Provider string `json:"provider,omitempty"`
	// Workflow and Job are the publishing job that ran.
	Workflow string `json:"workflow,omitempty"`
	Job      string `json:"job,omitempty"`
	// TrustedWorkflow is the workflow file named in the job's ID token (the caller's for reusable workflows).
	TrustedWorkflow string `json:"trusted_workflow,omitempty"`
	// Environment is the job's deployment environment.
	Environment string `json:"environment,omitempty"`
	// FlagVar and Flag are the flag variable and its value ("" when unset).
	FlagVar string `json:"flag_var"`
	Flag    string `json:"flag"`
	// IDToken is true when the job may request an ID token (id-token: write).
	IDToken bool `json:"id_token"`
	// NPMVersionOK is true when the job's npm is at least 11.5.1 when it publishes.
	NPMVersionOK bool `json:"npm_version_ok"`
	// SelfHosted is true when the job runs on a self-hosted runner.
	SelfHosted bool `json:"self_hosted,omitempty"`
	// TokenFrom says where the publish token came from ("secrets.NPM_TOKEN"),
	// "" when the job had none. The value is never reported.
	TokenFrom string `json:"token_from,omitempty"`
	// Skipped says why nothing was published, when nothing was.
	Skipped string `json:"skipped,omitempty"`
	// Packages are the outcomes per publishable package.
	Packages []PackageRelease `json:"packages"`
}

// Runners of a PackageRelease: the real npm CLI ("npm 11.19.1") or the
// model of it in Go.
const RunnerGo = "go"

// Publish paths of a PackageRelease.
const (
	PathOIDC  = "oidc"
	PathToken = "token"
	PathNone  = "none"
)

// PackageRelease is the outcome of publishing one package.
type PackageRelease struct {
	// Package is the package name.
	Package string `json:"package"`
	// Version is the canary version tried.
	Version string `json:"version"`
	// Tag is the dist-tag.
	Tag string `json:"tag"`
	// Path is PathOIDC when the registry recorded a trusted publisher for
	// the version, PathToken when it was published with a stored token
	// (also after a failed OIDC exchange: Exchange says why), PathNone when
	// there was no credential.
	Path string `json:"path"`
	// Runner is what published: "npm <version>", the real npm CLI, or
	// RunnerGo, the Go model of it; RunnerNote says why when it matters.
	Runner     string `json:"runner"`
	RunnerNote string `json:"runner_note,omitempty"`
	// Published is true when the version is on the registry.
	Published bool `json:"published"`
	// Provenance is true when the version carries a provenance attestation.
	Provenance bool `json:"provenance,omitempty"`
	// Exchange is why the OIDC exchange failed, as npm logs it at verbose
	// level ("" when it succeeded or was not tried).
	Exchange string `json:"exchange,omitempty"`
	// Code and Error are npm's error code (E404, ENEEDAUTH, …) and message
	// when the publish failed.
	Code  string `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
}

// Failed reports whether any package failed to publish.
func (r ReleaseResult) Failed() bool {
	for _, p := range r.Packages {
		if !p.Published {
			return true
		}
	}
	return false
}

// setupNodeDummyToken is the NODE_AUTH_TOKEN actions/setup-node up to v6
// exports when given a registry-url and no token.
const setupNodeDummyToken = "XXXXX-XXXXX-XXXXX-XXXXX"

// Release runs the publish path of repo ("owner/name") in a model of a
// GitHub Actions release job, against the World's registry: it reads the
// head's workflows and package.json files, the flag variable and the
// secrets; npm takes the OIDC path when the job may request an ID token,
// its npm is at least 11.5.1 and the package's trusted publisher matches
// the token's repository, workflow file and environment, and otherwise
// falls back, silently as npm does, to the stored token the workflow's
// expressions yield (none when the guarded expression sees the flag on,
// which fails with ENEEDAUTH). Every publishable package gets a canary
// version, the next patch of its latest version with a "-canary.N" suffix.
// A repository that does not publish is a result with Skipped set; errors
// are for unknown repositories and unreadable git data. A pipeline that
// publishes from CircleCI runs in the model of a CircleCI job instead
// (releaseCircleCI); GitLab pipelines do not run (Skipped).
//
// With Options.NPMCLI set and an npm 11.5.1 or newer there, each package is
// published by the real `npm publish`, with the environment a runner gives
// the job (GITHUB_ACTIONS, and ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN from the
// World's issuer when the job may request an ID token and its npm is new
// enough), except when npm would sign provenance, which needs Sigstore; the
// Go model of npm publish publishes those, and every package without the
// CLI. PackageRelease.Runner says which ran; Path is what the registry
// recorded, so a token publish after a failed exchange is never OIDC.
//
// One simplification of the Go model: a job whose npm is older than 11.5.1 but asks for
// provenance still tries the exchange (the registry emulator needs the OIDC
// path to attach provenance), so with a matching trusted publisher it
// publishes through OIDC where npm would use the token; Path reports what
// the registry recorded.
func (w *World) Release(ctx context.Context, repo string, opts ReleaseOptions) (ReleaseResult, error) {
	res := ReleaseResult{Repo: repo, FlagVar: opts.FlagVar, Packages: []PackageRelease{}}
	if res.FlagVar == "" {
		res.FlagVar = rewrite.DefaultFlagVar
	}
	tag := opts.Tag
	if tag == "" {
		tag = "canary"
	}
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" {
		return res, fmt.Errorf("repository %q is not owner/name", repo)
	}
	if !w.Git.Exists(owner, name) {
		return res, fmt.Errorf("repository %q not found", repo)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	files, ref, sha, err := w.headFiles(owner, name, opts.Ref)
	if err != nil {
		return res, err
	}
	res.Ref, res.SHA = ref, sha
	res.Flag, _ = w.API.RepoVariable(owner, name, res.FlagVar)

	det := rewrite.Detect(rewrite.Snapshot{Repo: repo, Files: files}, rewrite.Options{Registry: w.RegistryURL})
	if !det.Publishes || len(det.Pipelines) == 0 {
		res.Skipped = "no workflow publishes to the registry"
		return res, nil
	}
	pl := det.Pipelines[0]
	if opts.Workflow != "" {
		i := slices.IndexFunc(det.Pipelines, func(p rewrite.Pipeline) bool {
			return p.Workflow == opts.Workflow || path.Base(p.Workflow) == opts.Workflow
		})
		if i < 0 {
			return res, fmt.Errorf("no publishing job in workflow %q of %q", opts.Workflow, repo)
		}
		pl = det.Pipelines[i]
	}
	res.Workflow, res.Job, res.Environment = pl.Workflow, pl.Job, pl.Environment
	res.IDToken, res.SelfHosted = pl.IDToken, pl.SelfHosted
	if len(pl.TrustedWorkflow) > 0 {
		res.TrustedWorkflow = pl.TrustedWorkflow[0]
	}
	switch pl.Provider {
	case rewrite.ProviderCircleCI:
		res.Flag = ""
		return w.releaseCircleCI(ctx, res, files, det, pl, tag)
	case rewrite.ProviderGitLab:
		res.Flag = ""
		res.Skipped = "GitLab pipelines do not run in the sandbox"
		return res, nil
	}

	m, err := w.newJobModel(owner, name, ref, sha, files, pl)
	if err != nil {
		res.Skipped = err.Error()
		return res, nil
	}
	res.NPMVersionOK = m.npmOK()
	token, from := m.token()
	res.TokenFrom = from

	pkgs := publishablePackages(det)
	if len(pkgs) == 0 {
		res.Skipped = "no publishable package"
		return res, nil
	}

	claims := npmreg.GitHubClaims(repo, ".github/workflows/"+res.TrustedWorkflow, ref, pl.Environment)
	claims.SHA = sha
	if pl.Workflow != ".github/workflows/"+res.TrustedWorkflow {
		claims.JobWorkflowRef = repo + "/" + pl.Workflow + "@" + ref
	}
	w.mu.Lock()
	if w.private[repo] {
		claims.RepositoryVisibility = "private"
	}
	w.mu.Unlock()
	if pl.SelfHosted {
		claims.RunnerEnvironment = "self-hosted"
	}
	claims.EventName = eventName(pl.Triggers)

	w.relMu.Lock()
	defer w.relMu.Unlock()
	for _, pkg := range pkgs {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		pr := PackageRelease{Package: pkg, Tag: tag, Version: w.canaryVersion(pkg, files, det), Path: PathNone}
		via := npmreg.PublishPath{Token: token, Provenance: m.provenance}
		if pl.IDToken {
			idTok, err := w.NPM.MintIDToken(claims)
			if err != nil {
				return res, fmt.Errorf("could not mint an ID token for %q: %w", repo, err)
			}
			via.IDToken = idTok
			// npm tries the exchange from 11.5.1 on; provenance needs the
			// ID token whatever the npm version.
			via.OIDC = res.NPMVersionOK || via.Provenance
			if res.NPMVersionOK {
				if _, err := w.NPM.ExchangeOIDC(pkg, idTok); err != nil {
					pr.Exchange = "Failed token exchange request with body message: " + npmMessage(err)
				} else {
					pr.Path = PathOIDC
				}
			} else {
				pr.Exchange = "Skipped because the npm CLI is older than 11.5.1"
			}
		} else {
			pr.Exchange = "Skipped because incorrect permissions for id-token within GitHub workflow"
		}
		if pr.Path == PathNone && token != "" {
			pr.Path = PathToken
		}
		// npm makes provenance when asked to, and by itself after an
		// exchange from a public repository for a public package. Signing
		// it needs Sigstore, out of a loopback sandbox's reach: those
		// releases are evaluated in Go, the others run the real npm CLI.
		private, _ := w.NPM.Private(pkg)
		publicRepo := claims.RepositoryVisibility == "" || claims.RepositoryVisibility == "public"
		provenance := m.provenance || pr.Path == PathOIDC && publicRepo && !private
		switch {
		case w.npmPath == "":
			pr.Runner = RunnerGo
			w.publishInGo(&pr, tag, via)
		case provenance:
			pr.Runner = RunnerGo
			pr.RunnerNote = "npm would sign provenance through Sigstore, which the sandbox cannot reach"
			w.publishInGo(&pr, tag, via)
		default:
			if pl.IDToken && !res.NPMVersionOK {
				pr.RunnerNote = "run as the job's npm older than 11.5.1: no ID-token request"
			}
			job := npmJob{
				repo: repo, workflow: pl.Workflow, ref: ref, sha: sha, token: token,
				idRequest: pl.IDToken && res.NPMVersionOK, claims: claims, selfHosted: pl.SelfHosted,
			}
			if err := w.publishWithNPM(ctx, &pr, tag, job); err != nil {
				return res, err
			}
		}
		res.Packages = append(res.Packages, pr)
	}
	// The release is a workflow run on the forge, as on GitHub: cutover
	// status reads it after the flag went on.
	conclusion := "success"
	if res.Failed() {
		conclusion = "failure"
	}
	if err := w.API.RecordRun(owner, name, ghapi.WorkflowRun{Workflow: pl.Workflow, Event: claims.EventName, Branch: ref, HeadSHA: sha, Conclusion: conclusion}); err != nil {
		return res, err
	}
	return res, nil
}

// publishWithNPM publishes pr's canary under tag by running the real npm
// CLI as job does, and records in pr what it did. When the job can get an
// ID token (GitHub's request variables or CircleCI's NPM_ID_TOKEN), pr keeps
// the exchange npm logged unless it succeeded.
func (w *World) publishWithNPM(ctx context.Context, pr *PackageRelease, tag string, job npmJob) error {
	pr.Runner = "npm " + w.npmVersion
	out, err := w.npmPublish(ctx, pr.Package, pr.Version, tag, job)
	if err != nil {
		return err
	}
	if job.idRequest || job.idToken != "" {
		pr.Exchange = out.exchange
		if strings.HasPrefix(out.exchange, "Successfully") {
			pr.Exchange = ""
		}
	}
	if !out.ok {
		pr.Code, pr.Error = out.code, out.message
		return nil
	}
	pr.Published = true
	pr.Path = PathToken
	if viaOIDC, prov := w.publishedHow(pr.Package, pr.Version); viaOIDC {
		pr.Path, pr.Provenance = PathOIDC, prov
	}
	return nil
}

// publishInGo publishes pr's canary through the Go model of npm publish.
func (w *World) publishInGo(pr *PackageRelease, tag string, via npmreg.PublishPath) {
	if err := w.NPM.PublishCanary(pr.Package, pr.Version, tag, via); err != nil {
		var ne *npmreg.Error
		if errors.As(err, &ne) {
			pr.Code, pr.Error = ne.Code, ne.Error()
		} else {
			pr.Code, pr.Error = "EUNKNOWN", err.Error()
		}
		return
	}
	pr.Published = true
	var viaOIDC bool
	viaOIDC, pr.Provenance = w.publishedHow(pr.Package, pr.Version)
	if viaOIDC {
		pr.Path = PathOIDC
	} else if pr.Path == PathOIDC {
		pr.Path = PathToken
	}
}

func npmMessage(err error) string {
	var ne *npmreg.Error
	if errors.As(err, &ne) {
		return ne.Message
	}
	return err.Error()
}

func eventName(triggers []string) string {
	for _, t := range []string{"release", "push", "workflow_dispatch"} {
		if slices.Contains(triggers, t) {
			return t
		}
	}
	return "push"
}

// publishedHow reports whether pkg@version was published through trusted
// publishing and whether it carries a provenance attestation.
func (w *World) publishedHow(pkg, version string) (oidc, provenance bool) {
	doc, err := w.NPM.Packument(pkg, w.RegistryURL)
	if err != nil {
		return false, false
	}
	var p struct {
		Versions map[string]struct {
			NpmUser struct {
				TrustedPublisher json.RawMessage `json:"trustedPublisher"`
			} `json:"_npmUser"`
			Dist struct {
				Attestations *struct {
					Provenance struct {
						PredicateType string `json:"predicateType"`
					} `json:"provenance"`
				} `json:"attestations"`
			} `json:"dist"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(doc, &p); err != nil {
		return false, false
	}
	v := p.Versions[version]
	a := v.Dist.Attestations
	return len(v.NpmUser.TrustedPublisher) > 0 && string(v.NpmUser.TrustedPublisher) != "null",
		a != nil && a.Provenance.PredicateType == npmreg.SLSAProvenanceV1
}

// publishablePackages returns the names of the packages detection found
// publishable, in order: the ones a release publishes.
func publishablePackages(det *rewrite.Result) []string {
	var pkgs []string
	for _, p := range det.Packages {
		if p.Publishable && p.Name != "" {
			pkgs = append(pkgs, p.Name)
		}
	}
	return pkgs
}

// canaryVersion is the next patch of the package's latest version (or its
// package.json version) with the first free "-canary.N" suffix.
func (w *World) canaryVersion(pkg string, files map[string][]byte, det *rewrite.Result) string {
	base := w.NPM.DistTags(pkg)["latest"]
	if base == "" {
		for _, p := range det.Packages {
			if p.Name == pkg {
				base = p.Version
			}
		}
	}
	maj, min, pat := parseSemver(base)
	next := fmt.Sprintf("%d.%d.%d-canary.", maj, min, pat+1)
	n := 0
	for _, v := range w.NPM.Versions(pkg) {
		if rest, ok := strings.CutPrefix(v, next); ok {
			if k, err := strconv.Atoi(rest); err == nil && k >= n {
				n = k + 1
			}
		}
	}
	return next + strconv.Itoa(n)
}

// parseSemver reads major.minor.patch, ignoring a prerelease; anything
// unreadable is 0.
func parseSemver(v string) (int, int, int) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	v, _, _ = strings.Cut(v, "-")
	v, _, _ = strings.Cut(v, "+")
	parts := strings.SplitN(v, ".", 3)
	var out [3]int
	for i, p := range parts {
		out[i], _ = strconv.Atoi(p)
	}
	return out[0], out[1], out[2]
}

// headFiles reads the files detection needs at the head of ref (the
// default branch when empty) of owner/name.
func (w *World) headFiles(owner, name, ref string) (map[string][]byte, string, string, error) {
	files := map[string][]byte{}
	var refName, sha string
	err := w.Git.With(owner, name, func(r *git.Repository) error {
		var rn plumbing.ReferenceName
		if ref == "" {
			head, err := r.Reference(plumbing.HEAD, false)
			if err != nil {
				return err
			}
			rn = head.Target()
		} else {
			rn = plumbing.NewBranchReferenceName(strings.TrimPrefix(ref, "refs/heads/"))
		}
		h, err := r.Reference(rn, true)
		if err != nil {
			return fmt.Errorf("branch %q: %w", rn.Short(), err)
		}
		c, err := r.CommitObject(h.Hash())
		if err != nil {
			return err
		}
		tree, err := c.Tree()
		if err != nil {
			return err
		}
		refName, sha = rn.String(), c.Hash.String()
		return tree.Files().ForEach(func(f *object.File) error {
			if !rewrite.Relevant(f.Name) || f.Size > rewrite.MaxFileBytes || !f.Mode.IsFile() {
				return nil
			}
			rd, err := f.Reader()
			if err != nil {
				return err
			}
			defer rd.Close()
			b, err := io.ReadAll(rd)
			if err != nil {
				return err
			}
			files[f.Name] = b
			return nil
		})
	})
	if err != nil {
		return nil, "", "", fmt.Errorf("could not read %q at %q: %w", owner+"/"+name, ref, err)
	}
	return files, refName, sha, nil
}

// jobModel is the publishing job as the runner would see it.
type jobModel struct {
	w           *World
	owner, repo string
	ref, sha    string
	pl          rewrite.Pipeline
	wfs         map[string]*rewrite.Workflow
	wf          *rewrite.Workflow
	job         *rewrite.Job
	publishStep int
	caller      *rewrite.Job // the calling job of a reusable workflow
	provenance  bool
}

func (w *World) newJobModel(owner, name, ref, sha string, files map[string][]byte, pl rewrite.Pipeline) (*jobModel, error) {
	m := &jobModel{w: w, owner: owner, repo: name, ref: ref, sha: sha, pl: pl, wfs: map[string]*rewrite.Workflow{}, publishStep: -1}
	parse := func(p string) (*rewrite.Workflow, error) {
		if wf, ok := m.wfs[p]; ok {
			return wf, nil
		}
		wf, err := rewrite.ParseWorkflow(p, files[p])
		if err != nil {
			return nil, err
		}
		m.wfs[p] = wf
		return wf, nil
	}
	var err error
	if m.wf, err = parse(pl.Workflow); err != nil {
		return nil, fmt.Errorf("the publishing workflow does not parse: %w", err)
	}
	m.job = findJob(m.wf, pl.Job)
	if m.job == nil {
		return nil, fmt.Errorf("job %q not found in %q", pl.Job, pl.Workflow)
	}
	m.provenance = pl.Provenance
	for _, s := range pl.Steps {
		if s.Step >= 0 && (m.publishStep < 0 || s.Step < m.publishStep) {
			m.publishStep = s.Step
		}
		m.provenance = m.provenance || s.Provenance
	}
	if len(pl.Callers) > 0 {
		p, jobID, _ := strings.Cut(pl.Callers[0], "#")
		if cwf, err := parse(p); err == nil {
			m.caller = findJob(cwf, jobID)
		}
	}
	return m, nil
}

func findJob(wf *rewrite.Workflow, id string) *rewrite.Job {
	for _, j := range wf.Jobs {
		if j.ID == id {
			return j
		}
	}
	return nil
}

// env resolves contexts for expressions of the publishing job; inCaller
// resolves them for the calling job of a reusable workflow.
func (m *jobModel) env(inCaller bool) exprEnv {
	var self exprEnv = func(p []string) any {
		if len(p) < 2 {
			return nil
		}
		switch p[0] {
		case "vars":
			if v, ok := m.w.API.RepoVariable(m.owner, m.repo, p[1]); ok {
				return v
			}
			return nil
		case "secrets":
			if !inCaller && m.caller != nil {
				return m.passedSecret(p[1])
			}
			if v, ok := m.secret(p[1]); ok {
				return v
			}
			return nil
		case "inputs":
			if !inCaller && m.caller != nil {
				for _, f := range m.caller.With {
					if f.Key == p[1] {
						v, err := interpolate(f.Value, m.env(true))
						if err != nil {
							return nil
						}
						return v
					}
				}
			}
			return nil
		case "github":
			switch p[1] {
			case "ref":
				return m.ref
			case "sha":
				return m.sha
			case "repository":
				return m.owner + "/" + m.repo
			case "repository_owner":
				return m.owner
			case "event_name":
				return eventName(m.pl.Triggers)
			case "token":
				return "ghs_sandboxRunnerToken"
			}
		case "needs":
			// Gated jobs (release-please) run: the release was created.
			if len(p) >= 4 && p[2] == "outputs" {
				return "true"
			}
		}
		return nil
	}
	return self
}

// passedSecret is secrets.name inside a reusable workflow: inherited, or
// mapped by the caller's secrets: block.
func (m *jobModel) passedSecret(name string) any {
	if m.caller.SecretsInherit {
		if v, ok := m.secret(name); ok {
			return v
		}
		return nil
	}
	for _, f := range m.caller.Secrets {
		if strings.EqualFold(f.Key, name) {
			v, err := interpolate(f.Value, m.env(true))
			if err != nil {
				return nil
			}
			return v
		}
	}
	return nil
}

// secret looks a secret up the way the runner does: the job's environment,
// then the repository, then the organisation.
func (m *jobModel) secret(name string) (string, bool) {
	if strings.EqualFold(name, "GITHUB_TOKEN") {
		return "ghs_sandboxRunnerToken", true
	}
	full := m.owner + "/" + m.repo
	if m.pl.Environment != "" {
		if v, ok := m.w.secret("env", full, m.pl.Environment, name); ok {
			return v, true
		}
	}
	if v, ok := m.w.secret("repo", full, "", name); ok {
		return v, true
	}
	return m.w.secret("org", m.owner, "", name)
}

// lookupEnv finds an env var in the chain step → job → workflow of step
// index idx, and evaluates it; ok is false when no level sets it.
func (m *jobModel) lookupEnv(wf *rewrite.Workflow, job *rewrite.Job, idx int, name string) (string, bool) {
	var levels [][]rewrite.Field
	if idx >= 0 && idx < len(job.Steps) {
		levels = append(levels, job.Steps[idx].Env)
	}
	levels = append(levels, job.Env, wf.Env)
	for _, fs := range levels {
		for _, f := range fs {
			if f.Key == name {
				v, err := interpolate(f.Value, m.env(false))
				return v, err == nil
			}
		}
	}
	return "", false
}

// token returns the credential the publish step ends up with and where it
// came from (never its value).
func (m *jobModel) token() (string, string) {
	authSet := false
	for _, f := range m.pl.Feeds {
		if f.File != m.pl.Workflow && f.Kind != "npmrc-file" && f.Kind != "yarnrc-file" {
			continue // the caller's secret-pass; the callee's own feeds resolve it
		}
		var v string
		var ok bool
		switch f.Kind {
		case "action-input":
			if f.Step >= 0 && f.Step < len(m.job.Steps) {
				for _, in := range m.job.Steps[f.Step].With {
					if in.Key == f.Name {
						var err error
						v, err = interpolate(in.Value, m.env(false))
						ok = err == nil
					}
				}
			}
		case "env", "npmrc-write":
			idx := m.publishStep
			if f.Level == "step" {
				idx = f.Step
			}
			v, ok = m.lookupEnv(m.wf, m.job, idx, f.Name)
		default: // npmrc-file, yarnrc-file: the env var the file reads
			if f.Name == "" {
				continue
			}
			v, ok = m.lookupEnv(m.wf, m.job, m.publishStep, f.Name)
		}
		if f.Name == "NODE_AUTH_TOKEN" && ok {
			authSet = true
		}
		if ok && v != "" {
			from := "secrets." + f.Secret
			if f.Secret == "" {
				from = f.Name
			}
			return v, from
		}
	}
	if !authSet && m.setupNodeDummy() {
		return setupNodeDummyToken, "actions/setup-node's placeholder NODE_AUTH_TOKEN"
	}
	return "", ""
}

// setupNodeDummy reports whether the job's actions/setup-node (v6 or older)
// exports its placeholder token: it does when given a registry-url.
func (m *jobModel) setupNodeDummy() bool {
	for i, s := range m.job.Steps {
		if m.publishStep >= 0 && i >= m.publishStep {
			break
		}
		name, ver, _ := strings.Cut(s.Uses, "@")
		if name != "actions/setup-node" {
			continue
		}
		major, _, _ := parseSemver(ver)
		if major >= 7 {
			return false
		}
		for _, f := range s.With {
			if f.Key == "registry-url" && strings.TrimSpace(f.Value) != "" {
				return true
			}
		}
	}
	return false
}

var npmUpgradeRe = regexp.MustCompile(`\bnpm\s+(?:install|i|add|update)\s+(?:.*\s)?(?:-g|--global)\s+(?:.*\s)?npm@(\S+)|\bnpm\s+(?:install|i|add)\s+npm@(\S+)\s+(?:-g|--global)\b`)

// npmOK reports whether npm is at least 11.5.1 when the publish runs: an
// npm upgrade step that runs (its if: holds) decides; else the Node
// version's bundled npm, or what Detect says for tools that bring their
// own npm.
func (m *jobModel) npmOK() bool {
	// Yarn Berry (4.10+) and semantic-release (its bundled npm) exchange the
	// OIDC token themselves: the npm on PATH does not matter.
	ownOIDC := len(m.pl.Steps) > 0
	for _, s := range m.pl.Steps {
		if s.Tool != "yarn-berry" && s.Tool != "semantic-release" {
			ownOIDC = false
		}
	}
	if ownOIDC {
		return true
	}
	spec := ""
	for i, s := range m.job.Steps {
		if m.publishStep >= 0 && i >= m.publishStep {
			break
		}
		mm := npmUpgradeRe.FindStringSubmatch(s.Run)
		if mm == nil {
			continue
		}
		if run, err := evalCondition(s.If, m.env(false)); err != nil || !run {
			continue
		}
		spec = strings.Trim(mm[1]+mm[2], `'"`)
	}
	if spec != "" {
		return npmSpecOK(spec)
	}
	if m.pl.NPMUpgrade == "" && m.pl.NPMReady == "yes" {
		return true
	}
	node := ""
	for _, s := range m.job.Steps {
		if name, _, _ := strings.Cut(s.Uses, "@"); name == "actions/setup-node" {
			for _, f := range s.With {
				if f.Key == "node-version" {
					node, _ = interpolate(f.Value, m.env(false))
				}
			}
			break
		}
	}
	switch n := strings.ToLower(strings.Trim(strings.TrimSpace(node), `'"`)); {
	case n == "latest" || n == "current" || n == "node" || strings.HasPrefix(n, "lts/"):
		return true
	case n == "":
		return false
	default:
		major, _, _ := parseSemver(strings.TrimSuffix(strings.TrimPrefix(n, "^"), ".x"))
		return major >= 24
	}
}

// npmSpecOK reports whether installing npm@spec gives 11.5.1 or newer.
func npmSpecOK(spec string) bool {
	switch spec {
	case "latest", "next", "*", "":
		return true
	}
	exact := !strings.ContainsAny(spec[:1], "^~><=")
	s := strings.TrimLeft(spec, "^~><= ")
	maj, min, pat := parseSemver(s)
	parts := strings.Count(strings.Split(s, "-")[0], ".")
	switch {
	case strings.HasPrefix(spec, "^") || exact && parts == 0 || strings.HasPrefix(spec, ">"):
		return maj >= 11 // the newest of the major (or later)
	case strings.HasPrefix(spec, "~") || exact && parts == 1:
		return maj > 11 || maj == 11 && min >= 5
	}
	return maj > 11 || maj == 11 && (min > 5 || min == 5 && pat >= 1)
}
