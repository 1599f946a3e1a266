package rewrite

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// cleanup runs the cleanup playbook on a repository that was cut over and
// verified: token feeds guarded by the flag are removed, the npm upgrade
// step loses its flag condition (or goes, on Node 24+), id-token: write
// stays. Token feeds that were never guarded are left alone and reported.
func (r *rewriter) cleanup() {
	r.eachTokenJob(func(fw *fileWork, j *Job, p Pipeline) {
		for _, f := range p.Feeds {
			r.removeFeed(fw, j, p, f)
			r.callerSecret(fw, p, f)
			r.committedReads(fw, f)
		}
		r.unflagSteps(fw, j, p)
		r.unguardWhoami(fw, j)
	})
}

// committedReads reports the committed .npmrc and .yarnrc.yml lines that
// read a token variable cleanup removed: npm and yarn fail on a variable
// that is not set.
func (r *rewriter) committedReads(fw *fileWork, f TokenFeed) {
	if f.Kind != "env" && f.Kind != "npmrc-file" && f.Kind != "yarnrc-file" || f.Name == "" {
		return
	}
	for _, p := range r.snap.paths() {
		if base := path.Base(p); base != ".npmrc" && base != ".yarnrc.yml" {
			continue
		}
		for i, line := range strings.Split(string(r.snap.Files[p]), "\n") {
			if strings.Contains(line, "${"+f.Name) || strings.Contains(line, "$"+f.Name) && !strings.Contains(line, "$"+f.Name+"_") {
				fw.stepf("%s line %d reads %s, which is no longer set: delete that line (npm and yarn fail on an unset variable)", p, i+1, f.Name)
			}
		}
	}
}

// callerSecret reports the callers that still pass a reusable workflow the
// secret whose feed was removed.
func (r *rewriter) callerSecret(fw *fileWork, p Pipeline, f TokenFeed) {
	if f.Secret == "" {
		return
	}
	for _, ref := range p.Callers {
		cp, cj := splitRef(ref)
		wf := r.parsed[cp]
		if wf == nil {
			continue
		}
		job := jobByID(wf, cj)
		if job == nil {
			continue
		}
		// f.Secret names the secret the callee reads or, once resolved,
		// the caller's repository secret behind it.
		for _, s := range job.Secrets {
			if secret, _ := credentialValue(s.Value); s.Key == f.Secret || secret == f.Secret {
				fw.stepf("%s line %d still passes %s to this workflow, which no longer reads it: remove it there and from on.workflow_call.secrets", cp, s.Line, s.Key)
			}
		}
	}
}

// isGuarded reports whether a value or script line has the exact flag
// guard; detection uses the same test for TokenFeed.Guarded.
func (r *rewriter) isGuarded(v string) bool {
	g, _ := guardOf(v, r.opts.FlagVar)
	return g
}

// notGuarded says why cleanup leaves a feed alone.
func (r *rewriter) notGuarded(f TokenFeed) string {
	if f.GuardIssue != "" {
		return f.GuardIssue + "; fix the guard (rerun the oidc playbook) before cleanup"
	}
	return fmt.Sprintf("%s is not guarded by vars.%s: run the oidc playbook and verify a release before cleanup", f.Name, r.opts.FlagVar)
}

// removeFeed deletes one guarded token feed.
func (r *rewriter) removeFeed(fw *fileWork, j *Job, p Pipeline, f TokenFeed) {
	switch f.Kind {
	case "env", "action-input", "secret-pass":
		fld, ok := r.feedField(fw, j, f)
		if !ok {
			return
		}
		if !f.Guarded {
			fw.manualf(f.Line, "%s", r.notGuarded(f))
			return
		}
		if f.Kind == "env" && f.Step >= 0 && f.Step < len(j.Steps) && r.onlyWritesNpmrc(j.Steps[f.Step]) {
			r.deleteStep(fw, j.Steps[f.Step], "remove the step that wrote the token into .npmrc")
			return
		}
		r.deleteEntry(fw, fld.KNode, fmt.Sprintf("remove %s: the token path is retired", f.Name))
	case "npmrc-file", "yarnrc-file":
		// The committed file reads an env var; it was guarded where set
		// (f.Guarded is true when every level is); each level is judged by
		// the same guard test.
		for _, fs := range r.envLevels(fw, j, p) {
			if fld, ok := lookup(fs, f.Name, false); ok {
				if !r.isGuarded(fld.Value) {
					fw.manualf(fld.Line, "%s is not guarded by vars.%s: run the oidc playbook and verify a release before cleanup", f.Name, r.opts.FlagVar)
					continue
				}
				r.deleteEntry(fw, fld.KNode, fmt.Sprintf("remove %s: the token path is retired", f.Name))
			}
		}
	case "npmrc-write":
		if f.Step < 0 || f.Step >= len(j.Steps) {
			return
		}
		st := j.Steps[f.Step]
		if !f.Guarded {
			if f.GuardIssue != "" {
				fw.manualf(st.RunLine, "token written to .npmrc: %s", r.notGuarded(f))
				return
			}
			fw.manualf(st.RunLine, "token written to .npmrc is not guarded by vars.%s: run the oidc playbook first", r.opts.FlagVar)
			return
		}
		switch {
		case r.onlyWritesNpmrc(st):
			r.deleteStep(fw, st, "remove the step that wrote the token into .npmrc")
		case !r.deleteNpmrcLines(fw, st):
			fw.stepf("line %d: the script still writes an (empty) token into .npmrc; remove that line by hand", st.RunLine)
		}
	}
}

// deleteNpmrcLines removes, from a literal block script, the guarded lines
// that do nothing but write the token into .npmrc. It reports whether no
// guarded line is left.
func (r *rewriter) deleteNpmrcLines(fw *fileWork, st *Step) bool {
	v := st.RunNode
	if v == nil || v.Style&yaml.LiteralStyle == 0 {
		return false
	}
	var del []int
	end := lastLine(v, 0)
	for n := v.Line + 1; n <= end; n++ {
		line := fw.d.line(n)
		if !r.isGuarded(line) {
			continue
		}
		cs := splitCommands(line)
		ok := len(cs) > 0 && !strings.HasSuffix(strings.TrimSpace(line), "\\") && !strings.HasSuffix(strings.TrimSpace(fw.d.line(n-1)), "\\")
		for _, c := range cs {
			ok = ok && npmrcWriteRe.MatchString(strings.Join(c.words, " "))
		}
		if !ok {
			return false
		}
		del = append(del, n)
	}
	for _, n := range del {
		if !r.once(fmt.Sprintf("delline:%s:%d", fw.path, n)) {
			continue
		}
		fw.d.deleteLines(n, n, Edit{Line: n, Description: "remove the line that wrote the token into .npmrc"})
	}
	return len(del) > 0
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

// deleteEntry schedules the removal of a mapping entry; flushDeletes
// removes the mapping's own key instead when every entry goes.
func (r *rewriter) deleteEntry(fw *fileWork, key *yaml.Node, desc string) {
	if !r.once(fmt.Sprintf("delete:%s:%d:%d", fw.path, key.Line, key.Column)) {
		return
	}
	fw.dels = append(fw.dels, pendingDelete{m: fw.t.parent[key], key: key, desc: desc})
}

// pendingDelete is a mapping entry to remove.
type pendingDelete struct {
	m, key *yaml.Node
	desc   string
}

// flushDeletes applies the scheduled entry removals of a file. A mapping
// that loses every entry goes with its key (an empty env: would not
// validate); comments above an entry and comments inside it go with it.
func (r *rewriter) flushDeletes(fw *fileWork) {
	count := map[*yaml.Node]int{}
	for _, d := range fw.dels {
		count[d.m]++
	}
	done := map[*yaml.Node]bool{}
	for _, d := range fw.dels {
		m, key := d.m, d.key
		if m != nil && m.Kind == yaml.MappingNode && 2*count[m] == len(m.Content) {
			if pk := parentKey(fw.t, m); pk != nil {
				if !done[m] {
					done[m] = true
					r.deleteKeyLines(fw, pk, d.desc)
				}
				continue
			}
		}
		if m != nil && m.Style&yaml.FlowStyle != 0 {
			if count[m] > 1 || !r.deleteFlowEntry(fw, m, key, d.desc) {
				fw.manualf(key.Line, "flow-style mapping: %s by hand", d.desc)
			}
			continue
		}
		r.deleteKeyLines(fw, key, d.desc)
	}
	fw.dels = nil
}

// deleteFlowEntry removes "key: value" and one comma next to it from a
// flow mapping written on one line, and reports whether it could.
func (r *rewriter) deleteFlowEntry(fw *fileWork, m, key *yaml.Node, desc string) bool {
	idx := -1
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i] == key {
			idx = i
		}
	}
	if idx < 0 || lastLine(m, 0) != m.Line || fw.d.line(m.Line) == "" {
		return false
	}
	v := m.Content[idx+1]
	if v.Kind != yaml.ScalarNode || v.Line != key.Line {
		return false
	}
	line := fw.d.line(key.Line)
	ks, vs := fw.d.byteCol(key.Line, key.Column), fw.d.byteCol(v.Line, v.Column)
	ve := vs + scalarExtent(line[vs:], v)
	var from, to int
	if idx > 0 {
		from, to = strings.LastIndex(line[:ks], ","), ve
		if from < 0 {
			return false
		}
	} else {
		k := strings.Index(line[ve:], ",")
		if k < 0 {
			return false
		}
		from, to = ks, ve+k+1
		for to < len(line) && line[to] == ' ' {
			to++
		}
	}
	at := fw.d.lineStart(key.Line)
	fw.d.replace(at+from, at+to, "", Edit{Line: key.Line, Description: desc})
	return true
}

// parentKey returns the key whose value is the node n, if any.
func parentKey(t *tree, n *yaml.Node) *yaml.Node {
	pm := t.parent[n]
	if pm == nil || pm.Kind != yaml.MappingNode {
		return nil
	}
	for i := 1; i < len(pm.Content); i += 2 {
		if pm.Content[i] == n {
			return pm.Content[i-1]
		}
	}
	return nil
}

// nextKey returns the key after key in its mapping, if any.
func nextKey(t *tree, key *yaml.Node) *yaml.Node {
	m := t.parent[key]
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+2 < len(m.Content); i += 2 {
		if m.Content[i] == key {
			return m.Content[i+2]
		}
	}
	return nil
}

// deleteKeyLines removes the lines of a block mapping entry.
func (r *rewriter) deleteKeyLines(fw *fileWork, key *yaml.Node, desc string) {
	line := fw.d.line(key.Line)
	if prefix := strings.TrimSpace(line[:fw.d.byteCol(key.Line, key.Column)]); prefix != "" {
		// "- key: …" opens a sequence item: the next entry moves up to
		// take its place after the dash.
		next := nextKey(fw.t, key)
		if prefix != "-" || next == nil || next.Column != key.Column {
			fw.manualf(key.Line, "%s shares its line with other YAML; %s by hand", key.Value, desc)
			return
		}
		fw.d.replace(fw.d.offset(key.Line, key.Column), fw.d.offset(next.Line, next.Column), "", Edit{Line: key.Line, Description: desc})
		return
	}
	end := fw.d.innerComments(fw.t.entryEnd(key), key.Column)
	fw.d.deleteLines(fw.d.commentStart(key.Line), end, Edit{Line: key.Line, Description: desc})
}

// deleteStep removes a whole step with the comments above it.
func (r *rewriter) deleteStep(fw *fileWork, st *Step, desc string) {
	if !r.once(fmt.Sprintf("delstep:%s:%d", fw.path, st.Line)) {
		return
	}
	start := fw.d.commentStart(st.Node.Line)
	if prev := strings.TrimSpace(fw.d.line(start - 1)); start > 1 && (prev == "-" || strings.HasSuffix(prev, ": -")) {
		fw.manualf(st.Line, "step starts on the line of its dash; %s by hand", desc)
		return
	}
	fw.d.deleteLines(start, fw.d.innerComments(fw.t.entryEnd(st.Node), st.Node.Column), Edit{Line: st.Line, Description: desc})
}

// unflagSteps makes the npm upgrade step unconditional, or drops it where
// the runner's Node already ships npm 11.5.1+. A step the oidc playbook
// gated on the publish step's condition as well keeps that condition.
func (r *rewriter) unflagSteps(fw *fileWork, j *Job, p Pipeline) {
	cond := "vars." + r.opts.FlagVar + " == 'true'"
	node, known := parseVersion(p.NodeVersion)
	for _, st := range j.Steps {
		c := strings.TrimSpace(st.If)
		rest, gated := strings.CutPrefix(c, cond+" && ")
		if c != cond && !gated || !npmUpgradeRe.MatchString(st.Run) {
			continue
		}
		if known && node[0] >= 24 {
			r.deleteStep(fw, st, "drop the npm upgrade: Node 24+ ships npm 11.5.1 or later")
			continue
		}
		k := keyNode(st.Node, "if")
		if k == nil {
			continue
		}
		if !gated {
			r.deleteEntry(fw, k, "npm upgrade step runs always now")
			continue
		}
		_, v, _ := (&walker{}).mapGet(st.Node, "if")
		if v == nil || v.Kind != yaml.ScalarNode || v.Style != 0 || v.Line != k.Line || strings.Contains(v.Value, "\n") {
			continue
		}
		start := fw.d.offset(v.Line, v.Column)
		fw.d.replace(start, start+len(v.Value), unparen(rest), Edit{Line: v.Line, Description: "npm upgrade step runs whenever the publish step does"})
	}
}

// unparen strips one pair of parentheses around a whole expression.
func unparen(s string) string {
	if !strings.HasPrefix(s, "(") || !strings.HasSuffix(s, ")") {
		return s
	}
	depth := 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 && i != len(s)-1 {
				return s
			}
		}
	}
	return s[1 : len(s)-1]
}

var guardedWhoamiRe = regexp.MustCompile(`\$\{\{ vars\.[A-Za-z0-9_]+ != '+true'+ && '+npm whoami'+ \|\| '+true'+ \}\}(\s*(;|&&)\s*)?`)

// unguardWhoami removes the guarded npm whoami calls the oidc playbook
// left, with the ; or && that joined them to the next command or the && that
// joined them to the one before. A step left with nothing to run goes.
func (r *rewriter) unguardWhoami(fw *fileWork, j *Job) {
	why := Edit{Description: "remove npm whoami: it needs a token"}
	for _, st := range j.Steps {
		if st.RunNode == nil || !strings.Contains(st.Run, "'npm whoami'") {
			continue
		}
		from, to := st.RunNode.Line, lastLine(st.RunNode, 0)
		type cut struct{ line, start, end int }
		var cuts []cut
		emptied, content := 0, 0
		for n := from; n <= to; n++ {
			line := fw.d.line(n)
			if n > st.RunNode.Line || st.RunNode.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
				if strings.TrimSpace(line) != "" {
					content++
				}
			}
			locs := guardedWhoamiRe.FindAllStringIndex(line, -1)
			if len(locs) == 0 {
				continue
			}
			loc := locs[0]
			pre, post := line[:loc[0]], strings.TrimSpace(line[loc[1]:])
			tpre := strings.TrimSpace(pre)
			if n == st.RunNode.Line {
				tpre = strings.TrimSpace(strings.TrimPrefix(tpre, "- "))
				tpre = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(tpre, "run:"), "run:"))
			}
			switch {
			case len(locs) > 1 || strings.HasPrefix(post, "|") || strings.HasPrefix(post, "&") ||
				strings.HasSuffix(tpre, "|") || strings.HasSuffix(tpre, "'") || strings.HasSuffix(tpre, `"`):
				fw.stepf("line %d: remove the guarded npm whoami by hand", n)
				return
			case tpre == "" && (post == "" || strings.HasPrefix(post, "#")):
				emptied++
				cuts = append(cuts, cut{n, -1, -1})
			case strings.HasSuffix(tpre, "&&") && (post == "" || strings.HasPrefix(post, "#")):
				// "cmd && whoami": drop " && whoami".
				end := strings.LastIndex(pre, "&&")
				start := len(strings.TrimRight(pre[:end], " "))
				cuts = append(cuts, cut{n, start, loc[1]})
			default:
				cuts = append(cuts, cut{n, loc[0], loc[1]})
			}
		}
		if len(cuts) > 0 && emptied == content {
			r.deleteStep(fw, st, why.Description)
			continue
		}
		for _, c := range cuts {
			why.Line = c.line
			if c.start < 0 {
				fw.d.deleteLines(c.line, c.line, why)
				continue
			}
			at := fw.d.lineStart(c.line)
			fw.d.replace(at+c.start, at+c.end, "", why)
		}
	}
}
