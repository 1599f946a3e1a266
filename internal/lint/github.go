package lint

import (
	"fmt"
	"strings"
)

// GitHubAnnotations renders results as GitHub Actions workflow commands
// (::error file=…,line=…,title=…::message), one a line, which the runner
// turns into annotations on the pull request
// (https://docs.github.com/actions/reference/workflow-commands-for-github-actions).
// Suppressed results are left out.
func GitHubAnnotations(results []Result) string {
	var b strings.Builder
	for _, r := range results {
		if r.Suppressed() {
			continue
		}
		cmd := "notice"
		switch r.Level {
		case LevelError:
			cmd = "error"
		case LevelWarning:
			cmd = "warning"
		}
		props := "file=" + escapeProperty(r.File)
		if r.Line > 0 {
			props += fmt.Sprintf(",line=%d", r.Line)
		}
		props += ",title=" + escapeProperty("cutover "+r.Rule)
		fmt.Fprintf(&b, "::%s %s::%s\n", cmd, props, escapeData(r.Message))
	}
	return b.String()
}

// escapeData escapes a workflow command's message as the runner reads it.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command's property value.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
