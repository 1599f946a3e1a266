package rewrite

import (
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// gitlabReserved are top-level keys of .gitlab-ci.yml that are not jobs.
var gitlabReserved = map[string]bool{
	"default": true, "include": true, "stages": true, "variables": true, "workflow": true,
	"image": true, "services": true, "cache": true, "before_script": true, "after_script": true,
	"spec": true,
}

// gitlabFile is one parsed GitLab CI file (the top-level one or an include).
type gitlabFile struct {
	path string
	root *yaml.Node
	// entries maps every top-level key (jobs and hidden templates) to its
	// key and value nodes.
	entries map[string][2]*yaml.Node
	order   []string
}

// gitlabConfig is the merged view of the top-level file and its local
// includes.
type gitlabConfig struct {
	files    []*gitlabFile
	entries  map[string][2]*yaml.Node
	fileOf   map[string]string
	order    []string
	vars     []Field
	defaults *yaml.Node
	defFile  string
	w        *walker
}

// parseGitLabFile parses one GitLab CI file.
func parseGitLabFile(p string, data []byte) (*gitlabFile, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: does not parse as YAML: %w", p, err)
	}
	if len(doc.Content) == 0 {
		return &gitlabFile{path: p, entries: map[string][2]*yaml.Node{}}, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: line %d: top level is not a mapping", p, root.Line)
	}
	if expandedSize(root, map[*yaml.Node]int{}, maxExpandedNodes) > maxExpandedNodes {
		return nil, fmt.Errorf("%s: %w", p, errAliasBudget)
	}
	f := &gitlabFile{path: p, root: root, entries: map[string][2]*yaml.Node{}}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if k.Kind != yaml.ScalarNode {
			continue
		}
		if _, dup := f.entries[k.Value]; dup {
			return nil, fmt.Errorf("%s: line %d: key %q is defined twice", p, k.Line, k.Value)
		}
		f.entries[k.Value] = [2]*yaml.Node{k, root.Content[i+1]}
		f.order = append(f.order, k.Value)
	}
	return f, nil
}

// localIncludes returns the local files a GitLab file includes, with the
// line of each, and the includes it cannot follow (remote, project,
// template, component).
func localIncludes(w *walker, f *gitlabFile) (local []Field, other []Field) {
	e, ok := f.entries["include"]
	if !ok {
		return nil, nil
	}
	v, err := w.deref(e[1])
	if err != nil || v == nil {
		return nil, nil
	}
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	for _, it := range items {
		it, err := w.deref(it)
		if err != nil || it == nil {
			continue
		}
		switch it.Kind {
		case yaml.ScalarNode:
			if strings.Contains(it.Value, "://") {
				other = append(other, Field{Key: "remote", Value: it.Value, Line: it.Line})
			} else {
				local = append(local, Field{Key: "local", Value: it.Value, Line: it.Line})
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(it.Content); i += 2 {
				k := it.Content[i].Value
				val := scalar(it.Content[i+1])
				switch k {
				case "local":
					local = append(local, Field{Key: k, Value: val, Line: it.Content[i].Line})
				case "remote", "project", "template", "component":
					other = append(other, Field{Key: k, Value: val, Line: it.Content[i].Line})
				}
			}
		}
	}
	return local, other
}

// gitlabJobs reads .gitlab-ci.yml and its local includes into jobs.
func (d *detector) gitlabJobs() []*ciJob {
	w := &walker{}
	top, err := parseGitLabFile(GitLabCIPath, d.snap.Files[GitLabCIPath])
	if err != nil {
		d.finding(SevError, "ci-config-invalid", GitLabCIPath, errLine(err), strings.TrimPrefix(err.Error(), GitLabCIPath+": "))
		return nil
	}
	cfg := &gitlabConfig{entries: map[string][2]*yaml.Node{}, fileOf: map[string]string{}, w: w}
	queue := []*gitlabFile{top}
	seen := map[string]bool{GitLabCIPath: true}
	for len(queue) > 0 && len(cfg.files) < 50 {
		f := queue[0]
		queue = queue[1:]
		cfg.files = append(cfg.files, f)
		local, other := localIncludes(w, f)
		for _, o := range other {
			d.finding(SevInfo, "ci-include-not-read", f.path, o.Line, fmt.Sprintf("%s include %q is not read; publishing jobs it defines are not seen", o.Key, o.Value))
		}
		for _, l := range local {
			p := strings.TrimPrefix(path.Clean("/"+l.Value), "/")
			if strings.ContainsAny(p, "*?[") || seen[p] {
				continue
			}
			seen[p] = true
			data, ok := d.snap.Files[p]
			if !ok {
				d.finding(SevWarning, "ci-include-missing", f.path, l.Line, fmt.Sprintf("local include %s is not in the repository (or not read); publishing jobs it defines are not seen", p))
				continue
			}
			inc, err := parseGitLabFile(p, data)
			if err != nil {
				d.finding(SevError, "ci-config-invalid", p, errLine(err), strings.TrimPrefix(err.Error(), p+": "))
				continue
			}
			queue = append(queue, inc)
		}
	}
	// Later files (includes) are overridden by the including file: read
	// includes first, then the top-level file.
	for i := len(cfg.files) - 1; i >= 0; i-- {
		f := cfg.files[i]
		for _, k := range f.order {
			if _, dup := cfg.entries[k]; !dup {
				cfg.order = append(cfg.order, k)
			}
			cfg.entries[k] = f.entries[k]
			cfg.fileOf[k] = f.path
		}
	}
	if e, ok := cfg.entries["variables"]; ok {
		cfg.vars, _ = gitlabVars(w, e[1])
	}
	if e, ok := cfg.entries["default"]; ok {
		cfg.defaults, _ = w.deref(e[1])
		cfg.defFile = cfg.fileOf["default"]
	}
	var jobs []*ciJob
	for _, name := range cfg.order {
		if gitlabReserved[name] || strings.HasPrefix(name, ".") {
			continue
		}
		e := cfg.entries[name]
		v, err := w.deref(e[1])
		if err != nil {
			d.finding(SevError, "ci-config-invalid", cfg.fileOf[name], e[0].Line, err.Error())
			return jobs
		}
		if v == nil || v.Kind != yaml.MappingNode {
			continue
		}
		j, err := cfg.job(name, e[0], v)
		if err != nil {
			d.finding(SevError, "ci-config-invalid", cfg.fileOf[name], e[0].Line, fmt.Sprintf("job %q: %v", name, err))
			continue
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// gitlabVars reads a variables mapping; a variable may be a scalar or a
// mapping with value:.
func gitlabVars(w *walker, v *yaml.Node) ([]Field, error) {
	ps, err := w.pairs(v)
	if err != nil {
		return nil, err
	}
	var out []Field
	for _, p := range ps {
		val := scalar(p[1])
		if p[1] != nil && p[1].Kind == yaml.MappingNode {
			_, vn, _ := w.mapGet(p[1], "value")
			val = scalar(vn)
		}
		out = append(out, Field{Key: p[0].Value, Value: val, Line: p[0].Line, KNode: p[0], VNode: p[1]})
	}
	return out, nil
}

// jobKeys returns a job's keys with extends: and merge keys resolved, each
// with where it came from ("" for the job itself, else the template name).
func (c *gitlabConfig) jobKeys(name string, v *yaml.Node, depth int, aliased *bool) (map[string][2]*yaml.Node, map[string]string, error) {
	if depth > 11 {
		return nil, nil, fmt.Errorf("extends nests deeper than GitLab's 11 levels")
	}
	keys := map[string][2]*yaml.Node{}
	from := map[string]string{}
	// Parents first, so the job's own keys win.
	if _, ext, err := c.w.mapGet(v, "extends"); err == nil && ext != nil {
		var parents []string
		if ext.Kind == yaml.ScalarNode {
			parents = []string{ext.Value}
		} else {
			for _, e := range ext.Content {
				parents = append(parents, scalar(e))
			}
		}
		for _, pn := range parents {
			e, ok := c.entries[pn]
			if !ok {
				return nil, nil, fmt.Errorf("extends %q, which is not defined", pn)
			}
			pv, err := c.w.deref(e[1])
			if err != nil {
				return nil, nil, err
			}
			pk, pf, err := c.jobKeys(pn, pv, depth+1, aliased)
			if err != nil {
				return nil, nil, err
			}
			for k, kv := range pk {
				keys[k] = kv
				if pf[k] == "" {
					from[k] = pn
				} else {
					from[k] = pf[k]
				}
			}
		}
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k := v.Content[i]
		if k.Value == "<<" {
			*aliased = true
			mv, err := c.w.deref(v.Content[i+1])
			if err != nil {
				return nil, nil, err
			}
			ms := []*yaml.Node{mv}
			if mv != nil && mv.Kind == yaml.SequenceNode {
				ms = mv.Content
			}
			for _, m := range ms {
				m, err := c.w.deref(m)
				if err != nil || m == nil || m.Kind != yaml.MappingNode {
					continue
				}
				for j := 0; j+1 < len(m.Content); j += 2 {
					if _, own := keys[m.Content[j].Value]; !own || from[m.Content[j].Value] != "" {
						keys[m.Content[j].Value] = [2]*yaml.Node{m.Content[j], m.Content[j+1]}
						from[m.Content[j].Value] = "an anchor"
					}
				}
			}
			continue
		}
		if v.Content[i+1].Kind == yaml.AliasNode {
			*aliased = true
		}
		keys[k.Value] = [2]*yaml.Node{k, v.Content[i+1]}
		from[k.Value] = ""
	}
	return keys, from, nil
}

// job builds a GitLab job.
func (c *gitlabConfig) job(name string, key, v *yaml.Node) (*ciJob, error) {
	j := &ciJob{provider: ProviderGitLab, file: c.fileOf[name], name: name, line: key.Line, key: key, node: v, idTokens: map[string]string{}}
	keys, from, err := c.jobKeys(name, v, 0, &j.aliased)
	if err != nil {
		return nil, err
	}
	fileOf := func(k string) string {
		if f := from[k]; f != "" && f != "an anchor" {
			return c.fileOf[f]
		}
		return j.file
	}
	// default: applies unless the job (or a template) sets the key, or
	// inherit: default: false.
	inheritDefault := true
	if iv, ok := keys["inherit"]; ok {
		if _, dv, _ := c.w.mapGet(iv[1], "default"); dv != nil && dv.Kind == yaml.ScalarNode && dv.Value == "false" {
			inheritDefault = false
		}
	}
	if inheritDefault && c.defaults != nil {
		ps, _ := c.w.pairs(c.defaults)
		for _, p := range ps {
			if _, ok := keys[p[0].Value]; !ok {
				keys[p[0].Value] = [2]*yaml.Node{p[0], p[1]}
				from[p[0].Value] = "default"
			}
		}
	}
	for _, section := range []string{"before_script", "script", "after_script"} {
		kv, ok := keys[section]
		if !ok {
			if section == "before_script" || section == "after_script" {
				if top, ok := c.entries[section]; ok && inheritDefault {
					kv, from[section] = top, "the top level"
				} else {
					continue
				}
			} else {
				continue
			}
		}
		via := from[section]
		items, err := scriptItems(c.w, fileOf(section), section, via, kv[1])
		if err != nil {
			return nil, err
		}
		if via == "default" || via == "the top level" {
			for i := range items {
				items[i].file = c.defFile
				if via == "the top level" {
					items[i].file = c.fileOf[section]
				}
			}
		}
		j.scripts = append(j.scripts, items...)
	}
	if kv, ok := keys["variables"]; ok {
		fs, err := gitlabVars(c.w, kv[1])
		if err != nil {
			return nil, err
		}
		j.vars = append(j.vars, fs...)
	}
	j.vars = append(j.vars, c.vars...)
	if kv, ok := keys["id_tokens"]; ok {
		tv, _ := c.w.deref(kv[1])
		j.idTokensNode = tv
		ps, _ := c.w.pairs(tv)
		for _, p := range ps {
			_, aud, _ := c.w.mapGet(p[1], "aud")
			a := scalar(aud)
			if aud != nil && aud.Kind == yaml.SequenceNode && len(aud.Content) > 0 {
				a = scalar(aud.Content[0])
			}
			j.idTokens[p[0].Value] = a
		}
	}
	if kv, ok := keys["environment"]; ok {
		ev, _ := c.w.deref(kv[1])
		if ev != nil && ev.Kind == yaml.MappingNode {
			_, nv, _ := c.w.mapGet(ev, "name")
			j.environment = scalar(nv)
		} else {
			j.environment = scalar(ev)
		}
	}
	if kv, ok := keys["tags"]; ok {
		tv, _ := c.w.deref(kv[1])
		if tv != nil {
			for _, t := range tv.Content {
				if s := scalar(t); s != "" {
					j.tags = append(j.tags, s)
				}
			}
		}
		for _, t := range j.tags {
			if !strings.HasPrefix(t, "saas-") {
				j.selfHosted = true
			}
		}
	}
	image := keys["image"]
	if image[1] == nil {
		if top, ok := c.entries["image"]; ok {
			image = top
		}
	}
	if iv, _ := c.w.deref(image[1]); iv != nil {
		if iv.Kind == yaml.MappingNode {
			_, nv, _ := c.w.mapGet(iv, "name")
			j.image = scalar(nv)
		} else {
			j.image = scalar(iv)
		}
	}
	return j, nil
}
