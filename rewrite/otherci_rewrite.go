package rewrite

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// ciWork is the pending work on one GitLab or CircleCI file.
type ciWork struct {
	d      *doc
	manual []string
	steps  []string
}

func (w *ciWork) manualf(line int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if line > 0 {
		msg = fmt.Sprintf("line %d: %s", line, msg)
	}
	if !contains(w.manual, msg) {
		w.manual = append(w.manual, msg)
	}
}

func (w *ciWork) stepf(format string, args ...any) {
	if msg := fmt.Sprintf(format, args...); !contains(w.steps, msg) {
		w.steps = append(w.steps, msg)
	}
}

func (r *rewriter) ciFile(p string) *ciWork {
	if w, ok := r.ciDocs[p]; ok {
		return w
	}
	w := &ciWork{d: newDoc(r.snap.Files[p])}
	if n, ok := oddLineBreak(w.d.src); ok {
		w.manualf(n, "the file has a line break other than LF or CRLF; edit it by hand")
	}
	r.ciDocs[p] = w
	return w
}

// otherCI runs the playbook over GitLab and CircleCI pipelines.
func (r *rewriter) otherCI() {
	jobs := map[string]*ciJob{}
	for _, j := range r.ciJobs {
		jobs[j.file+"#"+j.name] = j
	}
	for _, p := range r.det.Pipelines {
		if p.Provider == "" || len(p.Feeds) == 0 {
			continue
		}
		j := jobs[p.Workflow+"#"+p.Job]
		if j == nil {
			continue
		}
		switch r.opts.Playbook {
		case PlaybookOIDC:
			r.ciOIDC(j, p)
		case PlaybookCleanup:
			r.ciCleanup(j, p)
		case PlaybookTokenBridge:
			r.ciFile(j.file).stepf("%s job %q: the token-bridge playbook covers GitHub Actions only; narrow the token variable (protected, masked, scoped to the release job) by hand", providerName(p.Provider), p.Job)
		}
	}
}

func providerName(p string) string {
	switch p {
	case ProviderGitLab:
		return "GitLab CI/CD"
	case ProviderCircleCI:
		return "CircleCI"
	}
	return "GitHub Actions"
}

// allGuarded reports whether every token feed of p sits behind the flag.
func allGuarded(p Pipeline) bool {
	for _, f := range p.Feeds {
		if !f.Guarded {
			return false
		}
	}
	return true
}

// firstEntry returns the index of the first script entry that feeds the
// token or publishes, or -1.
func firstEntry(j *ciJob, p Pipeline) int {
	first := -1
	pick := func(i int) {
		if i >= 0 && i < len(j.scripts) && (first < 0 || i < first) {
			first = i
		}
	}
	for _, f := range p.Feeds {
		if f.Kind == "npmrc-write" {
			pick(f.Step)
		}
	}
	for _, s := range p.Steps {
		pick(s.Step)
	}
	return first
}

// unsetNames are the variables the flag guard clears on the OIDC path.
func unsetNames(p Pipeline) []string {
	var out []string
	for _, f := range p.Feeds {
		for _, n := range []string{f.Name, f.Secret} {
			if n != "" && isEnvName(n) && !contains(out, n) {
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// itemPrefix returns the text before a list item's content on its line
// ("    - "), or false when the item is not a block sequence item that
// starts its line.
func itemPrefix(d *doc, item *yaml.Node) (string, bool) {
	line := d.line(item.Line)
	col := d.byteCol(item.Line, item.Column)
	if col > len(line) {
		return "", false
	}
	pre := line[:col]
	t := strings.TrimSpace(pre)
	if t != "-" || strings.TrimLeft(pre, " ") != pre[len(pre)-len(strings.TrimLeft(pre, " ")):] {
		return "", false
	}
	if strings.ContainsRune(pre, '\t') {
		return "", false
	}
	return pre, true
}

// ciOIDC adds the OIDC path behind the flag to one job.
func (r *rewriter) ciOIDC(j *ciJob, p Pipeline) {
	w := r.ciFile(j.file)
	if p.IDToken && allGuarded(p) {
		return
	}
	host := RegistryHost(r.opts.Registry)
	if host == "" {
		w.manualf(j.line, "job %q: the npm registry is not known, so the ID token's audience (npm:<registry host>) cannot be written; pass the registry", j.name)
		return
	}
	if p.SelfHosted {
		w.manualf(j.line, "job %q runs on a self-managed or self-hosted runner, where npm trusted publishing is not available", j.name)
		return
	}
	if j.aliased {
		w.manualf(j.line, "job %q uses YAML anchors or merge keys; cutover does not edit through them", j.name)
		return
	}
	if j.provider == ProviderCircleCI && contains(p.Tools, "yarn") {
		w.manualf(j.line, "job %q publishes with yarn, which cannot use trusted publishing on CircleCI; publish with npm first", j.name)
		return
	}
	i := firstEntry(j, p)
	if i < 0 {
		w.manualf(j.line, "job %q: no script entry to put the flag guard before", j.name)
		return
	}
	s := j.scripts[i]
	if s.via == "an anchor" {
		w.manualf(s.line, "job %q: the publish comes through a YAML alias; cutover does not edit through it", j.name)
		return
	}
	flag := r.opts.FlagVar
	switch j.provider {
	case ProviderGitLab:
		r.gitlabOIDC(w, j, p, s, host, flag)
	case ProviderCircleCI:
		r.circleOIDC(w, j, p, s, host, flag)
	}
}

func (r *rewriter) gitlabOIDC(w *ciWork, j *ciJob, p Pipeline, s ciScript, host, flag string) {
	if s.list == nil || s.list.Style&yaml.FlowStyle != 0 {
		w.manualf(s.line, "job %q: the %s is a single string, not a list; make it a list so cutover can add the flag guard", j.name, s.section)
		return
	}
	if s.via == "default" || s.via == "the top level" {
		w.manualf(s.line, "job %q: the token is written by a %s shared by every job; move it into the job so the flag guard only touches the release", j.name, s.section)
		return
	}
	if s.file != j.file {
		w = r.ciFile(s.file)
	}
	// 1. The flag guard before the first entry that feeds the token or publishes.
	if !allGuarded(p) {
		pre, ok := itemPrefix(w.d, s.item)
		if !ok {
			w.manualf(s.line, "job %q: the %s list item is not laid out one per line; edit it by hand", j.name, s.section)
			return
		}
		then := "unset " + strings.Join(unsetNames(p), " ")
		if p.NPMReady != "yes" {
			then += "; npm install -g npm@" + r.opts.NPMVersion
		}
		guard := fmt.Sprintf(`'if [ "${%s:-}" = "true" ]; then %s; else unset NPM_ID_TOKEN; fi # cutover: OIDC while %s is true, the token otherwise'`, flag, then, flag)
		w.d.insertLines(s.item.Line, []string{pre + guard}, Edit{Line: s.item.Line, Description: fmt.Sprintf("job %s: choose the token or the OIDC path by the CI/CD variable %s", j.name, flag)})
	}
	// 2. id_tokens on the job.
	if p.IDToken {
		return
	}
	jw := r.ciFile(j.file)
	if j.idTokensNode != nil {
		w.manualf(j.line, "job %q already has id_tokens (its own or inherited); add NPM_ID_TOKEN with aud \"npm:%s\" by hand", j.name, host)
		return
	}
	if j.node.Style&yaml.FlowStyle != 0 || len(j.node.Content) == 0 {
		w.manualf(j.line, "job %q is written in flow style; edit it by hand", j.name)
		return
	}
	first := j.node.Content[0]
	ind := jw.d.line(first.Line)[:jw.d.byteCol(first.Line, first.Column)]
	if strings.TrimSpace(ind) != "" {
		w.manualf(j.line, "job %q: its keys do not start their lines; edit it by hand", j.name)
		return
	}
	unit := strings.Repeat(" ", max(2, first.Column-j.key.Column))
	lines := []string{ind + "id_tokens:", ind + unit + "NPM_ID_TOKEN:", ind + unit + unit + fmt.Sprintf(`aud: "npm:%s"`, host)}
	if p.Provenance {
		lines = append(lines, ind+unit+"SIGSTORE_ID_TOKEN:", ind+unit+unit+"aud: sigstore")
	}
	jw.d.insertLines(first.Line, lines, Edit{Line: first.Line, Description: fmt.Sprintf("job %s: request an npm ID token (NPM_ID_TOKEN, audience npm:%s)", j.name, host)})
}

// circleStep is the run step the CircleCI playbooks insert.
func circleStep(pre, unit, flag, host, npmVersion string, guarded bool) []string {
	cont := strings.Repeat(" ", len(pre))
	exportLine := fmt.Sprintf(`echo 'export NPM_ID_TOKEN="$(circleci run oidc get --claims "{\"aud\":\"npm:%s\"}")"' >> "$BASH_ENV"`, host)
	if !guarded {
		return []string{
			pre + "run:",
			cont + unit + "name: npm trusted publishing (OIDC)",
			cont + unit + "command: |",
			cont + unit + unit + "npm install -g npm@" + npmVersion,
			cont + unit + unit + exportLine,
		}
	}
	return []string{
		pre + "run:",
		cont + unit + "name: npm trusted publishing while " + flag + " is true (cutover)",
		cont + unit + "command: |",
		cont + unit + unit + fmt.Sprintf(`if [ "${%s:-}" = "true" ]; then # cutover: OIDC while %s is true, the token otherwise`, flag, flag),
		cont + unit + unit + unit + "npm install -g npm@" + npmVersion,
		cont + unit + unit + unit + exportLine,
		cont + unit + unit + unit + `echo 'unset NPM_TOKEN NODE_AUTH_TOKEN' >> "$BASH_ENV"`,
		cont + unit + unit + "fi",
	}
}

func (r *rewriter) circleOIDC(w *ciWork, j *ciJob, p Pipeline, s ciScript, host, flag string) {
	if s.list == nil || s.item == nil {
		w.manualf(s.line, "job %q: no steps list to add the OIDC step to", j.name)
		return
	}
	pre, ok := itemPrefix(w.d, s.item)
	if !ok {
		w.manualf(s.line, "job %q: the step is not laid out one per line; edit it by hand", j.name)
		return
	}
	if strings.HasPrefix(s.via, "command ") {
		w.stepf("job %s publishes through the reusable %s; the OIDC step went into it, so every job that runs it gets the flag guard", j.name, s.via)
	}
	npmVersion := NPMVersionCircleCI
	if v, ok := parseVersion(r.opts.NPMVersion); ok && !v.less(npmCircleCIMin) {
		npmVersion = r.opts.NPMVersion
	}
	w.d.insertLines(s.item.Line, circleStep(pre, "  ", flag, host, npmVersion, true), Edit{Line: s.item.Line, Description: fmt.Sprintf("job %s: while %s is true, install npm %s and export NPM_ID_TOKEN from CircleCI's OIDC token (audience npm:%s)", j.name, flag, npmVersion, host)})
	if p.Provenance {
		w.stepf("job %s asks for provenance, which npm cannot produce on CircleCI: drop --provenance (or NPM_CONFIG_PROVENANCE) before switching the flag on", j.name)
	}
	if len(j.contexts) > 0 {
		w.stepf("set the flag: add %s=true to the CircleCI context %s (or the project's environment variables) to switch job %s to OIDC", flag, strings.Join(j.contexts, ", "), j.name)
	} else {
		w.stepf("set the flag: add the environment variable %s=true in the CircleCI project settings to switch job %s to OIDC", flag, j.name)
	}
}

// ciCleanup removes the token path of a job whose flag guard is in place.
func (r *rewriter) ciCleanup(j *ciJob, p Pipeline) {
	w := r.ciFile(j.file)
	if !p.IDToken || !allGuarded(p) {
		w.manualf(j.line, "job %q still publishes with a token outside the flag; run the oidc playbook and verify a release first", j.name)
		return
	}
	if j.aliased {
		w.manualf(j.line, "job %q uses YAML anchors or merge keys; cutover does not edit through them", j.name)
		return
	}
	host := RegistryHost(r.opts.Registry)
	for _, s := range j.scripts {
		sw := r.ciFile(s.file)
		switch {
		case isCIGuard(s.text) && j.provider == ProviderGitLab:
			if s.item == nil || s.list == nil {
				continue
			}
			pre, ok := itemPrefix(sw.d, s.item)
			if !ok {
				sw.manualf(s.line, "job %q: the flag guard is not laid out one per line; remove it by hand", j.name)
				continue
			}
			var keep []string
			if m := npmUpgradeRe.FindStringSubmatch(s.text); m != nil {
				keep = []string{pre + "npm install -g npm@" + strings.TrimRight(m[1]+m[2], ";")}
			}
			replaceLines(sw.d, s.item.Line, lastLine(s.item, 0), keep, Edit{Line: s.item.Line, Description: fmt.Sprintf("job %s: remove the flag guard; OIDC is the only path", j.name)})
		case isCIGuard(s.text) && j.provider == ProviderCircleCI:
			pre, ok := itemPrefix(sw.d, s.item)
			if !ok || s.item.Kind != yaml.MappingNode {
				sw.manualf(s.line, "job %q: the flag guard step is not laid out one per line; remove it by hand", j.name)
				continue
			}
			npmVersion := NPMVersionCircleCI
			if m := npmUpgradeRe.FindStringSubmatch(s.text); m != nil {
				npmVersion = strings.TrimRight(m[1]+m[2], ";")
			}
			replaceLines(sw.d, s.item.Line, lastLine(s.item, 0), circleStep(pre, "  ", "", host, npmVersion, false), Edit{Line: s.item.Line, Description: fmt.Sprintf("job %s: remove the flag guard; always export NPM_ID_TOKEN for npm publish", j.name)})
		}
	}
	for _, f := range p.Feeds {
		switch f.Kind {
		case "npmrc-write":
			if f.Step < 0 || f.Step >= len(j.scripts) {
				continue
			}
			s := j.scripts[f.Step]
			sw := r.ciFile(s.file)
			if !onlyAuthWrite(s.text) || s.list == nil {
				sw.manualf(s.line, "job %q: this script entry writes the token into an .npmrc among other commands; remove the token line by hand", j.name)
				continue
			}
			sw.d.deleteLines(s.item.Line, lastLine(s.item, 0), Edit{Line: s.item.Line, Description: fmt.Sprintf("job %s: stop writing %s into the .npmrc", j.name, f.Name)})
		case "env":
			sw := r.ciFile(f.File)
			var key *yaml.Node
			for _, v := range j.vars {
				if v.Key == f.Name && v.Line == f.Line {
					key = v.KNode
				}
			}
			if key == nil || f.File != j.file {
				sw.manualf(f.Line, "job %q: %s is set outside the job; remove it by hand once no other job needs it", j.name, f.Name)
				continue
			}
			sw.d.deleteLines(key.Line, key.Line, Edit{Line: key.Line, Description: fmt.Sprintf("job %s: drop %s", j.name, f.Name)})
		}
	}
	for _, n := range unsetNames(p) {
		if _, local := lookup(j.vars, n, false); local {
			continue // set by the job itself, not a CI/CD variable
		}
		switch {
		case j.provider == ProviderCircleCI && len(j.contexts) > 0:
			w.stepf("after the cleanup is merged, delete %s from the CircleCI context %s (if no other project reads it) and the flag variable %s", n, strings.Join(j.contexts, ", "), r.opts.FlagVar)
		case j.provider == ProviderCircleCI:
			w.stepf("after the cleanup is merged, delete the CircleCI project environment variable %s and the flag variable %s", n, r.opts.FlagVar)
		default:
			w.stepf("after the cleanup is merged, delete the GitLab CI/CD variable %s (if no other job reads it) and the flag variable %s", n, r.opts.FlagVar)
		}
	}
}

// onlyAuthWrite reports whether a script entry does nothing but write an
// auth token line into an npm config.
func onlyAuthWrite(text string) bool {
	cmds := splitCommands(text)
	if len(cmds) == 0 {
		return false
	}
	for _, c := range cmds {
		line := strings.Join(c.words, " ")
		if !npmrcWriteRe.MatchString(line) {
			return false
		}
		if c.words[0] != "echo" && c.words[0] != "printf" && !(c.words[0] == "npm" && len(c.words) > 2 && c.words[1] == "config") {
			return false
		}
	}
	return true
}

// applyCI applies the edits of every GitLab and CircleCI file and
// validates them together (a job's guard and its id_tokens may sit in
// different files); when the result does not hold, every edited file is
// left untouched and reported manual.
func (r *rewriter) applyCI() map[string][]byte {
	outs := map[string][]byte{}
	for p, w := range r.ciDocs {
		if len(w.manual) > 0 || len(w.d.edits) == 0 {
			continue
		}
		out, err := w.d.apply()
		if err != nil {
			w.manual = append(w.manual, "rewrite rejected, file left untouched: "+err.Error())
			continue
		}
		outs[p] = out
	}
	if len(outs) == 0 {
		return outs
	}
	if err := r.validateCI(outs); err != nil {
		for p := range outs {
			r.ciDocs[p].manual = append(r.ciDocs[p].manual, "rewrite rejected, file left untouched: "+err.Error())
		}
		return map[string][]byte{}
	}
	return outs
}

// finishCI reports what the playbook did to one GitLab or CircleCI file.
func (r *rewriter) finishCI(p string, outs map[string][]byte) FileResult {
	src := r.snap.Files[p]
	fr := FileResult{Path: p, Status: StatusUnchanged, Before: src, After: src}
	w := r.ciDocs[p]
	if w == nil {
		return fr
	}
	fr.ManualSteps = w.steps
	if len(w.manual) > 0 {
		fr.Status, fr.Reasons = StatusManual, w.manual
		return fr
	}
	out, ok := outs[p]
	if !ok || bytes.Equal(out, src) {
		return fr
	}
	fr.Status, fr.After, fr.Edits = StatusRewritten, out, w.d.described()
	return fr
}

// validateCI re-reads the rewritten files: each must parse, every job that
// published still publishes, and every token-publishing job the edits touch
// reads as OIDC behind the flag (oidc) or has no token in the file left
// (cleanup).
func (r *rewriter) validateCI(outs map[string][]byte) error {
	snap := Snapshot{Repo: r.snap.Repo, Files: map[string][]byte{}}
	for k, v := range r.snap.Files {
		snap.Files[k] = v
	}
	for p, out := range outs {
		var err error
		if p == CircleCIConfig {
			_, err = parseCircleCI(p, out)
		} else {
			_, err = parseGitLabFile(p, out)
		}
		if err != nil {
			return fmt.Errorf("rewritten file does not parse: %w", err)
		}
		snap.Files[p] = out
	}
	after, _, _ := detect(snap, Options{Registry: r.opts.Registry})
	now := map[string]Pipeline{}
	for _, pl := range after.Pipelines {
		if pl.Provider != "" {
			now[pl.Workflow+"#"+pl.Job] = pl
		}
	}
	for _, old := range r.det.Pipelines {
		if old.Provider == "" {
			continue
		}
		pl, ok := now[old.Workflow+"#"+old.Job]
		if !ok {
			return fmt.Errorf("job %s no longer publishes after the edit", old.Job)
		}
		if len(old.Feeds) == 0 {
			continue
		}
		switch r.opts.Playbook {
		case PlaybookOIDC:
			if !pl.IDToken || !allGuarded(pl) {
				return fmt.Errorf("job %s does not read as OIDC behind the flag after the edit", pl.Job)
			}
		case PlaybookCleanup:
			for _, f := range pl.Feeds {
				if f.Kind != "ci-variable" && f.Kind != "circleci-context" {
					return fmt.Errorf("job %s still reads %s after the cleanup", pl.Job, f.Name)
				}
			}
		}
	}
	return nil
}

// replaceLines replaces lines [from, to] with lines (none deletes them).
func replaceLines(d *doc, from, to int, lines []string, why Edit) {
	text := ""
	if len(lines) > 0 {
		text = strings.Join(lines, d.nl) + d.nl
	}
	d.replace(d.lineStart(from), d.lineStart(to+1), text, why)
}
