package github

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	gh "github.com/google/go-github/v66/github"
)

// sent is one request the fake server saw.
type sent struct {
	at           time.Time
	method, path string
}

// fakeAPI is an in-memory RoundTripper: answer decides each response (nil
// means 200 {}), delay is how long each request takes.
type fakeAPI struct {
	answer func(n int, r *http.Request) *http.Response
	delay  time.Duration

	mu        sync.Mutex
	sent      []sent
	inFlight  int
	maxFlight int
}

func (f *fakeAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	f.mu.Lock()
	n := len(f.sent)
	f.sent = append(f.sent, sent{time.Now(), r.Method, r.URL.Path})
	f.inFlight++
	f.maxFlight = max(f.maxFlight, f.inFlight)
	f.mu.Unlock()
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	f.mu.Lock()
	f.inFlight--
	f.mu.Unlock()
	if f.answer != nil {
		if resp := f.answer(n, r); resp != nil {
			resp.Request = r
			return resp, nil
		}
	}
	if strings.HasSuffix(r.URL.Path, "/labels") {
		return answer(200, "[]", nil), nil
	}
	return answer(200, "{}", nil), nil
}

func (f *fakeAPI) log() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.sent...)
}

// answer builds a response.
func answer(status int, body string, hdr map[string]string) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range hdr {
		h.Set(k, v)
	}
	return &http.Response{StatusCode: status, Status: strconv.Itoa(status) + " " + http.StatusText(status),
		Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

const secondaryBody = `{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`

// newFake builds a Forge on a fake API inside a synctest bubble, with no
// jitter.
func newFake(t *testing.T, api *fakeAPI, lim Limits) *Forge {
	t.Helper()
	f, err := New(t.Context(), Options{APIURL: "http://api.invalid/api/v3/", Token: "t", Transport: api, Limits: lim,
		Rand: func() float64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// gaps returns the time between consecutive requests.
func gaps(s []sent) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(s); i++ {
		out = append(out, s[i].at.Sub(s[i-1].at))
	}
	return out
}

// run calls fn n times at once and waits.
func run(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}

func TestWritesAreSerialAndSpaced(t *testing.T) {
	tests := []struct {
		name       string
		delay, gap time.Duration
	}{
		{"fast answers: 1 s from start to start", 200 * time.Millisecond, time.Second},
		{"slow answers: one at a time", 1500 * time.Millisecond, 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &fakeAPI{delay: tt.delay}
				f := newFake(t, api, Limits{})
				run(5, func(i int) {
					if _, err := f.client.Actions.UpdateRepoVariable(t.Context(), "o", "r", &gh.ActionsVariable{Name: "V", Value: "x"}); err != nil {
						t.Error(err)
					}
				})
				for _, g := range gaps(api.log()) {
					if g != tt.gap {
						t.Errorf("gap %v, want %v", g, tt.gap)
					}
				}
				if api.maxFlight != 1 {
					t.Errorf("%d writes in flight", api.maxFlight)
				}
				if st := f.Stats(); st.Writes != 5 || st.Content != 0 {
					t.Errorf("stats %+v", st)
				}
			})
		})
	}
}

// createPRs opens n pull requests at once through f.
func createPRs(t *testing.T, f *Forge, n int) {
	run(n, func(int) {
		if _, _, err := f.client.PullRequests.Create(t.Context(), "o", "r", &gh.NewPullRequest{Title: gh.String("t")}); err != nil {
			t.Error(err)
		}
	})
}

// TestContentWindows checks that content requests go as soon as both
// sliding windows have room: want gives the time of some requests after
// the first.
func TestContentWindows(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name string
		lim  Limits
		n    int
		want map[int]time.Duration
	}{
		{"defaults: the writes' second binds", Limits{}, 6, map[int]time.Duration{1: time.Second, 5: 5 * time.Second}},
		{"minute window", Limits{WriteInterval: ms, ContentPerMinute: 10, ContentPerHour: -1, Margin: 1}, 12,
			map[int]time.Duration{9: 9 * ms, 10: time.Minute, 11: time.Minute + ms}},
		{"95% of 80 a minute", Limits{WriteInterval: ms, ContentPerHour: -1}, 77,
			map[int]time.Duration{75: 75 * ms, 76: time.Minute}},
		{"hour window", Limits{WriteInterval: ms, ContentPerMinute: -1, ContentPerHour: 5, Margin: 1}, 7,
			map[int]time.Duration{4: 4 * ms, 5: time.Hour, 6: time.Hour + ms}},
		{"95% of 500 an hour", Limits{WriteInterval: ms, ContentPerMinute: -1}, 476,
			map[int]time.Duration{474: 474 * ms, 475: time.Hour}},
		{"both windows", Limits{WriteInterval: ms, ContentPerMinute: 3, ContentPerHour: 4, Margin: 1}, 6,
			map[int]time.Duration{2: 2 * ms, 3: time.Minute, 4: time.Hour, 5: time.Hour + ms}},
		{"time-scaled 60×", Limits{TimeScale: 60, ContentPerMinute: 10, ContentPerHour: -1, Margin: 1}, 11,
			map[int]time.Duration{1: time.Second / 60, 9: 9 * (time.Second / 60), 10: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &fakeAPI{}
				f := newFake(t, api, tt.lim)
				createPRs(t, f, tt.n)
				s := api.log()
				if len(s) != tt.n {
					t.Fatalf("%d requests", len(s))
				}
				for i, want := range tt.want {
					if got := s[i].at.Sub(s[0].at); got != want {
						t.Errorf("request %d at %v, want %v", i, got, want)
					}
				}
				if st := f.Stats(); st.Content != int64(tt.n) || st.Writes != int64(tt.n) {
					t.Errorf("stats %+v", st)
				}
			})
		})
	}
}

// TestWritesGoWhileContentWaits checks that a content request waiting for
// its window does not hold up other writes.
func TestWritesGoWhileContentWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{}
		f := newFake(t, api, Limits{ContentPerMinute: 2, ContentPerHour: -1, Margin: 1})
		start := time.Now()
		createPRs(t, f, 2)
		run(2, func(i int) {
			if i == 0 {
				createPRs(t, f, 1)
				return
			}
			time.Sleep(10 * time.Second)
			if _, _, err := f.client.Issues.AddLabelsToIssue(t.Context(), "o", "r", 1, []string{"x"}); err != nil {
				t.Error(err)
			}
		})
		s := api.log()
		if len(s) != 4 || !strings.HasSuffix(s[2].path, "/labels") || s[2].at.Sub(start) != 11*time.Second || s[3].at.Sub(start) != time.Minute {
			for _, x := range s {
				t.Logf("%v %s %s", x.at.Sub(start), x.method, x.path)
			}
			t.Error("want the label at 11s and the third pull request at 1m")
		}
	})
}

func TestSecondaryLimitWaitsExactlyAndShrinksTheWindows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{answer: func(n int, r *http.Request) *http.Response {
			if n == 1 {
				return answer(403, secondaryBody, map[string]string{"Retry-After": "30", "X-RateLimit-Remaining": "4000"})
			}
			return nil
		}}
		f := newFake(t, api, Limits{})
		start := time.Now()
		create := func() {
			if _, _, err := f.client.PullRequests.Create(t.Context(), "o", "r", &gh.NewPullRequest{Title: gh.String("t")}); err != nil {
				t.Error(err)
			}
		}
		create() // t=0
		var labelAt time.Time
		run(2, func(i int) {
			if i == 0 {
				create() // t=1: refused, retried at exactly 31
				return
			}
			time.Sleep(10 * time.Second) // during the pause
			if _, _, err := f.client.Issues.AddLabelsToIssue(t.Context(), "o", "r", 1, []string{"x"}); err != nil {
				t.Error(err)
			}
			labelAt = time.Now()
		})
		s := api.log()
		at := func(i int) time.Duration { return s[i].at.Sub(start) }
		// After the pause the label and the retry go, a second apart.
		if at(1) != time.Second || at(2) != 31*time.Second || at(3) != 32*time.Second || strings.HasSuffix(s[2].path, "/pulls") == strings.HasSuffix(s[3].path, "/pulls") {
			t.Errorf("refused at %v, then %s at %v and %s at %v; want 1s, 31s and 32s", at(1), s[2].path, at(2), s[3].path, at(3))
		}
		if labelAt.Sub(start) < 31*time.Second {
			t.Errorf("the label went at %v, during the pause", labelAt.Sub(start))
		}
		p := f.Pace()
		// 76 a minute becomes 3/4 of max(19, 2 used) = 14; 475 an hour 356.
		if p.ContentPerMinute != 14 || p.ContentPerHour != 356 || p.Shrinks != 1 {
			t.Errorf("after one secondary limit: %+v", p)
		}
		if st := f.Stats(); st.SecondaryLimits != 1 || st.Content != 3 || st.Writes != 4 {
			t.Errorf("stats %+v", st)
		}
		// The shrunk minute window holds for the rest of the run: 14 in any
		// minute, 3 of them already used.
		createPRs(t, f, 12)
		s = api.log()
		if got := s[len(s)-1].at.Sub(start); got != time.Minute {
			t.Errorf("the 12th pull request after the pause went at %v, want 1m (when the first leaves the minute)", got)
		}
	})
}

// TestNoRetryStorm sends 20 pull requests at once to a server that refuses
// every content request for its first 45 s: the refused request is retried
// only after each pause, alone, and every other waits its turn.
func TestNoRetryStorm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		api := &fakeAPI{answer: func(n int, r *http.Request) *http.Response {
			if time.Since(start) < 45*time.Second {
				return answer(429, secondaryBody, map[string]string{"Retry-After": "20"})
			}
			return nil
		}}
		f := newFake(t, api, Limits{})
		createPRs(t, f, 20)
		s := api.log()
		var refusedAt []time.Duration
		for _, x := range s {
			if x.at.Sub(start) < 45*time.Second {
				refusedAt = append(refusedAt, x.at.Sub(start))
			}
		}
		if want := []time.Duration{0, 20 * time.Second, 40 * time.Second}; !slices.Equal(refusedAt, want) {
			t.Errorf("refused attempts at %v, want %v", refusedAt, want)
		}
		if len(s) != 20+len(refusedAt) {
			t.Errorf("%d attempts for 20 pull requests and %d refusals", len(s), len(refusedAt))
		}
		for _, g := range gaps(s) {
			if g < time.Second {
				t.Errorf("two attempts %v apart", g)
			}
		}
		if st := f.Stats(); st.SecondaryLimits != 3 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestRefusedReadsShrinkReads checks that refused reads pause reads for
// exactly the retry-after and leave fewer reads in flight.
func TestRefusedReadsShrinkReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		api := &fakeAPI{delay: time.Second, answer: func(n int, r *http.Request) *http.Response {
			if n < 8 {
				return answer(403, secondaryBody, map[string]string{"Retry-After": "5"})
			}
			return nil
		}}
		f := newFake(t, api, Limits{})
		run(16, func(i int) {
			if _, _, err := f.client.Repositories.Get(t.Context(), "o", "r"); err != nil {
				t.Error(err)
			}
		})
		s := api.log()
		for _, x := range s[8:] {
			if x.at.Sub(start) < 6*time.Second {
				t.Errorf("a read at %v, during the pause", x.at.Sub(start))
			}
		}
		if api.maxFlight != 8 || f.Pace().Shrinks != 1 {
			t.Errorf("%d in flight, %+v", api.maxFlight, f.Pace())
		}
		api.mu.Lock()
		api.maxFlight = 0
		api.mu.Unlock()
		run(16, func(i int) {
			if _, _, err := f.client.Repositories.Get(t.Context(), "o", "r"); err != nil {
				t.Error(err)
			}
		})
		if api.maxFlight != 6 {
			t.Errorf("%d reads in flight after the shrink, want 6", api.maxFlight)
		}
	})
}

// TestPace checks the read-only state a progress line shows.
func TestPace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{}
		f := newFake(t, api, Limits{ContentPerMinute: 2, ContentPerHour: 3, Margin: 1})
		start := time.Now()
		if p := f.Pace(); p.Bottleneck != BottleneckNone || p.String() != "paced: nothing waiting; content 0/2 a minute, 0/3 an hour" {
			t.Errorf("idle: %+v %q", p, p)
		}
		done := make(chan struct{})
		go func() {
			createPRs(t, f, 4)
			close(done)
		}()
		time.Sleep(500 * time.Millisecond)
		if p := f.Pace(); p.Bottleneck != BottleneckWrites || p.WaitingWrites != 3 {
			t.Errorf("at 0.5s: %+v", p)
		}
		time.Sleep(2 * time.Second)
		p := f.Pace()
		if p.Bottleneck != BottleneckMinute || !p.Until.Equal(start.Add(time.Minute)) || p.ContentLastMinute != 2 || p.WaitingContent != 2 {
			t.Errorf("at 2.5s: %+v", p)
		}
		if want := "paced: content per minute until " + start.Add(time.Minute).Format("15:04:05") + "; content 2/2 a minute, 2/3 an hour"; p.String() != want {
			t.Errorf("line %q, want %q", p, want)
		}
		time.Sleep(time.Minute)
		if p := f.Pace(); p.Bottleneck != BottleneckHour || !p.Until.Equal(start.Add(time.Hour)) {
			t.Errorf("at 1m2.5s: %+v", p)
		}
		<-done
		f2 := newFake(t, api, Limits{Disabled: true})
		if p := f2.Pace(); p.String() != "paced: off (rate-limit answers are still waited out)" {
			t.Errorf("off: %q", p)
		}
	})
}

func TestReadsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{delay: time.Second}
		f := newFake(t, api, Limits{})
		start := time.Now()
		run(20, func(i int) {
			if _, _, err := f.client.Repositories.Get(t.Context(), "o", "r"); err != nil {
				t.Error(err)
			}
		})
		if api.maxFlight != 8 {
			t.Errorf("%d reads in flight, want 8", api.maxFlight)
		}
		if d := time.Since(start); d != 3*time.Second {
			t.Errorf("20 reads of 1 s took %v, want 3s", d)
		}
	})
}

func TestSecondaryLimitWithoutRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Two 429s in a row without retry-after (x-ratelimit-reset is far:
		// it must not count), then success.
		api := &fakeAPI{answer: func(n int, r *http.Request) *http.Response {
			if n < 2 {
				return answer(429, `{"message":"slow down"}`, map[string]string{
					"X-RateLimit-Remaining": "10", "X-RateLimit-Reset": strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)})
			}
			return nil
		}}
		f := newFake(t, api, Limits{})
		start := time.Now()
		if _, err := f.client.Actions.DeleteRepoSecret(t.Context(), "o", "r", "S"); err != nil {
			t.Fatal(err)
		}
		s := api.log()
		if len(s) != 3 || s[1].at.Sub(start) != time.Minute || s[2].at.Sub(start) != 3*time.Minute {
			t.Errorf("attempts at %v %v %v; want 0, 1m, 3m", s[0].at.Sub(start), s[1].at.Sub(start), s[len(s)-1].at.Sub(start))
		}
	})
}

func TestSecondaryLimitGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{answer: func(n int, r *http.Request) *http.Response {
			return answer(403, secondaryBody, map[string]string{"Retry-After": "1"})
		}}
		f := newFake(t, api, Limits{RateLimitRetries: 2})
		_, err := f.client.Actions.DeleteRepoSecret(t.Context(), "o", "r", "S")
		var abuse *gh.AbuseRateLimitError
		if !errors.As(err, &abuse) || len(api.log()) != 3 {
			t.Fatalf("err %v after %d attempts", err, len(api.log()))
		}
	})
}

func TestPrimaryLimitWaitsForReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		reset := start.Add(100 * time.Second).Unix()
		api := &fakeAPI{answer: func(n int, r *http.Request) *http.Response {
			hdr := map[string]string{"X-RateLimit-Remaining": "100", "X-RateLimit-Reset": strconv.FormatInt(reset, 10)}
			if n == 0 {
				hdr["X-RateLimit-Remaining"] = "0"
				return answer(403, `{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#primary-rate-limit"}`, hdr)
			}
			return answer(200, "{}", hdr)
		}}
		f := newFake(t, api, Limits{})
		run(3, func(i int) {
			time.Sleep(time.Duration(i) * time.Second)
			if _, _, err := f.client.Repositories.Get(t.Context(), "o", "r"); err != nil {
				t.Error(err)
			}
		})
		s := api.log()
		if len(s) != 4 {
			t.Fatalf("%d requests", len(s))
		}
		for _, x := range s[1:] {
			if x.at.Before(time.Unix(reset, 0)) {
				t.Errorf("request at %v before the reset", x.at.Sub(start))
			}
		}
	})
}

// TestGoGithubPrimaryPrecheck covers go-github refusing to send while its
// last response said the budget is spent: Forge.do waits for the reset.
func TestGoGithubPrimaryPrecheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		reset := start.Add(50 * time.Second).Unix()
		api := &fakeAPI{answer: func(n int, r *http.Request) *http.Response {
			rem := "0"
			if n > 0 {
				rem = "4999"
			}
			return answer(200, `{"name":"r"}`, map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": rem,
				"X-RateLimit-Reset": strconv.FormatInt(reset, 10)})
		}}
		f := newFake(t, api, Limits{})
		for range 2 {
			if _, err := f.Repo(t.Context(), "o/r"); err != nil {
				t.Fatal(err)
			}
		}
		s := api.log()
		if len(s) != 2 || s[1].at.Before(time.Unix(reset, 0)) {
			t.Errorf("second request at %v, reset at +50s", s[len(s)-1].at.Sub(start))
		}
	})
}

func TestReadsRetryServerErrorsWritesDoNot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{answer: func(n int, r *http.Request) *http.Response {
			if r.Method == "GET" && n < 2 {
				return answer(502, `{"message":"bad gateway"}`, nil)
			}
			if r.Method == "POST" {
				return answer(502, `{"message":"bad gateway"}`, nil)
			}
			return nil
		}}
		f := newFake(t, api, Limits{})
		start := time.Now()
		if _, _, err := f.client.Repositories.Get(t.Context(), "o", "r"); err != nil {
			t.Fatal(err)
		}
		s := api.log()
		// Backoff 1 s then 2 s, halved by zero jitter: 0.5 s and 1 s.
		if len(s) != 3 || s[1].at.Sub(start) != 500*time.Millisecond || s[2].at.Sub(start) != 1500*time.Millisecond {
			t.Errorf("attempts %v", gaps(s))
		}
		if _, _, err := f.client.Issues.Create(t.Context(), "o", "r", &gh.IssueRequest{Title: gh.String("x")}); err == nil {
			t.Fatal("the 502 create succeeded")
		}
		if n := len(api.log()); n != 4 {
			t.Errorf("the create was sent %d times by the transport", n-3)
		}
		if st := f.Stats(); st.Retries != 2 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestWriteLooksBeforeRetrying covers Forge.write: an unclear failure is
// retried only when the lookup says the write did not happen.
func TestWriteLooksBeforeRetrying(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(t, &fakeAPI{}, Limits{})
		ctx := t.Context()
		sends, looks := 0, 0
		err := f.write(ctx, func() error {
			sends++
			if sends == 1 {
				return &ambiguousError{errors.New("connection reset by peer")}
			}
			return nil
		}, func() (bool, error) { looks++; return false, nil })
		if err != nil || sends != 2 || looks != 1 {
			t.Errorf("not done: err %v, %d sends, %d lookups", err, sends, looks)
		}
		sends, looks = 0, 0
		err = f.write(ctx, func() error {
			sends++
			return &ambiguousError{errors.New("connection reset by peer")}
		}, func() (bool, error) { looks++; return true, nil })
		if err != nil || sends != 1 || looks != 1 {
			t.Errorf("done: err %v, %d sends, %d lookups", err, sends, looks)
		}
		sends = 0
		err = f.write(ctx, func() error { sends++; return errors.New("422") }, func() (bool, error) { return false, nil })
		if err == nil || sends != 1 {
			t.Errorf("clear failure: %v after %d sends", err, sends)
		}
	})
}

func TestPermission403IsNotARateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{answer: func(n int, r *http.Request) *http.Response {
			return answer(403, `{"message":"Resource not accessible by personal access token"}`,
				map[string]string{"X-Accepted-GitHub-Permissions": "actions_variables=write", "X-RateLimit-Remaining": "4999"})
		}}
		f := newFake(t, api, Limits{})
		start := time.Now()
		_, err := f.client.Actions.CreateRepoVariable(t.Context(), "o", "r", &gh.ActionsVariable{Name: "A"})
		err = apiError(err, "set A")
		if time.Since(start) != 0 || len(api.log()) != 1 {
			t.Errorf("waited %v, %d attempts", time.Since(start), len(api.log()))
		}
		if err == nil || err.Error() != "could not set A: the token lacks the permission the endpoint needs (actions_variables=write)" {
			t.Errorf("error %v", err)
		}
	})
}

// TestContextEndsWaits checks that a cancelled context ends a pause.
func TestContextEndsWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{answer: func(n int, r *http.Request) *http.Response {
			return answer(403, secondaryBody, map[string]string{"Retry-After": "3600"})
		}}
		f := newFake(t, api, Limits{})
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		_, err := f.client.Actions.DeleteRepoSecret(ctx, "o", "r", "S")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v", err)
		}
	})
}
