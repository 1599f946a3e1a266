package rewrite

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// semver is a parsed major.minor.patch; missing parts are zero.
type semver [3]int

var semverRe = regexp.MustCompile(`^[v^~>=<\s]*(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?`)

// parseVersion reads the leading version of a spec such as "^11.5.1",
// "24.x", "v1.7.0" or "22"; ok is false for words like lts/* or latest.
func parseVersion(s string) (semver, bool) {
	m := semverRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return semver{}, false
	}
	var v semver
	for i := 0; i < 3; i++ {
		n, err := strconv.Atoi(m[i+1])
		if err != nil && i > 0 {
			// "20" or "20.x" means the newest release of that line.
			v[i], v[2] = 999, 999
			break
		}
		v[i] = n
	}
	return v, true
}

func (a semver) less(b semver) bool {
	for i := 0; i < 3; i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

var (
	npmOIDCMin   = semver{11, 5, 1}
	nodeNPM11    = semver{20, 17, 0}
	npmUpgradeRe = regexp.MustCompile(`\b(?:npm|pnpm|yarn|bun)\s+(?:i|install|add|global\s+add)\s+(?:-g|--global|--location=global)\s+npm@(\S+)|\b(?:npm|pnpm)\s+(?:i|install|add)\s+npm@(\S+)\s+(?:-g|--global)`)
)

// nodeVersion returns the Node.js version a job sets up, resolving simple
// matrix and env references.
func nodeVersion(wf *Workflow, j *Job) string {
	for _, st := range j.Steps {
		if !strings.HasPrefix(actionName(st.Uses), "actions/setup-node") {
			continue
		}
		f, ok := lookup(st.With, "node-version", false)
		if !ok {
			if _, file := lookup(st.With, "node-version-file", false); file {
				return "file"
			}
			return ""
		}
		v := strings.TrimSpace(f.Value)
		if ref, ok := exprRef(v, "matrix."); ok && len(j.Matrix[ref]) > 0 {
			return lowestVersion(j.Matrix[ref])
		}
		if ref, ok := exprRef(v, "env."); ok {
			for _, fs := range [][]Field{st.Env, j.Env, wf.Env} {
				if e, ok := lookup(fs, ref, false); ok {
					return e.Value
				}
			}
		}
		return v
	}
	return ""
}

func lowestVersion(vs []string) string {
	best, bestV := vs[0], semver{999}
	for _, v := range vs {
		if p, ok := parseVersion(v); ok && p.less(bestV) {
			best, bestV = v, p
		}
	}
	return best
}

var exprRefRe = regexp.MustCompile(`^\$\{\{\s*([A-Za-z_.-]+)\s*\}\}$`)

func exprRef(v, prefix string) (string, bool) {
	m := exprRefRe.FindStringSubmatch(v)
	if m == nil || !strings.HasPrefix(m[1], prefix) {
		return "", false
	}
	return strings.TrimPrefix(m[1], prefix), true
}

// nodeAndNPM decides whether the runner's npm is new enough for trusted
// publishing, and reports npm@latest upgrades and too-old Node versions.
func (d *detector) nodeAndNPM(wf *Workflow, j *Job, p *Pipeline) {
	p.NodeVersion = nodeVersion(wf, j)
	if pin := matrixPin(j, p); pin != "" {
		p.NodeVersion = pin
	}
	last := -1
	for _, s := range p.Steps {
		if s.Step > last {
			last = s.Step
		}
	}
	for _, st := range j.Steps {
		if last >= 0 && st.Index > last {
			break
		}
		if m := npmUpgradeRe.FindStringSubmatch(st.Run); m != nil {
			p.NPMUpgrade = strings.Trim(m[1]+m[2], `'"`)
		}
		if f, ok := lookup(st.With, "npm-version", false); ok && strings.HasPrefix(st.Uses, "./") {
			p.NPMUpgrade = f.Value
		}
	}
	npmOK := func(spec string) string {
		switch spec {
		case "latest", "next", "*":
			return "yes"
		}
		v, ok := parseVersion(spec)
		if !ok {
			return "unknown"
		}
		if v.less(npmOIDCMin) {
			return "no"
		}
		return "yes"
	}
	nodeMajor, nodeKnown := parseVersion(p.NodeVersion)
	switch nv := strings.ToLower(p.NodeVersion); {
	case p.NPMUpgrade != "":
		p.NPMReady = npmOK(p.NPMUpgrade)
	case nv == "current" || nv == "latest" || nv == "node":
		p.NPMReady = "yes"
	case nodeKnown && !nodeMajor.less(semver{24, 5, 0}): // Node 24.5.0 is the first to bundle npm 11.5.1+
		p.NPMReady = "yes"
	case nodeKnown:
		p.NPMReady = "no"
	default:
		p.NPMReady = "unknown"
	}
	if len(p.Steps) > 0 {
		own := true
		for _, s := range p.Steps {
			own = own && d.bundlesNPM(s)
		}
		if own {
			p.NPMReady = "yes"
		}
	}
	if p.NPMUpgrade == "latest" || p.NPMUpgrade == "next" {
		d.finding(SevWarning, "npm-latest", wf.Path, j.Line, fmt.Sprintf("job %q installs npm@%s, which is now npm 12 (new engines, install scripts off by default); pin npm@^11.5.1 unless the project is ready for npm 12", j.ID, p.NPMUpgrade))
	}
	if nodeKnown && nodeMajor.less(nodeNPM11) {
		d.finding(SevWarning, "node-too-old", wf.Path, j.Line, fmt.Sprintf("job %q sets up Node %s; npm 11 (needed for trusted publishing) requires Node 20.17 or newer: raise node-version by hand", j.ID, p.NodeVersion))
	}
	if p.Credential == CredOIDC && p.NPMReady == "no" {
		d.finding(SevWarning, "npm-too-old", wf.Path, j.Line, fmt.Sprintf("job %q publishes without a token but its npm may be older than 11.5.1 (Node %s); add npm install -g npm@^11.5.1 before publishing", j.ID, p.NodeVersion))
	}
}

// matrixPin returns the matrix value every publish step is gated on (if:
// matrix.node == '24') when setup-node reads its version from that matrix
// key: the publish runs on that Node only.
func matrixPin(j *Job, p *Pipeline) string {
	key := ""
	for _, st := range j.Steps {
		if strings.HasPrefix(actionName(st.Uses), "actions/setup-node") {
			if f, ok := lookup(st.With, "node-version", false); ok {
				key, _ = exprRef(strings.TrimSpace(f.Value), "matrix.")
			}
			break
		}
	}
	if key == "" || len(p.Steps) == 0 {
		return ""
	}
	re := regexp.MustCompile(`matrix\.` + regexp.QuoteMeta(key) + `\s*==\s*['"]?([\w.*-]+)`)
	pin := ""
	for _, s := range p.Steps {
		if s.Step < 0 || s.Step >= len(j.Steps) {
			return ""
		}
		m := re.FindStringSubmatch(j.If + " " + j.Steps[s.Step].If)
		if m == nil || pin != "" && pin != m[1] {
			return ""
		}
		pin = m[1]
	}
	return pin
}

// bundlesNPM reports whether a publish step runs an npm of its own that is
// new enough for trusted publishing, whatever the runner has: npx
// npm@11.5.1+ publish, or semantic-release 25 (@semantic-release/npm 13.1+),
// which depends on npm 11 and runs it.
func (d *detector) bundlesNPM(s PublishStep) bool {
	switch s.Tool {
	case "npm":
		if s.Version == "latest" || s.Version == "next" {
			return true
		}
		v, ok := parseVersion(s.Version)
		return ok && !v.less(npmOIDCMin)
	case "semantic-release":
		if s.Version != "" {
			v, ok := parseVersion(s.Version)
			return ok && v[0] >= 25
		}
		rp, ok := d.rootPackage()
		if !ok {
			return false
		}
		if spec, ok := rp.Deps["@semantic-release/npm"]; ok {
			v, ok := parseVersion(spec)
			return ok && !v.less(semver{13, 1, 0})
		}
		v, ok := parseVersion(rp.Deps["semantic-release"])
		return ok && v[0] >= 25
	}
	return false
}

// toolFindings reports publisher tools and versions that cannot do OIDC.
func (d *detector) toolFindings(wf *Workflow, j *Job, p *Pipeline) {
	for _, s := range p.Steps {
		switch s.Tool {
		case "bun":
			d.finding(SevWarning, "tool-no-oidc", wf.Path, s.Line, "bun publish does not support trusted publishing; use bunx npm@^11.5.1 publish")
		case "yarn":
			d.finding(SevWarning, "tool-no-oidc", wf.Path, s.Line, "yarn 1 publish does not support trusted publishing; use npm publish or Yarn 4.10+ yarn npm publish")
		case "semantic-release":
			d.semanticRelease(wf, s)
		case "changesets":
			if strings.HasPrefix(actionName(s.Uses), "changesets/action") {
				if v, ok := parseVersion(actionRef(s.Uses)); ok && v[0] == 1 && v.less(semver{1, 7, 0}) && strings.Count(actionRef(s.Uses), ".") >= 1 {
					d.finding(SevWarning, "tool-old", wf.Path, s.Line, fmt.Sprintf("changesets/action %s writes NPM_TOKEN into .npmrc even when empty; use v1.7.0 or later for trusted publishing", actionRef(s.Uses)))
				}
			}
		case "lerna":
			if rp, ok := d.rootPackage(); ok {
				if v, ok := parseVersion(rp.Deps["lerna"]); ok && v[0] < 9 {
					d.finding(SevWarning, "tool-old", "package.json", 0, fmt.Sprintf("lerna %s has no trusted-publishing support; lerna 9 or lerna-lite 4.9 is needed", rp.Deps["lerna"]))
				}
			}
		}
	}
}

func (d *detector) semanticRelease(wf *Workflow, s PublishStep) {
	if s.Version != "" {
		if v, ok := parseVersion(s.Version); ok && v[0] < 25 {
			d.finding(SevWarning, "tool-old", wf.Path, s.Line, fmt.Sprintf("semantic-release %s bundles @semantic-release/npm older than 13.1.0, which cannot use trusted publishing; use semantic-release 25", s.Version))
		}
		return
	}
	if rp, ok := d.rootPackage(); ok {
		if spec, ok := rp.Deps["@semantic-release/npm"]; ok {
			if v, ok := parseVersion(spec); ok && v.less(semver{13, 1, 0}) {
				d.finding(SevWarning, "tool-old", "package.json", 0, fmt.Sprintf("@semantic-release/npm %s cannot use trusted publishing; 13.1.0 or later is needed", spec))
			}
			return
		}
		if spec, ok := rp.Deps["semantic-release"]; ok {
			if v, ok := parseVersion(spec); ok && v[0] < 25 {
				d.finding(SevWarning, "tool-old", "package.json", 0, fmt.Sprintf("semantic-release %s bundles @semantic-release/npm older than 13.1.0; use semantic-release 25", spec))
			}
			return
		}
	}
	d.finding(SevInfo, "tool-version-unknown", wf.Path, s.Line, "semantic-release version not visible; trusted publishing needs @semantic-release/npm 13.1.0 or later (semantic-release 25)")
}

// summarise sets the repo-level credential, publishes flag and trust needs.
func (d *detector) summarise() {
	r := d.res
	for _, p := range r.Pipelines {
		r.Publishes = true
		if r.Credential == CredNone || p.Credential.rank() < r.Credential.rank() {
			r.Credential = p.Credential
		}
	}
	if !r.Publishes {
		return
	}
	pkgs := d.publishedPackages()
	owner := map[string]TrustNeed{}
	ownerPipeline := map[string]int{}
	for i, pl := range r.Pipelines {
		if pl.Credential == CredNone && len(pl.Feeds) == 0 && !pl.IDToken {
			continue
		}
		for _, wfName := range pl.TrustedWorkflow {
			names := []string{""}
			if len(pkgs) > 0 {
				names = names[:0]
				for _, p := range pkgs {
					names = append(names, p.Name)
				}
			}
			for _, n := range names {
				if pl.ProxyFor(n) {
					// Published through a registry proxy: no trusted
					// publisher applies until the proxy goes.
					continue
				}
				t := d.trustNeed(pl, n, wfName)
				if prev, ok := owner[n]; ok {
					// Callers of one reusable workflow are reported as trust-ambiguous.
					if !sameTrust(prev, t) && ownerPipeline[n] != i {
						d.finding(SevWarning, "trust-conflict", pl.Workflow, pl.JobLine, fmt.Sprintf("package %s is published from %s (environment %q) and %s (environment %q); npm allows one trusted publisher per package", orUnknown(n), prev.Workflow, prev.Environment, t.Workflow, t.Environment))
					}
					continue
				}
				owner[n], ownerPipeline[n] = t, i
				r.Trust = append(r.Trust, t)
			}
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "(name unknown: no package.json)"
	}
	return s
}

// publishedPackages returns the packages the repository's publishes are
// taken to release: the publishable root, workspace members, or the only
// package.
func (d *detector) publishedPackages() []Package {
	var pkgs []Package
	for _, p := range d.res.Packages {
		if p.Publishable && (p.Workspace || len(d.res.Packages) == 1 || p.Dir == ".") {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}
