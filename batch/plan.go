package batch

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/cutover/cutover/internal/classdoc"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/rewrite"
)

// Candidate is one inventoried repository as planning sees it.
type Candidate struct {
	Repo       string
	Visibility string
	// Result is the repository's classification as the ledger stores it.
	Result *classdoc.Doc
}

// PlanOptions shape the waves. The zero value picks three canaries and puts
// everything else in one wave.
type PlanOptions struct {
	// Canaries names the canary repositories; empty means pick one
	// monorepo, one single-package repository and one with a private
	// (restricted) package from the inventory.
	Canaries []string
	// Sizes are the sizes of the waves after the canaries; the repositories
	// left over form a last wave.
	Sizes []int
	// NoCanaries plans no canary wave (the canaries already ran).
	NoCanaries bool
	// First is the number of the first wave planned.
	First int
}

// Wave is a planned wave.
type Wave struct {
	Number int      `json:"number"`
	Name   string   `json:"name"`
	Repos  []string `json:"repos"`
	// Why says, per canary, why it was picked.
	Why map[string]string `json:"why,omitempty"`
	// Gate is what the wave must reach before the next wave may start
	// (set by PlanCampaign).
	Gate Gate `json:"gate"`
}

// Skip is a repository left out of the waves, with the reason.
type Skip struct {
	Repo   string `json:"repo"`
	Reason string `json:"reason"`
	// Path is token-bridge for a repository that publishes but cannot use
	// trusted publishing (a self-hosted runner, a registry proxy): its
	// token stays, confined to the publish step, and sweep reminds to
	// rotate it. Empty otherwise.
	Path string `json:"path,omitempty"`
}

// Plan is the campaign's waves and what is left out.
type Plan struct {
	Waves   []Wave               `json:"waves"`
	Skipped []Skip               `json:"skipped"`
	Trust   []classdoc.TrustNeed `json:"trust"`
	// Inferred lists, as "repo: workflow#job", the planned publishers whose
	// publish cutover inferred (confidence inferred) instead of seeing:
	// check them before their wave.
	Inferred []string `json:"inferred,omitempty"`
}

// kind classifies a repository for canary selection.
func kind(c Candidate) (monorepo, single, private bool) {
	pub := 0
	for _, p := range c.Result.Packages {
		if !p.Publishable {
			continue
		}
		pub++
		if strings.HasPrefix(p.Name, "@") && p.Access != "public" {
			private = true
		}
	}
	if c.Visibility == "private" {
		private = true
	}
	return pub >= 2 || c.Result.WorkspaceKind != "" && pub >= 1 && len(c.Result.Packages) > 1, pub == 1 && c.Result.WorkspaceKind == "", private
}

// eligible says whether a repository needs the oidc playbook, or why not.
func eligible(c Candidate) (bool, string) {
	r := c.Result
	switch {
	case r == nil:
		return false, "not inventoried"
	case !r.Publishes:
		return false, "does not publish to npm"
	case r.Credential == rewrite.CredOIDC:
		return false, "already publishes with OIDC"
	case r.Credential == rewrite.CredNone:
		return false, "publishes with no credential cutover can see"
	}
	for _, p := range r.Pipelines {
		if p.SelfHosted {
			return false, fmt.Sprintf("%s#%s runs on a self-hosted runner: use the token-bridge playbook", p.File, p.Job)
		}
		if p.Proxy != "" {
			return false, fmt.Sprintf("%s#%s %s, else stay on the token-bridge path (its token kept, sweep reminds to rotate it)", p.File, p.Job, rewrite.ProxyReason(p.Proxy))
		}
	}
	return true, ""
}

// skipPath is the path of a repository eligible leaves out: token-bridge
// when a pipeline runs on a self-hosted runner or publishes through a
// registry proxy.
func skipPath(c Candidate) string {
	if c.Result == nil || !c.Result.Publishes || c.Result.Credential == rewrite.CredOIDC {
		return ""
	}
	for _, p := range c.Result.Pipelines {
		if p.SelfHosted || p.Proxy != "" {
			return string(rewrite.PlaybookTokenBridge)
		}
	}
	return ""
}

func findingCount(c Candidate) int {
	n := 0
	for _, f := range c.Result.Findings {
		if f.Severity != rewrite.SevInfo {
			n++
		}
	}
	return n
}

// MakePlan assigns eligible repositories to waves: wave 0 holds the
// canaries, then waves of opts.Sizes, then the rest. The result is
// deterministic for a given input.
func MakePlan(cands []Candidate, opts PlanOptions) (Plan, error) {
	var plan Plan
	var pool []Candidate
	byName := map[string]Candidate{}
	for _, c := range cands {
		byName[c.Repo] = c
		if ok, why := eligible(c); !ok {
			plan.Skipped = append(plan.Skipped, Skip{Repo: c.Repo, Reason: why, Path: skipPath(c)})
			continue
		}
		pool = append(pool, c)
		for _, p := range c.Result.Pipelines {
			if p.Confidence == rewrite.ConfidenceInferred {
				plan.Inferred = append(plan.Inferred, c.Repo+": "+p.File+"#"+p.Job)
			}
		}
	}
	sort.SliceStable(pool, func(i, j int) bool {
		fi, fj := findingCount(pool[i]), findingCount(pool[j])
		if fi != fj {
			return fi < fj
		}
		return pool[i].Repo < pool[j].Repo
	})
	taken := map[string]bool{}
	canary := Wave{Number: opts.First, Name: "canary", Why: map[string]string{}}
	switch {
	case opts.NoCanaries:
	case len(opts.Canaries) > 0:
		for _, name := range opts.Canaries {
			c, ok := byName[name]
			if !ok {
				return plan, fmt.Errorf("canary %q is not in the inventory", name)
			}
			if ok, why := eligible(c); !ok {
				return plan, fmt.Errorf("canary %q cannot be migrated: %s", name, why)
			}
			canary.Repos = append(canary.Repos, name)
			canary.Why[name] = "named in the configuration"
			taken[name] = true
		}
	default:
		// The private-package pick comes before the single-package one so a
		// repository that is both does not take the only private slot.
		picks := []struct {
			label string
			match func(Candidate) bool
		}{
			{"monorepo", func(c Candidate) bool { m, _, _ := kind(c); return m }},
			{"repository with a private package", func(c Candidate) bool { _, _, p := kind(c); return p }},
			{"single-package repository", func(c Candidate) bool { _, s, p := kind(c); return s && !p }},
		}
		for _, p := range picks {
			for _, c := range pool {
				if !taken[c.Repo] && p.match(c) {
					canary.Repos = append(canary.Repos, c.Repo)
					canary.Why[c.Repo] = p.label
					taken[c.Repo] = true
					break
				}
			}
		}
	}
	if len(canary.Repos) > 0 {
		plan.Waves = append(plan.Waves, canary)
	}
	var rest []string
	for _, c := range pool {
		if !taken[c.Repo] {
			rest = append(rest, c.Repo)
		}
	}
	n := opts.First + len(plan.Waves)
	for _, size := range opts.Sizes {
		if len(rest) == 0 {
			break
		}
		if size <= 0 {
			return plan, fmt.Errorf("wave size %d: sizes must be positive", size)
		}
		k := min(size, len(rest))
		plan.Waves = append(plan.Waves, Wave{Number: n, Name: fmt.Sprintf("wave %d", n), Repos: rest[:k]})
		rest, n = rest[k:], n+1
	}
	if len(rest) > 0 {
		plan.Waves = append(plan.Waves, Wave{Number: n, Name: fmt.Sprintf("wave %d", n), Repos: rest})
	}
	for _, w := range plan.Waves {
		for _, r := range w.Repos {
			plan.Trust = append(plan.Trust, byName[r].Result.Trust...)
		}
	}
	return plan, nil
}

// PlanCampaign plans waves from the inventory in the ledger and records
// them. Waves that already started keep their members; the repositories
// not in them are planned into the waves that follow. With Opts.Select only
// the repositories it keeps are planned.
func (e *Engine) PlanCampaign(ctx context.Context) (Plan, error) {
	e.defaults()
	repos, err := e.Ledger.Repos(ctx)
	if err != nil {
		return Plan{}, err
	}
	existing, err := e.Ledger.Waves(ctx)
	if err != nil {
		return Plan{}, err
	}
	var kept []ledger.Wave
	inKept := map[string]bool{}
	for _, w := range existing {
		if w.State != ledger.WavePlanned {
			kept = append(kept, w)
			for _, m := range w.Members {
				inKept[m] = true
			}
		}
	}
	names := make([]string, 0, len(repos))
	for _, r := range repos {
		names = append(names, r.FullName)
	}
	chosen, err := e.Select(ctx, names, e.Opts.Select)
	if err != nil {
		return Plan{}, err
	}
	keep := map[string]bool{}
	for _, n := range chosen {
		keep[n] = true
	}
	var cands []Candidate
	for _, r := range repos {
		// A repository whose first inventory failed has no classification
		// yet: it is planned once inventory (or retry) has read it.
		if inKept[r.FullName] || r.Classification == nil || !keep[r.FullName] {
			continue
		}
		cands = append(cands, Candidate{Repo: r.FullName, Visibility: r.Visibility, Result: r.Classification})
	}
	opts := e.Opts.Plan
	opts.First = len(kept)
	opts.NoCanaries = len(kept) > 0
	plan, err := MakePlan(cands, opts)
	if err != nil {
		return plan, err
	}
	waves := append([]ledger.Wave(nil), kept...)
	for i, w := range plan.Waves {
		g := e.Opts.Gate
		if i == 0 && !opts.NoCanaries && w.Name == "canary" {
			g = e.Opts.CanaryGate
		}
		plan.Waves[i].Gate = g
		waves = append(waves, ledger.Wave{Number: w.Number, Name: w.Name, Gate: ledger.Gate{Require: g.Require, MaxFailureRatio: g.MaxFailureRatio}, State: ledger.WavePlanned, Members: w.Repos})
	}
	if err := e.Ledger.SetWaves(ctx, waves); err != nil {
		return plan, err
	}
	kw := make([]Wave, 0, len(kept))
	for _, w := range kept {
		kw = append(kw, Wave{Number: w.Number, Name: w.Name, Repos: w.Members, Gate: Gate{Require: w.Gate.Require, MaxFailureRatio: w.Gate.MaxFailureRatio}})
	}
	plan.Waves = append(kw, plan.Waves...)
	return plan, nil
}
