package github

import (
	"context"
	"errors"
	"io"
	"net/http"
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
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{delay: 200 * time.Millisecond}
		f := newFake(t, api, Limits{})
		run(5, func(i int) {
			if _, err := f.client.Actions.UpdateRepoVariable(t.Context(), "o", "r", &gh.ActionsVariable{Name: "V", Value: "x"}); err != nil {
				t.Error(err)
			}
		})
		for _, g := range gaps(api.log()) {
			// Spaced from the end of the previous write.
			if g != 1200*time.Millisecond {
				t.Errorf("gap %v, want 1.2s", g)
			}
		}
		if api.maxFlight != 1 {
			t.Errorf("%d writes in flight", api.maxFlight)
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

func TestContentBudget(t *testing.T) {
	tests := []struct {
		name string
		lim  Limits
		gap  time.Duration
	}{
		{"defaults: 400 an hour", Limits{}, 9 * time.Second},
		{"80 a minute", Limits{ContentPerHour: -1}, time.Second}, // 0.75 s, but writes are 1 s apart
		{"40 a minute", Limits{ContentPerHour: -1, ContentPerMinute: 40}, 1500 * time.Millisecond},
		{"scaled", Limits{TimeScale: 60}, 150 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &fakeAPI{}
				f := newFake(t, api, tt.lim)
				run(6, func(i int) {
					_, _, err := f.client.PullRequests.Create(t.Context(), "o", "r", &gh.NewPullRequest{Title: gh.String("t")})
					if err != nil {
						t.Error(err)
					}
				})
				for _, g := range gaps(api.log()) {
					if g != tt.gap {
						t.Errorf("gap %v, want %v", g, tt.gap)
					}
				}
			})
		})
	}
}

// TestContentWindow checks the sliding hour: with a burst allowance the
// hour budget still holds.
func TestContentWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{}
		f := newFake(t, api, Limits{ContentPerMinute: 60, ContentPerHour: 5, WriteInterval: time.Millisecond})
		for range 7 {
			if _, _, err := f.client.Issues.CreateComment(t.Context(), "o", "r", 1, &gh.IssueComment{Body: gh.String("x")}); err != nil {
				t.Fatal(err)
			}
		}
		s := api.log()
		if d := s[5].at.Sub(s[0].at); d < time.Hour {
			t.Errorf("6 comments within %v with a budget of 5 an hour", d)
		}
	})
}

func TestSecondaryLimitPausesWritesAndHalvesTheRate(t *testing.T) {
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
		create() // t=9: refused, retried at 39
		var mu sync.Mutex
		var labelAt time.Time
		run(2, func(i int) {
			if i == 0 {
				create() // next slot: 39 + 18 (halved rate)
				return
			}
			time.Sleep(10 * time.Second) // during the pause
			if _, _, err := f.client.Issues.AddLabelsToIssue(t.Context(), "o", "r", 1, []string{"x"}); err != nil {
				t.Error(err)
			}
			mu.Lock()
			labelAt = time.Now()
			mu.Unlock()
		})
		s := api.log()
		at := func(i int) time.Duration { return s[i].at.Sub(start) }
		if at(1) != 9*time.Second || at(2) != 39*time.Second {
			t.Errorf("refused at %v, retried at %v; want 9s and 39s", at(1), at(2))
		}
		if labelAt.Sub(start) < 39*time.Second {
			t.Errorf("a write went out during the pause, at %v", labelAt.Sub(start))
		}
		if last := s[len(s)-1]; !strings.HasSuffix(last.path, "/pulls") || last.at.Sub(start) != 57*time.Second {
			t.Errorf("next create at %v, want 57s (18 s apart at half rate)", last.at.Sub(start))
		}
		if st := f.Stats(); st.SecondaryLimits != 1 {
			t.Errorf("stats %+v", st)
		}
		// After a quiet Recovery period the rate doubles back.
		time.Sleep(15 * time.Minute)
		create()
		create()
		s = api.log()
		if g := s[len(s)-1].at.Sub(s[len(s)-2].at); g != 9*time.Second {
			t.Errorf("gap after recovery %v, want 9s", g)
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
