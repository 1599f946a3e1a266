package rewrite

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// CI providers other than GitHub Actions that npm trusted publishing serves.
const (
	// ProviderGitHub is GitHub Actions (Pipeline.Provider is empty for it).
	ProviderGitHub = "github"
	// ProviderGitLab is GitLab CI/CD on GitLab.com's hosted runners.
	ProviderGitLab = "gitlab"
	// ProviderCircleCI is CircleCI cloud.
	ProviderCircleCI = "circleci"
)

// Paths of the CI configurations read besides GitHub workflows.
const (
	GitLabCIPath   = ".gitlab-ci.yml"
	CircleCIConfig = ".circleci/config.yml"
)

// npm version floors for trusted publishing per provider.
var (
	npmCircleCIMin = semver{11, 11, 0}
	// NPMVersionCircleCI is the npm range the CircleCI playbook installs.
	NPMVersionCircleCI = "^11.11.0"
)

// CircleCIProject holds the IDs a CircleCI trusted publisher names, which a
// checkout cannot know ([[circleci.project]] in the configuration).
type CircleCIProject struct {
	OrgID                string   `json:"org_id,omitempty"`
	ProjectID            string   `json:"project_id,omitempty"`
	PipelineDefinitionID string   `json:"pipeline_definition_id,omitempty"`
	VCSOrigin            string   `json:"vcs_origin,omitempty"`
	ContextIDs           []string `json:"context_ids,omitempty"`
}

// Missing names the IDs that are not known yet.
func (c CircleCIProject) Missing() []string {
	var out []string
	if c.OrgID == "" {
		out = append(out, "organization ID")
	}
	if c.ProjectID == "" {
		out = append(out, "project ID")
	}
	if c.PipelineDefinitionID == "" {
		out = append(out, "pipeline definition ID")
	}
	if c.VCSOrigin == "" {
		out = append(out, "VCS origin")
	}
	return out
}

// isOtherCIPath reports whether p is a GitLab or CircleCI configuration that
// playbooks may edit: the top-level files and GitLab's local includes.
func isOtherCIPath(p string) bool {
	return p == GitLabCIPath || p == CircleCIConfig || isGitLabInclude(p)
}

func isGitLabInclude(p string) bool {
	ext := path.Ext(p)
	if ext != ".yml" && ext != ".yaml" {
		return false
	}
	return strings.HasPrefix(p, ".gitlab/") || strings.HasPrefix(p, ".gitlab-ci/") || strings.HasSuffix(p, ".gitlab-ci.yml")
}

// ciScript is one command entry of a GitLab or CircleCI job: a script list
// item, a whole script scalar, or a CircleCI run step's command.
type ciScript struct {
	text string
	file string
	line int
	// node is the scalar holding the text.
	node *yaml.Node
	// list is the sequence the entry is an item of (GitLab script lists and
	// CircleCI steps lists); nil when the script is a single scalar.
	list *yaml.Node
	// item is the list item (the scalar for GitLab, the step mapping for
	// CircleCI).
	item *yaml.Node
	// via names where an inherited entry comes from (a template, default:,
	// a command); empty for the job's own.
	via string
	// section is before_script, script, after_script or steps.
	section string
}

// ciJob is a GitLab or CircleCI job in the shape detection needs.
type ciJob struct {
	provider string
	file     string
	name     string
	line     int
	key      *yaml.Node
	node     *yaml.Node
	scripts  []ciScript
	// vars are variables (GitLab) or environment entries (CircleCI) that
	// reach the job's scripts, nearest first.
	vars []Field
	// idTokens maps a GitLab id_tokens name to its audience.
	idTokens     map[string]string
	idTokensNode *yaml.Node
	environment  string
	tags         []string
	image        string
	contexts     []string
	selfHosted   bool
	// aliased is true when the job's mapping uses YAML anchors or merge
	// keys, which byte splices cannot follow safely.
	aliased bool
}

var (
	idTokenClaimRe  = regexp.MustCompile(`circleci\s+run\s+oidc\s+get\b[^\n]*\\?"aud\\?"\s*:\s*\\?"npm:([^"\\]+)`)
	exportIDTokenRe = regexp.MustCompile(`\bNPM_ID_TOKEN\s*=`)
	// registrySetRe finds a registry chosen in a script: npm config set
	// registry URL, a registry= line written to an .npmrc, or --registry.
	registrySetRe = regexp.MustCompile(`(?:config\s+set\s+(?:@[\w.-]+:)?registry[\s=]+|(?:^|[\s'"])(?:@[\w.-]+:)?registry=|--registry[\s=]+)['"]?(https?://[^\s'"]+)`)
)

// RegistryHost returns the host name of a registry URL, without a port
// ("" when it is not one): npm's ID-token audience is "npm:" + the
// registry URL's hostname.
func RegistryHost(registry string) string {
	u, err := url.Parse(NormalizeRegistry(registry))
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// otherCI analyses GitLab and CircleCI configurations.
func (d *detector) otherCI() {
	if _, ok := d.snap.Files[GitLabCIPath]; ok {
		for _, j := range d.gitlabJobs() {
			d.ciJobs = append(d.ciJobs, j)
			d.ciPipeline(j)
		}
	}
	if _, ok := d.snap.Files[CircleCIConfig]; ok {
		for _, j := range d.circleJobs() {
			d.ciJobs = append(d.ciJobs, j)
			d.ciPipeline(j)
		}
	}
}

// ciPipeline turns a job into a Pipeline when it publishes to the
// configured registry.
func (d *detector) ciPipeline(j *ciJob) {
	p := Pipeline{Provider: j.provider, Workflow: j.file, Job: j.name, JobLine: j.line, Environment: j.environment, NPMReady: "unknown", Contexts: j.contexts}
	registry := ""
	for _, f := range j.vars {
		if strings.EqualFold(f.Key, "NPM_CONFIG_REGISTRY") {
			registry = strings.Trim(f.Value, `'"`)
		}
	}
	other := false
	seen := map[string]bool{}
	for i, s := range j.scripts {
		if m := registrySetRe.FindStringSubmatch(s.text); m != nil && !strings.Contains(s.text, "publish") {
			registry = m[1]
		}
		for _, c := range d.scriptCalls(s.text, "", 0, seen) {
			if c.DryRun {
				continue
			}
			reg := c.Registry
			if reg == "" {
				reg = registry
			}
			if reg == "" {
				if rp, ok := d.rootPackage(); ok && rp.Registry != "" {
					reg = rp.Registry
				}
			}
			if reg != "" && d.opts.Registry != "" && !sameRegistry(reg, d.opts.Registry) {
				other = true
				continue
			}
			ps := PublishStep{Line: s.line, Step: i, Tool: c.Tool, Stage: c.Stage, Provenance: c.Provenance, Script: c.Script, Inferred: c.inferred, Version: c.Version}
			if len(c.Words) > 0 {
				ps.Command = strings.Join(c.Words, " ")
			}
			p.Steps = append(p.Steps, ps)
			p.Provenance = p.Provenance || c.Provenance
		}
		if j.provider == ProviderCircleCI && s.section == "orb" {
			p.Steps = append(p.Steps, PublishStep{Line: s.line, Step: i, Tool: "orb", Uses: s.text, Inferred: true})
		}
	}
	p.Steps = dropInferred(p.Steps)
	if len(p.Steps) == 0 {
		if other {
			d.res.OtherRegistries = append(d.res.OtherRegistries, j.file+"#"+j.name)
		}
		d.ciExposure(j, false)
		return
	}
	for _, s := range p.Steps {
		if !contains(p.Tools, s.Tool) {
			p.Tools = append(p.Tools, s.Tool)
		}
	}
	host := RegistryHost(d.opts.Registry)
	switch j.provider {
	case ProviderGitLab:
		for name, aud := range j.idTokens {
			if !strings.HasPrefix(aud, "npm:") {
				continue
			}
			if host != "" && !strings.EqualFold(strings.TrimPrefix(aud, "npm:"), host) {
				d.finding(SevError, "oidc-audience", j.file, j.line, fmt.Sprintf("job %q asks for an ID token with audience %q; npm accepts only %q", j.name, aud, "npm:"+host))
				continue
			}
			if name != "NPM_ID_TOKEN" {
				d.finding(SevError, "oidc-token-name", j.file, j.line, fmt.Sprintf("job %q names its npm ID token %s; npm reads only NPM_ID_TOKEN", j.name, name))
				continue
			}
			p.IDToken, p.IDTokenFrom = true, "job"
		}
		if _, ok := j.idTokens["SIGSTORE_ID_TOKEN"]; ok {
			p.Provenance = true
		}
	case ProviderCircleCI:
		for _, s := range j.scripts {
			if m := idTokenClaimRe.FindStringSubmatch(s.text); m != nil && exportIDTokenRe.MatchString(s.text) {
				if host != "" && !strings.EqualFold(m[1], host) {
					d.finding(SevError, "oidc-audience", j.file, s.line, fmt.Sprintf("job %q asks for an ID token with audience %q; npm accepts only %q", j.name, "npm:"+m[1], "npm:"+host))
					continue
				}
				p.IDToken, p.IDTokenFrom = true, "step"
			}
		}
	}
	d.ciFeeds(j, &p)
	if p.Credential = credentialOf(p); p.Credential == CredNone {
		d.finding(SevWarning, "no-credential", j.file, j.line, fmt.Sprintf("job %q publishes but no token variable and no npm ID token reaches it; the publish fails or uses a credential cutover cannot see", j.name))
	}
	p.TrustedWorkflow = []string{GitLabCIPath}
	if j.provider == ProviderCircleCI {
		p.TrustedWorkflow = []string{CircleCIConfig}
	}
	p.SelfHosted = j.selfHosted
	d.ciFindings(j, &p)
	d.ciExposure(j, true)
	d.res.Pipelines = append(d.res.Pipelines, p)
}

// ciFeeds finds the token variables a job's publish reads: .npmrc writes,
// token variables and tools that read NPM_TOKEN from the environment.
func (d *detector) ciFeeds(j *ciJob, p *Pipeline) {
	kind := "ci-variable"
	add := func(f TokenFeed) {
		for _, g := range p.Feeds {
			if g.Kind == f.Kind && g.Name == f.Name && g.Line == f.Line {
				return
			}
		}
		p.Feeds = append(p.Feeds, f)
	}
	guardedFrom := -1
	cleared := map[string]bool{}
	for i, s := range j.scripts {
		if names, ok := guardUnsets(s.text); ok && guardedFrom < 0 {
			guardedFrom = i
			for _, n := range names {
				cleared[n] = true
			}
		}
	}
	// A feed is behind the flag when the guard comes first and clears the
	// variable it reads.
	behind := func(i int, names ...string) bool {
		if guardedFrom < 0 || guardedFrom > i {
			return false
		}
		for _, n := range names {
			if n != "" && !cleared[n] {
				return false
			}
		}
		return true
	}
	for i, s := range j.scripts {
		if isCIGuard(s.text) {
			continue
		}
		for _, sc := range strings.Split(s.text, "\n") {
			if !npmrcWriteRe.MatchString(sc) {
				continue
			}
			if hosts := npmrcHostRe.FindAllStringSubmatch(sc, -1); len(hosts) > 0 && d.opts.Registry != "" {
				ours := false
				for _, h := range hosts {
					ours = ours || sameRegistry(h[1], d.opts.Registry)
				}
				if !ours {
					continue
				}
			}
			name := envRef(sc[npmrcWriteRe.FindStringIndex(sc)[0]:])
			if name == "" {
				continue
			}
			add(TokenFeed{Kind: "npmrc-write", Name: name, Secret: name, Level: "step", File: s.file, Line: s.line, Step: i, Guarded: behind(i, name)})
		}
	}
	for _, f := range j.vars {
		if !d.isTokenEnv(f.Key) {
			continue
		}
		secret := envRef(f.Value)
		if secret == "" && literalTokenRe.MatchString(f.Value) {
			secret = "(literal)"
		}
		if secret == "" {
			continue
		}
		add(TokenFeed{Kind: "env", Name: f.Key, Secret: secret, Level: "job", File: j.file, Line: f.Line, Step: -1, Guarded: behind(len(j.scripts), f.Key)})
	}
	// semantic-release, changesets and friends read NPM_TOKEN from the
	// environment: a project (or context) variable nothing in the file names.
	if len(p.Feeds) == 0 && (!p.IDToken || guardedFrom >= 0) {
		for _, t := range p.Tools {
			switch t {
			case "semantic-release", "changeset", "lerna", "release-it", "npm", "pnpm", "yarn":
				if d.readsTokenVar(j) || t == "semantic-release" {
					add(TokenFeed{Kind: kind, Name: "NPM_TOKEN", Secret: "NPM_TOKEN", Level: "project", File: j.file, Line: j.line, Step: -1, Guarded: behind(len(j.scripts), "NPM_TOKEN")})
				}
			}
			if len(p.Feeds) > 0 {
				break
			}
		}
	}
	for _, f := range d.repoFeeds {
		f.Guarded = behind(len(j.scripts), f.Name)
		add(f)
	}
	if j.provider == ProviderCircleCI {
		for i := range p.Feeds {
			if p.Feeds[i].Kind == "ci-variable" && len(j.contexts) > 0 {
				p.Feeds[i].Kind = "circleci-context"
			}
		}
	}
	sort.SliceStable(p.Feeds, func(a, b int) bool { return p.Feeds[a].Line < p.Feeds[b].Line })
}

// readsTokenVar reports whether a job's scripts read $NPM_TOKEN.
func (d *detector) readsTokenVar(j *ciJob) bool {
	for _, s := range j.scripts {
		if envReads(s.text, "NPM_TOKEN") {
			return true
		}
	}
	return false
}

var (
	// gitlabGuardRe is the flag guard the GitLab playbook writes: on the
	// OIDC path it clears the token variables, otherwise the ID token.
	gitlabGuardRe = regexp.MustCompile(`^if \[ "\$\{[A-Za-z_][A-Za-z0-9_]*:-\}" = "true" \]; then unset ([A-Za-z_][A-Za-z0-9_ ]*?)(?:; npm install -g npm@[^\s;]+)?; else unset NPM_ID_TOKEN; fi\b`)
	// circleGuardRe is the CircleCI playbook's guard step: on the OIDC path
	// it exports NPM_ID_TOKEN and clears the token variables for later steps.
	circleGuardRe = regexp.MustCompile(`(?s)^if \[ "\$\{[A-Za-z_][A-Za-z0-9_]*:-\}" = "true" \]; then[^\n]*\n(?:[^\n]*\n)*?[^\n]*export NPM_ID_TOKEN=[^\n]*\n[^\n]*echo 'unset ([A-Za-z_][A-Za-z0-9_ ]*)' >> "\$BASH_ENV"\s*\nfi\s*$`)
)

// guardUnsets returns the token variables a flag guard clears on the OIDC
// path, and whether the script entry is such a guard. An inverted or
// partial guard is not one.
func guardUnsets(s string) ([]string, bool) {
	s = strings.TrimSpace(s)
	if m := gitlabGuardRe.FindStringSubmatch(s); m != nil {
		return strings.Fields(m[1]), true
	}
	if m := circleGuardRe.FindStringSubmatch(s); m != nil {
		return strings.Fields(m[1]), true
	}
	return nil, false
}

// isCIGuard reports whether a script entry is a flag guard.
func isCIGuard(s string) bool {
	_, ok := guardUnsets(s)
	return ok
}

// ciFindings adds the provider-specific findings of a publishing job.
func (d *detector) ciFindings(j *ciJob, p *Pipeline) {
	node := ""
	switch j.provider {
	case ProviderGitLab:
		if p.SelfHosted {
			d.finding(SevError, "self-managed-runner", j.file, j.line, fmt.Sprintf("job %q runs on runners picked by tags (%s); npm trusted publishing works on GitLab.com's hosted runners only: keep a token (token-bridge) or move the job to hosted runners", j.name, strings.Join(j.tags, ", ")))
		}
		node = imageNode(j.image)
		p.NodeVersion = node
		switch v, ok := parseVersion(node); {
		case !ok:
			p.NPMReady = "unknown"
		case !v.less(semver{24, 5, 0}):
			p.NPMReady = "yes"
		default:
			p.NPMReady = "no"
		}
		if p.Provenance && p.IDToken {
			if _, ok := j.idTokens["SIGSTORE_ID_TOKEN"]; !ok {
				d.finding(SevInfo, "gitlab-provenance", j.file, j.line, fmt.Sprintf("job %q asks for provenance; under trusted publishing GitLab needs SIGSTORE_ID_TOKEN (aud: sigstore) and a public project", j.name))
			}
		}
		for _, t := range p.Tools {
			if t == "yarn" {
				d.finding(SevWarning, "yarn-oidc", j.file, j.line, fmt.Sprintf("job %q publishes with yarn; trusted publishing needs Yarn 4.10 or later (yarn npm publish), Yarn 1 cannot use it", j.name))
			}
		}
	case ProviderCircleCI:
		if p.SelfHosted {
			d.finding(SevError, "self-hosted-runner", j.file, j.line, fmt.Sprintf("job %q runs on a self-hosted CircleCI runner; npm trusted publishing supports CircleCI cloud only: use the token-bridge playbook", j.name))
		}
		node = imageNode(j.image)
		p.NodeVersion = node
		p.NPMReady = "unknown"
		if p.Provenance {
			d.finding(SevWarning, "circleci-provenance", j.file, j.line, fmt.Sprintf("job %q asks for provenance; npm cannot attach provenance to CircleCI publishes, so trusted publishing from CircleCI publishes without it", j.name))
		}
		d.finding(SevInfo, "npm-version-floor", j.file, j.line, fmt.Sprintf("trusted publishing from CircleCI needs npm %s or later on the job's image", npmCircleCIMin.String()))
		for _, t := range p.Tools {
			if t == "yarn" {
				d.finding(SevError, "yarn-circleci-oidc", j.file, j.line, fmt.Sprintf("job %q publishes with yarn, which cannot use trusted publishing on CircleCI; publish with npm or keep a token (token-bridge)", j.name))
			}
		}
		for _, s := range p.Steps {
			if s.Tool == "orb" {
				d.finding(SevWarning, "orb-publish", j.file, s.Line, fmt.Sprintf("job %q may publish through the orb command %s, which cutover cannot read; check that it runs npm publish (npm %s or later) and reads NPM_ID_TOKEN", j.name, s.Uses, npmCircleCIMin.String()))
			}
		}
	}
}

// ciExposure reports token variables set for jobs that do not publish.
func (d *detector) ciExposure(j *ciJob, publishes bool) {
	if publishes {
		return
	}
	for _, f := range j.vars {
		if !d.isTokenEnv(f.Key) || envRef(f.Value) == "" || f.Line == 0 || f.KNode == nil {
			continue
		}
		d.finding(SevWarning, "token-exposed", j.file, f.Line, fmt.Sprintf("job %q gets %s although it does not publish to the npm registry; scope the token variable to the publishing job", j.name, f.Key))
	}
}

var imageNodeRe = regexp.MustCompile(`(?:^|/)(?:node|cimg/node|circleci/node)(?::|@)?v?(\d+(?:\.\d+){0,2})?`)

// imageNode returns the Node.js version a container image name pins
// ("node:24", "cimg/node:22.14"), or "" when it does not say.
func imageNode(image string) string {
	m := imageNodeRe.FindStringSubmatch(image)
	if m == nil {
		return ""
	}
	return m[1]
}

func (v semver) String() string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

// scriptItems reads a GitLab script key (a string or a list of strings,
// nested lists flattened) into entries.
func scriptItems(w *walker, file, section, via string, v *yaml.Node) ([]ciScript, error) {
	v, err := w.deref(v)
	if err != nil || v == nil {
		return nil, err
	}
	switch v.Kind {
	case yaml.ScalarNode:
		return []ciScript{{text: v.Value, file: file, line: v.Line, node: v, item: v, section: section, via: via}}, nil
	case yaml.SequenceNode:
		var out []ciScript
		for _, c := range v.Content {
			isAlias := c.Kind == yaml.AliasNode
			c, err := w.deref(c)
			if err != nil {
				return nil, err
			}
			switch c.Kind {
			case yaml.ScalarNode:
				s := ciScript{text: c.Value, file: file, line: c.Line, node: c, list: v, item: c, section: section, via: via}
				if isAlias {
					s.via = "an anchor"
				}
				out = append(out, s)
			case yaml.SequenceNode:
				inner, err := scriptItems(w, file, section, "an anchor", c)
				if err != nil {
					return nil, err
				}
				out = append(out, inner...)
			}
		}
		return out, nil
	}
	return nil, nil
}

// trustNeed is what package n's trusted publisher must name for pipeline pl.
func (d *detector) trustNeed(pl Pipeline, n, wfName string) TrustNeed {
	t := TrustNeed{Package: n, Repository: d.res.Repo, Workflow: wfName, Environment: pl.Environment, Provider: pl.Provider}
	switch pl.Provider {
	case ProviderGitLab:
		if d.opts.GitLabProject != "" {
			t.Repository = d.opts.GitLabProject
		}
		if t.Repository == "" {
			t.Needed = append(t.Needed, "GitLab namespace/project")
		}
	case ProviderCircleCI:
		c := CircleCIProject{}
		if d.opts.CircleCI != nil {
			c = *d.opts.CircleCI
			c.ContextIDs = append([]string(nil), c.ContextIDs...)
		}
		if c.VCSOrigin == "" && d.res.Repo != "" {
			c.VCSOrigin = "github.com/" + d.res.Repo
		}
		t.CircleCI = &c
		t.Needed = c.Missing()
		t.Environment = ""
	}
	return t
}

// sameTrust compares two trust needs field by field.
func sameTrust(a, b TrustNeed) bool {
	if a.Package != b.Package || a.Repository != b.Repository || a.Workflow != b.Workflow || a.Environment != b.Environment || a.Provider != b.Provider {
		return false
	}
	if (a.CircleCI == nil) != (b.CircleCI == nil) {
		return false
	}
	if a.CircleCI != nil && (a.CircleCI.OrgID != b.CircleCI.OrgID || a.CircleCI.ProjectID != b.CircleCI.ProjectID || a.CircleCI.PipelineDefinitionID != b.CircleCI.PipelineDefinitionID || a.CircleCI.VCSOrigin != b.CircleCI.VCSOrigin) {
		return false
	}
	return true
}
