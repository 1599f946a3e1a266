package ghapi_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// TestFaults injects errors, resets, stalls and latency per route.
func TestFaults(t *testing.T) {
	t.Parallel()
	const getRepo = "GET /repos/{owner}/{repo}"
	tests := []struct {
		name  string
		rule  ghapi.FaultRule
		check func(t *testing.T, err error, took time.Duration)
	}{
		{"error", ghapi.FaultRule{Route: getRepo, ErrorRate: 1, Status: 503}, func(t *testing.T, err error, _ time.Duration) {
			if statusOf(err) != 503 {
				t.Errorf("error = %v, want 503", err)
			}
		}},
		{"reset", ghapi.FaultRule{Route: getRepo, ResetRate: 1}, func(t *testing.T, err error, _ time.Duration) {
			if err == nil || statusOf(err) != 0 {
				t.Errorf("error = %v, want a transport error", err)
			}
		}},
		{"stall", ghapi.FaultRule{Route: "GET /repos/*", StallRate: 1}, func(t *testing.T, err error, _ time.Duration) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error = %v, want deadline exceeded", err)
			}
		}},
		{"latency", ghapi.FaultRule{Latency: 150 * time.Millisecond}, func(t *testing.T, err error, took time.Duration) {
			if err != nil || took < 150*time.Millisecond {
				t.Errorf("error %v after %v, want success after 150ms", err, took)
			}
		}},
		{"other route", ghapi.FaultRule{Route: "POST /repos/{owner}/{repo}/pulls", ErrorRate: 1}, func(t *testing.T, err error, _ time.Duration) {
			if err != nil {
				t.Errorf("error = %v, want none", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, ghapi.Options{Faults: ghapi.Faults{Rules: []ghapi.FaultRule{tt.rule}}})
			gh := clientModes[0].make(t, f.url, tokFull)
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			start := time.Now()
			_, _, err := gh.Repositories.Get(ctx, "acme", "widget")
			tt.check(t, err, time.Since(start))
		})
	}
}

// TestFaultsDeterministic checks that one seed gives one sequence of faults.
func TestFaultsDeterministic(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) []int {
		f := newFixture(t, ghapi.Options{Faults: ghapi.Faults{Seed: seed, Rules: []ghapi.FaultRule{{ErrorRate: 0.5}}}})
		var statuses []int
		for range 32 {
			status, _, _ := rawDo(t, "GET", f.url+"repos/acme/widget", "")
			statuses = append(statuses, status)
		}
		return statuses
	}
	a, b, c := run(7), run(7), run(8)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("different seeds, same faults: %v", a)
	}
	if !slices.Contains(a, 502) || !slices.Contains(a, 200) {
		t.Errorf("faults = %v, want both 200 and 502", a)
	}
}

// TestCIHook plugs a CI function that fails when a workflow says "broken".
func TestCIHook(t *testing.T) {
	t.Parallel()
	var seen []string
	f := newFixture(t, ghapi.Options{CIName: "actionlint", CI: func(repo, sha string, files map[string][]byte) (string, string) {
		seen = append(seen, repo)
		for p, data := range files {
			if strings.Contains(string(data), "broken") {
				return "failure", p + " is broken"
			}
		}
		return "success", "ok"
	}})
	gh := clientModes[0].make(t, f.url, tokFull)
	ctx := t.Context()
	head := pushBranch(t, f, "ci/test", ".github/workflows/release.yml", "broken: [\n")
	if _, _, err := gh.PullRequests.Create(ctx, "acme", "widget", &github.NewPullRequest{Title: github.String("t"), Head: github.String("ci/test"), Base: github.String("main")}); err != nil {
		t.Fatal(err)
	}
	runs, _, err := gh.Checks.ListCheckRunsForRef(ctx, "acme", "widget", head, nil)
	if err != nil || runs.GetTotal() != 1 {
		t.Fatalf("runs = %v, %v", runs, err)
	}
	run := runs.CheckRuns[0]
	if run.GetName() != "actionlint" || run.GetConclusion() != "failure" || run.GetOutput().GetSummary() != ".github/workflows/release.yml is broken" {
		t.Errorf("run = %v", run)
	}
	head2 := pushBranch(t, f, "ci/test", ".github/workflows/release.yml", "on: push\n")
	runs, _, err = gh.Checks.ListCheckRunsForRef(ctx, "acme", "widget", head2, nil)
	if err != nil || runs.GetTotal() != 1 || runs.CheckRuns[0].GetConclusion() != "success" {
		t.Fatalf("runs after fix = %v, %v", runs, err)
	}
	if !slices.Equal(seen, []string{"acme/widget", "acme/widget"}) {
		t.Errorf("CI calls = %v", seen)
	}
}

// TestSnapshot saves the state and loads it into a new emulator on the same repositories.
func TestSnapshot(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ghapi.Options{})
	gh := clientModes[0].make(t, f.url, tokFull)
	ctx := t.Context()
	pushBranch(t, f, "snap", "a.txt", "a")
	if _, _, err := gh.PullRequests.Create(ctx, "acme", "widget", &github.NewPullRequest{Title: github.String("snap"), Head: github.String("snap"), Base: github.String("main")}); err != nil {
		t.Fatal(err)
	}
	if err := f.api.SetRepoVariable("acme", "widget", "FLAG", "true"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := f.api.Save(dir); err != nil {
		t.Fatal(err)
	}
	api2, err := ghapi.New(ghapi.Options{Git: f.git})
	if err != nil {
		t.Fatal(err)
	}
	if err := api2.Load(dir); err != nil {
		t.Fatal(err)
	}
	if v, ok := api2.RepoVariable("acme", "widget", "FLAG"); !ok || v != "true" {
		t.Errorf("variable after load = %q, %v", v, ok)
	}
	f.api = api2 // the fixture's server now routes to the loaded emulator
	prs, _, err := gh.PullRequests.List(ctx, "acme", "widget", &github.PullRequestListOptions{Head: "acme:snap"})
	if err != nil || len(prs) != 1 || prs[0].GetTitle() != "snap" {
		t.Fatalf("pulls after load = %v, %v", prs, err)
	}
	if err := api2.Load(t.TempDir()); err == nil {
		t.Errorf("loading an empty folder succeeded")
	}
}
