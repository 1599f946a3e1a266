package schedule

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/batch/sweep"
	"github.com/cutover/cutover/internal/ledger"
)

// JobFuncs returns the runners of the job kinds the engine does itself:
// status, apply-next-wave and sweep (executed, with sw). report is the
// runner of report jobs; nil leaves that kind out.
func JobFuncs(e *batch.Engine, sw sweep.Options, report JobFunc) map[string]JobFunc {
	e.Defaults()
	fns := map[string]JobFunc{
		JobStatus:        func(ctx context.Context) (RunResult, error) { return statusJob(ctx, e) },
		JobApplyNextWave: func(ctx context.Context) (RunResult, error) { return ApplyNextWave(ctx, e) },
		JobSweep: func(ctx context.Context) (RunResult, error) {
			o := sw
			o.Execute = true
			res, err := sweep.Run(ctx, e, o)
			if err != nil {
				return RunResult{}, err
			}
			out := RunResult{Outcome: ledger.OutcomeOK, Message: fmt.Sprintf("%d reminder(s) due, %d new or escalated, %d resolved", len(res.Reminders), len(res.Changed()), len(res.Resolved))}
			if res.Summary.Failed() || len(res.Problems) > 0 {
				out.Outcome = ledger.OutcomeFailed
				out.Message += fmt.Sprintf("; %d repositories failed", res.Summary.Count(batch.Failed))
				if len(res.Problems) > 0 {
					out.Message += "; " + strings.Join(res.Problems, "; ")
				}
			}
			return out, nil
		},
	}
	if report != nil {
		fns[JobReport] = report
	}
	return fns
}

func statusJob(ctx context.Context, e *batch.Engine) (RunResult, error) {
	sum, waves, err := e.Status(ctx)
	if err != nil {
		return RunResult{}, err
	}
	states := map[string]int{}
	for _, w := range waves {
		states[w.State]++
	}
	var parts []string
	for _, s := range []string{ledger.WavePlanned, ledger.WaveRunning, ledger.WaveGated, ledger.WaveDone} {
		if states[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", states[s], s))
		}
	}
	msg := fmt.Sprintf("%d pull requests and release watches ok, %d failed; waves: %s", sum.Count(batch.OK), sum.Count(batch.Failed), strings.Join(parts, ", "))
	if len(parts) == 0 {
		msg = fmt.Sprintf("%d pull requests and release watches ok, %d failed; no waves planned", sum.Count(batch.OK), sum.Count(batch.Failed))
	}
	var bad []string
	for _, o := range sum.Outcomes {
		if o.Kind == batch.Failed {
			bad = append(bad, fmt.Sprintf("%s (%s)", o.Repo, o.Reason))
		}
	}
	if len(bad) > 0 {
		msg += "; failed: " + strings.Join(bad, ", ")
	}
	if e.Opts.Dashboard.Repo != "" {
		is, err := e.UpdateDashboard(ctx)
		if err != nil {
			return RunResult{Outcome: ledger.OutcomeFailed, Message: msg + "; " + err.Error()}, nil
		}
		msg += fmt.Sprintf("; dashboard %s#%d updated", e.Opts.Dashboard.Repo, is.Number)
	}
	if sum.Failed() {
		return RunResult{Outcome: ledger.OutcomeFailed, Message: msg}, nil
	}
	return RunResult{Outcome: ledger.OutcomeOK, Message: msg}, nil
}

// ApplyNextWave applies (executes) the first wave that is planned or was
// interrupted while running, only when the gate of the wave before it
// passes; otherwise the run is skipped with the gate's reasons. Wave 0, the
// canaries, is never started here: a person starts it with
// `cutover apply --wave 0 --execute`.
func ApplyNextWave(ctx context.Context, e *batch.Engine) (RunResult, error) {
	e.Defaults()
	waves, err := e.Ledger.Waves(ctx)
	if err != nil {
		return RunResult{}, err
	}
	if len(waves) == 0 {
		return RunResult{Outcome: ledger.OutcomeSkipped, Message: "no waves planned: run cutover plan"}, nil
	}
	var next *ledger.Wave
	for i := range waves {
		if waves[i].State == ledger.WavePlanned || waves[i].State == ledger.WaveRunning {
			next = &waves[i]
			break
		}
	}
	if next == nil {
		return RunResult{Outcome: ledger.OutcomeSkipped, Message: "every wave has been applied"}, nil
	}
	if next.Number == 0 && next.State == ledger.WavePlanned {
		return RunResult{Outcome: ledger.OutcomeSkipped, Message: "wave 0 (the canaries) is started by hand: cutover apply --wave 0 --execute"}, nil
	}
	sum, err := e.Apply(ctx, batch.ApplyOptions{Wave: next.Number, Execute: true})
	var gate *batch.GateError
	if errors.As(err, &gate) {
		return RunResult{Outcome: ledger.OutcomeSkipped, Message: fmt.Sprintf("wave %d waits: wave %d has not met its gate: %s", gate.Wave, gate.Wave-1, strings.Join(gate.Reasons, "; "))}, nil
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return RunResult{}, err
	}
	msg := fmt.Sprintf("wave %d applied: %d ok, %d skipped, %d manual, %d failed", next.Number, sum.Count(batch.OK), sum.Count(batch.Skipped), sum.Count(batch.Manual), sum.Count(batch.Failed))
	if sum.Failed() {
		return RunResult{Outcome: ledger.OutcomeFailed, Message: msg}, nil
	}
	return RunResult{Outcome: ledger.OutcomeOK, Message: msg}, nil
}
