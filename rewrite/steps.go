package rewrite

import (
	"path"
	"regexp"
	"strings"
)

// call is a publish found in a step.
type call struct {
	publishCall
	inferred bool
	// tokenScript marks a package script cutover cannot read whose name
	// says nothing: it counts as a publish only in a job that feeds a
	// registry token (the .npmrc write + script shape).
	tokenScript bool
}

// notPublishScripts are script names that never publish, even in a job
// that writes a registry token (which then serves installs).
var notPublishScripts = map[string]bool{
	"test": true, "lint": true, "build": true, "typecheck": true, "type-check": true, "format": true,
	"check": true, "coverage": true, "docs": true, "compile": true, "prepare": true, "start": true,
	"dev": true, "ci": true, "install": true, "bootstrap": true, "clean": true, "e2e": true,
}

var publishNameRe = regexp.MustCompile(`(?i)publish|release`)

// stepCalls returns the publishes a step performs.
func (d *detector) stepCalls(wf *Workflow, j *Job, st *Step) []call {
	if st.Uses != "" {
		return d.actionCalls(wf, j, st)
	}
	if st.Run == "" {
		return nil
	}
	return d.scriptCalls(st.Run, "", 0, map[string]bool{})
}

// scriptCalls finds publishes in a shell script, following package.json
// scripts; a script that cannot be read counts as an inferred publish when
// its name says it publishes or releases.
func (d *detector) scriptCalls(script, workspace string, depth int, seen map[string]bool) []call {
	var out []call
	for _, sc := range splitCommands(script) {
		pc, ok := classify(sc.words, 0)
		if !ok {
			if c, ok := d.hiddenScript(sc.words, depth, seen); ok {
				out = append(out, c)
			}
			continue
		}
		if pc.Script == "" {
			// Report the command as written, wrappers (npx, yarn workspaces
			// foreach) included, and honour an NPM_CONFIG_PROVENANCE prefix.
			pc.Words = commandWords(sc.words)
			pc.Provenance = pc.Provenance || provenancePrefix(sc.words)
			out = append(out, call{publishCall: pc})
			continue
		}
		ws := pc.Workspace
		if ws == "" {
			ws = workspace
		}
		key := ws + "\x00" + pc.Script
		body, found := d.script(pc.Script, ws)
		if !found && ws != "" {
			body, found = d.script(pc.Script, "")
		}
		switch {
		case found && !seen[key] && depth < 8:
			seen[key] = true
			for _, c := range d.scriptCalls(body, ws, depth+1, seen) {
				if c.Script == "" {
					c.Script = pc.Script
				}
				c.DryRun = c.DryRun || pc.DryRun
				c.Provenance = c.Provenance || pc.Provenance
				out = append(out, c)
			}
		case !found && publishNameRe.MatchString(pc.Script) && !strings.Contains(strings.ToLower(pc.Script), "prerelease"):
			pc.Tool = pc.Tool + "-script"
			out = append(out, call{publishCall: pc, inferred: true})
		case !found && depth == 0 && !notPublishScripts[strings.ToLower(strings.SplitN(pc.Script, ":", 2)[0])]:
			pc.Tool = pc.Tool + "-script"
			out = append(out, call{publishCall: pc, inferred: true, tokenScript: true})
		}
	}
	return out
}

// provenancePrefix reports whether a command is run with
// NPM_CONFIG_PROVENANCE=true in front of it.
func provenancePrefix(words []string) bool {
	for _, w := range words {
		name, val, ok := strings.Cut(w, "=")
		if !ok || !isEnvName(name) {
			if shellKeywords[w] {
				continue
			}
			return false
		}
		if strings.EqualFold(name, "NPM_CONFIG_PROVENANCE") && strings.EqualFold(strings.Trim(val, `'"`), "true") {
			return true
		}
	}
	return false
}

// hiddenScript recognises a script file run directly (node scripts/publish.js,
// ./release.sh) whose name says it publishes. A shell script in the snapshot
// is read instead, once per step and to depth 8, so scripts that run each
// other end.
func (d *detector) hiddenScript(words []string, depth int, seen map[string]bool) (call, bool) {
	words = commandWords(words)
	if len(words) == 0 {
		return call{}, false
	}
	file := words[0]
	switch file {
	case "node", "bash", "sh", "zsh", "tsx", "ts-node", "deno", "zx", "bun":
		i := firstArg(words, 1)
		if i < 0 {
			return call{}, false
		}
		file = words[i]
	}
	ext := path.Ext(file)
	switch ext {
	case ".js", ".mjs", ".cjs", ".ts", ".mts", ".sh":
	default:
		return call{}, false
	}
	if !publishNameRe.MatchString(path.Base(file)) {
		return call{}, false
	}
	clean := path.Clean(strings.TrimPrefix(file, "./"))
	if ext == ".sh" {
		if body, ok := d.snap.Files[clean]; ok {
			if seen["\x00file\x00"+clean] || depth >= 8 {
				return call{}, false
			}
			seen["\x00file\x00"+clean] = true
			if d.ciScripts == nil {
				d.ciScripts = map[string]bool{}
			}
			d.ciScripts[clean] = true
			cs := d.scriptCalls(string(body), "", depth+1, seen)
			if len(cs) > 0 {
				if cs[0].Script == "" {
					cs[0].Script = clean
				}
				return cs[0], true
			}
			return call{}, false
		}
	}
	return call{publishCall: publishCall{Tool: "script", Script: clean, Words: words}, inferred: true}, true
}

// actionCalls recognises publishing actions.
func (d *detector) actionCalls(wf *Workflow, j *Job, st *Step) []call {
	name := actionName(st.Uses)
	with := func(k string) string {
		f, _ := lookup(st.With, k, false)
		return strings.TrimSpace(f.Value)
	}
	mk := func(tool string) call {
		return call{publishCall: publishCall{Tool: tool, Version: actionRef(st.Uses)}}
	}
	switch {
	case name == "changesets/action/publish":
		return []call{mk("changesets")}
	case strings.HasPrefix(name, "changesets/action"):
		cmd := with("publish")
		if cmd == "" {
			cmd = with("publish-script")
		}
		if cmd == "" {
			return nil
		}
		c := mk("changesets")
		c.Words = []string{cmd}
		for _, inner := range d.scriptCalls(cmd, "", 0, map[string]bool{}) {
			c.Provenance = c.Provenance || inner.Provenance
			c.DryRun = inner.DryRun
			c.Registry = inner.Registry
		}
		return []call{c}
	case name == "js-devtools/npm-publish":
		c := mk("js-devtools/npm-publish")
		c.DryRun = strings.EqualFold(with("dry-run"), "true")
		c.Registry = with("registry")
		c.Provenance = strings.EqualFold(with("provenance"), "true")
		return []call{c}
	case strings.Contains(name, "semantic-release-action") || name == "codfish/semantic-release-action":
		c := mk("semantic-release")
		c.DryRun = strings.EqualFold(with("dry_run"), "true") || strings.EqualFold(with("dry-run"), "true")
		c.Version = with("semantic_version")
		return []call{c}
	case name == "metamask/action-npm-publish":
		return []call{mk("metamask/action-npm-publish")}
	case strings.HasPrefix(name, "googleapis/release-please-action") || strings.HasPrefix(name, "google-github-actions/release-please-action"):
		return nil
	case strings.HasPrefix(name, "./"):
		return d.localActionCalls(wf, j, st)
	}
	// Any other action that is handed an npm token publishes.
	for _, fs := range [][]Field{st.With, st.Env} {
		for _, f := range fs {
			if _, ok := credentialValue(f.Value); ok && (isTokenInput(st.Uses, f.Key) || d.isTokenEnv(f.Key)) {
				c := mk("action")
				c.inferred = true
				return []call{c}
			}
		}
	}
	return nil
}

// localActionCalls looks into a local action: a composite action's steps
// are read like a job's; other actions publish when their metadata says so.
func (d *detector) localActionCalls(wf *Workflow, j *Job, st *Step) []call {
	dir := path.Clean(strings.TrimPrefix(st.Uses, "./"))
	if a, ok := d.actions[dir]; ok {
		var out []call
		for _, inner := range a.Jobs[0].Steps {
			if inner.Uses != "" && strings.HasPrefix(inner.Uses, "./") {
				continue // no recursion into nested local actions
			}
			out = append(out, d.stepCalls(wf, j, inner)...)
		}
		if len(out) == 0 {
			l := strings.ToLower(a.Name)
			if strings.Contains(l, "npm") && strings.Contains(l, "publish") {
				out = append(out, call{publishCall: publishCall{Tool: "action"}})
			}
		}
		return out
	}
	l := strings.ToLower(st.Name)
	if strings.Contains(l, "publish") && (strings.Contains(l, "npm") || strings.Contains(l, "package")) {
		return []call{{publishCall: publishCall{Tool: "action"}, inferred: true}}
	}
	return nil
}
