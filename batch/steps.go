package batch

import (
	"context"
	"fmt"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/ledger"
)

// PlanCampaign plans waves from the inventory in the ledger and records
// them. Waves that already started keep their members; the repositories
// not in them are planned into the waves that follow.
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
	var cands []Candidate
	for _, r := range repos {
		// A repository whose first inventory failed has no classification
		// yet: it is planned once inventory (or retry) has read it.
		if inKept[r.FullName] || r.Classification == nil {
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

// WaveStatus is a wave's state and gate after a status refresh.
type WaveStatus struct {
	Number int    `json:"number"`
	Name   string `json:"name"`
	State  string `json:"state"`
	// Requires is the wave's gate in words.
	Requires string `json:"requires"`
	// Gate is the gate's evaluation; nil while the wave has not started.
	Gate *GateResult `json:"gate,omitempty"`
}

// Status refreshes every campaign pull request's state and checks from the
// forge, records them, and marks gated waves done when they meet their gate.
func (e *Engine) Status(ctx context.Context) (Summary, []WaveStatus, error) {
	e.defaults()
	sum := Summary{Step: "status"}
	changes, err := e.Ledger.Changes(ctx)
	if err != nil {
		return sum, nil, err
	}
	sum.Outcomes = each(ctx, e, "status", changes, func(c ledger.Change) string { return c.Repo }, func(ctx context.Context, c ledger.Change) Outcome {
		if c.PRNumber == 0 {
			return Outcome{Kind: Skipped, Reason: "no pull request yet", Detail: "branch pushed, pull request not opened: run apply again"}
		}
		row, err := e.Ledger.Repo(ctx, c.Repo)
		if err != nil {
			return failed(c.Repo, "ledger error", err, "check the ledger file")
		}
		pr, err := e.Forge.PR(ctx, e.forgeRepo(row), c.PRNumber)
		if err != nil {
			return failed(c.Repo, "status failed", err, "run status again")
		}
		c.State, c.Checks, c.Mergeable, c.Draft = prState(pr.State), pr.Checks, pr.Mergeable, pr.Draft
		if err := e.Ledger.RecordChange(ctx, c); err != nil {
			return failed(c.Repo, "ledger error", err, "check the ledger file")
		}
		return Outcome{Kind: OK, Detail: fmt.Sprintf("#%d %s, checks %s", pr.Number, c.State, c.Checks), URL: pr.URL}
	})
	waves, err := e.Ledger.Waves(ctx)
	if err != nil {
		return sum, nil, err
	}
	sum.Outcomes = append(sum.Outcomes, e.watch(ctx)...)
	var ws []WaveStatus
	for _, w := range waves {
		st := WaveStatus{Number: w.Number, Name: w.Name, State: w.State, Requires: Gate{Require: w.Gate.Require, MaxFailureRatio: w.Gate.MaxFailureRatio}.String()}
		if w.State != ledger.WavePlanned {
			res, err := e.gate(ctx, waves, w.Number)
			if err != nil {
				return sum, nil, err
			}
			st.Gate = &res
			if w.State == ledger.WaveGated && res.OK {
				if err := e.Ledger.SetWaveState(ctx, w.Number, ledger.WaveDone, ""); err != nil {
					return sum, nil, err
				}
				st.State = ledger.WaveDone
			}
		}
		ws = append(ws, st)
	}
	return sum, ws, nil
}

// Retry redoes the repositories whose last step failed: inventory and apply
// (executed) are redone here; other steps are redone by their own commands.
func (e *Engine) Retry(ctx context.Context) (Summary, error) {
	e.defaults()
	sum := Summary{Step: "retry"}
	steps, err := e.Ledger.FailedRepos(ctx)
	if err != nil {
		return sum, err
	}
	sum.Outcomes = each(ctx, e, "retry", steps, func(s ledger.Step) string { return s.Repo }, func(ctx context.Context, s ledger.Step) Outcome {
		switch s.Name {
		case "inventory":
			row, err := e.Ledger.Repo(ctx, s.Repo)
			if err != nil {
				return failed(s.Repo, "ledger error", err, "check the ledger file")
			}
			return e.inventoryRepo(ctx, forge.Repo{FullName: row.FullName, ID: row.ID, DefaultBranch: row.DefaultBranch, Visibility: row.Visibility, CloneURL: row.CloneURL})
		case "apply":
			o := e.applyRepo(ctx, s.Repo, true)
			e.step(ctx, "apply", o)
			return o
		}
		return Outcome{Kind: Skipped, Reason: "retry with its own command", Detail: fmt.Sprintf("last step %q failed: run cutover %s again", s.Name, s.Name)}
	})
	return sum, ctx.Err()
}
