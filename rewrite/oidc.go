package rewrite

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Tools that shell out to the npm CLI on PATH to publish, so that CLI must
// be 11.5.1 or later for trusted publishing.
var npmCLITools = map[string]bool{
	"npm": true, "pnpm": true, "changesets": true, "js-devtools/npm-publish": true, "nx": true,
	"release-it": true, "np": true, "rush": true, "npm-script": true, "pnpm-script": true,
	"yarn-script": true, "bun-script": true, "script": true, "action": true, "lerna": true,
	"metamask/action-npm-publish": true,
}

// oidc runs the oidc playbook: every token feed on a publish path is
// guarded by the flag variable, the publishing job (and its callers) get
// id-token: write, and npm is upgraded behind the flag where needed.
func (r *rewriter) oidc() {
	for _, p := range r.det.Pipelines {
		if p.Credential != CredToken && p.Credential != CredTokenProvenance {
			continue
		}
		fw := r.file(p.Workflow)
		if fw == nil {
			continue
		}
		j := jobByID(fw.wf, p.Job)
		if j == nil || !r.oidcBlockers(fw, j, p) {
			continue
		}
		r.guardFeeds(fw, j, p)
		r.guardWhoami(fw, j, p)
		if !p.IDToken || p.IDTokenFrom == "caller" {
			r.ensureIDToken(fw, j, p)
		}
		for _, ref := range p.Callers {
			cp, cj := splitRef(ref)
			cfw := r.file(cp)
			if cfw == nil {
				continue
			}
			if job := jobByID(cfw.wf, cj); job != nil {
				if !(job.Permissions.Set && job.Permissions.IDTokenWrite()) && !(!job.Permissions.Set && cfw.wf.Permissions.IDTokenWrite()) {
					r.ensureIDToken(cfw, job, p)
				}
			}
		}
		r.upgradeNPM(fw, j, p)
		r.oidcSteps(fw, j, p)
	}
}

// trustCheckRe matches the checks that keep a job from running for code or
// people outside the repository: a same-repository head, a known actor or
// association, or an event other than the untrusted one.
var trustCheckRe = regexp.MustCompile(`(head\.repo\.full_name|head_repository\.full_name)\s*==\s*github\.repository\b|github\.repository\s*==\s*github\.event\.[\w.]*full_name|author_association\s*==|contains\([^)]*author_association\s*\)|github\.(actor|triggering_actor|repository_owner|event\.sender\.login)\s*==|github\.event_name\s*==\s*'(push|release|workflow_dispatch|schedule)'`)

// trustChecked reports whether a job's if: holds a trust check that
// cannot be bypassed: one of trustCheckRe, and no || beside it.
func trustChecked(cond string) bool {
	return trustCheckRe.MatchString(cond) && !strings.Contains(cond, "||")
}

// oidcBlockers records the reasons a pipeline cannot move to OIDC here and
// reports whether it can.
func (r *rewriter) oidcBlockers(fw *fileWork, j *Job, p Pipeline) bool {
	ok := true
	if p.Proxy != "" {
		via := ""
		if len(p.ProxyScopes) > 0 {
			via = " for scope " + strings.Join(p.ProxyScopes, ", ")
		}
		fw.manualf(j.Line, "job %q publishes through the registry proxy %s%s with an npm token; npm trusted publishing needs the publish to reach the npm registry directly: remove the proxy from the publish path, or use the token-bridge playbook", j.ID, RegistryHost(p.Proxy), via)
		ok = false
	}
	if p.SelfHosted {
		fw.manualf(j.Line, "job %q runs on a self-hosted runner; npm trusted publishing needs a GitHub-hosted runner (use the token-bridge playbook)", j.ID)
		ok = false
	}
	for _, t := range fw.wf.Triggers {
		if _, bad := untrustedTriggers[t]; bad && !trustChecked(j.If) {
			fw.manualf(j.Line, "job %q runs on %s without a trust check in its if:; cutover will not grant it id-token: write", j.ID, t)
			ok = false
		}
	}
	for _, s := range p.Steps {
		switch s.Tool {
		case "yarn":
			fw.manualf(s.Line, "yarn 1 publish cannot use trusted publishing; change the command to npm publish (or Yarn 4.10+ yarn npm publish)")
			ok = false
		case "bun":
			fw.manualf(s.Line, "bun publish cannot use trusted publishing; change the command to bunx npm@%s publish", r.opts.NPMVersion)
			ok = false
		case "changesets":
			if s.Command == "yarn publish" {
				fw.manualf(s.Line, "changesets/action runs yarn 1 publish, which cannot use trusted publishing; change publish: to npm publish or changeset publish")
				ok = false
			}
		}
	}
	var a *yaml.Node
	if fw.wf.Anchors { // no anchor, so no alias either: skip the walk
		a = firstAnchorOrAlias(j.Node, 0)
	}
	switch {
	case a != nil && a.Kind == yaml.AliasNode:
		fw.manualf(a.Line, "job %q reuses YAML anchor &%s through the alias *%s; an edit would not apply where it is defined, edit it by hand", j.ID, a.Value, a.Value)
		ok = false
	case a != nil:
		fw.manualf(a.Line, "job %q defines YAML anchor &%s; an edit there would also change every *%s, edit it by hand", j.ID, a.Anchor, a.Anchor)
		ok = false
	case j.Node != nil && j.Node.Style&yaml.FlowStyle != 0:
		fw.manualf(j.Line, "job %q is a flow-style mapping that cutover cannot splice; edit it by hand", j.ID)
		ok = false
	}
	return ok
}

// guardExpr wraps every secrets expression in a value so the token is empty
// when the flag is on.
func (r *rewriter) guardExpr(text string) string {
	return exprRe.ReplaceAllStringFunc(text, func(e string) string {
		inner := strings.TrimSpace(e[3 : len(e)-2])
		if !secretRefRe.MatchString(inner) || strings.Contains(inner, "vars."+r.opts.FlagVar) {
			return e
		}
		if m := secretRefRe.FindAllStringSubmatch(inner, -1); len(m) == 1 && strings.EqualFold(m[0][1]+m[0][2], "GITHUB_TOKEN") {
			return e
		}
		if strings.ContainsAny(inner, "|&=!<>") {
			inner = "(" + inner + ")"
		}
		return fmt.Sprintf("${{ vars.%s != 'true' && %s || '' }}", r.opts.FlagVar, inner)
	})
}

var exprRe = regexp.MustCompile(`\$\{\{.*?\}\}`)

// guardScalar rewrites the expressions inside a one-line scalar value.
func (r *rewriter) guardScalar(fw *fileWork, v *yaml.Node, what string) {
	if v == nil || v.Kind != yaml.ScalarNode {
		return
	}
	if !r.once(fmt.Sprintf("guard:%s:%d:%d", fw.path, v.Line, v.Column)) {
		return
	}
	if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		r.guardBlock(fw, v, what)
		return
	}
	line := fw.d.line(v.Line)
	// Only the scalar itself, not a comment after it.
	rest := line[fw.d.byteCol(v.Line, v.Column):]
	rest = rest[:scalarExtent(rest, v)]
	if strings.Contains(v.Value, "\n") || !strings.Contains(rest, "}}") && strings.Contains(v.Value, "${{") {
		fw.manualf(v.Line, "%s spans lines; guard it by hand", what)
		return
	}
	guarded := r.guardExpr(rest)
	if v.Style&yaml.SingleQuotedStyle != 0 {
		// Inside '…' a quote is written twice.
		guarded = exprRe.ReplaceAllStringFunc(rest, func(e string) string {
			g := r.guardExpr(e)
			if g == e {
				return e
			}
			return strings.ReplaceAll(g, "'", "''")
		})
	}
	if guarded == rest {
		return
	}
	start := fw.d.offset(v.Line, v.Column)
	fw.d.replace(start, start+len(rest), guarded, Edit{Line: v.Line, Description: fmt.Sprintf("%s: token only when vars.%s is not 'true'", what, r.opts.FlagVar)})
}

// scalarExtent returns how much of s, the text of a line from where the
// flow scalar v starts, belongs to v; all of s when v goes on past the line.
func scalarExtent(s string, v *yaml.Node) int {
	switch {
	case v.Style&yaml.SingleQuotedStyle != 0:
		for i := 1; i < len(s); i++ {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
					continue
				}
				return i + 1
			}
		}
	case v.Style&yaml.DoubleQuotedStyle != 0:
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
	case v.Style == 0 && strings.HasPrefix(s, v.Value):
		return len(v.Value)
	}
	return len(s)
}

// guardBlock rewrites expressions on the lines of a block scalar.
func (r *rewriter) guardBlock(fw *fileWork, v *yaml.Node, what string) {
	end := lastLine(v, 0)
	for n := v.Line + 1; n <= end; n++ {
		line := fw.d.line(n)
		g := r.guardExpr(line)
		if g != line {
			start := fw.d.lineStart(n)
			fw.d.replace(start, start+len(line), g, Edit{Line: n, Description: fmt.Sprintf("%s: token only when vars.%s is not 'true'", what, r.opts.FlagVar)})
		}
	}
}

// guardFeeds guards every token feed of the pipeline in its file.
func (r *rewriter) guardFeeds(fw *fileWork, j *Job, p Pipeline) {
	for _, f := range p.Feeds {
		if f.GuardIssue != "" && f.File == fw.path {
			// A guard that reads the flag but does not switch the token
			// off: rewriting around it would hide the live token.
			fw.manualf(f.Line, "%s; write it as ${{ vars.%s != 'true' && <token> || '' }} by hand", f.GuardIssue, r.opts.FlagVar)
			continue
		}
		switch f.Kind {
		case "env", "action-input", "secret-pass":
			if fld, ok := r.feedField(fw, j, f); ok {
				r.guardScalar(fw, fld.VNode, f.Name)
			}
			if f.Kind == "env" && (f.Level == "job" || f.Level == "workflow") {
				r.installsLosingToken(fw, j, f)
			}
		case "npmrc-write":
			if f.Step >= 0 && f.Step < len(j.Steps) {
				r.guardScalar(fw, j.Steps[f.Step].RunNode, "token written to .npmrc")
			}
		case "npmrc-file", "yarnrc-file":
			// The committed file reads an env var; guard where it is set.
			for _, fs := range r.envLevels(fw, j, p) {
				if fld, ok := lookup(fs, f.Name, false); ok {
					r.guardScalar(fw, fld.VNode, f.Name)
				}
			}
		}
	}
}

// installsLosingToken notes the install steps that a guarded job- or
// workflow-level token also reaches: with the flag on they get none.
func (r *rewriter) installsLosingToken(fw *fileWork, j *Job, f TokenFeed) {
	jobs := []*Job{j}
	if f.Level == "workflow" {
		jobs = fw.wf.Jobs
	}
	for _, job := range jobs {
		if f.Level == "workflow" {
			if _, own := lookup(job.Env, f.Name, false); own {
				continue
			}
		}
		for _, st := range job.Steps {
			if _, own := lookup(st.Env, f.Name, false); !own && installRe.MatchString(st.Run) {
				fw.stepf("line %d installs packages with %s, which is empty when the flag is on: if they include private ones, give that step a read-only token", st.Line, f.Name)
			}
		}
	}
}

// envLevels lists env blocks on the publish path: workflow, job, steps.
func (r *rewriter) envLevels(fw *fileWork, j *Job, p Pipeline) [][]Field {
	levels := [][]Field{fw.wf.Env, j.Env}
	for _, st := range j.Steps {
		levels = append(levels, st.Env)
	}
	return levels
}

// feedField finds the field behind a token feed.
func (r *rewriter) feedField(fw *fileWork, j *Job, f TokenFeed) (Field, bool) {
	var fs []Field
	switch {
	case f.Kind == "secret-pass":
		fs = j.Secrets
	case f.Level == "workflow":
		fs = fw.wf.Env
	case f.Level == "job":
		fs = j.Env
	case f.Step >= 0 && f.Step < len(j.Steps) && f.Kind == "action-input":
		fs = j.Steps[f.Step].With
	case f.Step >= 0 && f.Step < len(j.Steps):
		fs = j.Steps[f.Step].Env
	}
	for _, fld := range fs {
		if fld.Key == f.Name && fld.Line == f.Line {
			return fld, true
		}
	}
	return Field{}, false
}

var whoamiRe = regexp.MustCompile(`\bnpm whoami\b`)

// guardWhoami keeps npm whoami (which needs a token) off the OIDC path.
func (r *rewriter) guardWhoami(fw *fileWork, j *Job, p Pipeline) {
	for _, st := range j.Steps {
		if st.RunNode == nil || !whoamiRe.MatchString(st.Run) {
			continue
		}
		if onlyWhoami(st.Run) {
			// The step does nothing else with the token it is handed.
			isToken := (&detector{opts: Options{Registry: NormalizeRegistry(r.opts.Registry)}}).isTokenEnv
			for _, f := range st.Env {
				if _, cred := credentialValue(f.Value); cred && isToken(f.Key) {
					r.guardScalar(fw, f.VNode, f.Key)
				}
			}
		}
		from, to := st.RunNode.Line, lastLine(st.RunNode, 0)
		if st.RunNode.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			from++
		}
		repl := fmt.Sprintf("${{ vars.%s != 'true' && 'npm whoami' || 'true' }}", r.opts.FlagVar)
		if st.RunNode.Style&yaml.SingleQuotedStyle != 0 {
			repl = strings.ReplaceAll(repl, "'", "''")
		}
		for n := from; n <= to; n++ {
			line := fw.d.line(n)
			if strings.Contains(line, "'npm whoami'") {
				continue
			}
			for _, loc := range whoamiRe.FindAllStringIndex(line, -1) {
				if n == st.RunNode.Line && loc[0] < fw.d.byteCol(n, st.RunNode.Column) {
					continue
				}
				start := fw.d.lineStart(n) + loc[0]
				fw.d.replace(start, start+loc[1]-loc[0], repl, Edit{Line: n, Description: "npm whoami needs a token: run it only on the token path"})
			}
		}
	}
}

// onlyWhoami reports whether a script runs npm whoami and nothing else.
func onlyWhoami(script string) bool {
	cs := splitCommands(script)
	for _, c := range cs {
		if len(c.words) < 2 || c.words[0] != "npm" || c.words[1] != "whoami" {
			return false
		}
	}
	return len(cs) > 0
}

// scope is one permission line.
type scope struct{ Name, Value string }

// ensureIDToken gives a job id-token: write, merging into its permissions
// or, when it inherits them, copying what it needs into a job-level block.
func (r *rewriter) ensureIDToken(fw *fileWork, j *Job, p Pipeline) {
	if !r.once("idtoken:" + fw.path + "#" + j.ID) {
		return
	}
	why := Edit{Line: j.Line, Description: fmt.Sprintf("job %q: id-token: write for npm trusted publishing", j.ID)}
	perm := j.Permissions
	if perm.Set {
		r.mergePermission(fw, j, perm, why)
		return
	}
	var scopes []scope
	wp := fw.wf.Permissions
	switch {
	case wp.Set && wp.All == "write-all":
		return
	case wp.Set && wp.All != "":
		fw.manualf(wp.Line, "workflow permissions are %q; a job-level block would drop them: add id-token: write by hand", wp.All)
		return
	case wp.Set:
		ws, ok := orderedScopes(wp)
		if !ok {
			fw.manualf(wp.Line, "workflow permissions use a shape cutover cannot copy into a job (an anchor, alias, tag or unknown word); add id-token: write by hand")
			return
		}
		for _, k := range ws {
			if k.Name != "id-token" {
				scopes = append(scopes, k)
			}
		}
		why.Description += " (job-level block copies the workflow-level permissions it replaces)"
	case fw.path == p.Workflow && len(p.Callers) > 0:
		// A called workflow without permissions runs with its caller's.
		var ok, all bool
		if scopes, all, ok = r.callerScopes(p); all {
			return
		} else if !ok {
			fw.manualf(j.Line, "job %q runs with the permissions of its callers, which differ or cutover cannot read; add id-token: write by hand", j.ID)
			return
		}
		why.Description += " (job-level block copies the permissions it had from its caller)"
	default:
		scopes = inferScopes(j, p)
		names := make([]string, 0, len(scopes))
		for _, s := range scopes {
			names = append(names, s.Name+": "+s.Value)
		}
		if j.Uses != "" {
			fw.stepf("job %q had the repository's default token permissions; cutover set %s plus id-token: write, which also caps the jobs of %s: check what they need", j.ID, strings.Join(names, ", "), j.Uses)
		} else {
			fw.stepf("job %q had the repository's default token permissions; cutover set %s plus id-token: write. Check that nothing else in the job needs more", j.ID, strings.Join(names, ", "))
		}
	}
	scopes = append(scopes, scope{"id-token", "write"})
	r.insertPermissions(fw, j, scopes, why)
}

// callerScopes returns the permissions, id-token aside, that every caller
// of a reusable workflow gives it (after the caller's own rewrite), when
// they agree; all is true when every caller grants write-all.
func (r *rewriter) callerScopes(p Pipeline) (scopes []scope, all, ok bool) {
	all = true
	for i, ref := range p.Callers {
		cp, cj := splitRef(ref)
		wf := r.parsed[cp]
		if wf == nil {
			return nil, false, false
		}
		job := jobByID(wf, cj)
		if job == nil {
			return nil, false, false
		}
		perm := job.Permissions
		if !perm.Set {
			perm = wf.Permissions
		}
		var these []scope
		switch {
		case perm.Set && perm.All == "write-all":
			these = []scope{{"write-all", ""}}
		case perm.Set && perm.All != "":
			return nil, false, false
		case perm.Set:
			ps, ok := orderedScopes(perm)
			if !ok {
				return nil, false, false
			}
			for _, s := range ps {
				if s.Name != "id-token" {
					these = append(these, s)
				}
			}
		default:
			these = inferScopes(job, p)
		}
		all = all && perm.All == "write-all"
		if i > 0 && !slices.Equal(these, scopes) {
			return nil, false, false
		}
		scopes = these
	}
	return scopes, all, !all
}

// orderedScopes lists a permissions mapping in file order.
func orderedScopes(p Permissions) (out []scope, ok bool) {
	if p.VNode == nil || p.VNode.Kind != yaml.MappingNode {
		return out, true
	}
	for i := 0; i+1 < len(p.VNode.Content); i += 2 {
		k, v := p.VNode.Content[i], p.VNode.Content[i+1]
		if !plainWord(k) || !plainWord(v) {
			return nil, false
		}
		out = append(out, scope{k.Value, v.Value})
	}
	return out, true
}

// scopeWordRe matches a permission scope name or level.
var scopeWordRe = regexp.MustCompile(`^[a-z][a-z-]*$`)

// plainWord reports whether n is a scalar cutover can copy into a new
// permissions block as it reads: no anchor, alias or explicit tag, and a
// scope-like word (an anchored key such as "&a: read" would be copied as an
// empty name).
func plainWord(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Anchor == "" && n.Style&yaml.TaggedStyle == 0 && scopeWordRe.MatchString(n.Value)
}

// inferScopes guesses the permissions a job that relied on defaults needs.
func inferScopes(j *Job, p Pipeline) []scope {
	contents := "read"
	var extra []scope
	has := func(t string) bool { return contains(p.Tools, t) }
	writes := has("semantic-release") || has("changesets") || has("lerna") || has("release-it") || has("np") || has("nx")
	for _, st := range j.Steps {
		if strings.Contains(st.Run, "git push") || strings.Contains(st.Run, "gh release") || strings.Contains(st.Run, "git tag") ||
			strings.Contains(actionName(st.Uses), "release") || strings.Contains(actionName(st.Uses), "gh-pages") {
			writes = true
		}
	}
	if writes {
		contents = "write"
	}
	if has("semantic-release") {
		extra = append(extra, scope{"issues", "write"}, scope{"pull-requests", "write"})
	}
	if has("changesets") {
		extra = append(extra, scope{"pull-requests", "write"})
	}
	return append([]scope{{"contents", contents}}, extra...)
}

// mergePermission adds id-token: write to an existing job permissions block.
func (r *rewriter) mergePermission(fw *fileWork, j *Job, perm Permissions, why Edit) {
	v := perm.VNode
	switch {
	case perm.All == "write-all":
		return
	case perm.All != "":
		fw.manualf(perm.Line, "job %q has permissions: %s; add id-token: write by hand", j.ID, perm.All)
		return
	case v == nil || v.Kind != yaml.MappingNode:
		fw.manualf(perm.Line, "job %q has permissions cutover cannot read", j.ID)
		return
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		if v.Content[i].Value == "id-token" {
			val := v.Content[i+1]
			if val.Kind != yaml.ScalarNode || strings.ContainsAny(val.Value, "\n'\"\\") {
				fw.manualf(val.Line, "job %q: id-token permission cutover cannot read; set it to write by hand", j.ID)
				return
			}
			text, n := "write", len(val.Value)
			switch {
			case val.Style&yaml.TaggedStyle != 0 || val.Tag != "" && val.Tag != "!!str" && val.Tag != "!!null" && val.Style == 0:
				// A tag (id-token: !!str none, id-token: !0000) sits
				// before the value: replace tag and value together, up
				// to a comment, so "write" is a plain string again.
				line := fw.d.line(val.Line)
				rest := line[fw.d.byteCol(val.Line, val.Column):]
				if i := strings.Index(rest, " #"); i >= 0 {
					rest = rest[:i]
				}
				rest = strings.TrimRight(rest, " \t\r")
				// The value must end the tag's line: a tag alone on its
				// line (id-token: !!str, none below it) would leave the
				// value behind the splice.
				if strings.ContainsAny(rest, "'\"{}[],&*|>") || val.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 || !strings.HasSuffix(rest, val.Value) {
					fw.manualf(val.Line, "job %q: id-token permission has a tag cutover cannot splice; set it to write by hand", j.ID)
					return
				}
				n = len(rest)
			case val.Style&yaml.SingleQuotedStyle != 0:
				text, n = "'write'", n+2
			case val.Style&yaml.DoubleQuotedStyle != 0:
				text, n = `"write"`, n+2
			}
			start := fw.d.offset(val.Line, val.Column)
			fw.d.replace(start, start+n, text, why)
			return
		}
	}
	if v.Style&yaml.FlowStyle != 0 {
		r.flowInsert(fw, perm, why)
		return
	}
	last := v.Content[len(v.Content)-2]
	end := fw.t.entryEnd(last)
	indent := strings.Repeat(" ", v.Content[0].Column-1)
	fw.d.insertLines(end+1, []string{indent + "id-token: write"}, why)
}

// flowInsert adds id-token: write to a one-line flow mapping.
func (r *rewriter) flowInsert(fw *fileWork, perm Permissions, why Edit) {
	v := perm.VNode
	line := fw.d.line(v.Line)
	open := fw.d.byteCol(v.Line, v.Column)
	if open >= len(line) || line[open] != '{' {
		fw.manualf(v.Line, "flow-style permissions cutover cannot splice safely; add id-token: write by hand")
		return
	}
	closeAt := strings.IndexByte(line[open:], '}')
	if closeAt < 0 {
		fw.manualf(v.Line, "flow-style permissions span lines; add id-token: write by hand")
		return
	}
	closeAt += open
	inner := strings.TrimSpace(line[open+1 : closeAt])
	text := "{ id-token: write }"
	if inner != "" {
		text = "{ " + inner + ", id-token: write }"
	}
	start := fw.d.lineStart(v.Line) + open
	fw.d.replace(start, fw.d.lineStart(v.Line)+closeAt+1, text, why)
}

// insertPermissions writes a job-level permissions block before the job's
// steps (or uses) key.
func (r *rewriter) insertPermissions(fw *fileWork, j *Job, scopes []scope, why Edit) {
	if j.Node == nil || j.Node.Kind != yaml.MappingNode || len(j.Node.Content) == 0 {
		fw.manualf(j.Line, "job %q has no block mapping to add permissions to", j.ID)
		return
	}
	anchor := keyNode(j.Node, "steps")
	if anchor == nil {
		anchor = keyNode(j.Node, "uses")
	}
	if anchor == nil {
		anchor = j.Node.Content[0]
	}
	keyCol := j.Node.Content[0].Column
	unit := keyCol - j.KNode.Column
	if unit <= 0 {
		unit = 2
	}
	key := strings.Repeat(" ", keyCol-1) + "\x00" + strings.Repeat(" ", unit)
	for _, sc := range scopes {
		key += "\x00" + sc.Name + "\x00" + sc.Value
	}
	text, err := r.render("workflow/permissions.yaml.tmpl", key, func() map[string]any {
		return map[string]any{"Key": strings.Repeat(" ", keyCol-1), "Unit": strings.Repeat(" ", unit), "Scopes": scopes}
	})
	if err != nil {
		fw.manualf(j.Line, "template: %v", err)
		return
	}
	at := fw.d.commentStart(anchor.Line)
	fw.d.insertLines(at, strings.Split(strings.TrimRight(text, "\n"), "\n"), why)
}

// upgradeNPM inserts, before the first publish step, a step guarded by the
// flag that installs npm 11.5.1 or later.
func (r *rewriter) upgradeNPM(fw *fileWork, j *Job, p Pipeline) {
	if p.NPMReady == "yes" {
		return
	}
	needs := false
	first := -1
	for _, s := range p.Steps {
		if npmCLITools[s.Tool] && s.Step >= 0 {
			needs = true
			if first < 0 || s.Step < first {
				first = s.Step
			}
		}
	}
	if !needs || first < 0 || first >= len(j.Steps) {
		return
	}
	if st := j.Steps[first]; r.actionSetsUpNode(st.Uses) {
		fw.stepf("%s runs actions/setup-node itself, which puts its own npm first on PATH: install npm %s inside it, after setup-node, when vars.%s is 'true'", st.Uses, r.opts.NPMVersion, r.opts.FlagVar)
		return
	}
	r.insertStepBefore(fw, j.Steps[first], r.opts.FlagVar, "npm older than 11.5.1 cannot use trusted publishing: install npm "+r.opts.NPMVersion+" when the flag is on")
}

// actionSetsUpNode reports whether uses names a local action in the
// snapshot that runs actions/setup-node.
func (r *rewriter) actionSetsUpNode(uses string) bool {
	if !strings.HasPrefix(uses, "./") {
		return false
	}
	dir := path.Clean(strings.TrimPrefix(uses, "./"))
	for _, name := range []string{"action.yml", "action.yaml"} {
		p := dir + "/" + name
		data, ok := r.snap.Files[p]
		if !ok {
			continue
		}
		a, err := parseActionYAML(p, data)
		if err != nil {
			return false
		}
		for _, st := range a.Jobs[0].Steps {
			if strings.HasPrefix(actionName(st.Uses), "actions/setup-node") {
				return true
			}
		}
	}
	return false
}

// insertStepBefore inserts the npm upgrade step before st. The step runs
// only when the flag is on and, when st has a one-line if:, only when st
// runs too (a release-please job publishes on few of its runs).
func (r *rewriter) insertStepBefore(fw *fileWork, st *Step, flag, desc string) {
	line := fw.d.line(st.Node.Line)
	col := fw.d.byteCol(st.Node.Line, st.Node.Column)
	if st.Node.Kind != yaml.MappingNode || col > len(line) {
		fw.manualf(st.Line, "step shape cutover cannot splice; add the npm upgrade step by hand")
		return
	}
	prefix := line[:col]
	first := st.Node.Line // the step's first line: its dash's
	if strings.TrimSpace(prefix) != "-" && strings.TrimSpace(prefix) == "" {
		// The dash stands alone on the line above ("-" or "- # note"):
		// the new step goes above it, written as "- key: value" at the
		// dash's indentation.
		if n := fw.t.itemLine(st.Node, 0); n < st.Node.Line {
			dash := fw.d.line(n)
			i := strings.Index(dash, "-")
			prefix, col, first = dash[:i]+"- ", i+2, n
		}
	}
	if strings.TrimSpace(prefix) != "-" {
		fw.manualf(st.Line, "step is not written as '- key: value'; add the npm upgrade step by hand")
		return
	}
	cond := upgradeCond(flag, st)
	text, err := r.render("workflow/npm-upgrade-step.yaml.tmpl", prefix+"\x00"+flag+"\x00"+cond+"\x00"+r.opts.NPMVersion, func() map[string]any {
		return map[string]any{"Dash": prefix, "Key": strings.Repeat(" ", col), "FlagVar": flag, "If": cond, "NPMVersion": r.opts.NPMVersion}
	})
	if err != nil {
		fw.manualf(st.Line, "template: %v", err)
		return
	}
	at := fw.d.commentStart(first)
	fw.d.insertLines(at, strings.Split(strings.TrimRight(text, "\n"), "\n"), Edit{Line: st.Node.Line, Description: desc})
}

// upgradeCond is the if: of the npm upgrade step: the flag, and the publish
// step's own one-line condition when it can be written as a plain scalar.
func upgradeCond(flag string, st *Step) string {
	cond := "vars." + flag + " == 'true'"
	c := strings.TrimSpace(st.If)
	if inner, ok := strings.CutPrefix(c, "${{"); ok {
		if inner, ok = strings.CutSuffix(inner, "}}"); ok {
			c = strings.TrimSpace(inner)
		}
	}
	if c == "" || strings.ContainsAny(c, "\n\r\t") || strings.Contains(c, "${{") || strings.Contains(c, "}}") ||
		strings.Contains(c, ": ") || strings.Contains(c, " #") || strings.HasSuffix(c, ":") {
		return cond
	}
	if strings.Contains(c, "||") {
		c = "(" + c + ")"
	}
	return cond + " && " + c
}

// oidcSteps records the follow-ups outside the workflow file.
func (r *rewriter) oidcSteps(fw *fileWork, j *Job, p Pipeline) {
	if v, ok := parseVersion(p.NodeVersion); ok && v.less(nodeNPM11) {
		fw.stepf("job %q uses Node %s: npm 11 needs Node 20.17 or newer (24 recommended); raise node-version before turning the flag on", j.ID, p.NodeVersion)
	}
	old := map[string]bool{} // tools a finding already names as too old
	for _, f := range r.det.Findings {
		if f.Code == "tool-old" && (f.File == fw.path || f.File == "package.json") {
			fw.stepf("%s", f.Message)
			for _, t := range []string{"semantic-release", "lerna"} {
				if strings.Contains(f.Message, t) {
					old[t] = true
				}
			}
		}
	}
	for _, s := range p.Steps {
		switch {
		case old[s.Tool]:
		case s.Tool == "semantic-release" && s.Version == "":
			fw.stepf("make sure @semantic-release/npm is 13.1.0 or later (semantic-release 25) before turning the flag on")
		case s.Tool == "yarn-berry":
			fw.stepf("yarn npm publish needs Yarn 4.10 or later for trusted publishing")
		case s.Tool == "lerna":
			fw.stepf("lerna needs version 9 (lerna-lite 4.9) or later for trusted publishing")
		case s.Tool == "js-devtools/npm-publish":
			if v, ok := parseVersion(actionRef(s.Uses)); ok && v.less(semver{4, 1, 0}) {
				fw.stepf("JS-DevTools/npm-publish %s needs a token; upgrade to v4.1.0 or later for trusted publishing", actionRef(s.Uses))
			}
		case s.Tool == "reusable-workflow":
			fw.stepf("the called workflow %s publishes out of sight: rewrite it too", s.Uses)
		case s.Inferred:
			fw.stepf("publishing happens inside %s, which cutover cannot read: check that it runs npm 11.5.1+ and does not write its own token", describe(s))
		}
	}
	for _, wfName := range p.TrustedWorkflow {
		if path.Base(fw.path) != wfName {
			fw.stepf("npm's trusted publisher must name the calling workflow %s", wfName)
		}
	}
}
