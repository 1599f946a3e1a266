package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8"

	"github.com/cutover/cutover/batch"
	gh "github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/logging"
)

// TestETASmoothed feeds the estimator the times of the run (pull
// requests paced about 9 s apart, some fast, some slow) and checks the ETA
// moves steadily: it never jumps by more than a third between repositories
// once a few are done, where the plain average of the last one would.
func TestETASmoothed(t *testing.T) {
	t.Parallel()
	steps := []float64{0.4, 9.1, 8.7, 2.0, 15.3, 9.0, 8.9, 9.4, 1.1, 17.8, 9.0, 9.2, 8.8, 9.1, 3.0, 12.5, 9.0, 9.0, 8.9, 9.3}
	total := len(steps) + 1
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	var e eta
	e.update(0, now)
	if got := e.left(total, now); got != -1 {
		t.Errorf("ETA before any repository is %v, want unknown", got)
	}
	prev := time.Duration(-1)
	for i, s := range steps {
		now = now.Add(time.Duration(s * float64(time.Second)))
		e.update(i+1, now)
		left := e.left(total, now)
		if left < 0 {
			t.Fatalf("after %d: ETA unknown", i+1)
		}
		if i >= etaWarmup && prev > 0 {
			if ratio := float64(left) / float64(prev); ratio > 1.34 || ratio < 0.5 {
				t.Errorf("after %d repositories the ETA jumped from %v to %v", i+1, prev, left)
			}
		}
		prev = left
	}
	if r := e.rate(); r < 1.0/12 || r > 1.0/6 {
		t.Errorf("rate %.3f/s, want about one repository per 9 s", r)
	}
	e.update(total, now.Add(9*time.Second))
	if got := e.left(total, now.Add(9*time.Second)); got != 0 {
		t.Errorf("ETA when all are done: %v", got)
	}
}

func TestPaceLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		p    gh.Pace
		want string
	}{
		{"nothing waits", gh.Pace{Bottleneck: gh.BottleneckNone, WriteInterval: time.Second, ContentPerMinute: 64, ContentPerHour: 400}, ""},
		{"one write waiting", gh.Pace{Bottleneck: gh.BottleneckWrites, WriteInterval: time.Second, WaitingWrites: 1, ContentPerMinute: 64, ContentPerHour: 400}, ""},
		{"writes queued", gh.Pace{Bottleneck: gh.BottleneckWrites, WriteInterval: time.Second, WaitingWrites: 6, ContentPerMinute: 64, ContentPerHour: 400},
			"paced: writes go 1s apart, as GitHub asks (6 waiting)"},
		{"content per hour", gh.Pace{Bottleneck: gh.BottleneckHour, WriteInterval: time.Second, ContentPerMinute: 64, ContentPerHour: 400},
			"paced: one pull request per 9s to stay under GitHub's content-creation limit"},
		{"content per minute", gh.Pace{Bottleneck: gh.BottleneckMinute, WriteInterval: time.Second, ContentPerMinute: 20, ContentPerHour: -1},
			"paced: one pull request per 3s to stay under GitHub's content-creation limit"},
		{"secondary pause", gh.Pace{Bottleneck: gh.BottleneckSecondary, Until: time.Date(2026, 1, 1, 9, 1, 0, 0, time.UTC), ContentPerMinute: 64, ContentPerHour: 400},
			"paced: secondary-limit pause until 09:01:00"},
	} {
		if got := paceLine(tc.p); !strings.HasPrefix(got, tc.want) || (tc.want == "") != (got == "") {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestProgressJSON checks the progress events off a terminal: one at the
// start of a phase and one every 10%, with the rate and the ETA.
func TestProgressJSON(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	app := &App{Err: &logs, Now: func() time.Time { return now }}
	app.Logger = logging.New(&logs, logging.Options{Format: logging.FormatJSON, Terminal: func(io.Writer) bool { return false }})
	pace := func() gh.Pace {
		return gh.Pace{Bottleneck: gh.BottleneckHour, WriteInterval: time.Second, ContentPerMinute: 64, ContentPerHour: 400}
	}
	report, wait := app.progress(pace)
	for i := 0; i <= 20; i++ {
		report("apply", i, 0, 20)
		now = now.Add(9 * time.Second)
	}
	wait()
	var events []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		events = append(events, ev)
	}
	if len(events) != 11 {
		t.Fatalf("%d progress events, want 11 (start, then every 10%%):\n%s", len(events), logs.String())
	}
	if events[0]["done"] != 0.0 || events[0]["eta_s"] != nil {
		t.Errorf("first event %v, want done 0 without an ETA", events[0])
	}
	mid := events[5]
	if mid["done"] != 10.0 || math.Abs(mid["rate_per_s"].(float64)-0.11) > 0.005 || mid["eta_s"] != 90.0 {
		t.Errorf("half way: %v, want rate 0.11/s and ETA 90 s", mid)
	}
	if p, _ := mid["paced"].(string); !strings.HasPrefix(p, "paced: one pull request per 9s") {
		t.Errorf("half way, paced = %q", p)
	}
}

// TestLogsAboveBars writes log lines while a bar runs: each arrives whole,
// on a line of its own, not inside a bar's line.
func TestLogsAboveBars(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	sw := &switchWriter{w: &out, base: &out}
	p := mpb.New(mpb.WithOutput(&out), mpb.WithWidth(20), mpb.WithRefreshRate(5*time.Millisecond), mpb.WithAutoRefresh())
	sw.set(p)
	bar := p.AddBar(10)
	for i := range 10 {
		if _, err := sw.Write([]byte("INF repository done repo=acme/r" + string(rune('0'+i)) + "\n")); err != nil {
			t.Fatal(err)
		}
		bar.SetCurrent(int64(i + 1))
		time.Sleep(10 * time.Millisecond)
	}
	p.Wait()
	sw.set(&out)
	if _, err := sw.Write([]byte("INF after the bars\n")); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for i := range 10 {
		line := "INF repository done repo=acme/r" + string(rune('0'+i)) + "\n"
		j := strings.Index(text, line)
		if j < 0 {
			t.Fatalf("log line %d missing from:\n%q", i, text)
		}
		if j > 0 && text[j-1] != '\n' && text[j-1] != 'K' && text[j-1] != '\r' {
			t.Errorf("log line %d does not start a line: %q", i, text[max(0, j-20):j+len(line)])
		}
	}
	if !strings.HasSuffix(text, "INF after the bars\n") {
		t.Errorf("a line after the bars did not go to the output:\n%q", text)
	}
}

// TestSummaryNotCut checks that a summary written to a file keeps every
// detail whole, where a terminal gets it cut.
func TestSummaryNotCut(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("the push was rejected by a branch protection rule ", 8)
	sum := batch.Summary{Step: "apply", Outcomes: []batch.Outcome{{Repo: "acme/widget", Kind: batch.Failed, Reason: "push rejected", Detail: long}}}
	var out bytes.Buffer
	app := &App{Out: &out, Redactor: &logging.Redactor{}}
	if err := app.writeSummary("text", sum, nil); err != ErrFindings {
		t.Fatalf("writeSummary: %v", err)
	}
	if strings.Contains(out.String(), "…") || strings.Count(out.String(), strings.TrimSpace(long)) != 2 {
		t.Errorf("the summary cut a detail off a terminal:\n%s", out.String())
	}
	var cut bytes.Buffer
	sum.Write(&cut, nil)
	if !strings.Contains(cut.String(), "…") {
		t.Errorf("Summary.Write does not cut long details:\n%s", cut.String())
	}
}
