package batch

import (
	"fmt"
	"strings"
)

func (g Gate) require() []string {
	if len(g.Require) == 0 {
		return []string{"checks"}
	}
	return g.Require
}

// Gate is what a wave must reach before the next one may start.
type Gate struct {
	// Require lists the conditions every member must meet: checks (PR
	// checks green), merged (PR merged), verified (a canary release
	// verified on the registry). Empty means checks.
	Require []string `json:"require"`
	// MaxFailureRatio is the largest share of failed repositories tolerated.
	MaxFailureRatio float64 `json:"max_failure_ratio"`
}

// MemberState is a wave member's progress as the gate sees it.
type MemberState struct {
	Repo     string
	Failed   bool // the last step failed
	Manual   bool // the rewrite needs manual work
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
}

// Evaluate checks a gate against a wave's members. Failed and manual
// members count against MaxFailureRatio; every other member must meet
// Require.
func (g Gate) Evaluate(members []MemberState) GateResult {
	res := GateResult{Members: len(members)}
	var pending []string
	for _, m := range members {
		if m.Failed || m.Manual {
			res.Failed++
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
		res.Reasons = append(res.Reasons, fmt.Sprintf("%d of %d repositories failed or need manual work (%.0f%%, limit %.0f%%)", res.Failed, res.Members, 100*ratio, 100*g.MaxFailureRatio))
	}
	if len(pending) > 0 {
		what := strings.Join(g.require(), " and ")
		shown := pending
		if len(shown) > 5 {
			shown = shown[:5]
		}
		res.Reasons = append(res.Reasons, fmt.Sprintf("%d repositories without %s yet: %v", len(pending), what, shown))
	}
	res.OK = len(res.Reasons) == 0
	return res
}
