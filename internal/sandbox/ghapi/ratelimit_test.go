package ghapi_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/clocktest"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/githttp"
)

// rawDo sends one request with the full token and returns status, headers and message.
func rawDo(t *testing.T, method, url, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tokFull)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var msg struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(data, &msg)
	return resp.StatusCode, resp.Header, msg.Message
}

// TestRateLimitsRaw checks GitHub's rate-limit headers and answers with raw
// HTTP, on a clock where an emulated hour lasts a minute.
func TestRateLimitsRaw(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		omitRetry bool
	}{
		{"secondary 403", 0, false},
		{"secondary 429", http.StatusTooManyRequests, false},
		{"secondary without retry-after", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := clocktest.New(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
			f := newFixture(t, ghapi.Options{Now: clock.Now, TimeScale: 60, Limits: ghapi.Limits{
				Primary: 8, ContentPerMinute: 2, ContentPerHour: 3, SecondaryStatus: tt.status, OmitRetryAfter: tt.omitRetry,
			}})
			base := f.url + "api/v3/"
			start := clock.Now()
			wantReset := strconv.FormatInt(start.Add(time.Minute).Unix(), 10) // one emulated hour

			status, h, _ := rawDo(t, "GET", base+"repos/acme/widget", "")
			if status != 200 {
				t.Fatalf("status = %d", status)
			}
			for k, want := range map[string]string{"X-Ratelimit-Limit": "8", "X-Ratelimit-Remaining": "7", "X-Ratelimit-Used": "1",
				"X-Ratelimit-Reset": wantReset, "X-Ratelimit-Resource": "core"} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			// /rate_limit is free.
			if status, h, _ := rawDo(t, "GET", base+"rate_limit", ""); status != 200 || h.Get("X-Ratelimit-Used") != "1" {
				t.Errorf("rate_limit: %d used %q", status, h.Get("X-Ratelimit-Used"))
			}

			issue := `{"title":"t"}`
			wantStatus := tt.status
			if wantStatus == 0 {
				wantStatus = 403
			}
			secondary := func(wantRetry string) {
				t.Helper()
				status, h, msg := rawDo(t, "POST", base+"repos/acme/widget/issues", issue)
				if status != wantStatus || !strings.HasPrefix(msg, "You have exceeded a secondary rate limit") {
					t.Fatalf("secondary: %d %q", status, msg)
				}
				if tt.omitRetry {
					wantRetry = ""
				}
				if got := h.Get("Retry-After"); got != wantRetry {
					t.Errorf("retry-after = %q, want %q", got, wantRetry)
				}
				if h.Get("X-Ratelimit-Remaining") == "0" {
					t.Errorf("a secondary limit must leave the primary budget")
				}
			}
			for range 2 {
				if status, _, msg := rawDo(t, "POST", base+"repos/acme/widget/issues", issue); status != 201 {
					t.Fatalf("create: %d %q", status, msg)
				}
			}
			secondary("1") // the emulated minute is one second
			clock.Advance(time.Second)
			if status, _, msg := rawDo(t, "POST", base+"repos/acme/widget/issues", issue); status != 201 {
				t.Fatalf("create after a minute: %d %q", status, msg)
			}
			clock.Advance(time.Second)
			secondary("58") // three in the emulated hour: wait for the first to age out
			// Primary budget: 6 counted so far (1 GET + 5 POSTs), limited ones too.
			for i := range 2 {
				status, h, _ := rawDo(t, "GET", base+"repos/acme/widget", "")
				if want := strconv.Itoa(1 - i); status != 200 || h.Get("X-Ratelimit-Remaining") != want {
					t.Fatalf("request %d: %d remaining %q, want %s", 7+i, status, h.Get("X-Ratelimit-Remaining"), want)
				}
			}
			status, h, msg := rawDo(t, "GET", base+"repos/acme/widget", "")
			if status != 403 || h.Get("X-Ratelimit-Remaining") != "0" || !strings.HasPrefix(msg, "API rate limit exceeded for user ID") {
				t.Fatalf("primary: %d remaining %q %q", status, h.Get("X-Ratelimit-Remaining"), msg)
			}
			clock.Advance(time.Minute)
			if status, h, _ := rawDo(t, "GET", base+"repos/acme/widget", ""); status != 200 || h.Get("X-Ratelimit-Remaining") != "7" {
				t.Fatalf("after reset: %d remaining %q", status, h.Get("X-Ratelimit-Remaining"))
			}
		})
	}
}

// TestRateLimitsGoGitHub checks that go-github v66 classifies the answers.
func TestRateLimitsGoGitHub(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Now())
	f := newFixture(t, ghapi.Options{Now: clock.Now, TimeScale: 60, Limits: ghapi.Limits{Primary: 3, ContentPerMinute: 1}})
	gh := clientModes[0].make(t, f.url, tokFull)
	ctx := t.Context()
	req := &github.IssueRequest{Title: github.String("x")}
	if _, _, err := gh.Issues.Create(ctx, "acme", "widget", req); err != nil {
		t.Fatal(err)
	}
	_, _, err := gh.Issues.Create(ctx, "acme", "widget", req)
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || abuse.RetryAfter == nil || *abuse.RetryAfter != time.Second {
		t.Fatalf("secondary error = %#v", err)
	}
	gh = clientModes[0].make(t, f.url, tokFull) // a fresh client forgets the secondary block
	_, _, err = gh.Repositories.Get(ctx, "acme", "widget")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = gh.Repositories.Get(ctx, "acme", "widget")
	var rle *github.RateLimitError
	if !errors.As(err, &rle) || rle.Rate.Remaining != 0 || rle.Rate.Limit != 3 {
		t.Fatalf("primary error = %#v", err)
	}
}

// TestRateLimitRealClock runs GitHub's real content limit (80 a minute)
// on the emulator's default clock, time.Now, at a time scale of 20, where a
// minute lasts three seconds. It runs in a synctest bubble, whose clock
// stands still while the requests run and jumps when the test sleeps, so a
// slow machine cannot make it fail or skip. The requests go straight to
// the handler: a network listener would keep the bubble's clock from moving.
func TestRateLimitRealClock(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		git, err := githttp.New(githttp.Options{Root: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		api, err := ghapi.New(ghapi.Options{TimeScale: 20, Git: git})
		if err != nil {
			t.Fatal(err)
		}
		api.AddToken(tokFull, ghapi.Identity{Login: "alice", Permissions: ghapi.AllPermissions()})
		if err := api.CreateRepo("acme", "widget", ghapi.RepoOptions{Files: map[string][]byte{"README.md": []byte("# widget\n")},
			Author: object.Signature{Name: "Ada", Email: "ada@example.invalid", When: time.Unix(1700000000, 0)}}); err != nil {
			t.Fatal(err)
		}
		post := func() (int, http.Header) {
			req := httptest.NewRequest("POST", "/repos/acme/widget/issues", strings.NewReader(`{"title":"t"}`))
			req.Header.Set("Authorization", "Bearer "+tokFull)
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			return rec.Code, rec.Header()
		}
		begin := time.Now()
		var wg sync.WaitGroup
		errs := make(chan int, 80)
		for range 8 {
			wg.Go(func() {
				for range 10 {
					if status, _ := post(); status != 201 {
						errs <- status
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for status := range errs {
			t.Fatalf("create: %d", status)
		}
		if d := time.Since(begin); d != 0 {
			t.Fatalf("the bubble's clock moved by %v during the requests", d)
		}
		status, h := post()
		retry, _ := strconv.Atoi(h.Get("Retry-After"))
		if status != 403 || retry < 1 || retry > 3 {
			t.Fatalf("81st: %d retry-after %q", status, h.Get("Retry-After"))
		}
		time.Sleep(time.Duration(retry)*time.Second - 100*time.Millisecond)
		if status, _ := post(); status != 403 {
			t.Fatalf("just before retry-after: %d, want 403", status)
		}
		time.Sleep(200 * time.Millisecond)
		if status, _ := post(); status != 201 {
			t.Fatalf("after retry-after: %d", status)
		}
	})
}
