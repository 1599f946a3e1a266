package schedule

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cutover/cutover/internal/ledger"
)

func TestParseJobs(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	good := []JobSpec{
		{Name: "nightly", Spec: "CRON_TZ=Europe/Berlin 0 3 * * *", Run: JobSweep},
		{Name: "hourly", Spec: "@hourly", Run: JobStatus},
		{Name: "every", Spec: "@every 6h", Run: JobApplyNextWave},
		{Name: "weekdays", Spec: "TZ=America/New_York 30 9 * * MON-FRI", Run: JobReport},
	}
	jobs, err := ParseJobs(good, time.UTC, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != len(good) {
		t.Fatalf("got %d jobs", len(jobs))
	}

	tests := []struct {
		name string
		jobs []JobSpec
		want []string
	}{
		{"bad spec", []JobSpec{{Name: "a", Spec: "0 3 * *", Run: JobSweep}}, []string{`job "a": spec "0 3 * *": expected exactly 5 fields`}},
		{"out of range", []JobSpec{{Name: "b", Spec: "61 * * * *", Run: JobSweep}}, []string{`job "b": spec "61 * * * *"`}},
		{"seconds field", []JobSpec{{Name: "c", Spec: "0 0 3 * * *", Run: JobSweep}}, []string{`job "c"`, "expected exactly 5 fields"}},
		{"bad zone", []JobSpec{{Name: "d", Spec: "CRON_TZ=Mars/Olympus 0 3 * * *", Run: JobSweep}}, []string{`job "d"`, "Mars/Olympus"}},
		{"zone without spec", []JobSpec{{Name: "e", Spec: "CRON_TZ=UTC", Run: JobSweep}}, []string{`job "e"`, "names a time zone but no schedule"}},
		{"empty", []JobSpec{{Name: "f", Spec: " ", Run: JobSweep}}, []string{`job "f"`, "the spec is empty"}},
		{"never", []JobSpec{{Name: "g", Spec: "0 0 30 2 *", Run: JobSweep}}, []string{`job "g": spec "0 0 30 2 *" never fires`}},
		{"unknown kind", []JobSpec{{Name: "h", Spec: "@daily", Run: "deploy"}}, []string{`job "h": run "deploy" is not a job kind; want one of status, apply-next-wave, sweep, report`}},
		{"no name", []JobSpec{{Spec: "@daily", Run: JobSweep}}, []string{"job 1 has no name"}},
		{"twice, and all errors", []JobSpec{{Name: "i", Spec: "@daily", Run: JobSweep}, {Name: "i", Spec: "bogus", Run: JobSweep}}, []string{`job "i" is defined twice`, `job "i": spec "bogus"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseJobs(tt.jobs, time.UTC, now)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestScheduleNextTimeZones(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec string
		loc  *time.Location
		from string
		want []string // UTC
	}{
		// Berlin switches to summer time on 2026-03-29: 03:00 local is 02:00 UTC, then 01:00 UTC.
		{"CRON_TZ=Europe/Berlin 0 3 * * *", nil, "2026-03-27T12:00:00Z", []string{"2026-03-28T02:00:00Z", "2026-03-29T01:00:00Z", "2026-03-30T01:00:00Z"}},
		// 02:30 does not exist in Berlin on 2026-03-29: that day is skipped.
		{"CRON_TZ=Europe/Berlin 30 2 * * *", nil, "2026-03-28T12:00:00Z", []string{"2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"}},
		{"TZ=America/New_York 30 9 * * MON-FRI", nil, "2026-06-05T14:00:00Z", []string{"2026-06-08T13:30:00Z", "2026-06-09T13:30:00Z"}},
		{"CRON_TZ=Asia/Kolkata @daily", nil, "2026-06-05T00:00:00Z", []string{"2026-06-05T18:30:00Z", "2026-06-06T18:30:00Z"}},
		// Without CRON_TZ the scheduler's location applies.
		{"0 3 * * *", time.FixedZone("UTC+2", 2*3600), "2026-06-05T00:00:00Z", []string{"2026-06-05T01:00:00Z", "2026-06-06T01:00:00Z"}},
		{"*/15 * * * *", time.UTC, "2026-06-05T00:07:00Z", []string{"2026-06-05T00:15:00Z", "2026-06-05T00:30:00Z"}},
		{"@every 90m", time.UTC, "2026-06-05T00:00:00Z", []string{"2026-06-05T01:30:00Z", "2026-06-05T03:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			t.Parallel()
			from, _ := time.Parse(time.RFC3339, tt.from)
			jobs, err := ParseJobs([]JobSpec{{Name: "j", Spec: tt.spec, Run: JobStatus}}, tt.loc, from)
			if err != nil {
				t.Fatal(err)
			}
			s := &Scheduler{Jobs: jobs}
			runs := s.NextRuns(from, len(tt.want))[0].Next
			var got []string
			for _, r := range runs {
				got = append(got, r.UTC().Format(time.RFC3339))
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("next runs %v, want %v", got, tt.want)
			}
		})
	}
}

// runLog records job runs in a synctest bubble.
type runLog struct {
	mu    sync.Mutex
	times []time.Time
}

func (l *runLog) add(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.times = append(l.times, t)
}

func (l *runLog) get() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.times...)
}

// openLedger opens an in-memory ledger on the bubble's clock; it is closed
// before the bubble ends.
func openLedger(t *testing.T) *ledger.Ledger {
	t.Helper()
	l, err := ledger.Open(context.Background(), ":memory:", ledger.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustJobs(t *testing.T, specs ...JobSpec) []ScheduledJob {
	t.Helper()
	jobs, err := ParseJobs(specs, time.UTC, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

func runs(t *testing.T, l *ledger.Ledger, job string) []ledger.ScheduleRun {
	t.Helper()
	rs, err := l.ScheduleRuns(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestSchedulerRunsOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := openLedger(t)
		defer l.Close()
		start := time.Now() // 2000-01-01T00:00:00Z in the bubble
		var log runLog
		var logs bytes.Buffer
		s := &Scheduler{
			Jobs:  mustJobs(t, JobSpec{Name: "ten", Spec: "*/10 * * * *", Run: JobStatus}, JobSpec{Name: "berlin", Spec: "CRON_TZ=Europe/Berlin 30 1 * * *", Run: JobSweep}),
			Store: l, Owner: "a",
			Funcs: map[string]JobFunc{
				JobStatus: func(ctx context.Context) (RunResult, error) {
					log.add(time.Now())
					return RunResult{Outcome: ledger.OutcomeOK, Message: "fine"}, nil
				},
				JobSweep: func(ctx context.Context) (RunResult, error) {
					return RunResult{}, errors.New("registry down")
				},
			},
			Logger: slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil)),
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(35 * time.Minute)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, at := range log.get() {
			got = append(got, at.Sub(start).String())
		}
		if strings.Join(got, " ") != "10m0s 20m0s 30m0s" {
			t.Errorf("runs at %v, want 10m, 20m and 30m", got)
		}
		// 01:30 in Berlin on 1 January is 00:30 UTC.
		sweeps := runs(t, l, "berlin")
		if len(sweeps) != 1 || sweeps[0].Outcome != ledger.OutcomeFailed || sweeps[0].Message != "registry down" || !sweeps[0].Started.Equal(start.Add(30*time.Minute)) {
			t.Errorf("berlin runs = %+v", sweeps)
		}
		if rs := runs(t, l, "ten"); len(rs) != 3 || rs[0].Outcome != ledger.OutcomeOK || rs[0].Owner != "a" || rs[0].Finished == nil {
			t.Errorf("ten runs = %+v", rs)
		}
		evs, err := l.Events(context.Background(), ledger.EventFilter{Kind: ledger.EventScheduleRun})
		if err != nil || len(evs) != 4 {
			t.Errorf("%d schedule.run events (%v), want 4", len(evs), err)
		}
		for _, want := range []string{`msg="next run" job=ten run=status at=2000-01-01T00:10:00Z`, `job=berlin run=sweep at=2000-01-01T01:30:00+01:00`, "scheduler stopped"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("log does not contain %q:\n%s", want, logs.String())
			}
		}
		if _, err := l.LockHolder(context.Background(), SchedulerLock); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("lock still held after stop: %v", err)
		}
	})
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestSchedulerSkipsOverlap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := openLedger(t)
		defer l.Close()
		var log runLog
		s := &Scheduler{
			Jobs:  mustJobs(t, JobSpec{Name: "slow", Spec: "* * * * *", Run: JobStatus}),
			Store: l, Owner: "a",
			Funcs: map[string]JobFunc{JobStatus: func(ctx context.Context) (RunResult, error) {
				log.add(time.Now())
				time.Sleep(150 * time.Second)
				return RunResult{Outcome: ledger.OutcomeOK}, nil
			}},
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(5*time.Minute + 30*time.Second)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// Starts at 1m (runs to 3m30s), skips 2m and 3m, starts at 4m (to
		// 6m30s: the stop waits for it), skips 5m.
		if n := len(log.get()); n != 2 {
			t.Errorf("%d runs started, want 2", n)
		}
		var ok, skipped int
		for _, r := range runs(t, l, "slow") {
			switch r.Outcome {
			case ledger.OutcomeOK:
				ok++
			case ledger.OutcomeSkipped:
				skipped++
				if r.Message != "the previous run was still going" {
					t.Errorf("skip message %q", r.Message)
				}
			default:
				t.Errorf("run %+v", r)
			}
		}
		if ok != 2 || skipped != 3 {
			t.Errorf("%d ok, %d skipped runs; want 2 and 3", ok, skipped)
		}
	})
}

func TestSchedulerLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := openLedger(t)
		defer l.Close()
		var ranBy sync.Map
		mk := func(owner string) *Scheduler {
			return &Scheduler{
				Jobs:  mustJobs(t, JobSpec{Name: "tick", Spec: "* * * * *", Run: JobStatus}),
				Store: l, Owner: owner, LockTTL: 90 * time.Second,
				Funcs: map[string]JobFunc{JobStatus: func(ctx context.Context) (RunResult, error) {
					n, _ := ranBy.LoadOrStore(owner, new(int))
					*n.(*int)++
					return RunResult{Outcome: ledger.OutcomeOK}, nil
				}},
			}
		}
		ctxA, stopA := context.WithCancel(t.Context())
		ctxB, stopB := context.WithCancel(t.Context())
		doneA, doneB := make(chan error), make(chan error)
		go func() { doneA <- mk("a").Run(ctxA) }()
		synctest.Wait()
		go func() { doneB <- mk("b").Run(ctxB) }()

		// Ten minutes: a holds the lock (renewing it every 30 s), b waits.
		time.Sleep(10*time.Minute + 30*time.Second)
		synctest.Wait()
		if _, ok := ranBy.Load("b"); ok {
			t.Fatal("the standby scheduler ran a job while the other held the lock")
		}
		if n, _ := ranBy.Load("a"); n == nil || *n.(*int) != 10 {
			t.Fatalf("a ran %v jobs, want 10", n)
		}
		if _, err := mk("c").RunOnce(t.Context(), "tick"); !errors.Is(err, ledger.ErrLocked) || !strings.Contains(err.Error(), `job "tick" not run: another scheduler holds the lock`) {
			t.Errorf("RunOnce while locked: %v", err)
		}

		// a stops and releases the lock: b takes over within a third of the TTL.
		stopA()
		if err := <-doneA; err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		if n, _ := ranBy.Load("b"); n == nil || *n.(*int) < 2 {
			t.Errorf("b ran %v jobs after taking over, want at least 2", n)
		}
		holder, err := l.LockHolder(context.Background(), SchedulerLock)
		if err != nil || holder.Owner != "b" {
			t.Errorf("lock holder %+v, %v", holder, err)
		}
		stopB()
		if err := <-doneB; err != nil {
			t.Fatal(err)
		}
	})
}

func TestSchedulerLockLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := openLedger(t)
		defer l.Close()
		s := &Scheduler{
			Jobs:  mustJobs(t, JobSpec{Name: "tick", Spec: "@every 1h", Run: JobStatus}),
			Store: l, Owner: "a", LockTTL: time.Minute,
			Funcs: map[string]JobFunc{JobStatus: func(ctx context.Context) (RunResult, error) { return RunResult{}, nil }},
		}
		done := make(chan error)
		go func() { done <- s.Run(t.Context()) }()
		synctest.Wait()
		// Someone takes the lock over (as after a long pause of a).
		if err := l.ReleaseLock(context.Background(), SchedulerLock, "a"); err != nil {
			t.Fatal(err)
		}
		if _, err := l.AcquireLock(context.Background(), SchedulerLock, "z", time.Hour); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, ErrLockLost) {
				t.Errorf("Run returned %v, want ErrLockLost", err)
			}
		case <-time.After(time.Hour):
			t.Fatal("the scheduler went on after losing its lock")
		}
	})
}

func TestSchedulerGracefulStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := openLedger(t)
		defer l.Close()
		started := make(chan struct{})
		var finished time.Time
		var sawCancel bool
		s := &Scheduler{
			Jobs:  mustJobs(t, JobSpec{Name: "wave", Spec: "0 * * * *", Run: JobApplyNextWave}),
			Store: l, Owner: "a", LockTTL: time.Minute,
			Funcs: map[string]JobFunc{JobApplyNextWave: func(ctx context.Context) (RunResult, error) {
				close(started)
				<-ctx.Done() // SIGTERM arrives while repositories are in flight
				sawCancel = true
				time.Sleep(5 * time.Minute) // they finish (longer than the lock's TTL)
				finished = time.Now()
				return RunResult{Outcome: ledger.OutcomeOK, Message: "3 ok"}, nil
			}},
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		<-started
		stopAt := time.Now()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !sawCancel || finished.Sub(stopAt) != 5*time.Minute || time.Since(stopAt) != 5*time.Minute {
			t.Errorf("Run returned %s after the stop, the job finished %s after it", time.Since(stopAt), finished.Sub(stopAt))
		}
		rs := runs(t, l, "wave")
		if len(rs) != 1 || rs[0].Outcome != ledger.OutcomeOK || !strings.Contains(rs[0].Message, "3 ok (stopped early") || rs[0].Finished == nil || !rs[0].Finished.Equal(finished) {
			t.Errorf("runs = %+v", rs)
		}
		if _, err := l.LockHolder(context.Background(), SchedulerLock); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("lock not released: %v", err)
		}
	})
}

func TestRunOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := openLedger(t)
		defer l.Close()
		s := &Scheduler{
			Jobs:        mustJobs(t, JobSpec{Name: "nightly", Spec: "@daily", Run: JobSweep}, JobSpec{Name: "weekly", Spec: "@weekly", Run: JobReport}),
			Store:       l,
			Owner:       "once",
			Unavailable: map[string]string{JobReport: "this build has no report package"},
			Funcs: map[string]JobFunc{JobSweep: func(ctx context.Context) (RunResult, error) {
				return RunResult{Outcome: ledger.OutcomeOK, Message: "2 reminders"}, nil
			}},
		}
		res, err := s.RunOnce(t.Context(), "nightly")
		if err != nil || res.Outcome != ledger.OutcomeOK {
			t.Fatalf("RunOnce = %+v, %v", res, err)
		}
		if rs := runs(t, l, "nightly"); len(rs) != 1 || rs[0].Message != "2 reminders" || rs[0].Owner != "once" {
			t.Errorf("runs = %+v", rs)
		}
		if _, err := s.RunOnce(t.Context(), "monthly"); err == nil || err.Error() != `no job "monthly" in the config; jobs: nightly, weekly` {
			t.Errorf("unknown job: %v", err)
		}
		if _, err := s.RunOnce(t.Context(), "weekly"); err == nil || err.Error() != `job "weekly" cannot run: this build has no report package` {
			t.Errorf("unavailable job: %v", err)
		}
		if _, err := l.LockHolder(context.Background(), SchedulerLock); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("lock not released: %v", err)
		}
		next := s.NextRuns(time.Now(), 2)
		if next[1].Unavailable == "" || len(next[0].Next) != 2 {
			t.Errorf("NextRuns = %+v", next)
		}
	})
}

// TestJobPanic: a job that panics is recorded as failed with a hint naming
// the first frame of cutover's own code, and its stack is logged at error
// level.
func TestJobPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := openLedger(t)
		defer l.Close()
		var logs bytes.Buffer
		s := &Scheduler{
			Jobs:  mustJobs(t, JobSpec{Name: "nightly", Spec: "@daily", Run: JobSweep}),
			Store: l, Owner: "once",
			Funcs: map[string]JobFunc{JobSweep: func(ctx context.Context) (RunResult, error) {
				panic("boom")
			}},
			Logger: slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, nil)),
		}
		res, err := s.RunOnce(t.Context(), "nightly")
		if err != nil || res.Outcome != ledger.OutcomeFailed ||
			!strings.HasPrefix(res.Message, "internal error: boom (a bug in cutover at schedule/schedule_test.go:") {
			t.Errorf("RunOnce = %+v, %v", res, err)
		}
		if rs := runs(t, l, "nightly"); len(rs) != 1 || rs[0].Message != res.Message {
			t.Errorf("runs = %+v", rs)
		}
		if !strings.Contains(logs.String(), `"level":"ERROR","msg":"internal error: a panic stopped the job"`) ||
			!strings.Contains(logs.String(), `"stack":"goroutine `) || !strings.Contains(logs.String(), "schedule.TestJobPanic") {
			t.Errorf("log:\n%s", logs.String())
		}
	})
}

// TestLockHeldByCaller: a scheduler whose caller holds the lock (the
// command's campaign lock) runs under it and leaves it held, for the caller
// to release when it is done.
func TestLockHeldByCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := openLedger(t)
		defer l.Close()
		if _, err := l.AcquireLock(t.Context(), SchedulerLock, "command", time.Minute); err != nil {
			t.Fatal(err)
		}
		s := &Scheduler{
			Jobs:  mustJobs(t, JobSpec{Name: "nightly", Spec: "@daily", Run: JobSweep}),
			Store: l, Owner: "command", LockHeld: true,
			Funcs: map[string]JobFunc{JobSweep: func(ctx context.Context) (RunResult, error) {
				return RunResult{Outcome: ledger.OutcomeOK}, nil
			}},
		}
		if res, err := s.RunOnce(t.Context(), "nightly"); err != nil || res.Outcome != ledger.OutcomeOK {
			t.Fatalf("RunOnce = %+v, %v", res, err)
		}
		if h, err := l.LockHolder(context.Background(), SchedulerLock); err != nil || h.Owner != "command" {
			t.Errorf("after RunOnce the lock is %+v, %v; want it still held by the command", h, err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(time.Minute)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if h, err := l.LockHolder(context.Background(), SchedulerLock); err != nil || h.Owner != "command" {
			t.Errorf("after Run the lock is %+v, %v; want it still held by the command", h, err)
		}
	})
}
