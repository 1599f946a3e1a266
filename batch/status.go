package batch

import (
	"context"
	"fmt"
	"slices"

	"github.com/cutover/cutover/internal/ledger"
)

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
// With Opts.Select only the selected repositories are refreshed, watched
// and reported; gates are still evaluated for whole waves.
func (e *Engine) Status(ctx context.Context) (Summary, []WaveStatus, error) {
	e.defaults()
	sum := Summary{Step: "status"}
	changes, err := e.Ledger.Changes(ctx)
	if err != nil {
		return sum, nil, err
	}
	keep, err := e.selected(ctx)
	if err != nil {
		return sum, nil, err
	}
	changes = slices.DeleteFunc(changes, func(c ledger.Change) bool { return !keep(c.Repo) })
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
		detail := fmt.Sprintf("#%d %s, checks %s", pr.Number, c.State, c.Checks)
		if c.Checks == "failure" && c.State != ledger.ChangeMerged {
			// A red pull request is not ok: the gate counts it as a failure.
			return Outcome{Kind: Failed, Reason: "checks failed", Detail: detail, URL: pr.URL,
				Hint: "open the pull request, fix what the failing checks report (push to the campaign branch, or run cutover apply again after fixing the default branch), then run status again"}
		}
		return Outcome{Kind: OK, Detail: detail, URL: pr.URL}
	})
	waves, err := e.Ledger.Waves(ctx)
	if err != nil {
		return sum, nil, err
	}
	for _, o := range e.watch(ctx) {
		if keep(o.Repo) {
			sum.Outcomes = append(sum.Outcomes, o)
		}
	}
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
