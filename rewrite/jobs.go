package rewrite

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

// job analyses one job: its publish steps, credential feeds and risks.
func (d *detector) job(wf *Workflow, j *Job) {
	if j.Uses != "" {
		d.callerJob(wf, j)
		return
	}
	p := Pipeline{Workflow: wf.Path, Job: j.ID, JobLine: j.Line, Environment: j.Environment, Triggers: wf.Triggers, NPMReady: "unknown"}
	evidence := false // the job touches the npm registry (needed for inferred publishes)
	other := false
	proxy := ""               // the registry proxy the job publishes through
	var proxied []PublishStep // publishes to that proxy
	var proxyScopes []string  // scopes routed to it by scoped registries
	proxyAll := false         // some publish reaches it as the default registry
	for _, st := range j.Steps {
		calls := d.stepCalls(wf, j, st)
		for _, c := range calls {
			if c.DryRun {
				continue
			}
			if c.tokenScript && !d.tokenFedBefore(j, st) {
				continue
			}
			reg := c.Registry
			if reg == "" {
				reg = d.setupRegistry(j, st.Index)
			}
			if reg == "" {
				if rp, ok := d.rootPackage(); ok && rp.Registry != "" {
					reg = rp.Registry
				}
			}
			if reg == "" {
				reg = d.npmrcRegistry(j, st.Index)
			}
			ps := PublishStep{Line: st.Line, Step: st.Index, Name: st.Name, Tool: c.Tool, Uses: st.Uses, Stage: c.Stage, Provenance: c.Provenance, Script: c.Script, Inferred: c.inferred, Version: c.Version}
			if len(c.Words) > 0 {
				ps.Command = strings.Join(c.Words, " ")
			}
			if reg != "" && d.opts.Registry != "" && !sameRegistry(reg, d.opts.Registry) {
				// Another registry; fed an npm token, it is a proxy to npm.
				if proxy == "" || sameRegistry(reg, proxy) {
					if d.proxyFeeds(wf, j, []PublishStep{ps}, reg) != nil {
						proxy = NormalizeRegistry(reg)
						proxied = append(proxied, ps)
						proxyAll = true
						continue
					}
				}
				other = true
				continue
			}
			if c.Registry == "" && d.opts.Registry != "" {
				// Scoped registries (@acme:registry=…) take the packages of
				// their scope elsewhere, whatever the default registry.
				sreg, scopes, otherOnly := d.scopeRoute(wf, j, st, ps)
				switch {
				case sreg != "" && (proxy == "" || sameRegistry(sreg, proxy)):
					proxy = NormalizeRegistry(sreg)
					proxied = append(proxied, ps)
					for _, sc := range scopes {
						if !contains(proxyScopes, sc) {
							proxyScopes = append(proxyScopes, sc)
						}
					}
					continue
				case otherOnly:
					other = true
					continue
				}
			}
			p.Steps = append(p.Steps, ps)
			p.Provenance = p.Provenance || c.Provenance
		}
	}
	p.Steps = dropInferred(p.Steps)
	if len(p.Steps) == 0 && len(proxied) > 0 {
		p.Steps, p.Proxy = dropInferred(proxied), proxy
		if !proxyAll {
			sort.Strings(proxyScopes)
			p.ProxyScopes = proxyScopes
		}
		for _, s := range p.Steps {
			p.Provenance = p.Provenance || s.Provenance
		}
	}
	if len(p.Steps) == 0 {
		if other {
			d.res.OtherRegistries = append(d.res.OtherRegistries, wf.Path+"#"+j.ID)
		}
		d.unusedToken(wf, j)
		d.exposure(wf, j, nil)
		return
	}
	if p.Proxy != "" {
		p.Feeds = d.proxyFeeds(wf, j, p.Steps, p.Proxy)
		var names []string
		for _, f := range p.Feeds {
			if n := f.Secret; n != "" && !contains(names, n) {
				names = append(names, n)
			}
		}
		what := "publishes"
		if len(p.ProxyScopes) > 0 {
			what = fmt.Sprintf("publishes the packages of scope %s", strings.Join(p.ProxyScopes, ", "))
			if len(d.publishedPackages()) == 0 {
				what += " (no package.json names a package, so cutover takes every package as one of them)"
			}
		}
		d.finding(SevWarning, "registry-proxy", wf.Path, j.Line, fmt.Sprintf("job %q %s through the registry %s, not the configured npm registry, with an npm token (%s): a registry proxy. Trusted publishing needs the publish to reach the npm registry directly: remove the proxy from the publish path, or keep a token through the token-bridge playbook; cutover will not move it to OIDC", j.ID, what, RegistryHost(p.Proxy), orDash(strings.Join(names, ", "))))
	} else {
		d.feeds(wf, j, &p)
	}
	d.idToken(wf, j, &p)
	if len(p.Feeds) > 0 || p.IDToken || d.setupRegistry(j, len(j.Steps)) != "" || len(d.scopeRegistries(j, len(j.Steps))) > 0 || envTrue(wf, j, "NPM_CONFIG_PROVENANCE") || mentionsNPM(j) {
		evidence = true
	}
	allInferred := true
	for _, s := range p.Steps {
		allInferred = allInferred && s.Inferred
	}
	if allInferred {
		p.Confidence = ConfidenceInferred
	}
	if allInferred && !evidence {
		for _, s := range p.Steps {
			d.finding(SevInfo, "possible-publish", wf.Path, s.Line, fmt.Sprintf("job %q may publish through %s, which cutover cannot read; it shows no npm credential, so it is not counted", j.ID, describe(s)))
		}
		return
	}
	d.finish(wf, j, &p)
}

// proxyFeeds returns the token feeds of publish steps that target reg, a
// registry other than the configured one, when one of them carries an npm
// token (see npmLooking): the job then publishes to npm through a proxy.
// Nil means reg is just another registry.
func (d *detector) proxyFeeds(wf *Workflow, j *Job, steps []PublishStep, reg string) []TokenFeed {
	reg = NormalizeRegistry(reg)
	if reg == "" {
		return nil
	}
	pd := *d
	pd.opts.Registry = reg
	pd.repoFeeds = d.committedFeeds(reg)
	p := Pipeline{Steps: steps}
	pd.feeds(wf, j, &p)
	for _, f := range p.Feeds {
		if npmLooking(f) {
			return p.Feeds
		}
	}
	return nil
}

// npmLooking reports whether a token feed carries an npm token by its name:
// a secret named *NPM* (not *READ*), or NPM_TOKEN set from something other
// than a named secret. GITHUB_TOKEN never makes a feed.
func npmLooking(f TokenFeed) bool {
	s := strings.ToUpper(f.Secret)
	if strings.Contains(s, "READ") {
		return false
	}
	return strings.Contains(s, "NPM") || s == "" && strings.EqualFold(f.Name, "NPM_TOKEN")
}

// unusedToken reports an npm token handed to changesets/action with no
// publish: input: the action then only opens the version pull request, and
// the token serves nothing.
func (d *detector) unusedToken(wf *Workflow, j *Job) {
	for _, st := range j.Steps {
		if !strings.HasPrefix(actionName(st.Uses), "changesets/action") || actionName(st.Uses) == "changesets/action/publish" {
			continue
		}
		if _, ok := lookup(st.With, "publish", false); ok {
			continue
		}
		if _, ok := lookup(st.With, "publish-script", false); ok {
			continue
		}
		for _, fs := range [][]Field{st.Env, st.With, j.Env} {
			for _, f := range fs {
				if !d.isTokenEnv(f.Key) && !isTokenInput(st.Uses, f.Key) {
					continue
				}
				if _, ok := credentialValue(f.Value); ok {
					d.finding(SevNote, "token-unused", wf.Path, f.Line, fmt.Sprintf("job %q hands npm token %s to changesets/action, which has no publish: input and so only opens the version pull request; the token looks unused: remove it", j.ID, f.Key))
				}
			}
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// tokenFedBefore reports whether a registry token reaches step st: an
// earlier (or the same) step writes an auth token for the configured
// registry into an .npmrc from a stored credential, or st itself has a
// token variable set to one. A token named *READ* serves installs.
func (d *detector) tokenFedBefore(j *Job, st *Step) bool {
	cred := func(v string) bool {
		secret, ok := credentialValue(v)
		return ok && !strings.Contains(strings.ToUpper(secret), "READ")
	}
	for _, f := range st.Env {
		if d.isTokenEnv(f.Key) && cred(f.Value) {
			return true
		}
	}
	for _, prev := range j.Steps {
		if prev.Index > st.Index {
			break
		}
		// A write for another registry (a proxy) counts when the token
		// it writes looks like an npm token.
		own := d.npmrcWrite(prev)
		if !own && !npmrcWriteFor(prev, "") {
			continue
		}
		for _, m := range secretRefRe.FindAllStringSubmatch(prev.Run, -1) {
			if name := m[1] + m[2]; !strings.EqualFold(name, "GITHUB_TOKEN") && !strings.Contains(strings.ToUpper(name), "READ") && (own || strings.Contains(strings.ToUpper(name), "NPM")) {
				return true
			}
		}
		for _, f := range prev.Env {
			if envReads(prev.Run, f.Key) && cred(f.Value) && (own || npmLooking(TokenFeed{Name: f.Key, Secret: secretOf(f.Value)})) {
				return true
			}
		}
	}
	return false
}

// dropInferred keeps only the certain publishes of a job that has some:
// scripts whose names merely mention publishing add nothing there.
func dropInferred(steps []PublishStep) []PublishStep {
	var certain []PublishStep
	for _, s := range steps {
		if !s.Inferred {
			certain = append(certain, s)
		}
	}
	if len(certain) > 0 {
		return certain
	}
	return steps
}

func describe(s PublishStep) string {
	switch {
	case s.Script != "":
		return "script " + fmt.Sprintf("%q", s.Script)
	case s.Uses != "":
		return "action " + s.Uses
	}
	return fmt.Sprintf("%q", s.Command)
}

// mentionsNPM reports whether a job's name or a step's name speaks of npm.
func mentionsNPM(j *Job) bool {
	if strings.Contains(strings.ToLower(j.ID+" "+j.Name), "npm") {
		return true
	}
	for _, s := range j.Steps {
		if strings.Contains(strings.ToLower(s.Name), "npm") && strings.Contains(strings.ToLower(s.Name), "publish") {
			return true
		}
	}
	return false
}

func envTrue(wf *Workflow, j *Job, name string) bool {
	for _, fs := range [][]Field{wf.Env, j.Env} {
		if f, ok := lookup(fs, name, true); ok && strings.EqualFold(strings.Trim(f.Value, `'"`), "true") {
			return true
		}
	}
	for _, s := range j.Steps {
		if f, ok := lookup(s.Env, name, true); ok && strings.EqualFold(strings.Trim(f.Value, `'"`), "true") {
			return true
		}
	}
	return false
}

// finish completes a pipeline: credential, runner, npm version, findings.
func (d *detector) finish(wf *Workflow, j *Job, p *Pipeline) {
	for _, s := range p.Steps {
		if !contains(p.Tools, s.Tool) {
			p.Tools = append(p.Tools, s.Tool)
		}
	}
	if envTrue(wf, j, "NPM_CONFIG_PROVENANCE") || d.runContains(j, "provenance true") || d.runContains(j, "provenance=true") {
		p.Provenance = true
	}
	for _, pk := range d.res.Packages {
		if pk.Provenance {
			p.Provenance = true
		}
	}
	if callers := d.callers[wf.Path]; len(callers) > 0 {
		for _, c := range callers {
			p.Callers = append(p.Callers, c.wf.Path+"#"+c.job.ID)
			if !contains(p.TrustedWorkflow, path.Base(c.wf.Path)) {
				p.TrustedWorkflow = append(p.TrustedWorkflow, path.Base(c.wf.Path))
			}
			if !p.IDToken && (c.job.Permissions.IDTokenWrite() || !c.job.Permissions.Set && c.wf.Permissions.IDTokenWrite()) && !j.Permissions.Set && !wf.Permissions.Set {
				p.IDToken, p.IDTokenFrom = true, "caller"
			}
		}
		// A callee reads the secret under the name its workflow_call
		// declares; the repository secret is what the caller maps to it.
		for i, f := range p.Feeds {
			for _, c := range callers {
				if fld, ok := lookup(c.job.Secrets, f.Secret, false); ok && f.Secret != "" {
					if secret, ok := credentialValue(fld.Value); ok && secret != "" {
						p.Feeds[i].Secret = secret
						break
					}
				}
			}
		}
		if len(p.TrustedWorkflow) > 1 {
			d.finding(SevWarning, "trust-ambiguous", wf.Path, j.Line, fmt.Sprintf("reusable workflow is called from %d workflows; npm allows one trusted publisher per package, naming one calling workflow (%s)", len(p.TrustedWorkflow), strings.Join(p.TrustedWorkflow, ", ")))
		}
	} else if len(wf.Triggers) == 1 && wf.Triggers[0] == "workflow_call" {
		// The caller, in another repository, is what npm will see.
		p.TrustedWorkflow = []string{}
		d.finding(SevWarning, "reusable-no-caller", wf.Path, j.Line, "publishing reusable workflow has no caller in this repository; npm's trusted publisher must name the calling repository and workflow file, which cutover cannot see")
	} else {
		p.TrustedWorkflow = []string{path.Base(wf.Path)}
	}
	if p.Credential = credentialOf(*p); p.Credential == CredNone {
		d.finding(SevWarning, "no-credential", wf.Path, j.Line, fmt.Sprintf("job %q publishes but neither a token nor id-token: write reaches it; the publish fails or uses a credential cutover cannot see", j.ID))
	}
	for _, r := range j.RunsOn {
		if strings.EqualFold(r, "self-hosted") || strings.HasPrefix(r, "group:") {
			p.SelfHosted = true
		}
	}
	if p.SelfHosted {
		d.finding(SevError, "self-hosted-runner", wf.Path, j.Line, fmt.Sprintf("job %q runs on a self-hosted runner; npm trusted publishing supports GitHub-hosted runners only: use the token-bridge playbook", j.ID))
	}
	d.nodeAndNPM(wf, j, p)
	d.toolFindings(wf, j, p)
	d.triggerFindings(wf, j, p)
	d.exposure(wf, j, p)
	if strings.Contains(p.Environment, "${{") {
		d.finding(SevWarning, "environment-expression", wf.Path, j.Line, fmt.Sprintf("job %q picks its environment with an expression (%s); the trusted publisher must name one environment", j.ID, p.Environment))
	}
	d.res.Pipelines = append(d.res.Pipelines, *p)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (d *detector) runContains(j *Job, s string) bool {
	for _, st := range j.Steps {
		if strings.Contains(st.Run, s) {
			return true
		}
	}
	return false
}

// idToken decides whether id-token: write reaches the job.
func (d *detector) idToken(wf *Workflow, j *Job, p *Pipeline) {
	switch {
	case j.Permissions.Set:
		p.IDToken = j.Permissions.IDTokenWrite()
		if p.IDToken {
			p.IDTokenFrom = "job"
		}
	case wf.Permissions.Set:
		p.IDToken = wf.Permissions.IDTokenWrite()
		if p.IDToken {
			p.IDTokenFrom = "workflow"
		}
	}
}

// callerJob handles a job that calls a reusable workflow. A local callee in
// the snapshot is analysed on its own (with this job as its caller); a
// callee cutover cannot see counts as a pipeline when an npm token is passed.
func (d *detector) callerJob(wf *Workflow, j *Job) {
	if callee, ok := isLocalWorkflowCall(j.Uses); ok {
		if _, seen := d.workflows[callee]; seen {
			return
		}
		_, present := d.snap.Files[callee]
		_, problem := d.snap.Problems[callee]
		if !present && !problem {
			d.finding(SevWarning, "reusable-workflow-missing", wf.Path, j.Line, fmt.Sprintf("job %q calls %s, which is not in the repository; GitHub fails the run, and whether it publishes cannot be seen", j.ID, callee))
		}
	}
	p := Pipeline{Workflow: wf.Path, Job: j.ID, JobLine: j.Line, Environment: j.Environment, Triggers: wf.Triggers, NPMReady: "unknown"}
	for _, s := range j.Secrets {
		secret, ok := credentialValue(s.Value)
		if ok && (d.isTokenEnv(s.Key) || strings.Contains(strings.ToUpper(s.Key+secret), "NPM")) {
			f := TokenFeed{Kind: "secret-pass", Name: s.Key, Secret: secret, Level: "job", File: wf.Path, Line: s.Line, Step: -1}
			feedGuard(&f, s.Value, d.opts.FlagVar)
			p.Feeds = append(p.Feeds, f)
		}
	}
	if len(p.Feeds) == 0 {
		if j.SecretsInherit && strings.Contains(strings.ToLower(j.Uses), "publish") {
			d.finding(SevInfo, "possible-publish", wf.Path, j.Line, fmt.Sprintf("job %q calls %s with secrets: inherit; it may publish with a token cutover cannot see", j.ID, j.Uses))
		}
		return
	}
	p.Steps = []PublishStep{{Line: j.Line, Step: -1, Tool: "reusable-workflow", Uses: j.Uses, Inferred: true}}
	p.Confidence = ConfidenceInferred
	d.idToken(wf, j, &p)
	d.finding(SevInfo, "callee-not-visible", wf.Path, j.Line, fmt.Sprintf("job %q passes an npm token to %s, which is not in the snapshot; its publish steps were not read", j.ID, j.Uses))
	d.finish(wf, j, &p)
}

// setupRegistry returns the registry-url of the last actions/setup-node step
// before step index upTo.
func (d *detector) setupRegistry(j *Job, upTo int) string {
	reg := ""
	for _, st := range j.Steps {
		if st.Index >= upTo {
			break
		}
		if strings.HasPrefix(actionName(st.Uses), "actions/setup-node") {
			if f, ok := lookup(st.With, "registry-url", false); ok && setupScope(st) == "" {
				reg = f.Value
			}
		}
	}
	return reg
}

// setupScope returns the scope an actions/setup-node step's scope: input
// names, as setup-node writes it (@, lower case); "" when there is none.
// With a scope, setup-node writes @scope:registry= and leaves the default
// registry alone.
func setupScope(st *Step) string {
	f, ok := lookup(st.With, "scope", false)
	if !ok {
		return ""
	}
	v := strings.ToLower(strings.Trim(strings.TrimSpace(f.Value), `'"`))
	if v == "" || strings.Contains(v, "${{") {
		return ""
	}
	if !strings.HasPrefix(v, "@") {
		v = "@" + v
	}
	return v
}

var npmrcWriteRe = regexp.MustCompile(`(?i)(_authToken|npmAuthToken)`)
var npmrcHostRe = regexp.MustCompile(`(//[^\s:'"]+):_authToken`)

// feeds collects the token feeds on the publish path of a job.
func (d *detector) feeds(wf *Workflow, j *Job, p *Pipeline) {
	add := func(kind, level string, f Field, step int) {
		secret, ok := credentialValue(f.Value)
		if !ok {
			return
		}
		tf := TokenFeed{Kind: kind, Name: f.Key, Secret: secret, Level: level, File: wf.Path, Line: f.Line, Step: step}
		feedGuard(&tf, f.Value, d.opts.FlagVar)
		p.Feeds = append(p.Feeds, tf)
	}
	for _, f := range wf.Env {
		if d.isTokenEnv(f.Key) {
			add("env", "workflow", f, -1)
		}
	}
	for _, f := range j.Env {
		if d.isTokenEnv(f.Key) {
			add("env", "job", f, -1)
		}
	}
	last := 0
	for _, s := range p.Steps {
		if s.Step > last {
			last = s.Step
		}
	}
	publishing := map[int]bool{}
	for _, s := range p.Steps {
		publishing[s.Step] = true
	}
	for _, st := range j.Steps {
		if st.Index > last {
			break
		}
		writes := d.npmrcWrite(st)
		if publishing[st.Index] || writes {
			for _, f := range st.Env {
				if d.isTokenEnv(f.Key) || writes && envReads(st.Run, f.Key) {
					add("env", "step", f, st.Index)
				}
			}
		}
		if writes {
			for _, m := range secretRefRe.FindAllStringSubmatch(st.Run, -1) {
				name := m[1] + m[2]
				if !strings.EqualFold(name, "GITHUB_TOKEN") && !writeFed(p.Feeds, st.Index, name) {
					tf := TokenFeed{Kind: "npmrc-write", Name: name, Secret: name, Level: "step", File: wf.Path, Line: st.RunLine, Step: st.Index}
					feedGuard(&tf, st.Run, d.opts.FlagVar)
					p.Feeds = append(p.Feeds, tf)
				}
			}
		}
		if publishing[st.Index] && st.Uses != "" {
			for _, f := range st.With {
				if isTokenInput(st.Uses, f.Key) {
					add("action-input", "step", f, st.Index)
				}
			}
		}
	}
	if len(p.Feeds) == 0 {
		for _, rf := range d.repoFeeds {
			if rf.Name == "" {
				p.Feeds = append(p.Feeds, rf)
				continue
			}
			if vals := d.envSet(wf, j, p, rf.Name); len(vals) > 0 {
				// Guarded where the variable is set, at every level.
				rf.Guarded, rf.GuardIssue = true, ""
				for _, v := range vals {
					if g, issue := guardOf(v, d.opts.FlagVar); !g {
						rf.Guarded, rf.GuardIssue = false, issue
						break
					}
				}
				p.Feeds = append(p.Feeds, rf)
			}
		}
	}
}

// envSet returns the values that set name to a credential on the publish
// path.
func (d *detector) envSet(wf *Workflow, j *Job, p *Pipeline, name string) []string {
	var out []string
	levels := [][]Field{wf.Env, j.Env}
	for _, s := range p.Steps {
		if s.Step >= 0 && s.Step < len(j.Steps) {
			levels = append(levels, j.Steps[s.Step].Env)
		}
	}
	for _, fs := range levels {
		if f, ok := lookup(fs, name, false); ok {
			if _, cred := credentialValue(f.Value); cred {
				out = append(out, f.Value)
			}
		}
	}
	return out
}

func envReads(script, name string) bool {
	return strings.Contains(script, "$"+name) || strings.Contains(script, "${"+name+"}")
}

// npmrcWrite reports whether a run step writes an auth token for the
// configured registry into an npm or yarn config.
func (d *detector) npmrcWrite(st *Step) bool {
	return npmrcWriteFor(st, d.opts.Registry)
}

// npmrcWriteFor reports whether a run step writes an auth token for
// registry (any registry when it is "") into an npm or yarn config.
func npmrcWriteFor(st *Step, registry string) bool {
	if st.Run == "" || !npmrcWriteRe.MatchString(st.Run) {
		return false
	}
	hosts := npmrcHostRe.FindAllStringSubmatch(st.Run, -1)
	if len(hosts) == 0 || registry == "" {
		return true
	}
	for _, h := range hosts {
		if sameRegistry(h[1], registry) {
			return true
		}
	}
	return false
}

// secretOf returns the secret a value reads, if any.
func secretOf(v string) string {
	s, _ := credentialValue(v)
	return s
}

// isTokenInput reports whether an action input carries an npm token.
func isTokenInput(uses, key string) bool {
	k := strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(key))
	switch {
	case k == "npmtoken", k == "npmauthtoken", k == "nodeauthtoken", k == "npmpublishtoken":
		return true
	case k == "token":
		a := actionName(uses)
		return strings.Contains(a, "npm") || strings.HasPrefix(a, "./")
	}
	return false
}

// exposure reports token env that reaches jobs or steps that do not publish.
// A read-only token (a secret named *READ*) on an install step is what npm
// recommends for private dependencies and is not reported.
func (d *detector) exposure(wf *Workflow, j *Job, p *Pipeline) {
	check := func(fs []Field, what string) {
		for _, f := range fs {
			if !d.isTokenEnv(f.Key) {
				continue
			}
			if secret, ok := credentialValue(f.Value); ok && !strings.Contains(strings.ToUpper(secret), "READ") {
				d.finding(SevWarning, "token-exposed", wf.Path, f.Line, fmt.Sprintf("npm token %s is set on %s; confine it to the publish step", f.Key, what))
			}
		}
	}
	publishing := map[int]bool{}
	if p == nil {
		check(j.Env, fmt.Sprintf("job %q, which does not publish", j.ID))
	} else {
		for _, s := range p.Steps {
			publishing[s.Step] = true
		}
		if len(j.Steps) > len(p.Steps) {
			check(j.Env, fmt.Sprintf("every step of job %q, most of which do not publish", j.ID))
		}
		// Reported from each publishing job; identical findings merge.
		if len(wf.Jobs) > 1 || len(j.Steps) > len(p.Steps) {
			check(wf.Env, "every job and step of the workflow")
		}
	}
	for _, st := range j.Steps {
		if p != nil && p.Proxy != "" && npmrcWriteFor(st, p.Proxy) {
			continue
		}
		if !publishing[st.Index] && st.Uses == "" && st.Run != "" && !d.npmrcWrite(st) {
			check(st.Env, fmt.Sprintf("a step of job %q that does not publish", j.ID))
		}
	}
}

var untrustedTriggers = map[string]string{
	"pull_request_target": "runs with write access on code from forks",
	"workflow_run":        "can be started by workflows run for forks",
	"issue_comment":       "can be started by anyone who can comment",
}

func (d *detector) triggerFindings(wf *Workflow, j *Job, p *Pipeline) {
	for _, t := range wf.Triggers {
		if why, ok := untrustedTriggers[t]; ok {
			d.finding(SevWarning, "untrusted-trigger", wf.Path, j.Line, fmt.Sprintf("job %q publishes in a workflow triggered by %s, which %s; gate it on a trust check before granting id-token: write", j.ID, t, why))
		}
		if t == "pull_request" && j.If == "" {
			guarded := true
			for _, s := range p.Steps {
				if s.Step >= 0 && j.Steps[s.Step].If == "" {
					guarded = false
				}
			}
			if !guarded {
				d.finding(SevWarning, "untrusted-trigger", wf.Path, j.Line, fmt.Sprintf("job %q publishes in a workflow triggered by pull_request with no if: guard", j.ID))
			}
		}
	}
}

// credentialOf classifies a pipeline by its token feeds, provenance and ID
// token, the same way for every CI provider.
func credentialOf(p Pipeline) Credential {
	switch {
	case len(p.Feeds) > 0 && (p.Provenance || p.IDToken):
		return CredTokenProvenance
	case len(p.Feeds) > 0:
		return CredToken
	case p.IDToken:
		return CredOIDC
	}
	return CredNone
}

// writeFed reports whether feeds already hold the .npmrc write of secret
// name by step: a step writing one secret for two registries is one feed.
func writeFed(feeds []TokenFeed, step int, name string) bool {
	for _, f := range feeds {
		if f.Kind == "npmrc-write" && f.Step == step && f.Name == name {
			return true
		}
	}
	return false
}
