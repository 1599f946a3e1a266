package lint

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/cutover/cutover/rewrite"
)

// Levels of a result, as SARIF names them.
const (
	LevelError   = "error"
	LevelWarning = "warning"
	LevelNote    = "note"
)

// Rule IDs.
const (
	RuleTokenPublish       = "token-publish"
	RuleTokenExposed       = "token-exposed"
	RuleLiteralToken       = "literal-token"
	RuleIDTokenUntrusted   = "id-token-untrusted-trigger"
	RuleNPMLatest          = "npm-latest"
	RuleMissingEnvironment = "missing-environment"
	RuleUnreadable         = "unreadable-file"
)

// Rule describes one policy rule.
type Rule struct {
	// ID is the rule's stable identifier.
	ID string `json:"id"`
	// Name is the rule's name in PascalCase, as SARIF tools show it.
	Name string `json:"name"`
	// Short is a one-line description.
	Short string `json:"short"`
	// Help explains the rule and how to fix a violation, in Markdown.
	Help string `json:"help"`
	// HelpURI points at the upstream documentation.
	HelpURI string `json:"help_uri"`
	// Level is the rule's default level.
	Level string `json:"level"`
	// SecuritySeverity is GitHub code scanning's 0-10 severity.
	SecuritySeverity string `json:"security_severity"`
}

var rules = []Rule{
	{
		ID: RuleTokenPublish, Name: "TokenPublish", Level: LevelError, SecuritySeverity: "7.5",
		Short:   "npm publishing with a stored token where trusted publishing (OIDC) is possible",
		HelpURI: "https://docs.npmjs.com/trusted-publishers",
		Help: "A long-lived npm token in CI can leak and publish anything its owner can. On GitHub-hosted runners npm " +
			"trusted publishing replaces it: give the publishing job `permissions: id-token: write`, use npm 11.5.1 or " +
			"later, remove the token from the publish step, and configure a trusted publisher for the package " +
			"(repository, workflow file and environment) on npm. `cutover rewrite --playbook oidc` makes the change.\n\n" +
			"See https://docs.npmjs.com/trusted-publishers.",
	},
	{
		ID: RuleTokenExposed, Name: "TokenExposed", Level: LevelWarning, SecuritySeverity: "5.0",
		Short:   "npm token set beyond the publish step",
		HelpURI: "https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions",
		Help: "An npm token set at workflow or job level reaches every step, including third-party actions and " +
			"install scripts. Set it in the `env:` of the publish step only.\n\n" +
			"See https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions.",
	},
	{
		ID: RuleLiteralToken, Name: "LiteralToken", Level: LevelError, SecuritySeverity: "9.0",
		Short:   "npm token value committed to the repository",
		HelpURI: "https://docs.npmjs.com/revoking-access-tokens",
		Help: "A token value in a committed file is public to everyone who can read the repository, and stays in " +
			"its history. Revoke the token now (`npm token revoke`), remove it from the file and the history, and " +
			"publish through trusted publishing or a secret.\n\nSee https://docs.npmjs.com/revoking-access-tokens.",
	},
	{
		ID: RuleIDTokenUntrusted, Name: "IDTokenUntrustedTrigger", Level: LevelWarning, SecuritySeverity: "8.0",
		Short:   "id-token: write on a workflow an untrusted event can start",
		HelpURI: "https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/",
		Help: "pull_request_target, issue_comment and workflow_run run with the base repository's permissions on " +
			"events outsiders can cause. With id-token: write such a run can mint an OIDC token that npm trusted " +
			"publishing accepts. Move publishing to a workflow started by push, release or workflow_dispatch, or " +
			"guard the job with a check of the actor's permission and a protected environment.\n\n" +
			"See https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/ and " +
			"https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect.",
	},
	{
		ID: RuleNPMLatest, Name: "NPMLatest", Level: LevelWarning, SecuritySeverity: "3.0",
		Short:   "npm upgraded to @latest instead of a pinned range",
		HelpURI: "https://docs.npmjs.com/trusted-publishers",
		Help: "`npm install -g npm@latest` now installs npm 12 (new engines, install scripts off by default), which " +
			"can break a release without any change in the repository. Trusted publishing needs npm 11.5.1 or later: " +
			"pin `npm@^11.5.1`.\n\nSee https://docs.npmjs.com/trusted-publishers.",
	},
	{
		ID: RuleMissingEnvironment, Name: "MissingEnvironment", Level: LevelError, SecuritySeverity: "4.0",
		Short:   "publishing job without a protected GitHub environment",
		HelpURI: "https://docs.github.com/en/actions/managing-workflow-runs-and-deployments/managing-deployments/managing-environments-for-deployment",
		Help: "This organisation requires publishing jobs to run in a GitHub environment, whose protection rules " +
			"(required reviewers, branch restrictions) gate each release; name the same environment in the npm " +
			"trusted publisher. Add `environment: <name>` to the job.\n\n" +
			"See https://docs.github.com/en/actions/managing-workflow-runs-and-deployments/managing-deployments/managing-environments-for-deployment.",
	},
	{
		ID: RuleUnreadable, Name: "UnreadableFile", Level: LevelError, SecuritySeverity: "5.0",
		Short:   "workflow, action or package file that cutover could not read",
		HelpURI: "https://docs.github.com/actions/using-workflows/workflow-syntax-for-github-actions",
		Help: "A file that does not parse, is too large, is not UTF-8, expands too many YAML aliases, is a " +
			"symlink leaving the repository, is not a regular file or defines a key twice cannot be checked (in " +
			"full), so the policy cannot " +
			"say it is clean. Fix the file (GitHub rejects most of these too), or suppress the result with a " +
			"reason if it is deliberate.\n\n" +
			"See https://docs.github.com/actions/using-workflows/workflow-syntax-for-github-actions.",
	},
}

// Rules returns every rule, in a fixed order.
func Rules() []Rule { return slices.Clone(rules) }

// RuleByID returns the rule with the ID.
func RuleByID(id string) (Rule, bool) {
	for _, r := range rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// Options tune Check. The zero value checks publishes to any registry.
type Options struct {
	// Registry is the npm registry URL publishes must target to count.
	Registry string
	// FlagVar is the campaign's feature-flag variable: a token feed that
	// reads it is the kept rollback path, reported as a note.
	FlagVar string
	// RequireEnvironment makes a publishing job without an environment a violation.
	RequireEnvironment bool
	// Ignore suppresses results by rule and path (the config's
	// [[lint.ignore]] list); each needs a reason.
	Ignore []Ignore
	// MaxFileBytes is the largest file read (rewrite.Options.MaxFileBytes);
	// zero means rewrite.MaxFileBytes.
	MaxFileBytes int64
}

// Ignore is one entry of the config's ignore list.
type Ignore struct {
	// Rule is a rule ID, or "*" for every rule.
	Rule string
	// Path is a repository-relative path or a path.Match pattern.
	Path string
	// Reason is why the result is accepted; it is the SARIF justification.
	Reason string
}

// Suppression says why a result does not count: SARIF's kind (inSource for
// a "# cutover-ignore:" comment, external for the config's ignore list)
// and the justification given.
type Suppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

// Result is one rule violation (or note) at a file and line.
type Result struct {
	// Rule is the rule's ID.
	Rule string `json:"rule"`
	// Level is LevelError, LevelWarning or LevelNote.
	Level string `json:"level"`
	// File is the path, relative to the repository root (or, from the
	// command, to the working directory).
	File string `json:"file"`
	// Line is the 1-based line, or 0 for the whole file.
	Line int `json:"line,omitempty"`
	// Message says what was found and what to do.
	Message string `json:"message"`
	// Suppression is set when an inline comment or the config's ignore
	// list accepts the result; a suppressed result never fails the check.
	Suppression *Suppression `json:"suppression,omitempty"`
}

// Suppressed reports whether the result is suppressed.
func (r Result) Suppressed() bool { return r.Suppression != nil }

// untrustedTriggers are the events outsiders can cause that run with the
// base repository's permissions.
var untrustedTriggers = []string{"pull_request_target", "issue_comment", "workflow_run"}

// Check runs every rule over one repository snapshot and returns the
// results by file, line and rule. It does no I/O.
func Check(snap rewrite.Snapshot, opts Options) []Result {
	res := rewrite.Detect(snap, rewrite.Options{Registry: opts.Registry, FlagVar: opts.FlagVar, MaxFileBytes: opts.MaxFileBytes})
	return CheckResult(snap, res, opts)
}

// CheckResult is Check over a detection result already made from snap.
func CheckResult(snap rewrite.Snapshot, res *rewrite.Result, opts Options) []Result {
	var out []Result
	add := func(rule, level, file string, line int, msg string) {
		out = append(out, Result{Rule: rule, Level: level, File: file, Line: line, Message: msg})
	}
	for _, p := range res.Pipelines {
		if p.Credential == rewrite.CredToken || p.Credential == rewrite.CredTokenProvenance {
			file, line := p.Workflow, p.JobLine
			var secrets, issues []string
			active := 0
			for i, f := range p.Feeds {
				if i == 0 {
					file, line = f.File, f.Line
				}
				name := f.Secret
				if name == "" {
					name = f.Name
				}
				// Detection decides what guarded means (the oidc
				// playbook's exact guard); an inverted or partial guard
				// leaves the token path live.
				if f.Guarded {
					continue
				}
				if f.GuardIssue != "" {
					issues = append(issues, fmt.Sprintf("%s line %d: %s", f.File, f.Line, f.GuardIssue))
				}
				if active == 0 {
					file, line = f.File, f.Line
				}
				active++
				if name != "" && !slices.Contains(secrets, name) {
					secrets = append(secrets, name)
				}
			}
			what := "a stored token"
			if len(secrets) > 0 {
				what = "the stored token " + strings.Join(secrets, ", ")
			}
			switch {
			case len(p.Feeds) > 0 && active == 0:
				add(RuleTokenPublish, LevelNote, file, line, fmt.Sprintf("job %q keeps its token path behind %s for rollback; remove it with the cleanup playbook once OIDC releases are verified", p.Job, opts.FlagVar))
			case p.Proxy != "":
				add(RuleTokenPublish, LevelError, file, line, fmt.Sprintf("job %q publishes %sto npm through the registry proxy %s with %s; trusted publishing needs the proxy removed from the publish path (then id-token: write and a trusted publisher naming workflow %s), or a token kept through the token-bridge playbook and this result suppressed with the reason", p.Job, proxyScopes(p), rewrite.RegistryHost(p.Proxy), what, strings.Join(p.TrustedWorkflow, ", ")))
			case p.SelfHosted:
				add(RuleTokenPublish, LevelNote, file, line, fmt.Sprintf("job %q publishes to npm with %s on a self-hosted runner, where npm trusted publishing is not available; confine the token to the publish step and check it with cutover preflight", p.Job, what))
			default:
				trust := strings.Join(p.TrustedWorkflow, ", ")
				if trust == "" {
					trust = path.Base(p.Workflow)
				}
				fix := fmt.Sprintf("give the job id-token: write, drop the token, and configure a trusted publisher naming workflow %s", trust)
				switch p.Provider {
				case rewrite.ProviderGitLab:
					fix = "add id_tokens: NPM_ID_TOKEN (aud npm:<registry host>) to the job, drop the token, and configure a GitLab trusted publisher naming this project and " + rewrite.GitLabCIPath
				case rewrite.ProviderCircleCI:
					fix = "export NPM_ID_TOKEN from `circleci run oidc get` before npm publish (npm 11.11.0 or later), drop the token, and configure a CircleCI trusted publisher with the project's IDs"
				}
				msg := fmt.Sprintf("job %q publishes to npm with %s; use trusted publishing instead: %s", p.Job, what, fix)
				if len(issues) > 0 {
					msg = fmt.Sprintf("job %q publishes to npm with %s: its flag guard does not switch the token off (%s); write the guard as ${{ vars.%s != 'true' && secrets.NAME || '' }} or use trusted publishing only", p.Job, what, strings.Join(issues, "; "), opts.FlagVar)
				}
				if p.Confidence == rewrite.ConfidenceInferred {
					msg += " (confidence inferred: the publish is inside a script or workflow cutover cannot read, which the job hands an npm token)"
				}
				add(RuleTokenPublish, LevelError, file, line, msg)
			}
		}
		if opts.RequireEnvironment && p.Environment == "" {
			add(RuleMissingEnvironment, LevelError, p.Workflow, p.JobLine, fmt.Sprintf("publishing job %q has no environment; add environment: with protection rules and name it in the npm trusted publisher", p.Job))
		}
	}
	for _, f := range res.Findings {
		switch f.Code {
		case "token-exposed":
			add(RuleTokenExposed, LevelWarning, f.File, f.Line, f.Message)
		case "literal-token":
			// The detector's message shows the token's first characters; a
			// SARIF file is uploaded and kept, so say less.
			add(RuleLiteralToken, LevelError, f.File, f.Line, "an npm token value is committed here; revoke it now, remove it from the file and from the history")
		case "npm-latest":
			add(RuleNPMLatest, LevelWarning, f.File, f.Line, f.Message)
		case "duplicate-key":
			// GitHub rejects the file, and detection read only one of the
			// two values: what the other says is not checked.
			add(RuleUnreadable, LevelError, f.File, f.Line, "cutover read only part of this file, so it is not fully checked: "+f.Message)
		}
	}
	for _, f := range res.Unreadable() {
		add(RuleUnreadable, LevelError, f.File, f.Line, "cutover could not read this file, so it is not checked: "+f.Message)
	}
	out = append(out, untrustedIDToken(snap)...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Rule < b.Rule
	})
	out = slices.CompactFunc(out, func(a, b Result) bool {
		return a.Rule == b.Rule && a.Level == b.Level && a.File == b.File && a.Line == b.Line && a.Message == b.Message
	})
	suppress(snap, out, opts.Ignore)
	return out
}

// untrustedIDToken finds jobs with id-token: write (their own or the
// workflow's) in workflows an untrusted event can start.
func untrustedIDToken(snap rewrite.Snapshot) []Result {
	var out []Result
	paths := make([]string, 0, len(snap.Files))
	for p := range snap.Files {
		if isWorkflow(p) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		wf, err := rewrite.ParseWorkflow(p, snap.Files[p])
		if err != nil {
			continue // Detect reports it
		}
		var bad []string
		for _, t := range wf.Triggers {
			if slices.Contains(untrustedTriggers, t) {
				bad = append(bad, t)
			}
		}
		if len(bad) == 0 {
			continue
		}
		for _, j := range wf.Jobs {
			perms, line := wf.Permissions, wf.Permissions.Line
			if j.Permissions.Set {
				perms, line = j.Permissions, j.Permissions.Line
			}
			if !perms.IDTokenWrite() {
				continue
			}
			if line == 0 {
				line = j.Line
			}
			msg := fmt.Sprintf("job %q can mint OIDC tokens (id-token: write) in a workflow that %s can start", j.ID, strings.Join(bad, " and "))
			if j.If != "" {
				msg += "; its if: condition is the only guard, make sure it checks who triggered the run"
			} else {
				msg += "; move publishing to a workflow started by push, release or workflow_dispatch"
			}
			out = append(out, Result{Rule: RuleIDTokenUntrusted, Level: LevelWarning, File: p, Line: line, Message: msg})
		}
	}
	return out
}

func isWorkflow(p string) bool {
	return strings.HasPrefix(p, ".github/workflows/") && !strings.Contains(strings.TrimPrefix(p, ".github/workflows/"), "/") &&
		(strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml"))
}

// Violations counts the results at level or above (error > warning > note)
// that are not suppressed.
func Violations(results []Result, level string) int {
	n := 0
	for _, r := range results {
		if !r.Suppressed() && rewrite.SeverityRank(r.Level) >= rewrite.SeverityRank(level) {
			n++
		}
	}
	return n
}

// proxyScopes names the scopes a pipeline routes to its registry proxy,
// as "the packages of scope @acme ", or "" when it routes every package.
func proxyScopes(p rewrite.Pipeline) string {
	if len(p.ProxyScopes) == 0 {
		return ""
	}
	return "the packages of scope " + strings.Join(p.ProxyScopes, ", ") + " "
}
