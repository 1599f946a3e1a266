package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"strings"
	"sync"
	"text/template"

	"github.com/cutover/cutover/rewrite"
	"github.com/cutover/cutover/templates"
)

// templateRoot is the folder of the sandbox's templates in templates.FS.
const templateRoot = "sandbox"

var (
	tmplOnce sync.Once
	tmplSet  *template.Template
	tmplErr  error
)

// sandboxTemplates parses every template under templates/sandbox once. The
// delimiters are [[ ]] so that GitHub's ${{ }} expressions pass through.
func sandboxTemplates() (*template.Template, error) {
	tmplOnce.Do(func() {
		t := template.New(templateRoot).Delims("[[", "]]").Option("missingkey=error").Funcs(template.FuncMap{
			"json": func(v any) (string, error) {
				b, err := json.Marshal(v)
				return string(b), err
			},
			"list": func(v ...any) []any { return v },
		})
		err := fs.WalkDir(templates.FS, templateRoot, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(templates.FS, p)
			if err != nil {
				return err
			}
			_, err = t.New(strings.TrimPrefix(p, templateRoot+"/")).Parse(string(b))
			return err
		})
		if err != nil {
			tmplErr = fmt.Errorf("could not parse the sandbox templates: %w", err)
			return
		}
		tmplSet = t
	})
	return tmplSet, tmplErr
}

// tmplData is what the sandbox templates read.
type tmplData struct {
	Org, Repo, FullName, Description string
	// Registry is the registry URL ending in "/"; RegistryAuth is its
	// "//host/path/" form for .npmrc auth lines.
	Registry, RegistryAuth         string
	Scope, Branch, Node, RunsOn    string
	Secret, Environment, Trigger   string
	Checkout, SetupNode            string
	WorkflowName, Callee           string
	PublishCmd, SRVersion          string
	Comments, Provenance, JobEnv   bool
	RegistryURL, Cache, UpgradeNPM bool
	Inherit, YarnEnv, Scoped       bool
	Workspaces, SemanticRelease    bool
	Changesets, Lerna, Manual      bool
	ScopeRegistry, NpmrcAuth       bool
	// Context is the CircleCI context holding the token; CircleImage the
	// job's cimg/node tag.
	Context, CircleImage string
	Root                 Package
	Pkg                  Package
}

// Files renders the contents of repository r for a world whose npm registry
// is registryURL. The result is the repository's first commit.
func (p Portfolio) Files(r Repo, registryURL string) (map[string][]byte, error) {
	t, err := sandboxTemplates()
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(registryURL, "/") {
		registryURL += "/"
	}
	u, err := url.Parse(registryURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("registry URL %q is not an absolute URL", registryURL)
	}
	v := r.variant
	d := &tmplData{
		Org: p.Org, Repo: r.Name, FullName: r.FullName(p.Org), Description: v.description,
		Registry: registryURL, RegistryAuth: "//" + u.Host + u.Path,
		Scope: p.Scope, Branch: r.DefaultBranch, Node: r.Node, RunsOn: "ubuntu-latest",
		Environment: r.Environment, Trigger: v.trigger, Checkout: v.checkout, SetupNode: v.setupNode,
		WorkflowName: workflowName(r), SRVersion: v.srVersion,
		Comments: r.Comments, Provenance: r.Provenance, JobEnv: v.jobEnv,
		RegistryURL: v.registryURL, Cache: v.cache, UpgradeNPM: v.upgradeNPM,
		Inherit: v.inherit, YarnEnv: v.yarnEnv,
		Manual: r.Kind == KindManual, SemanticRelease: r.Kind == KindSemanticRelease,
		Changesets: r.Kind == KindChangesets, Lerna: r.Kind == KindLerna,
	}
	if d.Checkout == "" {
		d.Checkout = "actions/checkout@v4"
	}
	if d.SetupNode == "" {
		d.SetupNode = "actions/setup-node@v4"
	}
	if r.Secret != nil {
		d.Secret, d.Context = r.Secret.Name, r.Secret.Context
	}
	d.CircleImage = map[string]string{"20": "20.19", "22": "22.14", "24": "24.4"}[r.Node]
	if d.CircleImage == "" {
		d.CircleImage = "lts"
	}
	if r.SelfHosted {
		d.RunsOn = "[self-hosted, linux, x64]"
	}
	if len(r.Packages) > 0 {
		d.Root = r.Packages[0]
	}
	d.Scoped = strings.HasPrefix(d.Root.Name, "@")
	d.Workspaces = len(r.Packages) > 1
	d.PublishCmd = publishCmd(r, d)

	files := map[string][]byte{}
	var errs []error
	render := func(dst, name string, data *tmplData) {
		var b bytes.Buffer
		if err := t.ExecuteTemplate(&b, name, data); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			return
		}
		files[dst] = b.Bytes()
	}

	if r.Kind != KindGitLab {
		render(".github/workflows/ci.yml", "workflows/ci.yml.tmpl", d)
	}
	render("README.md", "files/README.md.tmpl", d)
	render(".gitignore", "files/gitignore.tmpl", d)
	if o := p.CodeOwner(r); o != "" {
		files[".github/CODEOWNERS"] = []byte("# Every file is reviewed by the owning team.\n* " + o + "\n")
	}
	for _, pkg := range r.Packages {
		pd := *d
		pd.Pkg = pkg
		pd.Scoped = strings.HasPrefix(pkg.Name, "@")
		pd.Workspaces = pkg.Dir == "." && len(r.Packages) > 1 && r.Kind != KindPNPM
		if pkg.Dir != "." {
			pd.SemanticRelease, pd.Changesets, pd.Lerna = false, false, false
		}
		render(path.Join(pkg.Dir, "package.json"), "files/package.json.tmpl", &pd)
		if !pkg.Private {
			render(path.Join(pkg.Dir, "index.js"), "files/index.js.tmpl", &pd)
		}
	}

	wf := map[Kind]string{
		KindNPM: "npm", KindNPMWorkspaces: "npm", KindPrivate: "npm", KindSelfHosted: "npm", KindBroken: "npm",
		KindPNPM: "pnpm", KindYarn: "yarn", KindLerna: "lerna", KindSemanticRelease: "semantic-release",
		KindChangesets: "changesets", KindReleasePlease: "release-please", KindJSDevTools: "js-devtools",
		KindMigrated: "oidc",
	}[r.Kind]
	switch r.Kind {
	case KindNpmrc:
		if v.npmrcFile {
			d.NpmrcAuth = true
			wf = "npm"
		} else {
			wf = "npmrc"
		}
	case KindCircleCI:
		render(rewrite.CircleCIConfig, "circleci/config.yml.tmpl", d)
	case KindGitLab:
		render(rewrite.GitLabCIPath, "gitlab/gitlab-ci.yml.tmpl", d)
	case KindReusable:
		d.Callee = r.Workflow
		render(".github/workflows/"+r.TrustedWorkflow, "workflows/reusable-caller.yml.tmpl", d)
		render(r.Workflow, "workflows/reusable-publish.yml.tmpl", d)
	}
	if wf != "" {
		render(r.Workflow, "workflows/"+wf+".yml.tmpl", d)
	}

	switch r.Kind {
	case KindPNPM:
		render("pnpm-workspace.yaml", "files/pnpm-workspace.yaml.tmpl", d)
	case KindLerna:
		render("lerna.json", "files/lerna.json.tmpl", d)
	case KindYarn:
		render(".yarnrc.yml", "files/yarnrc.yml.tmpl", d)
	case KindSemanticRelease:
		render(".releaserc.json", "files/releaserc.json.tmpl", d)
	case KindChangesets:
		render(".changeset/config.json", "files/changeset-config.json.tmpl", d)
	case KindReleasePlease:
		render("release-please-config.json", "files/release-please-config.json.tmpl", d)
		render(".release-please-manifest.json", "files/release-please-manifest.json.tmpl", d)
	case KindManual:
		render("RELEASING.md", "files/RELEASING.md.tmpl", d)
	case KindBroken:
		render(".github/workflows/nightly.yml", "workflows/broken.yml.tmpl", d)
	}
	d.ScopeRegistry = r.Kind == KindPrivate
	if d.ScopeRegistry || d.NpmrcAuth {
		render(".npmrc", "files/npmrc.tmpl", d)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("could not render repository %q: %w", r.Name, errs[0])
	}
	if r.CRLF {
		for p, b := range files {
			if strings.HasPrefix(p, ".github/workflows/") {
				files[p] = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
			}
		}
	}
	return files, nil
}

// workflowName is the name: of the publishing workflow.
func workflowName(r Repo) string {
	switch r.Kind {
	case KindSemanticRelease, KindChangesets, KindReleasePlease:
		return "Release"
	}
	if strings.HasPrefix(r.TrustedWorkflow, "publish") || strings.HasPrefix(r.TrustedWorkflow, "npm") {
		return "Publish"
	}
	return "Release"
}

// publishCmd is the npm command line of the npm-based templates.
func publishCmd(r Repo, d *tmplData) string {
	cmd := "npm publish"
	switch r.Kind {
	case KindNPMWorkspaces:
		cmd += " --workspaces"
	case KindPrivate:
		if r.variant.jobEnv {
			cmd += " --access restricted"
		}
	}
	if r.Kind != KindPrivate && (d.Scoped || r.Kind == KindNPMWorkspaces) {
		cmd += " --access public"
	}
	if r.Provenance {
		cmd += " --provenance"
	}
	return cmd
}
