package rewrite

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// bridge runs the token-bridge playbook for pipelines that keep a token:
// tokens move off workflow- and job-level env onto the publish steps,
// provenance is added for public repositories, and --stage switches npm
// publish to npm stage publish.
func (r *rewriter) bridge() {
	r.eachTokenJob(func(fw *fileWork, j *Job, p Pipeline) {
		if hasAnchorOrAlias(j.Node, 0) {
			fw.manualf(j.Line, "job %q uses YAML anchors or aliases; edit it by hand", j.ID)
			return
		}
		r.confine(fw, j, p)
		if r.opts.PublicRepo && !p.Provenance {
			r.addProvenance(fw, j, p)
		}
		if r.opts.Stage {
			r.stage(fw, j, p)
		}
	})
}

// confine moves workflow- and job-level token env onto the publish steps.
func (r *rewriter) confine(fw *fileWork, j *Job, p Pipeline) {
	for _, f := range p.Feeds {
		if f.Kind != "env" || (f.Level != "workflow" && f.Level != "job") {
			continue
		}
		fld, ok := r.feedField(fw, j, f)
		if !ok {
			continue
		}
		if f.Level == "workflow" && len(fw.wf.Jobs) > 1 {
			fw.stepf("%s was set for every job; other jobs that relied on it must now set it themselves", f.Name)
		}
		v := fld.VNode
		line := fw.d.line(v.Line)
		// The value as written, with any comment after it.
		value := ""
		if v.Kind == yaml.ScalarNode && v.Line == fld.KNode.Line {
			value = strings.TrimSpace(line[fw.d.byteCol(v.Line, v.Column):])
		}
		if !oneLineValue(value, v.Value) {
			fw.manualf(fld.Line, "%s is not a one-line value; move it to the publish step by hand", f.Name)
			continue
		}
		r.deleteEntry(fw, fld.KNode, fmt.Sprintf("move %s off %s-level env", f.Name, f.Level))
		publishing := map[int]bool{}
		for _, s := range p.Steps {
			publishing[s.Step] = true
		}
		for _, st := range j.Steps {
			switch {
			case publishing[st.Index]:
				r.addStepEnv(fw, st, f.Name, value, fmt.Sprintf("%s only on the publish step", f.Name))
			case readsEnv(st, f.Name):
				// A step that writes .npmrc from the variable needs it too.
				r.addStepEnv(fw, st, f.Name, value, fmt.Sprintf("%s on the step that reads it", f.Name))
			case installRe.MatchString(st.Run):
				fw.stepf("line %d installs packages without %s now; if they include private ones, give that step a read-only token", st.Line, f.Name)
			}
		}
	}
}

var installRe = regexp.MustCompile(`(?m)(^|[;&|(]\s*)(npm (ci|install|i)|yarn( install)?|pnpm (install|i))(\s|$)`)

// readsEnv reports whether a step reads the variable name in its script or
// through env.NAME in its inputs and env.
func readsEnv(st *Step, name string) bool {
	if envReads(st.Run, name) || strings.Contains(st.Run, "env."+name) {
		return true
	}
	for _, fs := range [][]Field{st.With, st.Env} {
		for _, f := range fs {
			if strings.Contains(f.Value, "env."+name) || envReads(f.Value, name) {
				return true
			}
		}
	}
	return false
}

// oneLineValue reports whether text, copied after "key: " on a line of its
// own, reads back as want.
func oneLineValue(text, want string) bool {
	var m map[string]any
	if text == "" || yaml.Unmarshal([]byte("k: "+text), &m) != nil {
		return false
	}
	got, ok := m["k"].(string)
	return ok && got == want
}

// addStepEnv schedules NAME: value on a step; flushStepEnv writes every
// variable a step gets into its env block or one new block.
func (r *rewriter) addStepEnv(fw *fileWork, st *Step, name, value, desc string) {
	if _, ok := lookup(st.Env, name, false); ok {
		return
	}
	if !r.once(fmt.Sprintf("stepenv:%s:%d:%s", fw.path, st.Line, name)) {
		return
	}
	if fw.envAdds == nil {
		fw.envAdds = map[*Step][]envAdd{}
	}
	if len(fw.envAdds[st]) == 0 {
		fw.envOrder = append(fw.envOrder, st)
	}
	fw.envAdds[st] = append(fw.envAdds[st], envAdd{name, value, desc})
}

// envAdd is one variable to set on a step.
type envAdd struct{ name, value, desc string }

// flushStepEnv writes the scheduled step variables.
func (r *rewriter) flushStepEnv(fw *fileWork) {
	for _, st := range fw.envOrder {
		adds := fw.envAdds[st]
		why := Edit{Line: st.Line, Description: adds[0].desc}
		for _, a := range adds[1:] {
			if a.desc != why.Description {
				why.Description += "; " + a.desc
			}
		}
		if st.EnvNode != nil {
			if st.EnvNode.Kind != yaml.MappingNode || st.EnvNode.Style&yaml.FlowStyle != 0 || len(st.EnvNode.Content) == 0 {
				fw.manualf(st.Line, "step env is not a block mapping; set %s on the step by hand", adds[0].name)
				continue
			}
			last := st.EnvNode.Content[len(st.EnvNode.Content)-2]
			ind := strings.Repeat(" ", st.EnvNode.Content[0].Column-1)
			var lines []string
			for _, a := range adds {
				lines = append(lines, ind+a.name+": "+a.value)
			}
			fw.d.insertLines(fw.t.entryEnd(last)+1, lines, why)
			continue
		}
		if st.Node.Kind != yaml.MappingNode || st.Node.Style&yaml.FlowStyle != 0 || len(st.Node.Content) == 0 {
			fw.manualf(st.Line, "step is not a block mapping; set %s on it by hand", adds[0].name)
			continue
		}
		keyCol := st.Node.Content[0].Column
		ind := strings.Repeat(" ", keyCol-1)
		lines := []string{ind + "env:"}
		for _, a := range adds {
			lines = append(lines, ind+fw.unit()+a.name+": "+a.value)
		}
		last := st.Node.Content[len(st.Node.Content)-2]
		fw.d.insertLines(fw.t.entryEnd(last)+1, lines, why)
	}
	fw.envAdds, fw.envOrder = nil, nil
}

// addProvenance asks for provenance on the publish steps (public repos).
func (r *rewriter) addProvenance(fw *fileWork, j *Job, p Pipeline) {
	for _, s := range p.Steps {
		if s.Step >= 0 && s.Step < len(j.Steps) {
			r.addStepEnv(fw, j.Steps[s.Step], "NPM_CONFIG_PROVENANCE", "true", "provenance for a public repository")
		}
	}
	if !p.IDToken {
		r.ensureIDToken(fw, j, p)
	}
}

// stage switches npm publish to npm stage publish on the publish steps.
func (r *rewriter) stage(fw *fileWork, j *Job, p Pipeline) {
	for _, s := range p.Steps {
		if s.Tool != "npm" || s.Stage || s.Step < 0 || s.Step >= len(j.Steps) {
			continue
		}
		st := j.Steps[s.Step]
		if st.RunNode == nil {
			continue
		}
		from, to := st.RunNode.Line, lastLine(st.RunNode, 0)
		for n := from; n <= to; n++ {
			line := fw.d.line(n)
			i := strings.Index(line, "npm publish")
			if i < 0 || n == st.RunNode.Line && i < fw.d.byteCol(n, st.RunNode.Column) {
				continue
			}
			start := fw.d.lineStart(n) + i
			fw.d.replace(start, start+len("npm publish"), "npm stage publish", Edit{Line: n, Description: "stage the publish for a 2FA approval (direct token publishing ends in January 2027)"})
		}
		fw.stepf("npm stage publish needs npm 11.15.0 or later on the runner, and a maintainer approves each staged version with 2FA")
	}
}
