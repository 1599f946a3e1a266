package sandbox

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/rewrite"
)

// CI is the World's simulated CI for pull request heads. With lint on, a
// head fails when a workflow file under .github/workflows/ does not parse
// or has actionlint errors (rewrite.LintWorkflow); with lint off every head
// succeeds. Either way, a repository marked with Fail fails with the given
// summary. It is safe for concurrent use.
type CI struct {
	mu       sync.Mutex
	lint     bool
	failures map[string]string
	cache    map[[sha256.Size]byte][]string
}

// NewCI returns a simulated CI; lint turns the workflow lint on.
func NewCI(lint bool) *CI {
	return &CI{lint: lint, failures: map[string]string{}, cache: map[[sha256.Size]byte][]string{}}
}

// SetLint turns the workflow lint on or off.
func (c *CI) SetLint(on bool) {
	c.mu.Lock()
	c.lint = on
	c.mu.Unlock()
}

// Fail makes every later run on repo ("owner/name") fail with summary; an
// empty summary clears the failure.
func (c *CI) Fail(repo, summary string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if summary == "" {
		delete(c.failures, repo)
		return
	}
	c.failures[repo] = summary
}

// Failure returns the injected failure of repo, if any.
func (c *CI) Failure(repo string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.failures[repo]
	return s, ok
}

// Func returns c as the emulator's CI hook.
func (c *CI) Func() ghapi.CIFunc { return c.Check }

// Check decides the outcome for a head of repo whose .github/ files are
// files; it has the signature of ghapi.CIFunc.
func (c *CI) Check(repo, headSHA string, files map[string][]byte) (conclusion, summary string) {
	c.mu.Lock()
	failure, failed := c.failures[repo]
	lint := c.lint
	c.mu.Unlock()
	if failed {
		return "failure", failure
	}
	if !lint {
		return "success", "The sandbox CI found nothing to complain about."
	}
	var problems []string
	n := 0
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if path.Dir(p) != ".github/workflows" || !(strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
			continue
		}
		n++
		for _, e := range c.lintFile(p, files[p]) {
			problems = append(problems, p+": "+e)
		}
	}
	if len(problems) > 0 {
		return "failure", fmt.Sprintf("%d problem(s) in the workflows at %s:\n%s", len(problems), short(headSHA), strings.Join(problems, "\n"))
	}
	return "success", fmt.Sprintf("%d workflow file(s) at %s parse and pass actionlint.", n, short(headSHA))
}

// lintFile lints one workflow, memoised by path and content.
func (c *CI) lintFile(p string, b []byte) []string {
	h := sha256.New()
	h.Write([]byte(p))
	h.Write([]byte{0})
	h.Write(b)
	var key [sha256.Size]byte
	h.Sum(key[:0])
	c.mu.Lock()
	got, ok := c.cache[key]
	c.mu.Unlock()
	if ok {
		return got
	}
	if _, err := rewrite.ParseWorkflow(p, b); err != nil {
		got = []string{"does not parse: " + err.Error()}
	} else if errs, err := rewrite.LintWorkflow(p, b); err != nil {
		got = []string{err.Error()}
	} else {
		got = errs
	}
	c.mu.Lock()
	if len(c.cache) > 10000 {
		clear(c.cache)
	}
	c.cache[key] = got
	c.mu.Unlock()
	return got
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
