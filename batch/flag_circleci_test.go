package batch_test

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/batch/sweep"
	"github.com/cutover/cutover/internal/circleci"
	gh "github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/githttp"
	"github.com/cutover/cutover/rewrite"
)

// TestCircleCICampaign runs repositories that publish from CircleCI through
// the campaign against the sandbox: trust with the [[circleci.project]]
// IDs; apply (the CircleCI playbook, a PR naming CircleCI); flag on without
// a CircleCI API token (the exact setting, nothing recorded), with
// --confirm after a person set it, and through CircleCI's API (a wrong
// token fails without showing it); a release through CircleCI's OIDC;
// verify; flag off through the API.
func TestCircleCICampaign(t *testing.T) {
	ctx := t.Context()
	w, err := sandbox.Start(ctx, sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	npmMust(t, err)
	t.Cleanup(func() { w.Close() })
	p := sandbox.Generate(9, 3, sandbox.PortfolioOptions{Weights: map[sandbox.Kind]int{sandbox.KindCircleCI: 1}, CIFailureRate: -1})
	seeded, err := w.Seed(ctx, p)
	npmMust(t, err)
	fg, err := gh.New(ctx, gh.Options{APIURL: w.URL, Token: seeded.GitHubToken, Limits: gh.Limits{Disabled: true}})
	npmMust(t, err)
	led, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "cutover.db"), ledger.Options{})
	npmMust(t, err)
	t.Cleanup(func() { led.Close() })
	e := &batch.Engine{Forge: fg, Ledger: led, Opts: batch.Options{
		Org: p.Org, Registry: w.RegistryURL, Concurrency: 4, Plan: batch.PlanOptions{Sizes: []int{3}},
		CircleCI: p.CircleCIProjects(),
	}}
	reg := &npm.Client{BaseURL: w.RegistryURL, Token: npm.Secret(seeded.NPMToken), OTP: npm.StaticOTP(seeded.NPMOTP)}
	e.Registry = reg
	n := &batch.NPM{Engine: e, Registry: reg, By: seeded.NPMUser}

	inv, err := e.Inventory(ctx)
	if err != nil || inv.Failed() {
		t.Fatalf("inventory: %v %+v", err, inv.Outcomes)
	}
	plan, err := e.PlanCampaign(ctx)
	npmMust(t, err)
	var repos []string
	for _, r := range p.Repos {
		repos = append(repos, r.FullName(p.Org))
	}
	target := batch.RepoTarget{Repos: repos}
	tr, err := n.Trust(ctx, batch.TrustOptions{Target: target, Execute: true})
	npmMust(t, err)
	if tr.Summary().Count(batch.OK) != 3 {
		t.Fatalf("trust: %+v", tr.Packages)
	}
	for _, r := range p.Repos {
		c, ok := w.NPM.Trust(r.Publishable()[0])
		if !ok || c.Type != "circleci" || c.ProjectID != r.CircleCI.ProjectID || c.PipelineDefinitionID != r.CircleCI.PipelineDefinitionID || c.OrgID != p.CircleCIOrgID || c.VCSOrigin != "github.com/"+r.FullName(p.Org) {
			t.Errorf("trusted publisher of %s: %+v %v, want the CircleCI project %+v", r.Name, c, ok, r.CircleCI)
		}
	}
	for _, wave := range plan.Waves {
		ap, err := e.Apply(ctx, batch.ApplyOptions{Wave: wave.Number, Execute: true, Force: "test"})
		npmMust(t, err)
		if ap.Count(batch.OK) != len(wave.Repos) {
			t.Fatalf("apply wave %d: %+v", wave.Number, ap.Outcomes)
		}
	}
	_, _, err = e.Status(ctx)
	npmMust(t, err)
	mg, err := e.Merge(ctx, batch.MergeOptions{Target: target, Execute: true})
	npmMust(t, err)
	if mg.Count(batch.OK) != 3 {
		t.Fatalf("merge: %+v", mg.Outcomes)
	}
	first := repos[0]
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.URL+"repos/"+first+"/pulls/1", nil)
	npmMust(t, err)
	req.Header.Set("Authorization", "Bearer "+seeded.GitHubToken)
	resp, err := http.DefaultClient.Do(req)
	npmMust(t, err)
	var pr struct {
		Body string `json:"body"`
	}
	npmMust(t, json.NewDecoder(resp.Body).Decode(&pr))
	resp.Body.Close()
	for _, want := range []string{"project `gh/" + first + "`", "Project Settings → Environment Variables", "circleci run oidc get", "--confirm", "| CircleCI | organization `" + p.CircleCIOrgID + "`"} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("the pull request of %s does not say %q:\n%s", first, want, pr.Body)
		}
	}

	// No CircleCI API token: the exact setting, nothing recorded.
	sum, err := e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Repos: []string{first}}})
	npmMust(t, err)
	o := sum.Outcomes[0]
	if o.Kind != batch.Manual || !strings.Contains(o.Detail, "gh/"+first) || !strings.Contains(o.Detail, rewrite.DefaultFlagVar+"=true") ||
		!strings.Contains(o.Detail, circleci.SettingsURL(first)) || !strings.Contains(o.Hint, "--confirm") {
		t.Errorf("flag on without a CircleCI token: %+v", o)
	}
	if f, err := led.Flag(ctx, first, rewrite.DefaultFlagVar); err == nil && f.Value == "true" {
		t.Error("the flag is recorded as on although nobody set it")
	}
	if _, ok := w.CircleCIProjectVar(first, rewrite.DefaultFlagVar); ok {
		t.Error("the CircleCI variable was set without a token")
	}
	// A person sets it in CircleCI, then --confirm records it.
	person := &circleci.Client{BaseURL: w.CircleCIAPIURL(), Token: circleci.Token(w.CircleCIToken())}
	npmMust(t, person.SetProjectVar(ctx, circleci.ProjectSlug(first), rewrite.DefaultFlagVar, "true"))
	sum, err = e.Flag(ctx, batch.FlagOptions{On: true, Confirm: true, Target: batch.FlagTarget{Repos: []string{first}}})
	npmMust(t, err)
	if o := sum.Outcomes[0]; o.Kind != batch.OK || !strings.Contains(o.Detail, "set by hand (confirmed)") {
		t.Errorf("flag on --confirm: %+v", o)
	}

	// With a CircleCI API token: a wrong one fails naming the fix, not the value.
	e.CircleCI = &circleci.Client{BaseURL: w.CircleCIAPIURL(), Token: "CCIPAT_wrong_value"}
	sum, err = e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Repos: repos[1:]}})
	npmMust(t, err)
	for _, o := range sum.Outcomes {
		if o.Kind != batch.Failed || !strings.Contains(o.Detail, "401") || strings.Contains(o.Detail+o.Hint, "CCIPAT_wrong_value") || !strings.Contains(o.Hint, "token_env") {
			t.Errorf("flag on with a wrong CircleCI token: %+v", o)
		}
	}
	e.CircleCI = &circleci.Client{BaseURL: w.CircleCIAPIURL(), Token: circleci.Token(seeded.CircleCIToken)}
	sum, err = e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Repos: repos[1:]}})
	npmMust(t, err)
	for _, o := range sum.Outcomes {
		if o.Kind != batch.OK || !strings.Contains(o.Detail, "set through CircleCI's API") {
			t.Errorf("flag on through CircleCI's API: %+v", o)
		}
		if v, _ := w.CircleCIProjectVar(o.Repo, rewrite.DefaultFlagVar); v != "true" {
			t.Errorf("%s: CircleCI variable %q after flag on", o.Repo, v)
		}
	}

	// Releases through CircleCI's OIDC, verified.
	for _, repo := range repos {
		res, err := w.Release(ctx, repo, sandbox.ReleaseOptions{})
		npmMust(t, err)
		if len(res.Packages) != 1 || res.Packages[0].Path != sandbox.PathOIDC || res.Packages[0].Provenance {
			t.Fatalf("release of %s: %+v", repo, res)
		}
	}
	ver, err := n.Verify(ctx, batch.VerifyOptions{Target: target})
	npmMust(t, err)
	if ver.Summary.Count(batch.OK) != 3 {
		t.Errorf("verify: %s", npmJSON(ver))
	}

	// Sweep: the guarded CircleCI token path is the rollback, not drift;
	// a config that hands the token to npm again while the flag is on is.
	drift := func() []string {
		t.Helper()
		res, err := sweep.Run(ctx, e, sweep.Options{})
		npmMust(t, err)
		var out []string
		for _, d := range res.Reminders {
			if d.Topic == "drift:token-publish" {
				out = append(out, d.Repo)
			}
		}
		return out
	}
	if d := drift(); len(d) != 0 {
		t.Errorf("sweep reports drift on the migrated CircleCI repositories: %v", d)
	}
	files, err := p.Files(p.Repos[1], w.RegistryURL)
	npmMust(t, err)
	pushFile(t, w, p.Org, p.Repos[1].Name, p.Repos[1].DefaultBranch, rewrite.CircleCIConfig, files[rewrite.CircleCIConfig])
	if d := drift(); len(d) != 1 || d[0] != repos[1] {
		t.Errorf("sweep after the CircleCI config was reverted under flag on: drift %v, want %s", d, repos[1])
	}

	// Rollback through the API.
	sum, err = e.Flag(ctx, batch.FlagOptions{On: false, Target: batch.FlagTarget{Repos: repos}})
	npmMust(t, err)
	for _, o := range sum.Outcomes {
		if v, _ := w.CircleCIProjectVar(o.Repo, rewrite.DefaultFlagVar); o.Kind != batch.OK || v != "false" {
			t.Errorf("flag off %s: %+v, variable %q", o.Repo, o, v)
		}
	}
	res, err := w.Release(ctx, first, sandbox.ReleaseOptions{})
	npmMust(t, err)
	if res.Packages[0].Path != sandbox.PathToken {
		t.Errorf("release after flag off: %+v, want the token path", res.Packages[0])
	}
}

// pushFile commits one file on branch of owner/name, as a maintainer would.
func pushFile(t *testing.T, w *sandbox.World, owner, name, branch, path string, data []byte) {
	t.Helper()
	err := w.Git.With(owner, name, func(r *git.Repository) error {
		ref, err := r.Reference(plumbing.NewBranchReferenceName(branch), true)
		if err != nil {
			return err
		}
		parent, err := r.CommitObject(ref.Hash())
		if err != nil {
			return err
		}
		all := map[string][]byte{}
		tree, err := parent.Tree()
		if err != nil {
			return err
		}
		if err := tree.Files().ForEach(func(f *object.File) error {
			s, err := f.Contents()
			all[f.Name] = []byte(s)
			return err
		}); err != nil {
			return err
		}
		all[path] = data
		th, err := githttp.WriteTree(r.Storer, all, nil)
		if err != nil {
			return err
		}
		sig := object.Signature{Name: "maintainer", Email: "maintainer@users.noreply.invalid", When: time.Now()}
		h, err := githttp.WriteCommit(r.Storer, &object.Commit{Author: sig, Committer: sig, Message: "revert the CircleCI config", TreeHash: th, ParentHashes: []plumbing.Hash{parent.Hash}})
		if err != nil {
			return err
		}
		return r.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(branch), h))
	})
	npmMust(t, err)
	w.API.SyncRepo(owner, name)
}
