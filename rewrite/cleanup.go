package rewrite

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// cleanup runs the cleanup playbook on a repository that was cut over and
// verified: token feeds guarded by the flag are removed, the npm upgrade
// step loses its flag condition (or goes, on Node 24+), id-token: write
// stays. Token feeds that were never guarded are left alone and reported.
func (r *rewriter) cleanup() {
	for _, p := range r.det.Pipelines {
		if len(p.Feeds) == 0 {
			continue
		}
		fw := r.file(p.Workflow)
		if fw == nil {
			continue
		}
		j := jobByID(fw.wf, p.Job)
		if j == nil {
			continue
		}
		for _, f := range p.Feeds {
			r.removeFeed(fw, j, p, f)
		}
		r.unflagSteps(fw, j, p)
		r.unguardWhoami(fw, j)
	}
}

func (r *rewriter) isGuarded(v string) bool {
	return strings.Contains(v, "vars."+r.opts.FlagVar+" != 'true'") || strings.Contains(v, "vars."+r.opts.FlagVar+" != ''true''")
}

// removeFeed deletes one guarded token feed.
func (r *rewriter) removeFeed(fw *fileWork, j *Job, p Pipeline, f TokenFeed) {
	switch f.Kind {
	case "env", "action-input", "secret-pass":
		fld, ok := r.feedField(fw, j, f)
		if !ok {
			return
		}
		if !r.isGuarded(fld.Value) {
			fw.manualf(f.Line, "%s is not guarded by vars.%s: run the oidc playbook and verify a release before cleanup", f.Name, r.opts.FlagVar)
			return
		}
		if f.Kind == "env" && f.Step >= 0 && f.Step < len(j.Steps) && r.onlyWritesNpmrc(j.Steps[f.Step]) {
			r.deleteStep(fw, j.Steps[f.Step], "remove the step that wrote the token into .npmrc")
			return
		}
		r.deleteEntry(fw, fld.KNode, fmt.Sprintf("remove %s: the token path is retired", f.Name))
	case "npmrc-write":
		if f.Step < 0 || f.Step >= len(j.Steps) {
			return
		}
		st := j.Steps[f.Step]
		if !r.isGuarded(st.Run) {
			fw.manualf(st.RunLine, "token written to .npmrc is not guarded by vars.%s: run the oidc playbook first", r.opts.FlagVar)
			return
		}
		if r.onlyWritesNpmrc(st) {
			r.deleteStep(fw, st, "remove the step that wrote the token into .npmrc")
		} else {
			fw.stepf("line %d: the script still writes an (empty) token into .npmrc; remove that line by hand", st.RunLine)
		}
	}
}

// onlyWritesNpmrc reports whether a step's script does nothing but write
// registry auth.
func (r *rewriter) onlyWritesNpmrc(st *Step) bool {
	if st.Run == "" || st.Uses != "" {
		return false
	}
	for _, c := range splitCommands(st.Run) {
		if !npmrcWriteRe.MatchString(strings.Join(c.words, " ")) {
			return false
		}
	}
	return true
}

// deleteEntry removes a mapping entry, and its parent key when it was the
// only entry.
func (r *rewriter) deleteEntry(fw *fileWork, key *yaml.Node, desc string) {
	if !r.once(fmt.Sprintf("delete:%s:%d", fw.path, key.Line)) {
		return
	}
	m := fw.t.parent[key]
	if m != nil && m.Kind == yaml.MappingNode && len(m.Content) == 2 {
		if pm := fw.t.parent[m]; pm != nil && pm.Kind == yaml.MappingNode {
			for i := 1; i < len(pm.Content); i += 2 {
				if pm.Content[i] == m {
					pk := pm.Content[i-1]
					fw.d.deleteLines(pk.Line, fw.t.entryEnd(pk), Edit{Line: pk.Line, Description: desc})
					return
				}
			}
		}
	}
	if m != nil && m.Style&yaml.FlowStyle != 0 {
		fw.manualf(key.Line, "flow-style mapping: %s by hand", desc)
		return
	}
	fw.d.deleteLines(key.Line, fw.t.entryEnd(key), Edit{Line: key.Line, Description: desc})
}

// deleteStep removes a whole step with the comments above it.
func (r *rewriter) deleteStep(fw *fileWork, st *Step, desc string) {
	if !r.once(fmt.Sprintf("delstep:%s:%d", fw.path, st.Line)) {
		return
	}
	fw.d.deleteLines(fw.d.commentStart(st.Node.Line), fw.t.entryEnd(st.Node), Edit{Line: st.Line, Description: desc})
}

// unflagSteps makes the npm upgrade step unconditional, or drops it where
// the runner's Node already ships npm 11.5.1+.
func (r *rewriter) unflagSteps(fw *fileWork, j *Job, p Pipeline) {
	cond := "vars." + r.opts.FlagVar + " == 'true'"
	node, known := parseVersion(p.NodeVersion)
	for _, st := range j.Steps {
		if strings.TrimSpace(st.If) != cond || !npmUpgradeRe.MatchString(st.Run) {
			continue
		}
		if known && node[0] >= 24 {
			r.deleteStep(fw, st, "drop the npm upgrade: Node 24+ ships npm 11.5.1 or later")
			continue
		}
		if k := keyNode(st.Node, "if"); k != nil {
			r.deleteEntry(fw, k, "npm upgrade step runs always now")
		}
	}
}

var guardedWhoamiRe = regexp.MustCompile(`\$\{\{ vars\.[A-Za-z0-9_]+ != '+true'+ && '+npm whoami'+ \|\| '+true'+ \}\}(\s*(;|&&)\s*)?`)

// unguardWhoami removes the guarded npm whoami calls the oidc playbook left.
func (r *rewriter) unguardWhoami(fw *fileWork, j *Job) {
	for _, st := range j.Steps {
		if st.RunNode == nil || !strings.Contains(st.Run, "'npm whoami'") {
			continue
		}
		from, to := st.RunNode.Line, lastLine(st.RunNode, 0)
		for n := from; n <= to; n++ {
			line := fw.d.line(n)
			loc := guardedWhoamiRe.FindStringIndex(line)
			if loc == nil {
				continue
			}
			rest := strings.TrimSpace(line[:loc[0]] + line[loc[1]:])
			if rest == "" || strings.HasSuffix(strings.TrimSpace(line[:loc[0]]), "run:") && strings.TrimSpace(line[loc[1]:]) == "" {
				if n == st.RunNode.Line {
					r.deleteStep(fw, st, "remove npm whoami: it needs a token")
				} else {
					fw.d.deleteLines(n, n, Edit{Line: n, Description: "remove npm whoami: it needs a token"})
				}
				continue
			}
			start := fw.d.offset(n, 1) + loc[0]
			fw.d.replace(start, fw.d.offset(n, 1)+loc[1], "", Edit{Line: n, Description: "remove npm whoami: it needs a token"})
		}
	}
}
