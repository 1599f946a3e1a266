package rewrite

import (
	"encoding/json"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Package is one package.json of the repository.
type Package struct {
	Name string `json:"name"`
	// Dir is the package's directory relative to the repository root ("." for the root).
	Dir     string `json:"dir"`
	Version string `json:"version,omitempty"`
	Private bool   `json:"private,omitempty"`
	// Access is publishConfig.access.
	Access string `json:"access,omitempty"`
	// Registry is publishConfig.registry.
	Registry string `json:"registry,omitempty"`
	// Provenance is publishConfig.provenance.
	Provenance bool `json:"provenance,omitempty"`
	// RepositoryURL is package.json repository(.url).
	RepositoryURL string `json:"repository_url,omitempty"`
	// Publishable is true when npm trusted publishing applies: not private,
	// named, and published to the configured registry.
	Publishable bool `json:"publishable"`
	// Workspace is true for a workspace member (not the root).
	Workspace bool              `json:"workspace,omitempty"`
	Scripts   map[string]string `json:"-"`
	Deps      map[string]string `json:"-"`
}

type packageJSON struct {
	Name          string            `json:"name"`
	Version       string            `json:"version"`
	Private       json.RawMessage   `json:"private"`
	Scripts       map[string]string `json:"scripts"`
	Workspaces    json.RawMessage   `json:"workspaces"`
	Repository    json.RawMessage   `json:"repository"`
	PublishConfig struct {
		Access     string          `json:"access"`
		Registry   string          `json:"registry"`
		Provenance json.RawMessage `json:"provenance"`
	} `json:"publishConfig"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	Release         json.RawMessage   `json:"release"`
}

func truthy(raw json.RawMessage) bool {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	return s == "true"
}

func parsePackageJSON(data []byte) (packageJSON, error) {
	var p packageJSON
	err := json.Unmarshal(data, &p)
	return p, err
}

// workspaceGlobs reads workspace patterns from package.json (npm, yarn),
// pnpm-workspace.yaml and lerna.json.
func workspaceGlobs(files map[string][]byte, root packageJSON) (globs []string, kind string) {
	if len(root.Workspaces) > 0 {
		var arr []string
		if json.Unmarshal(root.Workspaces, &arr) != nil {
			var obj struct {
				Packages []string `json:"packages"`
			}
			_ = json.Unmarshal(root.Workspaces, &obj)
			arr = obj.Packages
		}
		globs, kind = append(globs, arr...), "workspaces"
	}
	if b, ok := files["pnpm-workspace.yaml"]; ok {
		var ws struct {
			Packages []string `yaml:"packages"`
		}
		if yaml.Unmarshal(b, &ws) == nil {
			globs, kind = append(globs, ws.Packages...), "pnpm"
		}
	}
	if b, ok := files["lerna.json"]; ok {
		var l struct {
			Packages []string `json:"packages"`
		}
		if json.Unmarshal(b, &l) == nil {
			if len(l.Packages) == 0 && len(globs) == 0 {
				l.Packages = []string{"packages/*"}
			}
			globs = append(globs, l.Packages...)
			if kind == "" {
				kind = "lerna"
			}
		}
	}
	return globs, kind
}

// globMatch matches a slash path against a workspace glob with * and **.
func globMatch(pattern, p string) bool {
	pattern = strings.TrimSuffix(strings.TrimPrefix(pattern, "./"), "/")
	pattern = strings.TrimSuffix(pattern, "/package.json")
	return matchSegs(strings.Split(pattern, "/"), strings.Split(p, "/"))
}

func matchSegs(ps, ss []string) bool {
	for len(ps) > 0 {
		if ps[0] == "**" {
			for i := 0; i <= len(ss); i++ {
				if matchSegs(ps[1:], ss[i:]) {
					return true
				}
			}
			return false
		}
		if len(ss) == 0 {
			return false
		}
		if ok, _ := path.Match(ps[0], ss[0]); !ok {
			return false
		}
		ps, ss = ps[1:], ss[1:]
	}
	return len(ss) == 0
}

// packages lists the root package and the workspace members, with problems
// for package.json files that do not parse.
func (d *detector) packages() {
	files := d.snap.Files
	rootData, ok := files["package.json"]
	var root packageJSON
	if ok {
		var err error
		root, err = parsePackageJSON(rootData)
		if err != nil {
			d.finding(SevError, "package-json-invalid", "package.json", 0, "package.json does not parse: "+err.Error())
		}
	}
	globs, kind := workspaceGlobs(files, root)
	d.res.WorkspaceKind = kind
	if ok {
		d.addPackage(".", root, false)
	}
	var dirs []string
	for _, p := range d.snap.paths() {
		if path.Base(p) != "package.json" || p == "package.json" {
			continue
		}
		dir := path.Dir(p)
		in, out := false, false
		for _, g := range globs {
			if neg, isNeg := strings.CutPrefix(g, "!"); isNeg {
				if globMatch(neg, dir) {
					out = true
				}
			} else if globMatch(g, dir) {
				in = true
			}
		}
		if in && !out {
			dirs = append(dirs, dir)
		}
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		pj, err := parsePackageJSON(files[dir+"/package.json"])
		if err != nil {
			d.finding(SevError, "package-json-invalid", dir+"/package.json", 0, "package.json does not parse: "+err.Error())
			continue
		}
		d.addPackage(dir, pj, true)
	}
}

func (d *detector) addPackage(dir string, pj packageJSON, ws bool) {
	p := Package{
		Name: pj.Name, Dir: dir, Version: pj.Version, Private: truthy(pj.Private),
		Access: pj.PublishConfig.Access, Registry: pj.PublishConfig.Registry,
		Provenance: truthy(pj.PublishConfig.Provenance), Workspace: ws, Scripts: pj.Scripts,
		Deps: map[string]string{},
	}
	for k, v := range pj.DevDependencies {
		p.Deps[k] = v
	}
	for k, v := range pj.Dependencies {
		p.Deps[k] = v
	}
	var repo struct {
		URL string `json:"url"`
	}
	if json.Unmarshal(pj.Repository, &repo) != nil {
		_ = json.Unmarshal(pj.Repository, &repo.URL)
	}
	p.RepositoryURL = repo.URL
	p.Publishable = !p.Private && p.Name != "" && (p.Registry == "" || d.opts.Registry == "" || sameRegistry(p.Registry, d.opts.Registry))
	d.res.Packages = append(d.res.Packages, p)
}

// script finds a package.json script by name, in the named workspace
// package when given, else in the root package.
func (d *detector) script(name, workspace string) (string, bool) {
	for _, p := range d.res.Packages {
		if workspace != "" && p.Name != workspace && p.Dir != strings.TrimPrefix(workspace, "./") {
			continue
		}
		if workspace == "" && p.Dir != "." {
			continue
		}
		if s, ok := p.Scripts[name]; ok {
			return s, true
		}
	}
	return "", false
}

// rootPackage returns the root package, if the snapshot has one.
func (d *detector) rootPackage() (Package, bool) {
	for _, p := range d.res.Packages {
		if p.Dir == "." {
			return p, true
		}
	}
	return Package{}, false
}
