package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/interrupt"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/logging"
	"github.com/cutover/cutover/rewrite"
)

// Options configure an Engine. Zero values mean the defaults.
type Options struct {
	// Campaign names the campaign (ledger, PR bodies).
	Campaign string
	// Org is the organisation whose repositories are inventoried.
	Org string
	// List filters the portfolio; List.Archived and List.Forks include
	// archived repositories and forks, which inventory otherwise skips
	// and counts.
	List forge.ListOptions
	// Select narrows the repositories inventory, plan, status and retry
	// work on (--repo, --skip-repo, --topic, --repos-file); the steps given
	// a RepoTarget narrow with it instead.
	Select Selection
	// Registry is the npm registry URL publishes must target.
	Registry string
	// FlagVar is the repository variable that selects the OIDC path.
	FlagVar string
	// MaxFileBytes is the largest file detection reads (the config's
	// scan.max_file_bytes); zero means rewrite.MaxFileBytes.
	MaxFileBytes int64
	// NPMVersion is the npm range the upgrade step installs.
	NPMVersion string
	// Branch is the campaign branch; default "cutover/npm-oidc".
	Branch string
	// Author signs campaign commits.
	Author forge.Author
	// PR configures pull requests.
	PR PROptions
	// Plan shapes the waves.
	Plan PlanOptions
	// Gate is what each wave must meet before the next starts.
	Gate Gate
	// CanaryGate is what the canary wave must meet before wave 1 starts;
	// an empty Require means DefaultCanaryRequire with Gate's ratio.
	CanaryGate Gate
	// AutoRollback turns the flag off by itself when status finds a
	// release that failed, or went around OIDC, after the flag went on.
	AutoRollback bool
	// MergeMethod is how Merge merges pull requests: merge, squash or
	// rebase; empty means merge.
	MergeMethod string
	// Concurrency bounds the repositories worked on at once; default 8.
	Concurrency int
	// CircleCI holds the CircleCI project IDs of repositories, by owner/name.
	CircleCI map[string]rewrite.CircleCIProject
	// OwnerOf names who answers for a repository ("" when the config does
	// not say); it wins over the repository's CODEOWNERS. Nil means none.
	OwnerOf func(repo string) string
	// Dashboard configures the campaign's dashboard issue; the status job
	// of the scheduler updates it when Dashboard.Repo is set.
	Dashboard DashboardOptions
}

// PROptions configure campaign pull requests.
type PROptions struct {
	Draft         bool
	Labels        []string
	Reviewers     []string
	TeamReviewers []string
	Assignees     []string
}

// Engine runs campaign steps over a forge and records them in a ledger.
type Engine struct {
	Forge  forge.Forge
	Ledger *ledger.Ledger
	// Registry is the npm registry the flag-on checks and the release
	// watch read; flag on refuses every repository without it (unless
	// forced), and the watch then reads the forge's runs only.
	Registry Registry
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now  func() time.Time
	Opts Options
	// Progress, when set, is told when a phase starts (done 0) and about
	// each repository done in it.
	Progress func(phase string, done, failed, total int)
	// CircleCI sets the flag of pipelines that publish from CircleCI (a
	// project environment variable); nil means flag on and off print the
	// setting to change and wait for FlagOptions.Confirm.
	CircleCI CircleCIVars
	// InFlight, when set, counts the repositories whose step is running, so
	// that an interrupt can say how many it waits for.
	InFlight *atomic.Int64
	// StopGrace is how long the steps in flight may run after the
	// interrupt before they are cancelled for real; zero means
	// DefaultStopGrace.
	StopGrace time.Duration
}

// DefaultStopGrace is how long the steps in flight may run after the
// interrupt, so that the command exits within 10 s: their waits end at
// once, so they are normally done well before.
const DefaultStopGrace = 8 * time.Second

// ReasonInterrupted is the reason of a repository the interrupt stopped:
// before its step started, or while the step waited (GitHub's pacing, a
// retry). It is recorded as skipped, not failed.
const ReasonInterrupted = "interrupted"

// errGraceOver is the cause of the step context once StopGrace has passed.
var errGraceOver = errors.New("the steps in flight did not finish in time after the interrupt")

// interrupted is the outcome of a repository the interrupt stopped.
func interrupted(repo, detail string) Outcome {
	return Outcome{Repo: repo, Kind: Skipped, Reason: ReasonInterrupted, Detail: detail, Hint: "run the command again to continue"}
}

func (e *Engine) defaults() {
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Logger == nil {
		e.Logger = slog.New(slog.DiscardHandler)
	}
	if e.Opts.Concurrency <= 0 {
		e.Opts.Concurrency = 8
	}
	if e.Opts.Branch == "" {
		e.Opts.Branch = "cutover/npm-oidc"
	}
	if e.Opts.FlagVar == "" {
		e.Opts.FlagVar = rewrite.DefaultFlagVar
	}
	if e.Opts.NPMVersion == "" {
		e.Opts.NPMVersion = rewrite.DefaultNPMVersion
	}
	if e.Opts.Author.Name == "" {
		e.Opts.Author = forge.Author{Name: "cutover", Email: "cutover@users.noreply.github.com"}
	}
	if len(e.Opts.CanaryGate.Require) == 0 {
		e.Opts.CanaryGate = Gate{Require: DefaultCanaryRequire, MaxFailureRatio: e.Opts.Gate.MaxFailureRatio}
	}
	if e.Opts.Campaign == "" {
		e.Opts.Campaign = "npm-oidc"
	}
}

// each runs fn for every item in a bounded pool and returns the outcomes in
// input order. A worker checks the context first and turns its own panic
// into a failed outcome.
//
// When ctx ends (the interrupt), no other repository starts, and the steps
// in flight go on under a context that is not cancelled, so that each
// finishes whole, but that carries the interrupt (package interrupt): their
// waits for GitHub's pacing, rate limits and retries end at once, and a
// step they cut is skipped as interrupted. Steps still running StopGrace
// after the interrupt are cancelled for real; one that fails then is
// skipped as interrupted too (its ledger writes, cancelled, roll back).
func each[T any](ctx context.Context, e *Engine, phase string, items []T, name func(T) string, fn func(context.Context, T) Outcome) []Outcome {
	out := make([]Outcome, len(items))
	steps := context.WithoutCancel(ctx)
	if interrupt.Done(ctx) == nil {
		steps = interrupt.With(steps, ctx)
	}
	steps, cut := context.WithCancelCause(steps)
	defer cut(nil)
	grace := e.StopGrace
	if grace <= 0 {
		grace = DefaultStopGrace
	}
	var running atomic.Int64
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			if n := running.Load(); n > 0 && e.Logger != nil {
				e.Logger.Warn(fmt.Sprintf("stopping: %d repositories still in flight %s after the interrupt, cancelling them", n, grace), "phase", phase)
			}
			cut(errGraceOver)
		case <-steps.Done():
		}
	})
	defer stopGrace()
	g, gctx := errgroup.WithContext(steps)
	g.SetLimit(e.Opts.Concurrency)
	var done, failed int
	progress := make(chan Outcome, len(items))
	finished := make(chan struct{})
	if e.Progress != nil && len(items) > 0 {
		e.Progress(phase, 0, 0, len(items)) // show the phase from its start
	}
	go func() {
		defer close(finished)
		for o := range progress {
			done++
			if o.Kind == Failed {
				failed++
			}
			if e.Progress != nil {
				e.Progress(phase, done, failed, len(items))
			}
		}
	}()
	for i, it := range items {
		if ctx.Err() != nil {
			out[i] = interrupted(name(it), "stopped before this repository started")
			continue
		}
		g.Go(func() error {
			defer func() {
				if r := recover(); r != nil {
					site := logging.PanicSite()
					log := e.Logger
					if log == nil {
						log = slog.New(slog.DiscardHandler)
					}
					log.Error("internal error: a panic stopped this repository's step", "repo", name(it), "phase", phase,
						"panic", fmt.Sprint(r), "at", site, "stack", string(debug.Stack()))
					hint := "a bug in cutover: report it with the log (its stack is logged at error level)"
					if site != "" {
						hint = "a bug in cutover at " + site + ": report it with the log (its stack is logged at error level)"
					}
					out[i] = Outcome{Repo: name(it), Kind: Failed, Reason: "internal error", Detail: fmt.Sprintf("panic: %v", r), Hint: hint}
				}
				progress <- out[i]
			}()
			if ctx.Err() != nil {
				out[i] = interrupted(name(it), "stopped before this repository started")
				return nil
			}
			running.Add(1)
			defer running.Add(-1)
			if e.InFlight != nil {
				e.InFlight.Add(1)
				defer e.InFlight.Add(-1)
			}
			out[i] = fn(gctx, it)
			if out[i].Repo == "" {
				out[i].Repo = name(it)
			}
			if out[i].Kind == Failed && errors.Is(context.Cause(gctx), errGraceOver) {
				out[i] = interrupted(out[i].Repo, fmt.Sprintf("cancelled %s after the interrupt: %s", grace, out[i].Detail))
			}
			return nil
		})
	}
	_ = g.Wait()
	close(progress)
	<-finished
	return out
}

// failed is the outcome of a step that err stopped; an error of a wait the
// interrupt cut (interrupt.ErrInterrupted) makes it skipped as interrupted.
func failed(repo, reason string, err error, hint string) Outcome {
	if errors.Is(err, interrupt.ErrInterrupted) {
		return interrupted(repo, reason+": "+err.Error())
	}
	return Outcome{Repo: repo, Kind: Failed, Reason: reason, Detail: err.Error(), Hint: hint}
}

// Defaults fills in the zero options with their defaults; the packages
// that build steps on the engine (sweep) call it first.
func (e *Engine) Defaults() { e.defaults() }

// ForgeRepo is the forge's view of a repository in the ledger.
func (e *Engine) ForgeRepo(r ledger.Repo) forge.Repo { return e.forgeRepo(r) }

// Each runs fn for every item in the engine's bounded pool and returns the
// outcomes in input order, as the engine's own steps do: a worker checks the
// context first and turns its own panic into a failed outcome.
func Each[T any](ctx context.Context, e *Engine, phase string, items []T, name func(T) string, fn func(context.Context, T) Outcome) []Outcome {
	return each(ctx, e, phase, items, name, fn)
}
