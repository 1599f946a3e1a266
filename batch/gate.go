package batch

import (
	"fmt"
	"strings"
)

// DefaultCanaryRequire is what the canary wave must reach by default
// before wave 1 may start: its pull requests merged and a canary release
// of each repository verified on the registry.
var DefaultCanaryRequire = []string{"merged", "verified"}

func (g Gate) require() []string {
	if len(g.Require) == 0 {
		return []string{"checks"}
	}
	return g.Require
}

// Gate is what a wave must reach before the next one may start.
type Gate struct {
	// Require lists the conditions every member must meet: checks (the
	// pull request's required checks passed), merged (PR merged), verified
	// (a canary release verified on the registry). Empty means checks.
	Require []string `json:"require"`
	// MaxFailureRatio is the largest share of failed repositories tolerated.
	MaxFailureRatio float64 `json:"max_failure_ratio"`
}

// String says what the gate requires, in one line.
func (g Gate) String() string {
	return fmt.Sprintf("requires %s; at most %.0f%% failed", strings.Join(g.require(), " and "), 100*g.MaxFailureRatio)
}

// MemberState is a wave member's progress as the gate sees it.
type MemberState struct {
	Repo   string
	Failed bool // the last step failed
	Manual bool // the rewrite needs manual work
	// Why says why the member failed ("apply: push failed"); empty means
	// the last step's failure.
	Why      string
	Checks   string
	Merged   bool
	Verified bool
}

// GateResult says whether a gate passed, and why not.
type GateResult struct {
	OK      bool     `json:"ok"`
	Reasons []string `json:"reasons,omitempty"`
	Members int      `json:"members"`
	Passed  int      `json:"passed"`
	Failed  int      `json:"failed"`
	// FailedRepos names the failed members and why, "acme/x (checks failed)".
	FailedRepos []string `json:"failed_repos,omitempty"`
}

// Evaluate checks a gate against a wave's members. Failed and manual
// members, and members whose pull request's checks failed (and that are
// not merged), count against MaxFailureRatio and are named; every other
// member must meet Require.
func (g Gate) Evaluate(members []MemberState) GateResult {
	res := GateResult{Members: len(members)}
	var pending []string
	for _, m := range members {
		why := ""
		switch {
		case m.Manual:
			why = "needs manual work"
		case m.Failed:
			why = orDefault(m.Why, "last step failed")
		case m.Checks == "failure" && !m.Merged:
			why = "checks failed"
		}
		if why != "" {
			res.Failed++
			res.FailedRepos = append(res.FailedRepos, fmt.Sprintf("%s (%s)", m.Repo, why))
			continue
		}
		ok := true
		for _, r := range g.require() {
			switch r {
			case "merged":
				ok = ok && m.Merged
			case "verified":
				ok = ok && m.Verified
			default:
				ok = ok && (m.Checks == "success" || m.Merged)
			}
		}
		if ok {
			res.Passed++
		} else {
			pending = append(pending, m.Repo)
		}
	}
	if res.Members == 0 {
		res.Reasons = append(res.Reasons, "the wave has no members")
		return res
	}
	if ratio := float64(res.Failed) / float64(res.Members); ratio > g.MaxFailureRatio {
		res.Reasons = append(res.Reasons, fmt.Sprintf("%d of %d repositories failed or need manual work (%.0f%%, limit %.0f%%): %s", res.Failed, res.Members, 100*ratio, 100*g.MaxFailureRatio, strings.Join(firstN(res.FailedRepos, 5), ", ")))
	}
	if len(pending) > 0 {
		what := strings.Join(g.require(), " and ")
		res.Reasons = append(res.Reasons, fmt.Sprintf("%d repositories without %s yet: %s", len(pending), what, strings.Join(firstN(pending, 5), ", ")))
	}
	res.OK = len(res.Reasons) == 0
	return res
}

// firstN returns the first n items, with "… and K more" when there are more.
func firstN(xs []string, n int) []string {
	if len(xs) <= n {
		return xs
	}
	return append(append([]string(nil), xs[:n]...), fmt.Sprintf("… and %d more", len(xs)-n))
}
