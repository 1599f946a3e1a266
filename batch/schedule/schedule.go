// Package schedule runs campaign jobs on cron schedules (status,
// apply-next-wave, sweep, report) under the ledger's campaign lock, and
// records every run in the ledger.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // CRON_TZ works on machines without a zoneinfo database

	"github.com/robfig/cron/v3"

	"github.com/cutover/cutover/internal/config"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/logging"
)

// Job kinds a scheduled job may run.
const (
	// JobStatus refreshes pull requests and wave gates (cutover status).
	JobStatus = "status"
	// JobApplyNextWave applies the next wave, only when its gate passes.
	JobApplyNextWave = "apply-next-wave"
	// JobSweep sends rotation reminders and looks for drift (cutover sweep --execute).
	JobSweep = "sweep"
	// JobReport writes the campaign report.
	JobReport = "report"
)

// JobKinds lists the job kinds, in the order the docs give them.
var JobKinds = []string{JobStatus, JobApplyNextWave, JobSweep, JobReport}

// SchedulerLock is the name of the ledger lock a scheduler holds while it
// acts: the campaign lock, so no other command writes to the ledger while a
// scheduler runs.
const SchedulerLock = ledger.CampaignLockName

// JobSpec is one scheduled job as the config gives it.
type JobSpec struct {
	// Name names the job in logs, the ledger and --once.
	Name string `json:"name"`
	// Spec is the cron spec, such as "CRON_TZ=Europe/Berlin 0 3 * * *" or "@daily".
	Spec string `json:"spec"`
	// Run is the job kind: one of JobKinds.
	Run string `json:"run"`
}

// ScheduledJob is a job with its parsed schedule.
type ScheduledJob struct {
	JobSpec
	// Schedule says when the job runs next.
	Schedule cron.Schedule `json:"-"`
}

// ParseSpec parses a cron spec. Specs without a CRON_TZ= prefix are read in
// loc (time.Local when nil).
func ParseSpec(spec string, loc *time.Location) (cron.Schedule, error) {
	s, err := config.ParseCronSpec(spec)
	if err != nil {
		return nil, err
	}
	spec = strings.TrimSpace(spec)
	zoned := strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=")
	if ss, ok := s.(*cron.SpecSchedule); ok && !zoned && loc != nil {
		ss.Location = loc
	}
	return s, nil
}

// inZone returns t in the schedule's time zone, for logs and listings.
func inZone(s cron.Schedule, t time.Time) time.Time {
	if ss, ok := s.(*cron.SpecSchedule); ok && ss.Location != nil {
		return t.In(ss.Location)
	}
	return t
}

// ParseJobs parses and checks the jobs: names present and unique, kinds
// known, specs valid and firing at least once in the next five years. The
// error names every bad job. Specs without CRON_TZ are read in loc
// (time.Local when nil).
func ParseJobs(specs []JobSpec, loc *time.Location, now time.Time) ([]ScheduledJob, error) {
	var errs []error
	seen := map[string]bool{}
	out := make([]ScheduledJob, 0, len(specs))
	for i, j := range specs {
		name := j.Name
		if strings.TrimSpace(name) == "" {
			errs = append(errs, fmt.Errorf("job %d has no name", i+1))
			name = fmt.Sprintf("#%d", i+1)
		} else if seen[name] {
			errs = append(errs, fmt.Errorf("job %q is defined twice", name))
		}
		seen[name] = true
		if !slices.Contains(JobKinds, j.Run) {
			errs = append(errs, fmt.Errorf("job %q: run %q is not a job kind; want one of %s", name, j.Run, strings.Join(JobKinds, ", ")))
		}
		s, err := ParseSpec(j.Spec, loc)
		if err != nil {
			errs = append(errs, fmt.Errorf("job %q: spec %q: %w", name, j.Spec, err))
			continue
		}
		if s.Next(now).IsZero() {
			errs = append(errs, fmt.Errorf("job %q: spec %q never fires", name, j.Spec))
			continue
		}
		out = append(out, ScheduledJob{JobSpec: j, Schedule: s})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// RunResult is how one run of a job ended.
type RunResult struct {
	// Outcome is ledger.OutcomeOK, ledger.OutcomeSkipped or ledger.OutcomeFailed.
	Outcome string `json:"outcome"`
	// Message says what the run did, or why it was skipped or failed.
	Message string `json:"message"`
}

// JobFunc runs one kind of job once. A returned error makes the run failed.
type JobFunc func(ctx context.Context) (RunResult, error)

// RunStore is what the scheduler needs from the ledger: the lock that keeps
// two schedulers from acting at once, and the record of runs.
// *ledger.Ledger implements it.
type RunStore interface {
	AcquireLock(ctx context.Context, name, owner string, ttl time.Duration) (ledger.Lock, error)
	RenewLock(ctx context.Context, name, owner string, ttl time.Duration) (ledger.Lock, error)
	ReleaseLock(ctx context.Context, name, owner string) error
	StartRun(ctx context.Context, job, owner string) (int64, error)
	FinishRun(ctx context.Context, id int64, outcome, message string) error
}

// Scheduler runs jobs on their cron schedules. It acts only while it holds
// the ledger lock SchedulerLock, so a second scheduler on the same ledger
// waits in standby; it never starts a job while the previous run of the same
// job is still going (that run is recorded as skipped); and when its context
// ends it starts nothing new, lets the running jobs finish the repositories
// they are working on, records them and releases the lock.
type Scheduler struct {
	// Jobs are the jobs, from ParseJobs.
	Jobs []ScheduledJob
	// Funcs run each job kind; a kind without a func is skipped with Unavailable's reason.
	Funcs map[string]JobFunc
	// Unavailable says why a job kind cannot run in this build, by kind.
	Unavailable map[string]string
	// Store holds the lock and records runs.
	Store RunStore
	// Owner identifies this scheduler in the lock and the runs; "" means host:pid.
	Owner string
	// LockHeld says the caller already holds the lock under Owner (the
	// command's campaign lock) and lets go of it itself: the scheduler
	// renews it while it runs but never releases it, so that no other
	// writer gets in before the command is done.
	LockHeld bool
	// LockTTL is how long the lock lasts unless renewed; zero means 2 minutes.
	// It is renewed every third of it.
	LockTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives next run times, skips and outcomes; nil discards.
	Logger *slog.Logger
}

func (s *Scheduler) defaults() {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.LockTTL <= 0 {
		s.LockTTL = 2 * time.Minute
	}
	if s.Owner == "" {
		host, _ := os.Hostname()
		s.Owner = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
}

// NextRun is a job's next run times.
type NextRun struct {
	Job ScheduledJob `json:"job"`
	// Next are the next run times, in the job's time zone.
	Next []time.Time `json:"next"`
	// Unavailable says why the job cannot run in this build; "" when it can.
	Unavailable string `json:"unavailable,omitempty"`
}

// NextRuns returns each job's next n run times after from, in job order.
func (s *Scheduler) NextRuns(from time.Time, n int) []NextRun {
	out := make([]NextRun, len(s.Jobs))
	for i, j := range s.Jobs {
		out[i] = NextRun{Job: j, Unavailable: s.unavailable(j.Run)}
		t := from
		for range n {
			t = j.Schedule.Next(t)
			if t.IsZero() {
				break
			}
			out[i].Next = append(out[i].Next, inZone(j.Schedule, t))
		}
	}
	return out
}

func (s *Scheduler) unavailable(kind string) string {
	if s.Funcs[kind] != nil {
		return ""
	}
	if why := s.Unavailable[kind]; why != "" {
		return why
	}
	return fmt.Sprintf("no runner for job kind %q", kind)
}

// ErrLockLost is returned by Run when another scheduler took the lock over
// (this one could not renew it in time).
var ErrLockLost = errors.New("the scheduler lock was taken over by another scheduler")

// Run schedules the jobs until ctx ends. It first takes the ledger lock,
// waiting in standby while another scheduler holds it. It returns nil after
// a graceful stop, ErrLockLost (wrapped) when the lock was lost, or the error
// that kept it from working.
func (s *Scheduler) Run(ctx context.Context) error {
	s.defaults()
	if len(s.Jobs) == 0 {
		return errors.New("no jobs to schedule: add [[schedule.job]] tables to the config")
	}
	for _, j := range s.Jobs {
		if why := s.unavailable(j.Run); why != "" {
			s.Logger.Error("job will be skipped", "job", j.Name, "run", j.Run, "reason", why)
		}
	}
	if err := s.acquire(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	s.Logger.Info("scheduler started", "owner", s.Owner, "jobs", len(s.Jobs))

	// act ends when ctx ends or the lock is lost: no new runs, and running
	// jobs finish the repositories in flight. keep outlives it, so the lock
	// is renewed until the last job has returned.
	act, stopActing := context.WithCancel(ctx)
	defer stopActing()
	keep, stopKeeping := context.WithCancel(context.WithoutCancel(ctx))
	lost := make(chan error, 1)
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		s.renew(keep, func(err error) {
			lost <- err
			stopActing()
		})
	}()

	var wg sync.WaitGroup
	var mu sync.Mutex
	running := map[string]bool{}
	next := make([]time.Time, len(s.Jobs))
	now := s.Now()
	for i, j := range s.Jobs {
		next[i] = j.Schedule.Next(now)
		s.Logger.Info("next run", "job", j.Name, "run", j.Run, "at", inZone(j.Schedule, next[i]).Format(time.RFC3339))
	}
	var lockErr error
loop:
	for {
		due := slices.MinFunc(next, func(a, b time.Time) int { return a.Compare(b) })
		timer := time.NewTimer(max(due.Sub(s.Now()), 0))
		select {
		case <-act.Done():
			timer.Stop()
			break loop
		case <-timer.C:
		}
		now := s.Now()
		for i, j := range s.Jobs {
			if next[i].After(now) {
				continue
			}
			next[i] = j.Schedule.Next(now)
			mu.Lock()
			busy := running[j.Name]
			if !busy {
				running[j.Name] = true
			}
			mu.Unlock()
			if busy {
				s.Logger.Warn("run skipped: the previous run is still going", "job", j.Name, "next", inZone(j.Schedule, next[i]).Format(time.RFC3339))
				s.record(keep, j, RunResult{Outcome: ledger.OutcomeSkipped, Message: "the previous run was still going"})
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					mu.Lock()
					delete(running, j.Name)
					mu.Unlock()
				}()
				s.runJob(act, keep, j)
				s.Logger.Info("next run", "job", j.Name, "at", inZone(j.Schedule, j.Schedule.Next(s.Now())).Format(time.RFC3339))
			}()
		}
	}
	select {
	case lockErr = <-lost:
	default:
	}
	if lockErr == nil {
		s.Logger.Info("stopping: waiting for running jobs to finish their repositories in flight")
	}
	wg.Wait()
	stopKeeping()
	<-renewDone
	if lockErr == nil {
		select {
		case lockErr = <-lost:
		default:
		}
	}
	if lockErr != nil {
		return lockErr
	}
	s.release(ctx)
	s.Logger.Info("scheduler stopped", "owner", s.Owner)
	return nil
}

// acquire takes the lock, retrying every third of LockTTL while another
// scheduler holds it, until ctx ends.
func (s *Scheduler) acquire(ctx context.Context) error {
	standby := false
	for {
		_, err := s.Store.AcquireLock(ctx, SchedulerLock, s.Owner, s.LockTTL)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ledger.ErrLocked) {
			return fmt.Errorf("could not take the scheduler lock: %w", err)
		}
		if !standby {
			s.Logger.Warn("standby: another scheduler holds the lock on this ledger", "detail", err.Error())
			standby = true
		}
		t := time.NewTimer(s.LockTTL / 3)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// renew renews the lock every third of LockTTL until ctx ends, and calls
// lost once if the lock was taken over or could not be renewed before it
// lapsed.
func (s *Scheduler) renew(ctx context.Context, lost func(error)) {
	every := s.LockTTL / 3
	expires := s.Now().Add(s.LockTTL)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l, err := s.Store.RenewLock(ctx, SchedulerLock, s.Owner, s.LockTTL)
		switch {
		case err == nil:
			expires = l.Expires
		case errors.Is(err, ledger.ErrLockLost):
			s.Logger.Error("lost the scheduler lock: stopping", "error", err)
			lost(fmt.Errorf("%w: %v", ErrLockLost, err))
			return
		case ctx.Err() != nil:
			return
		default:
			s.Logger.Warn("could not renew the scheduler lock", "error", err)
			if !s.Now().Before(expires) {
				lost(fmt.Errorf("%w: could not renew it before it lapsed: %v", ErrLockLost, err))
				return
			}
		}
	}
}

// runJob runs one job and records the run. act is the job's context; keep
// outlives it for the records.
func (s *Scheduler) runJob(act, keep context.Context, j ScheduledJob) RunResult {
	log := s.Logger.With("job", j.Name, "run", j.Run)
	id, err := s.Store.StartRun(keep, j.Name, s.Owner)
	if err != nil {
		log.Error("ledger: could not record the start of the run", "error", err)
	}
	log.Info("run started")
	started := s.Now()
	res := s.call(act, j)
	log = log.With("outcome", res.Outcome, "took", s.Now().Sub(started).Round(time.Millisecond).String())
	switch res.Outcome {
	case ledger.OutcomeFailed:
		log.Error("run finished", "message", res.Message)
	case ledger.OutcomeSkipped:
		log.Warn("run finished", "message", res.Message)
	default:
		log.Info("run finished", "message", res.Message)
	}
	if id != 0 {
		if err := s.Store.FinishRun(keep, id, res.Outcome, res.Message); err != nil {
			log.Error("ledger: could not record the end of the run", "error", err)
		}
	}
	return res
}

// call runs a job's func, turning errors and panics into a failed result.
func (s *Scheduler) call(ctx context.Context, j ScheduledJob) (res RunResult) {
	fn := s.Funcs[j.Run]
	if fn == nil {
		return RunResult{Outcome: ledger.OutcomeSkipped, Message: s.unavailable(j.Run)}
	}
	defer func() {
		if r := recover(); r != nil {
			site := logging.PanicSite()
			s.Logger.Error("internal error: a panic stopped the job", "job", j.Name, "panic", fmt.Sprint(r), "at", site, "stack", string(debug.Stack()))
			res = RunResult{Outcome: ledger.OutcomeFailed, Message: fmt.Sprintf("internal error: %v (%s)", r, logging.PanicHint(site))}
		}
	}()
	res, err := fn(ctx)
	if err != nil {
		msg := err.Error()
		if res.Message != "" {
			msg = res.Message + ": " + msg
		}
		return RunResult{Outcome: ledger.OutcomeFailed, Message: msg}
	}
	switch res.Outcome {
	case ledger.OutcomeOK, ledger.OutcomeSkipped, ledger.OutcomeFailed:
	default:
		res.Outcome = ledger.OutcomeOK
	}
	if ctx.Err() != nil && res.Outcome == ledger.OutcomeOK {
		res.Message = strings.TrimSpace(res.Message + " (stopped early: repositories not started are left for the next run)")
	}
	return res
}

// record records a run that did not start (skipped).
func (s *Scheduler) record(ctx context.Context, j ScheduledJob, res RunResult) {
	id, err := s.Store.StartRun(ctx, j.Name, s.Owner)
	if err == nil {
		err = s.Store.FinishRun(ctx, id, res.Outcome, res.Message)
	}
	if err != nil {
		s.Logger.Error("ledger: could not record a skipped run", "job", j.Name, "error", err)
	}
}

// RunOnce runs the named job now, under the lock, and returns how it ended.
// It fails at once when another scheduler holds the lock.
func (s *Scheduler) RunOnce(ctx context.Context, name string) (RunResult, error) {
	s.defaults()
	var job *ScheduledJob
	var names []string
	for i := range s.Jobs {
		names = append(names, s.Jobs[i].Name)
		if s.Jobs[i].Name == name {
			job = &s.Jobs[i]
		}
	}
	if job == nil {
		if len(names) == 0 {
			return RunResult{}, fmt.Errorf("no job %q: the config has no [[schedule.job]] tables", name)
		}
		return RunResult{}, fmt.Errorf("no job %q in the config; jobs: %s", name, strings.Join(names, ", "))
	}
	if why := s.unavailable(job.Run); why != "" {
		return RunResult{}, fmt.Errorf("job %q cannot run: %s", name, why)
	}
	if _, err := s.Store.AcquireLock(ctx, SchedulerLock, s.Owner, s.LockTTL); err != nil {
		if errors.Is(err, ledger.ErrLocked) {
			return RunResult{}, fmt.Errorf("job %q not run: another scheduler holds the lock on this ledger (%w)", name, err)
		}
		return RunResult{}, fmt.Errorf("could not take the scheduler lock: %w", err)
	}
	keep, stopKeeping := context.WithCancel(context.WithoutCancel(ctx))
	act, stopActing := context.WithCancel(ctx)
	defer stopActing()
	var lockErr error
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		s.renew(keep, func(err error) { lockErr = err; stopActing() })
	}()
	res := s.runJob(act, keep, *job)
	stopKeeping()
	<-renewDone
	if lockErr != nil {
		return res, lockErr
	}
	s.release(ctx)
	return res, nil
}

// release lets go of the lock, unless the caller holds it (LockHeld).
func (s *Scheduler) release(ctx context.Context) {
	if s.LockHeld {
		return
	}
	if err := s.Store.ReleaseLock(context.WithoutCancel(ctx), SchedulerLock, s.Owner); err != nil {
		s.Logger.Warn("could not release the scheduler lock; it lapses by itself", "error", err)
	}
}
