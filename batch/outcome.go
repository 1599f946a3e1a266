package batch

import (
	"fmt"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/logging"
	"io"
	"sort"
	"strings"
)

// Outcome kinds of one repository in one step.
const (
	OK      = "ok"
	Skipped = "skipped"
	Failed  = "failed"
	Manual  = "manual"
)

// Outcome is what a step did to one repository: a value, not an error, so
// one repository's failure never stops the others.
type Outcome struct {
	Repo   string `json:"repo"`
	Kind   string `json:"kind"`
	Detail string `json:"detail,omitempty"`
	// Reason is a short, stable cause for grouping ("push rejected").
	Reason string `json:"reason,omitempty"`
	// Hint says what a person can do about it.
	Hint string `json:"hint,omitempty"`
	// URL points at the pull request or issue, when there is one.
	URL string `json:"url,omitempty"`
	// Diff is the unified diff a dry run would apply.
	Diff string `json:"diff,omitempty"`
}

// Summary is the outcome of a step over many repositories, in input order.
type Summary struct {
	Step     string    `json:"step"`
	Outcomes []Outcome `json:"outcomes"`
	// Notes are lines about the step as a whole, such as what inventory
	// left out before looking at any repository.
	Notes []string `json:"notes,omitempty"`
}

// Failed reports whether any repository failed.
func (s Summary) Failed() bool {
	for _, o := range s.Outcomes {
		if o.Kind == Failed {
			return true
		}
	}
	return false
}

// Count returns how many outcomes have the kind.
func (s Summary) Count(kind string) int {
	n := 0
	for _, o := range s.Outcomes {
		if o.Kind == kind {
			n++
		}
	}
	return n
}

// Write prints the summary grouped by outcome and, for failures, by
// reason, each failure's detail cut to 200 bytes after r (the token
// patterns when nil) redacted it.
func (s Summary) Write(w io.Writer, r *logging.Redactor) { s.WriteWidth(w, 200, r) }

// WriteWidth is Write with details cut to width bytes; 0 keeps them whole
// (output that is not a terminal).
func (s Summary) WriteWidth(w io.Writer, width int, r *logging.Redactor) {
	fmt.Fprintf(w, "%s: %d repositories: %d ok, %d skipped, %d manual, %d failed\n",
		s.Step, len(s.Outcomes), s.Count(OK), s.Count(Skipped), s.Count(Manual), s.Count(Failed))
	for _, n := range s.Notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
	groups := map[string][]Outcome{}
	for _, o := range s.Outcomes {
		// Skipped repositories are grouped too: "1 skipped" alone does not
		// say whether anything is wrong.
		if o.Kind == Failed || o.Kind == Manual || o.Kind == Skipped && o.Reason != "" {
			key := o.Kind + ": " + o.Reason
			groups[key] = append(groups[key], o)
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		os := groups[k]
		fmt.Fprintf(w, "  %s (%d)\n", k, len(os))
		if os[0].Hint != "" {
			fmt.Fprintf(w, "    hint: %s\n", os[0].Hint)
		}
		for i, o := range os {
			if i == 10 {
				fmt.Fprintf(w, "    … and %d more\n", len(os)-10)
				break
			}
			// Redact first, then cut: a secret cut in two would no longer be found.
			d := r.Redact(ledger.Redact(o.Detail))
			if width > 0 {
				d = r.RedactCut(d, width)
			}
			fmt.Fprintf(w, "    %s: %s\n", o.Repo, strings.ReplaceAll(d, "\n", " "))
		}
	}
}
