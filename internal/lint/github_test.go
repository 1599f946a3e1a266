package lint

import (
	"strings"
	"testing"
)

// parseCommand reads one workflow command line the way the Actions runner
// does (ActionCommand.TryParseV2): "::" command [space properties] "::"
// data, properties split on "," and "=", then each unescaped.
func parseCommand(t *testing.T, line string) (cmd string, props map[string]string, data string) {
	t.Helper()
	if !strings.HasPrefix(line, "::") {
		t.Fatalf("not a workflow command: %q", line)
	}
	rest := line[2:]
	end := strings.Index(rest, "::")
	if end < 0 {
		t.Fatalf("no end of the command: %q", line)
	}
	info, data := rest[:end], rest[end+2:]
	cmd, list, _ := strings.Cut(info, " ")
	props = map[string]string{}
	for _, p := range strings.Split(list, ",") {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			t.Fatalf("property without '=' in %q", line)
		}
		props[k] = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%").Replace(v)
	}
	return cmd, props, strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(data)
}

// TestGitHubAnnotations: each result is one workflow command line whose
// file, line, title and message read back exactly as the runner parses
// them, whatever %, CR, LF, ':', ',' or "::" they hold; suppressed results
// are left out.
func TestGitHubAnnotations(t *testing.T) {
	tests := []struct {
		name    string
		r       Result
		cmd     string
		line    string
		message string
	}{
		{"error with a line", Result{Rule: RuleTokenPublish, Level: LevelError, File: ".github/workflows/release.yml", Line: 16, Message: `job "publish" publishes`},
			"error", "16", `job "publish" publishes`},
		{"warning", Result{Rule: RuleTokenExposed, Level: LevelWarning, File: "a.yml", Line: 3, Message: "m"}, "warning", "3", "m"},
		{"note is a notice, no line for a whole file", Result{Rule: RuleTokenPublish, Level: LevelNote, File: "a.yml", Message: "m"}, "notice", "", "m"},
		{"message with %, CR, LF and ::", Result{Rule: RuleUnreadable, Level: LevelError, File: "a.yml", Line: 1, Message: "100% broken\r\n::error::injected %0A"},
			"error", "1", "100% broken\r\n::error::injected %0A"},
		{"file name with , : % and a newline", Result{Rule: RuleUnreadable, Level: LevelError, File: ".github/workflows/a,line=9:b%25\n::x.yml", Line: 2, Message: "m"},
			"error", "2", "m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := GitHubAnnotations([]Result{tt.r})
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != 1 || !strings.HasSuffix(out, "\n") {
				t.Fatalf("want one command line, got %q", out)
			}
			cmd, props, data := parseCommand(t, lines[0])
			if cmd != tt.cmd || props["file"] != tt.r.File || props["line"] != tt.line || props["title"] != "cutover "+tt.r.Rule || data != tt.message {
				t.Errorf("read back %q %q %q, want %s file=%q line=%q title=%q data=%q", cmd, props, data, tt.cmd, tt.r.File, tt.line, "cutover "+tt.r.Rule, tt.message)
			}
			if _, ok := props["col"]; ok {
				t.Errorf("col given without a column: %q", lines[0])
			}
			if len(props) != 2+min(len(tt.line), 1) {
				t.Errorf("properties %q", props)
			}
		})
	}
	suppressed := Result{Rule: RuleTokenPublish, Level: LevelError, File: "a.yml", Line: 1, Message: "m", Suppression: &Suppression{Kind: "inSource", Justification: "why"}}
	if out := GitHubAnnotations([]Result{suppressed}); out != "" {
		t.Errorf("suppressed result annotated: %q", out)
	}
}
