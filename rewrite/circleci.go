package rewrite

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// circleConfig is a parsed .circleci/config.yml.
type circleConfig struct {
	root     *yaml.Node
	w        *walker
	commands map[string]*yaml.Node
	orbs     map[string]bool
	// contexts maps a job name to the contexts its workflow entries name.
	contexts map[string][]string
}

// parseCircleCI parses a CircleCI configuration.
func parseCircleCI(p string, data []byte) (*circleConfig, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: does not parse as YAML: %w", p, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty configuration", p)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: line %d: top level is not a mapping", p, root.Line)
	}
	if expandedSize(root, map[*yaml.Node]int{}, maxExpandedNodes) > maxExpandedNodes {
		return nil, fmt.Errorf("%s: %w", p, errAliasBudget)
	}
	if k := duplicateKey(root, 0); k != nil {
		return nil, fmt.Errorf("%s: line %d: key %q is defined twice in its mapping", p, k.Line, k.Value)
	}
	c := &circleConfig{root: root, w: &walker{}, commands: map[string]*yaml.Node{}, orbs: map[string]bool{}, contexts: map[string][]string{}}
	_, cmds, err := c.w.mapGet(root, "commands")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	ps, err := c.w.pairs(cmds)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	for _, kv := range ps {
		c.commands[kv[0].Value] = kv[1]
	}
	_, orbs, _ := c.w.mapGet(root, "orbs")
	ops, _ := c.w.pairs(orbs)
	for _, kv := range ops {
		c.orbs[kv[0].Value] = true
	}
	_, wfs, _ := c.w.mapGet(root, "workflows")
	wps, err := c.w.pairs(wfs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	for _, wp := range wps {
		_, jl, _ := c.w.mapGet(wp[1], "jobs")
		if jl == nil || jl.Kind != yaml.SequenceNode {
			continue
		}
		for _, it := range jl.Content {
			it, err := c.w.deref(it)
			if err != nil || it == nil {
				continue
			}
			if it.Kind != yaml.MappingNode || len(it.Content) < 2 {
				continue
			}
			name := it.Content[0].Value
			_, ctx, _ := c.w.mapGet(it.Content[1], "context")
			var names []string
			if ctx != nil && ctx.Kind == yaml.ScalarNode {
				names = []string{ctx.Value}
			} else if ctx != nil {
				for _, n := range ctx.Content {
					names = append(names, scalar(n))
				}
			}
			// A workflow entry may rename the job (name:); the job it runs is the key.
			for _, n := range names {
				if n != "" && !contains(c.contexts[name], n) {
					c.contexts[name] = append(c.contexts[name], n)
				}
			}
		}
	}
	return c, nil
}

// circleJobs reads the jobs of .circleci/config.yml.
func (d *detector) circleJobs() []*ciJob {
	c, err := parseCircleCI(CircleCIConfig, d.snap.Files[CircleCIConfig])
	if err != nil {
		d.finding(SevError, "ci-config-invalid", CircleCIConfig, errLine(err), strings.TrimPrefix(err.Error(), CircleCIConfig+": "))
		return nil
	}
	_, jobs, _ := c.w.mapGet(c.root, "jobs")
	jps, err := c.w.pairs(jobs)
	if err != nil {
		d.finding(SevError, "ci-config-invalid", CircleCIConfig, 0, err.Error())
		return nil
	}
	var out []*ciJob
	for _, jp := range jps {
		if jp[1] == nil || jp[1].Kind != yaml.MappingNode {
			continue
		}
		j := &ciJob{provider: ProviderCircleCI, file: CircleCIConfig, name: jp[0].Value, line: jp[0].Line, key: jp[0], node: jp[1], contexts: c.contexts[jp[0].Value]}
		j.aliased = hasAnchorOrAlias(jp[1], 0)
		ps, err := c.w.pairs(jp[1])
		if err != nil {
			d.finding(SevError, "ci-config-invalid", CircleCIConfig, jp[0].Line, err.Error())
			continue
		}
		for _, p := range ps {
			switch p[0].Value {
			case "environment":
				fs, _ := c.w.fields(p[1])
				j.vars = append(j.vars, fs...)
			case "docker":
				if p[1].Kind == yaml.SequenceNode && len(p[1].Content) > 0 {
					_, img, _ := c.w.mapGet(p[1].Content[0], "image")
					j.image = scalar(img)
				}
			case "resource_class":
				// Self-hosted runner resource classes are namespace/name.
				if strings.Contains(scalar(p[1]), "/") {
					j.selfHosted = true
				}
			case "machine":
				if scalar(p[1]) == "true" {
					j.image = "machine"
				}
			case "steps":
				j.scripts = append(j.scripts, c.steps(p[1], "", 0)...)
			}
		}
		out = append(out, j)
	}
	return out
}

// steps reads a steps list, expanding reusable commands (to depth 4) and
// when/unless blocks. Orb commands whose names say they publish become
// entries of section "orb".
func (c *circleConfig) steps(v *yaml.Node, via string, depth int) []ciScript {
	v, err := c.w.deref(v)
	if err != nil || v == nil || v.Kind != yaml.SequenceNode || depth > 4 {
		return nil
	}
	var out []ciScript
	for _, it := range v.Content {
		it, err := c.w.deref(it)
		if err != nil || it == nil {
			continue
		}
		name := scalar(it)
		var body *yaml.Node
		if it.Kind == yaml.MappingNode && len(it.Content) >= 2 {
			name, body = it.Content[0].Value, it.Content[1]
		}
		switch {
		case name == "run":
			cmd := body
			if body != nil && body.Kind == yaml.MappingNode {
				_, cmd, _ = c.w.mapGet(body, "command")
			}
			if cmd == nil || cmd.Kind != yaml.ScalarNode {
				continue
			}
			out = append(out, ciScript{text: cmd.Value, file: CircleCIConfig, line: cmd.Line, node: cmd, list: v, item: it, section: "steps", via: via})
		case name == "when" || name == "unless":
			_, inner, _ := c.w.mapGet(body, "steps")
			out = append(out, c.steps(inner, via, depth+1)...)
		case c.commands[name] != nil:
			_, inner, _ := c.w.mapGet(c.commands[name], "steps")
			out = append(out, c.steps(inner, "command "+name, depth+1)...)
		case strings.Contains(name, "/"):
			orb, _, _ := strings.Cut(name, "/")
			if c.orbs[orb] && publishNameRe.MatchString(name) {
				out = append(out, ciScript{text: name, file: CircleCIConfig, line: it.Line, item: it, list: v, section: "orb", via: via})
			}
		}
	}
	return out
}
