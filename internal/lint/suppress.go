package lint

import (
	"path"
	"regexp"
	"strings"

	"github.com/cutover/cutover/rewrite"
)

// ignoreRe matches an inline suppression comment:
//
//	# cutover-ignore: token-publish -- the legacy mirror keeps its token until Q3
//
// naming one or more rule IDs (comma-separated) and, after " -- ", the
// reason, which is required.
var ignoreRe = regexp.MustCompile(`#\s*cutover-ignore:\s*([A-Za-z0-9_*,\s-]*?)\s*(?:--\s*(.*?))?\s*$`)

// inlineIgnore returns the reason a comment on line (1-based) of src, or on
// the line above it, gives for ignoring rule; ok is false without one.
// bare is set when such a comment names the rule but gives no reason.
func inlineIgnore(src []byte, line int, rule string) (reason string, ok, bare bool) {
	if line < 1 || src == nil {
		return "", false, false
	}
	lines := strings.Split(string(src), "\n")
	for _, n := range []int{line, line - 1} {
		if n < 1 || n > len(lines) {
			continue
		}
		m := ignoreRe.FindStringSubmatch(strings.TrimRight(lines[n-1], "\r"))
		if m == nil {
			continue
		}
		if n == line-1 && !strings.HasPrefix(strings.TrimSpace(lines[n-1]), "#") {
			continue // the line above counts only when it is a comment line
		}
		for _, r := range strings.Split(m[1], ",") {
			if r = strings.TrimSpace(r); r != rule && r != "*" {
				continue
			}
			if why := strings.TrimSpace(m[2]); why != "" {
				return why, true, false
			}
			bare = true
		}
	}
	return "", false, bare
}

// suppress marks the results an inline comment or an ignore entry accepts.
// Results keep their level: SARIF and the JSON output show them with the
// suppression, and they never count as violations.
func suppress(snap rewrite.Snapshot, results []Result, ignore []Ignore) {
	for i := range results {
		r := &results[i]
		reason, ok, bare := inlineIgnore(snap.Files[r.File], r.Line, r.Rule)
		if ok {
			r.Suppression = &Suppression{Kind: "inSource", Justification: reason}
			continue
		}
		if bare {
			r.Message += "; the cutover-ignore comment here does not count: it needs a reason after \" -- \""
		}
		for _, ig := range ignore {
			if ig.Rule != "*" && ig.Rule != r.Rule {
				continue
			}
			if ok, _ := path.Match(ig.Path, r.File); ok || ig.Path == r.File {
				r.Suppression = &Suppression{Kind: "external", Justification: ig.Reason}
				break
			}
		}
	}
}
