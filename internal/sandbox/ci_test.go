package sandbox_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/sandbox"
)

const goodWorkflow = "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n"

func TestCICheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lint  bool
		fail  string
		files map[string][]byte
		want  string
		in    string
	}{
		{"lint off passes anything", false, "", map[string][]byte{".github/workflows/x.yml": []byte("on: [")}, "success", ""},
		{"clean", true, "", map[string][]byte{".github/workflows/ci.yml": []byte(goodWorkflow), ".github/CODEOWNERS": []byte("* @a")}, "success", "1 workflow file"},
		{"does not parse", true, "", map[string][]byte{".github/workflows/ci.yml": []byte(goodWorkflow), ".github/workflows/bad.yaml": []byte("on: [push\njobs: {")}, "failure", ".github/workflows/bad.yaml"},
		{"actionlint error", true, "", map[string][]byte{".github/workflows/ci.yml": []byte(strings.Replace(goodWorkflow, "ubuntu-latest", "${{ matrix.os }}", 1))}, "failure", "ci.yml: line 5"},
		{"injected", true, "flaky tests", map[string][]byte{".github/workflows/ci.yml": []byte(goodWorkflow)}, "failure", "flaky tests"},
		{"injected with lint off", false, "flaky tests", nil, "failure", "flaky tests"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ci := sandbox.NewCI(tc.lint)
			ci.Fail("o/r", tc.fail)
			got, summary := ci.Check("o/r", "0123456789abcdef", tc.files)
			if got != tc.want || !strings.Contains(summary, tc.in) {
				t.Fatalf("Check = %q, %q; want %q containing %q", got, summary, tc.want, tc.in)
			}
			if again, _ := ci.Check("o/r", "0123456789abcdef", tc.files); again != got {
				t.Fatalf("second run (memoised) = %q, first %q", again, got)
			}
			if got, _ := ci.Check("o/other", "0123456789abcdef", nil); got != "success" {
				t.Fatalf("a failure injected on o/r made o/other %q", got)
			}
		})
	}
}

// TestCIOnPullRequests opens pull requests on seeded repositories and reads
// their check runs with go-github.
func TestCIOnPullRequests(t *testing.T) {
	t.Parallel()
	w, p, s := seedWorld(t, 21, 30, sandbox.KindNPM, sandbox.KindBroken)
	gh, err := github.NewClient(nil).WithAuthToken(s.GitHubToken).WithEnterpriseURLs(w.URL, w.URL)
	if err != nil {
		t.Fatal(err)
	}
	checkOf := func(r sandbox.Repo, files map[string][]byte) (string, string) {
		t.Helper()
		branch := "cutover/test-" + r.Name
		commit(t, w, p.Org, r.Name, r.DefaultBranch, branch, files)
		pr, _, err := gh.PullRequests.Create(t.Context(), p.Org, r.Name, &github.NewPullRequest{
			Title: github.String("test"), Head: github.String(branch), Base: github.String(r.DefaultBranch),
		})
		if err != nil {
			t.Fatal(err)
		}
		runs, _, err := gh.Checks.ListCheckRunsForRef(t.Context(), p.Org, r.Name, pr.GetHead().GetSHA(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if runs.GetTotal() != 1 {
			t.Fatalf("%d check runs", runs.GetTotal())
		}
		return runs.CheckRuns[0].GetConclusion(), runs.CheckRuns[0].GetOutput().GetSummary()
	}

	good := find(t, p, func(r sandbox.Repo) bool { return r.Kind == sandbox.KindNPM })
	if c, sum := checkOf(good, map[string][]byte{"CHANGE.md": []byte("x\n")}); c != "success" {
		t.Errorf("clean head: %q %s", c, sum)
	}
	broken := find(t, p, func(r sandbox.Repo) bool { return r.Kind == sandbox.KindBroken })
	if c, sum := checkOf(broken, map[string][]byte{"CHANGE.md": []byte("x\n")}); c != "failure" || !strings.Contains(sum, "nightly.yml") {
		t.Errorf("broken head: %q %s", c, sum)
	}

	// Failure injection through the sandbox endpoint.
	other := find(t, p, func(r sandbox.Repo) bool { return r.Kind == sandbox.KindNPM && r.Name != good.Name })
	req, _ := http.NewRequestWithContext(t.Context(), "PUT", w.URL+"_sandbox/repos/"+other.FullName(p.Org)+"/ci-failure", strings.NewReader(`{"summary":"integration tests timed out"}`))
	req.Header.Set("Authorization", "Bearer "+s.GitHubToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT ci-failure: %d", resp.StatusCode)
	}
	if c, sum := checkOf(other, map[string][]byte{"CHANGE.md": []byte("x\n")}); c != "failure" || sum != "integration tests timed out" {
		t.Errorf("injected failure: %q %s", c, sum)
	}
}
