package sandbox

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/cutover/cutover/internal/sandbox/npmreg"
	"github.com/cutover/cutover/rewrite"
)

var (
	// circleAudRe reads the audience the job asks `circleci run oidc get`
	// for: --claims '{"aud":"npm:host"}', quotes escaped or not.
	circleAudRe = regexp.MustCompile(`oidc\s+get\b[^\n]*?\\?"aud\\?"\s*:\s*\\?"([^"\\]+)`)
	// circleNPMRe reads an npm upgrade of the job: npm install -g npm@SPEC.
	circleNPMRe = regexp.MustCompile(`\bnpm\s+(?:install|i)\s+(?:-g|--global)\s+npm@(\S+)`)
)

// circleGuardRe matches the flag guard of cutover's CircleCI playbook: a
// shell test that the flag variable is "true".
func circleGuardRe(flag string) *regexp.Regexp {
	return regexp.MustCompile(`\[\s*"\$\{?` + regexp.QuoteMeta(flag) + `(?::-)?\}?"\s*=\s*"?true"?\s*\]`)
}

// releaseCircleCI runs the publish job of a CircleCI pipeline in a model of
// a CircleCI cloud job: the flag and token variables come from the
// project's environment variables and the job's contexts (World's
// CircleCI); the ID-token step (`circleci run oidc get`) runs when the job
// has one and, behind cutover's flag guard, only while the flag is
// "true", and then the guard's npm upgrade and unset of the token apply;
// the ID token carries the project's organization, project and pipeline
// definition IDs, its VCS origin and the contexts' IDs, with the audience
// the step asks for. npm exchanges it when it is 11.11.0 or newer; a
// failed exchange falls back, silently as npm does, to the token. CircleCI
// publishes carry no provenance. The run is recorded as the project's
// pipeline, not as a GitHub workflow run.
func (w *World) releaseCircleCI(ctx context.Context, res ReleaseResult, files map[string][]byte, det *rewrite.Result, pl rewrite.Pipeline, tag string) (ReleaseResult, error) {
	res.Provider = rewrite.ProviderCircleCI
	ids, ok := w.CircleCIProject(res.Repo)
	if !ok {
		res.Skipped = "the repository is not followed on the sandbox's CircleCI"
		return res, nil
	}
	env, contextIDs := w.circleJobEnv(res.Repo, pl.Contexts)
	res.Flag, _ = env(res.FlagVar)
	cfg := string(files[pl.Workflow])
	guarded := circleGuardRe(res.FlagVar).MatchString(cfg)
	oidcStep := pl.IDToken && (!guarded || res.Flag == "true")
	res.IDToken = oidcStep
	if m := circleNPMRe.FindStringSubmatch(cfg); m != nil && oidcStep {
		res.NPMVersionOK = circleNPMSpecOK(strings.Trim(m[1], `'"`))
	}

	token := ""
	for _, f := range pl.Feeds {
		if v, ok := env(f.Name); ok && v != "" {
			token, res.TokenFrom = v, "CircleCI "+f.Name
			if len(pl.Contexts) > 0 {
				res.TokenFrom = "CircleCI context " + strings.Join(pl.Contexts, ", ") + " " + f.Name
			}
			if oidcStep && guarded && regexp.MustCompile(`\bunset\b[^\n]*\b`+regexp.QuoteMeta(f.Name)+`\b`).MatchString(cfg) {
				token, res.TokenFrom = "", ""
			}
			break
		}
	}

	pkgs := publishablePackages(det)
	if len(pkgs) == 0 {
		res.Skipped = "no publishable package"
		return res, nil
	}
	claims := npmreg.CircleCIClaims(ids.OrgID, ids.ProjectID, ids.PipelineDefinitionID, ids.VCSOrigin, contextIDs)
	claims.SHA = res.SHA
	if m := circleAudRe.FindStringSubmatch(cfg); m != nil {
		claims.Audience = m[1]
	}

	w.relMu.Lock()
	defer w.relMu.Unlock()
	for _, pkg := range pkgs {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		pr := PackageRelease{Package: pkg, Tag: tag, Version: w.canaryVersion(pkg, files, det), Path: PathNone}
		via := npmreg.PublishPath{Token: token, Provenance: pl.Provenance}
		idTok := ""
		switch {
		case !oidcStep:
			pr.Exchange = "Skipped because no NPM_ID_TOKEN is set (the job runs no `circleci run oidc get`)"
		case !res.NPMVersionOK:
			pr.Exchange = "Skipped because the job's npm is older than 11.11.0, the first to support CircleCI"
		default:
			var err error
			if idTok, err = w.NPM.MintIDToken(claims); err != nil {
				return res, fmt.Errorf("could not mint a CircleCI ID token for %q: %w", res.Repo, err)
			}
			via.IDToken, via.OIDC = idTok, true
			if _, err := w.NPM.ExchangeOIDC(pkg, idTok); err != nil {
				pr.Exchange = "Failed token exchange request with body message: " + npmMessage(err)
			} else {
				pr.Path = PathOIDC
			}
		}
		if pr.Path == PathNone && token != "" {
			pr.Path = PathToken
		}
		if maj, min, _ := parseSemver(w.npmVersion); w.npmPath == "" || via.Provenance || maj < 11 || maj == 11 && min < 11 {
			// The Go model: no npm CLI, or one older than CircleCI's floor.
			pr.Runner = RunnerGo
			w.publishInGo(&pr, tag, via)
		} else {
			job := npmJob{repo: res.Repo, workflow: pl.Workflow, ref: res.Ref, sha: res.SHA, token: token, circleCI: true, idToken: idTok}
			if err := w.publishWithNPM(ctx, &pr, tag, job); err != nil {
				return res, err
			}
		}
		res.Packages = append(res.Packages, pr)
	}
	return res, w.recordCirclePipeline(res, pl.Job)
}

// circleNPMSpecOK reports whether installing npm@spec gives 11.11.0 or
// newer, CircleCI's floor.
func circleNPMSpecOK(spec string) bool {
	switch spec {
	case "latest", "next", "*", "":
		return true
	}
	s := strings.TrimLeft(spec, "^~><= ")
	maj, min, _ := parseSemver(s)
	if strings.HasPrefix(spec, "^") || strings.HasPrefix(spec, ">") || !strings.Contains(s, ".") {
		return maj >= 11 // the newest of the major, or later
	}
	return maj > 11 || maj == 11 && min >= 11
}

// recordCirclePipeline keeps the outcome of a CircleCI release as the
// project's last pipeline, and reports the publish job on the released
// commit as CircleCI does: a commit status "ci/circleci: JOB".
func (w *World) recordCirclePipeline(res ReleaseResult, job string) error {
	c := w.circle()
	c.mu.Lock()
	n := 0
	if p, ok := c.projects[res.Repo]; ok {
		p.pipelines = append(p.pipelines, circlePipeline{sha: res.SHA, failed: res.Failed()})
		n = len(p.pipelines)
	}
	c.mu.Unlock()
	return w.postCircleStatus(res.Repo, res.SHA, job, n, res.Failed())
}

// CircleCIPipelines returns how many pipelines of repo's CircleCI project
// ran and how many of them failed.
func (w *World) CircleCIPipelines(repo string) (ran, failed int) {
	c := w.circle()
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.projects[repo]
	if !ok {
		return 0, 0
	}
	for _, pl := range p.pipelines {
		if pl.failed {
			failed++
		}
	}
	return len(p.pipelines), failed
}
