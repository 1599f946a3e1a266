package cli

import (
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	gh "github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/logging"
)

// switchWriter is the logger's output: Err, or the progress bars while
// they run (mpb prints what is written to it above the bars).
type switchWriter struct {
	mu sync.Mutex
	w  io.Writer
	// base is Err, where a line goes when the bars have just stopped.
	base io.Writer
}

func (s *switchWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	w := s.w
	s.mu.Unlock()
	n, err := w.Write(b)
	if err != nil && w != s.base {
		return s.base.Write(b)
	}
	return n, err
}

// set makes w the output and returns the previous one.
func (s *switchWriter) set(w io.Writer) io.Writer {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.w
	s.w = w
	return old
}

// etaAlpha weighs the latest repository's time in the smoothed time per
// repository: small enough that one slow or fast repository does not make
// the ETA jump, large enough to follow a change of pace within a dozen.
const etaAlpha = 0.15

// etaWarmup is how many repositories the ETA averages plainly before it
// smooths: one quick first repository must not set the pace.
const etaWarmup = 5

// eta estimates a phase's rate and time left from an exponentially
// weighted moving average of the time each repository takes.
type eta struct {
	start, last time.Time
	done        int
	per         float64 // smoothed seconds per repository; 0 before the first
}

// update records that done repositories are finished at now.
func (e *eta) update(done int, now time.Time) {
	if e.start.IsZero() {
		e.start, e.last = now, now
	}
	if done <= e.done {
		return
	}
	dt := now.Sub(e.last).Seconds() / float64(done-e.done)
	if done < etaWarmup || e.per == 0 {
		// The first few: the average so far, which includes start-up.
		e.per = now.Sub(e.start).Seconds() / float64(done)
	} else {
		// Weigh each repository of a batch finished at once.
		for range done - e.done {
			e.per = etaAlpha*dt + (1-etaAlpha)*e.per
		}
	}
	e.done, e.last = done, now
}

// rate is repositories per second; 0 before the first is done.
func (e *eta) rate() float64 {
	if e.per <= 0 {
		return 0
	}
	return 1 / e.per
}

// left is the estimated time until total are done, counted from now; -1
// when unknown.
func (e *eta) left(total int, now time.Time) time.Duration {
	if e.per <= 0 {
		return -1
	}
	if total <= e.done {
		return 0
	}
	s := e.per*float64(total-e.done) - now.Sub(e.last).Seconds()
	return time.Duration(math.Max(s, 0) * float64(time.Second)).Round(time.Second)
}

// fmtETA renders a time left for the bar: "ETA 1m12s", or "ETA …" when unknown.
func fmtETA(d time.Duration) string {
	if d < 0 {
		return "ETA …"
	}
	return "ETA " + d.String()
}

// paceLine says why the forge's pacing holds the work back, or "" when it
// does not: "paced: one pull request per 9s to stay under GitHub's
// content-creation limit" when content creation waits for its windows,
// the write spacing when writes queue for it, or a rate-limit pause.
func paceLine(p gh.Pace) string {
	switch p.Bottleneck {
	case gh.BottleneckMinute, gh.BottleneckHour:
		every := p.WriteInterval
		if p.ContentPerMinute > 0 {
			every = max(every, time.Minute/time.Duration(p.ContentPerMinute))
		}
		if p.ContentPerHour > 0 {
			every = max(every, time.Hour/time.Duration(p.ContentPerHour))
		}
		return fmt.Sprintf("paced: one pull request per %s to stay under GitHub's content-creation limit", every.Round(time.Second))
	case gh.BottleneckWrites:
		if p.WaitingWrites < 2 {
			return "" // one write waiting its second is no bottleneck
		}
		return fmt.Sprintf("paced: writes go %s apart, as GitHub asks (%d waiting)", p.WriteInterval.Round(time.Millisecond), p.WaitingWrites)
	case gh.BottleneckSecondary, gh.BottleneckPrimary:
		return p.String()
	}
	return ""
}

// progress reports phase progress on stderr: a bar per phase (done,
// failed, rate, smoothed ETA, and why pacing holds it back) on a terminal,
// shown from the phase's start; otherwise a log line every 10% with the
// same figures. While bars run, log lines print above them. pace, when
// not nil, is the forge's pacing. The returned wait func flushes the
// bars; call it when the command's work is over.
func (app *App) progress(pace func() gh.Pace) (report func(phase string, done, failed, total int), wait func()) {
	var (
		mu   sync.Mutex
		etas = map[string]*eta{}
	)
	paced := func() string {
		if pace == nil {
			return ""
		}
		return paceLine(pace())
	}
	if !app.Color || !logging.IsTerminal(app.Err) {
		last := map[string]int{}
		return func(phase string, done, failed, total int) {
			if total == 0 {
				return
			}
			mu.Lock()
			e := etas[phase]
			if e == nil {
				e = &eta{}
				etas[phase] = e
			}
			now := app.Now()
			e.update(done, now)
			rate, left := e.rate(), e.left(total, now)
			pct := 100 * done / total
			prev, seen := last[phase]
			report := !seen || pct/10 != prev/10 || done == total
			if report {
				last[phase] = pct
			}
			mu.Unlock()
			if !report {
				return
			}
			args := []any{"phase", phase, "done", done, "failed", failed, "total", total,
				"rate_per_s", math.Round(rate*100) / 100}
			if left >= 0 {
				args = append(args, "eta_s", int(left.Seconds()))
			}
			if p := paced(); p != "" {
				args = append(args, "paced", p)
			}
			app.Logger.Info("progress", args...)
		}, func() {}
	}
	var (
		p      *mpb.Progress
		bars   = map[string]*mpb.Bar{}
		failed = map[string]int{}
		totals = map[string]int{}
	)
	report = func(phase string, done, nfailed, total int) {
		mu.Lock()
		defer mu.Unlock()
		if p == nil {
			p = mpb.New(mpb.WithOutput(app.Err), mpb.WithWidth(30), mpb.WithRefreshRate(200*time.Millisecond))
			if app.logOut != nil {
				app.logOut.set(p)
			}
		}
		failed[phase], totals[phase] = nfailed, total
		e := etas[phase]
		if e == nil {
			e = &eta{}
			etas[phase] = e
		}
		e.update(done, app.Now())
		bar, ok := bars[phase]
		if !ok {
			bar = p.AddBar(int64(total),
				mpb.PrependDecorators(decor.Name(phase, decor.WC{W: len(phase) + 1, C: decor.DindentRight}), decor.CountersNoUnit("%d/%d")),
				mpb.AppendDecorators(
					decor.Any(func(st decor.Statistics) string {
						mu.Lock()
						defer mu.Unlock()
						e := etas[phase]
						s := fmt.Sprintf("%d failed", failed[phase])
						if r := e.rate(); r > 0 {
							s += fmt.Sprintf(", %.1f/s", r)
						}
						if st.Completed {
							return s + ", done"
						}
						s += ", " + fmtETA(e.left(totals[phase], app.Now()))
						if line := paced(); line != "" {
							s += " · " + line
						}
						return s
					}),
				))
			bars[phase] = bar
		}
		bar.SetCurrent(int64(done))
	}
	wait = func() {
		mu.Lock()
		pp := p
		for _, b := range bars {
			if !b.Completed() {
				b.Abort(false) // interrupted: the bar stays, as it stopped
			}
		}
		mu.Unlock()
		if pp != nil {
			pp.Wait()
			if app.logOut != nil {
				app.logOut.set(app.Err)
			}
		}
	}
	return report, wait
}
