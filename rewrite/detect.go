package rewrite

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Options tune Detect.
type Options struct {
	// Registry is the npm registry URL publishes must target to count.
	// Empty means every publish counts.
	Registry string
	// CircleCI holds the repository's CircleCI project IDs, which a
	// checkout cannot know; nil means unknown (the plan reports them needed).
	CircleCI *CircleCIProject
	// GitLabProject is the GitLab namespace/project; empty means the
	// snapshot's Repo.
	GitLabProject string
	// ManualDocs are files (any case) whose text is searched for a
	// documented manual publish: a bare name matches in any directory, a
	// path only itself; nil means the built-in list (RELEASING.md,
	// CONTRIBUTING.md, Makefile, …).
	ManualDocs []string
	// FlagVar is the feature-flag variable whose exact guard marks a token
	// feed as Guarded; empty means DefaultFlagVar.
	FlagVar string
	// MaxFileBytes is the largest file read; larger files are
	// file-too-large findings. Zero means MaxFileBytes (1 MiB).
	MaxFileBytes int64
}

// fileLimit is opts.MaxFileBytes, or MaxFileBytes when it is not set.
func fileLimit(n int64) int64 {
	if n <= 0 {
		return MaxFileBytes
	}
	return n
}

type detector struct {
	snap      Snapshot
	opts      Options
	res       *Result
	workflows map[string]*Workflow
	callers   map[string][]callSite
	actions   map[string]*Workflow // local composite actions by directory
	repoFeeds []TokenFeed          // committed .npmrc and .yarnrc.yml auth lines
	ciScripts map[string]bool      // shell scripts that workflow steps run
	ciJobs    []*ciJob             // GitLab and CircleCI jobs
}

type callSite struct {
	wf  *Workflow
	job *Job
}

// Detect classifies how the repository in snap publishes to npm. It never
// fails: bad files become findings and the rest is still read.
func Detect(snap Snapshot, opts Options) *Result {
	res, _, _ := detect(snap, opts)
	return res
}

// detect is Detect that also returns the parsed workflows, for playbooks.
func detect(snap Snapshot, opts Options) (*Result, map[string]*Workflow, []*ciJob) {
	d := &detector{
		snap: snap, opts: opts,
		res:       &Result{Repo: snap.Repo, Credential: CredNone, Pipelines: []Pipeline{}, Packages: []Package{}, Findings: []Finding{}},
		workflows: map[string]*Workflow{},
		callers:   map[string][]callSite{},
		actions:   map[string]*Workflow{},
	}
	d.opts.Registry = NormalizeRegistry(opts.Registry)
	if d.opts.FlagVar == "" {
		d.opts.FlagVar = DefaultFlagVar
	}
	d.opts.MaxFileBytes = fileLimit(opts.MaxFileBytes)
	// Unreadable files are dropped from a copy: the caller's map stays as it was.
	d.snap.Files = make(map[string][]byte, len(snap.Files))
	for p, b := range snap.Files {
		d.snap.Files[p] = b
	}
	probs := make([]string, 0, len(snap.Problems))
	for p := range snap.Problems {
		probs = append(probs, p)
	}
	sort.Strings(probs)
	for _, p := range probs {
		d.finding(SevError, "unreadable-file", p, 0, snap.Problems[p])
	}
	for _, p := range snap.paths() {
		if n := int64(len(snap.Files[p])); n > d.opts.MaxFileBytes {
			d.finding(SevError, "file-too-large", p, 0, fmt.Sprintf("file is %d bytes, over the %d-byte limit (scan.max_file_bytes); not read", n, d.opts.MaxFileBytes))
			delete(d.snap.Files, p)
			continue
		}
		if !utf8.Valid(snap.Files[p]) {
			d.finding(SevError, "not-utf8", p, 0, "file is not valid UTF-8; not read")
			delete(d.snap.Files, p)
		}
	}
	d.packages()
	d.committedAuth()
	d.leaks()
	d.parseWorkflows()
	jobs := 0
	for _, wf := range d.workflows {
		jobs += len(wf.Jobs)
	}
	// At most one pipeline per job: sized once, not grown by copying.
	d.res.Pipelines = make([]Pipeline, 0, jobs)
	for _, wp := range d.workflowPaths() {
		wf := d.workflows[wp]
		for _, j := range wf.Jobs {
			d.job(wf, j)
		}
	}
	d.otherCI()
	d.manualDocs() // after the jobs: scripts CI runs are not manual
	d.summarise()
	sort.SliceStable(d.res.Findings, func(i, j int) bool {
		a, b := d.res.Findings[i], d.res.Findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return d.res, d.workflows, d.ciJobs
}

func (d *detector) finding(sev Severity, code, file string, line int, msg string) {
	f := Finding{Severity: sev, Code: code, File: file, Line: line, Message: msg}
	for _, g := range d.res.Findings {
		if g == f {
			return
		}
	}
	d.res.Findings = append(d.res.Findings, Finding{Severity: sev, Code: code, File: file, Line: line, Message: msg})
}

func (d *detector) workflowPaths() []string {
	out := make([]string, 0, len(d.workflows))
	for p := range d.workflows {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func isWorkflowPath(p string) bool {
	return path.Dir(p) == ".github/workflows" && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml"))
}

func (d *detector) parseWorkflows() {
	for _, p := range d.snap.paths() {
		base := path.Base(p)
		isAction := base == "action.yml" || base == "action.yaml"
		if !isWorkflowPath(p) && !isAction {
			continue
		}
		if isAction {
			a, err := parseActionYAML(p, d.snap.Files[p])
			if err != nil {
				d.finding(SevError, "action-invalid", p, errLine(err), strings.TrimPrefix(err.Error(), p+": "))
				continue
			}
			d.actions[path.Dir(p)] = a
			continue
		}
		d.res.Workflows++
		wf, err := ParseWorkflow(p, d.snap.Files[p])
		if err != nil {
			d.finding(SevError, "workflow-invalid", p, errLine(err), strings.TrimPrefix(err.Error(), p+": "))
			continue
		}
		d.workflows[p] = wf
		if k := duplicateKey(wf.Root, 0); k != nil {
			d.finding(SevWarning, "duplicate-key", p, k.Line, fmt.Sprintf("key %q is defined twice in its mapping; GitHub rejects the file, and cutover read only one of the two (rewrite leaves it to you)", k.Value))
		}
	}
	for _, wp := range d.workflowPaths() {
		wf := d.workflows[wp]
		for _, j := range wf.Jobs {
			if callee, ok := isLocalWorkflowCall(j.Uses); ok {
				d.callers[callee] = append(d.callers[callee], callSite{wf, j})
			}
		}
	}
}

var lineRe = regexp.MustCompile(`line (\d+)`)

func errLine(err error) int {
	m := lineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n := 0
	fmt.Sscan(m[1], &n)
	return n
}

// Token environment variables that npm, yarn and publishing tools read.
var tokenEnvNames = map[string]bool{
	"NODE_AUTH_TOKEN": true, "NPM_TOKEN": true, "NPM_AUTH_TOKEN": true, "NPM_CONFIG_TOKEN": true,
	"NPM_PUBLISH_TOKEN": true, "YARN_NPM_AUTH_TOKEN": true,
}

// isTokenEnv reports whether an env var name carries an npm token for the
// configured registry.
func (d *detector) isTokenEnv(name string) bool {
	if tokenEnvNames[strings.ToUpper(name)] {
		return true
	}
	lower := strings.ToLower(name)
	if rest, ok := strings.CutPrefix(lower, "npm_config_"); ok && strings.HasSuffix(rest, ":_authtoken") {
		host := strings.TrimSuffix(rest, ":_authtoken")
		return d.opts.Registry == "" || sameRegistry(host, d.opts.Registry)
	}
	return false
}

// secretRefRe matches a secret read; workflow_call secret names may hold
// hyphens (secrets.npm-token).
var secretRefRe = regexp.MustCompile(`secrets\.([A-Za-z0-9_-]+)|secrets\[['"]([A-Za-z0-9_-]+)['"]\]`)

// literalTokenRe matches an npm token value.
var literalTokenRe = regexp.MustCompile(`npm_[A-Za-z0-9]{36}`)

// credentialValue reports whether an env or input value carries a stored
// credential, and the secret it reads.
func credentialValue(v string) (secret string, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" || v == "''" || v == `""` {
		return "", false
	}
	// Without the word there is no secret read (the regexp is the cost).
	if strings.Contains(v, "secrets") {
		if m := secretRefRe.FindAllStringSubmatch(v, -1); m != nil {
			for _, s := range m {
				name := s[1] + s[2]
				if strings.EqualFold(name, "GITHUB_TOKEN") {
					continue
				}
				return name, true
			}
			return "", false
		}
	}
	if literalTokenRe.MatchString(v) {
		return "", true
	}
	if strings.Contains(v, "${{") && (strings.Contains(v, "steps.") || strings.Contains(v, "env.") || strings.Contains(v, "needs.")) {
		return "", !strings.Contains(v, "github.token")
	}
	return "", false
}

// MaskToken shows at most the first characters of a token value.
func MaskToken(s string) string {
	if len(s) <= 8 {
		return "****"
	}
	return s[:8] + "…"
}

func (d *detector) leaks() {
	for _, p := range d.snap.paths() {
		data := d.snap.Files[p]
		for _, loc := range literalTokenRe.FindAllIndex(data, -1) {
			line := 1 + strings.Count(string(data[:loc[0]]), "\n")
			d.finding(SevError, "literal-token", p, line, fmt.Sprintf("an npm token value is committed (%s); revoke it and remove it from history", MaskToken(string(data[loc[0]:loc[1]]))))
		}
	}
}

// committedAuth reads auth lines of committed .npmrc and .yarnrc.yml files.
func (d *detector) committedAuth() {
	d.repoFeeds = d.committedFeeds(d.opts.Registry)
}

// committedFeeds returns the auth lines of committed .npmrc and .yarnrc.yml
// files for registry (every host when registry is empty).
func (d *detector) committedFeeds(registry string) []TokenFeed {
	var out []TokenFeed
	for _, p := range d.snap.paths() {
		base := path.Base(p)
		if base != ".npmrc" && base != ".yarnrc.yml" {
			continue
		}
		for i, line := range strings.Split(string(d.snap.Files[p]), "\n") {
			l := strings.TrimSpace(line)
			if strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";") {
				continue
			}
			if base == ".npmrc" && (strings.Contains(l, ":_authToken") || strings.HasPrefix(l, "_authToken") || strings.Contains(l, ":_auth=") || strings.HasPrefix(l, "_auth=")) {
				host, _, _ := strings.Cut(l, ":_auth")
				if strings.HasPrefix(host, "//") && registry != "" && !sameRegistry(host, registry) {
					continue
				}
				out = append(out, TokenFeed{Kind: "npmrc-file", Name: envRef(l), Level: "repo", File: p, Line: i + 1, Step: -1})
			}
			if base == ".yarnrc.yml" && strings.HasPrefix(l, "npmAuthToken") {
				out = append(out, TokenFeed{Kind: "yarnrc-file", Name: envRef(l), Level: "repo", File: p, Line: i + 1, Step: -1})
			}
		}
	}
	return out
}

// npmrcRegistryRe matches a default registry setting: "registry=URL" in an
// .npmrc (written or committed) or "npm config set registry URL". Scoped
// registries (@scope:registry=) and --registry flags do not match.
var npmrcRegistryRe = regexp.MustCompile(`(?:^|[\s'"])registry\s*[= ]\s*['"]?(https?://[^\s'"]+)`)

// npmrcRegistry returns the default registry a job sets for step index
// upTo: the last one a run step up to it writes (echo registry=… >> .npmrc,
// npm config set registry …), else the committed root .npmrc's.
func (d *detector) npmrcRegistry(j *Job, upTo int) string {
	reg := ""
	for _, st := range j.Steps {
		if st.Index > upTo {
			break
		}
		if st.Run == "" || !strings.Contains(st.Run, ".npmrc") && !strings.Contains(st.Run, "config set") {
			continue
		}
		for _, m := range npmrcRegistryRe.FindAllStringSubmatch(st.Run, -1) {
			reg = m[1]
		}
	}
	if reg != "" {
		return reg
	}
	for _, line := range strings.Split(string(d.snap.Files[".npmrc"]), "\n") {
		if l := strings.TrimSpace(line); !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, ";") {
			if m := npmrcRegistryRe.FindStringSubmatch(l); m != nil && strings.HasPrefix(l, "registry") {
				reg = m[1]
			}
		}
	}
	return reg
}

// scopeRegistryRe matches a scoped registry setting: "@scope:registry=URL"
// in an .npmrc (written or committed) or "npm config set @scope:registry
// URL".
var scopeRegistryRe = regexp.MustCompile(`(?i)(@[a-z0-9][a-z0-9._-]*):registry\s*[= ]\s*['"]?(https?://[^\s'"]+)`)

// scopeRegistries returns the scoped registries (lower-case scope to URL) a
// job has set for step index upTo: setup-node's scope: with registry-url,
// then the committed root .npmrc, then what run steps up to it write
// (echo @acme:registry=… >> .npmrc, npm config set @acme:registry …), each
// later one winning.
func (d *detector) scopeRegistries(j *Job, upTo int) map[string]string {
	out := map[string]string{}
	for _, st := range j.Steps {
		if st.Index >= upTo {
			break
		}
		if sc := setupScope(st); sc != "" && strings.HasPrefix(actionName(st.Uses), "actions/setup-node") {
			if f, ok := lookup(st.With, "registry-url", false); ok && NormalizeRegistry(f.Value) != "" {
				out[sc] = f.Value
			}
		}
	}
	for _, line := range strings.Split(string(d.snap.Files[".npmrc"]), "\n") {
		if l := strings.TrimSpace(line); !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, ";") {
			if m := scopeRegistryRe.FindStringSubmatch(l); m != nil && strings.HasPrefix(l, "@") {
				out[strings.ToLower(m[1])] = m[2]
			}
		}
	}
	for _, st := range j.Steps {
		if st.Index > upTo {
			break
		}
		if st.Run == "" || !strings.Contains(st.Run, ".npmrc") && !strings.Contains(st.Run, "config set") {
			continue
		}
		for _, m := range scopeRegistryRe.FindAllStringSubmatch(st.Run, -1) {
			out[strings.ToLower(m[1])] = m[2]
		}
	}
	return out
}

// scopeRoute says where the scoped registries of a job send a publish that
// names no registry of its own. reg is the registry proxy (a registry other
// than the configured one, fed an npm token) that the packages of scopes
// reach; otherOnly is true when every package the repository publishes
// goes to other registries, with no npm token. A scope that holds none of
// the repository's packages only serves installs and is ignored; when no
// package.json names a package, a scope fed an npm token counts.
func (d *detector) scopeRoute(wf *Workflow, j *Job, st *Step, ps PublishStep) (reg string, scopes []string, otherOnly bool) {
	regs := d.scopeRegistries(j, st.Index)
	if len(regs) == 0 {
		return "", nil, false
	}
	pkgs := d.publishedPackages()
	keys := make([]string, 0, len(regs))
	for k := range regs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	covered := 0
	for _, sc := range keys {
		sreg := regs[sc]
		if sameRegistry(sreg, d.opts.Registry) {
			continue
		}
		n := 0
		for _, p := range pkgs {
			if packageScope(p.Name) == sc {
				n++
			}
		}
		if len(pkgs) > 0 && n == 0 {
			continue
		}
		covered += n
		if (reg == "" || sameRegistry(reg, sreg)) && d.proxyFeeds(wf, j, []PublishStep{ps}, sreg) != nil {
			reg = sreg
			scopes = append(scopes, sc)
		}
	}
	return reg, scopes, reg == "" && len(pkgs) > 0 && covered == len(pkgs)
}

var envRefRe = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// envRef returns the first $VAR or ${VAR} a line reads.
func envRef(s string) string {
	if m := envRefRe.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

var publishDocRe = regexp.MustCompile(`\b(npm|pnpm|yarn) (?:[\w-]+ )*publish\b`)

// manualPublish reports whether a line of documentation shows a publish
// command that is not a dry run; each command on the line (up to a closing
// backtick, ; or &&) is judged on its own.
func manualPublish(line string) bool {
	for _, m := range publishDocRe.FindAllStringIndex(line, -1) {
		cmd := line[m[0]:]
		if end := strings.IndexAny(cmd, "`;&|"); end >= 0 {
			cmd = cmd[:end]
		}
		if !strings.Contains(cmd, "--dry-run") {
			return true
		}
	}
	return false
}

func (d *detector) manualDocs() {
	names := manualDocNames
	if d.opts.ManualDocs != nil {
		names = map[string]bool{}
		for _, n := range d.opts.ManualDocs {
			names[strings.ToLower(n)] = true
		}
	}
	for _, p := range d.snap.paths() {
		if !names[strings.ToLower(path.Base(p))] && !names[strings.ToLower(p)] || d.ciScripts[p] {
			continue
		}
		for i, line := range strings.Split(string(d.snap.Files[p]), "\n") {
			if manualPublish(line) {
				d.finding(SevWarning, "manual-publish", p, i+1, "documents a manual publish ("+strings.TrimSpace(line)+"); local publishing now needs a 2-hour session and 2FA, move it to the trusted-publishing workflow")
				break
			}
		}
	}
}
