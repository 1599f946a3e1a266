package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/cutover/cutover/rewrite"
)

// Config is the whole configuration file. Its zero value, after
// ApplyDefaults, is the default configuration.
type Config struct {
	// Owners says who answers for which repositories, one [[owners]]
	// table each; the first match wins over the repository's CODEOWNERS.
	Owners []Owners `toml:"owners"`
	// NPM configures calls to the npm registry.
	NPM NPM `toml:"npm"`
	// GitHub configures the forge.
	GitHub GitHub `toml:"github"`
	// Log configures diagnostic output on stderr.
	Log Log `toml:"log"`
	// Secrets lists the environment variables whose values never reach output.
	Secrets Secrets `toml:"secrets"`
	// Scan configures the classification of repositories.
	Scan Scan `toml:"scan"`
	// Rewrite configures the workflow rewrites.
	Rewrite Rewrite `toml:"rewrite"`
	// Campaign configures the campaign engine.
	Campaign Campaign `toml:"campaign"`
	// Waves configures how repositories are planned into waves.
	Waves Waves `toml:"waves"`
	// PR configures the campaign's pull requests.
	PR PR `toml:"pr"`
	// Flag configures the feature flag's watch after it goes on.
	Flag Flag `toml:"flag"`
	// Schedule lists the jobs `cutover schedule` runs.
	Schedule Schedule `toml:"schedule"`
	// Sweep configures the rotation reminders of `cutover sweep`.
	Sweep Sweep `toml:"sweep"`
	// Lint configures the policy rules of `cutover lint`.
	Lint Lint `toml:"lint"`
	// CircleCI holds the IDs of repositories that publish from CircleCI.
	CircleCI CircleCI `toml:"circleci"`
	// Dashboard configures the campaign's dashboard issue.
	Dashboard Dashboard `toml:"dashboard"`
}

// Owners is one [[owners]] table: the repositories matching one of Repos
// are owned by Owner (reports' Owner column, the cutover cards).
type Owners struct {
	// Repos are globs (path.Match syntax) over repository full names,
	// such as "acme/web-*".
	Repos []string `toml:"repos"`
	// Owner is a team or user, such as "@acme/web".
	Owner string `toml:"owner"`
}

// OwnerOf returns the owner the first [[owners]] table matching repo
// names, or "".
func (c *Config) OwnerOf(repo string) string {
	for _, o := range c.Owners {
		for _, pat := range o.Repos {
			if ok, _ := path.Match(pat, repo); ok {
				return o.Owner
			}
		}
	}
	return ""
}

// CircleCI is the [circleci] table.
type CircleCI struct {
	// TokenEnv names the environment variable holding a CircleCI personal
	// API token; with it, flag on and off set the flag of pipelines that
	// publish from CircleCI through CircleCI's API (a project environment
	// variable). Empty means they print the setting to change and wait
	// for --confirm.
	TokenEnv string `toml:"token_env"`
	// APIURL is CircleCI's API v2 base URL; empty means CircleCI cloud's.
	APIURL string `toml:"api_url"`
	// Project lists, one [[circleci.project]] table each, the IDs a
	// CircleCI trusted publisher names, which a checkout cannot know.
	Project []CircleCIProject `toml:"project"`
}

// CircleCIProject is one [[circleci.project]]: a repository's CircleCI IDs
// (Project Settings > Overview in CircleCI).
type CircleCIProject struct {
	// Repo is the repository, owner/name.
	Repo string `toml:"repo"`
	// OrgID is the CircleCI organization ID (a UUID).
	OrgID string `toml:"org_id"`
	// ProjectID is the CircleCI project ID (a UUID).
	ProjectID string `toml:"project_id"`
	// PipelineDefinitionID is the pipeline definition ID (a UUID).
	PipelineDefinitionID string `toml:"pipeline_definition_id"`
	// VCSOrigin is host/owner/repo without a scheme; default github.com/<repo>.
	VCSOrigin string `toml:"vcs_origin"`
	// ContextIDs are the contexts a trusted publisher may require (optional).
	ContextIDs []string `toml:"context_ids"`
}

// CircleCIProjects returns the [[circleci.project]] IDs by repository.
func (c *Config) CircleCIProjects() map[string]rewrite.CircleCIProject {
	out := map[string]rewrite.CircleCIProject{}
	for _, p := range c.CircleCI.Project {
		out[p.Repo] = rewrite.CircleCIProject{OrgID: p.OrgID, ProjectID: p.ProjectID, PipelineDefinitionID: p.PipelineDefinitionID, VCSOrigin: p.VCSOrigin, ContextIDs: p.ContextIDs}
	}
	return out
}

// Dashboard is the [dashboard] table: one issue the war room watches.
type Dashboard struct {
	// Repo is the repository ("owner/name") holding the dashboard issue; empty means no dashboard.
	Repo string `toml:"repo"`
	// Labels are added to the dashboard issue.
	Labels []string `toml:"labels"`
}

// Schedule is the [schedule] table.
type Schedule struct {
	// Job lists the scheduled jobs, one [[schedule.job]] table each.
	Job []Job `toml:"job"`
}

// Job is one [[schedule.job]]: what to run and when.
type Job struct {
	// Name names the job in logs, the ledger and --once.
	Name string `toml:"name"`
	// Spec is a five-field cron spec or a descriptor such as "@daily", with an optional "CRON_TZ=Zone " prefix.
	Spec string `toml:"spec"`
	// Run is what the job does: status, apply-next-wave, sweep or report.
	Run string `toml:"run"`
}

// Sweep is the [sweep] table.
type Sweep struct {
	// AgeDays is the token age, in days, at which rotation reminders start.
	AgeDays int `toml:"age_days"`
	// ExpiryDays is how many days before a token's expiry the reminder escalates.
	ExpiryDays int `toml:"expiry_days"`
	// EscalateDays are the days before expiry at which the reminder escalates further, largest first.
	EscalateDays []int `toml:"escalate_days"`
	// WebhookURL receives a JSON POST (with a Slack-compatible text field) per sweep that sends reminders.
	WebhookURL string `toml:"webhook_url"`
}

// Lint is the [lint] table.
type Lint struct {
	// RequireEnvironment makes a publishing job without a GitHub environment a violation.
	RequireEnvironment bool `toml:"require_environment"`
	// Ignore lists accepted results: each suppresses one rule ("*" for all)
	// on the files a path (or path.Match pattern) names, for a reason.
	Ignore []LintIgnore `toml:"ignore"`
}

// LintIgnore is one [[lint.ignore]] entry.
type LintIgnore struct {
	Rule   string `toml:"rule"`
	Path   string `toml:"path"`
	Reason string `toml:"reason"`
}

// Campaign is the [campaign] table.
type Campaign struct {
	// Name names the campaign in the ledger, pull requests and reports.
	Name string `toml:"name"`
	// Ledger is the path of the campaign's SQLite ledger.
	Ledger string `toml:"ledger"`
	// Branch is the campaign branch pushed to each repository.
	Branch string `toml:"branch"`
	// Concurrency bounds how many repositories are worked on at once.
	Concurrency int `toml:"concurrency"`
	// AuthorName signs campaign commits.
	AuthorName string `toml:"author_name"`
	// AuthorEmail signs campaign commits.
	AuthorEmail string `toml:"author_email"`
}

// Flag is the [flag] table.
type Flag struct {
	// AutoRollback turns the flag off by itself when status finds a release that failed, or went around OIDC, after the flag went on.
	AutoRollback bool `toml:"auto_rollback"`
}

// Waves is the [waves] table.
type Waves struct {
	// Canaries names the canary repositories ("owner/name"); empty means pick them from the inventory.
	Canaries []string `toml:"canaries"`
	// Sizes are the sizes of the waves after the canaries; the rest form a last wave.
	Sizes []int `toml:"sizes"`
	// Require lists what every repository of a wave must reach before the next wave: checks, merged, verified.
	Require []string `toml:"require"`
	// MaxFailureRatio is the largest share of failed repositories a wave may have and still pass its gate.
	MaxFailureRatio float64 `toml:"max_failure_ratio"`
	// CanaryRequire lists what the canary wave must reach before wave 1: checks, merged, verified.
	CanaryRequire []string `toml:"canary_require"`
}

// PR is the [pr] table.
type PR struct {
	// Draft opens campaign pull requests as drafts.
	Draft bool `toml:"draft"`
	// Labels are added to every campaign pull request.
	Labels []string `toml:"labels"`
	// Reviewers are users asked to review.
	Reviewers []string `toml:"reviewers"`
	// TeamReviewers are teams ("org/team" or "team") asked to review.
	TeamReviewers []string `toml:"team_reviewers"`
	// Assignees are users assigned.
	Assignees []string `toml:"assignees"`
	// MergeMethod is how cutover merge merges pull requests: merge, squash or rebase.
	MergeMethod string `toml:"merge_method"`
}

// NPM is the [npm] table.
type NPM struct {
	// Registry is the npm registry URL; empty means resolve it (see ResolveRegistry).
	Registry string `toml:"registry"`
	// TokenEnv names the environment variable that holds an npm token for registry calls.
	TokenEnv string `toml:"token_env"`
	// TokenOwner says which repository each CI token serves, one [[npm.token_owner]] table each.
	TokenOwner []TokenOwner `toml:"token_owner"`
	// AllowInsecureHTTP allows an http:// registry on a host other than loopback.
	AllowInsecureHTTP bool `toml:"allow_insecure_http"`
}

// TokenOwner is one [[npm.token_owner]]: the npm tokens whose name matches
// Name serve the repository Repo (revoke tokens --migrated uses it).
type TokenOwner struct {
	// Name is a glob (path.Match syntax) over the token names npm lists.
	Name string `toml:"name"`
	// Repo is the repository ("owner/name") those tokens publish for.
	Repo string `toml:"repo"`
}

// GitHub is the [github] table.
type GitHub struct {
	// Org is the organisation (or user) whose repositories are migrated; CUTOVER_ORG overrides it.
	Org string `toml:"org"`
	// APIURL is the REST API base URL of a GitHub Enterprise Server; empty means GitHub.com.
	APIURL string `toml:"api_url"`
	// TokenEnv names the environment variable that holds a GitHub token.
	TokenEnv string `toml:"token_env"`
	// Pacing is "github" (pace API requests as GitHub advises) or "off" (no pacing, for a server without rate limits such as the sandbox).
	Pacing string `toml:"pacing"`
	// AllowInsecureHTTP allows an http:// api_url on a host other than loopback.
	AllowInsecureHTTP bool `toml:"allow_insecure_http"`
	// ProbeWorkflows lets the permission preflight before apply --execute prove a fine-grained token's workflows permission by pushing a scratch branch that adds a manual-only workflow and deleting it at once (on GitHub that push may start the repository's push-triggered workflows); without it that permission is reported as unverified.
	ProbeWorkflows bool `toml:"probe_workflows"`
	// App signs in as a GitHub App installation instead of a token.
	App GitHubApp `toml:"app"`
}

// GitHubApp is the [github.app] table: sign in as a GitHub App
// installation. It is in use when ID is set.
type GitHubApp struct {
	// ID is the App's numeric id (its settings page shows it as "App ID").
	ID int64 `toml:"id"`
	// InstallationID is the installation on the organisation; zero means ask GitHub for the App's installation on [github] org.
	InstallationID int64 `toml:"installation_id"`
	// PrivateKeyFile is the path of the App's PEM private key.
	PrivateKeyFile string `toml:"private_key_file"`
	// PrivateKeyEnv names the environment variable that holds the App's PEM private key instead.
	PrivateKeyEnv string `toml:"private_key_env"`
}

// Enabled reports whether the configuration signs in as a GitHub App.
func (a GitHubApp) Enabled() bool { return a.ID != 0 }

// Log is the [log] table.
type Log struct {
	// Level is the lowest level logged: debug, info, warn or error.
	Level string `toml:"level"`
	// Format is auto (text on a terminal, JSON lines otherwise), text or json.
	Format string `toml:"format"`
}

// Secrets is the [secrets] table.
type Secrets struct {
	// Env names environment variables whose values are redacted from all output.
	Env []string `toml:"env"`
}

// Scan is the [scan] table.
type Scan struct {
	// MaxFileBytes is the largest file read from a repository; larger files are findings.
	MaxFileBytes int64 `toml:"max_file_bytes"`
	// ManualDocs lists repository files read for mentions of manual publishing.
	ManualDocs []string `toml:"manual_docs"`
}

// Rewrite is the [rewrite] table.
type Rewrite struct {
	// FlagVar is the repository Actions variable that switches a migrated workflow to OIDC.
	FlagVar string `toml:"flag_var"`
	// NPMVersion is the npm version range installed where the runner's npm is too old for OIDC.
	NPMVersion string `toml:"npm_version"`
}

// Default returns the default configuration.
func Default() *Config {
	c := &Config{}
	c.ApplyDefaults()
	return c
}

// ApplyDefaults sets every field whose zero value is not meaningful to its
// default. Lists are defaulted only when nil, so an explicit empty list in a
// file stays empty.
func (c *Config) ApplyDefaults() {
	setString(&c.NPM.TokenEnv, "NPM_TOKEN")
	if c.CircleCI.Project == nil {
		c.CircleCI.Project = []CircleCIProject{}
	}
	if c.NPM.TokenOwner == nil {
		c.NPM.TokenOwner = []TokenOwner{}
	}
	if c.Owners == nil {
		c.Owners = []Owners{}
	}
	setString(&c.GitHub.TokenEnv, "GITHUB_TOKEN")
	setString(&c.GitHub.Pacing, "github")
	setString(&c.Log.Level, "info")
	setString(&c.Log.Format, "auto")
	if c.Secrets.Env == nil {
		c.Secrets.Env = []string{"NPM_TOKEN", "NODE_AUTH_TOKEN", "GITHUB_TOKEN", "GH_TOKEN"}
	}
	if c.Scan.MaxFileBytes == 0 {
		c.Scan.MaxFileBytes = 1 << 20
	}
	if c.Scan.ManualDocs == nil {
		c.Scan.ManualDocs = []string{
			"RELEASING.md", "RELEASE.md", "CONTRIBUTING.md", "PUBLISHING.md",
			"MAINTAINING.md", "README.md", "Makefile", "justfile",
			"docs/RELEASING.md", "docs/release.md", ".github/RELEASING.md",
		}
	}
	setString(&c.Rewrite.FlagVar, "CUTOVER_NPM_OIDC")
	setString(&c.Rewrite.NPMVersion, "^11.5.1")
	setString(&c.Campaign.Name, "npm-oidc")
	setString(&c.Campaign.Ledger, "cutover.db")
	setString(&c.Campaign.Branch, "cutover/npm-oidc")
	if c.Campaign.Concurrency == 0 {
		c.Campaign.Concurrency = 8
	}
	setString(&c.Campaign.AuthorName, "cutover")
	setString(&c.Campaign.AuthorEmail, "cutover@users.noreply.github.com")
	if c.Waves.Canaries == nil {
		c.Waves.Canaries = []string{}
	}
	if c.Waves.Sizes == nil {
		c.Waves.Sizes = []int{10, 50}
	}
	if c.Waves.Require == nil {
		c.Waves.Require = []string{"checks"}
	}
	if c.Waves.CanaryRequire == nil {
		c.Waves.CanaryRequire = []string{"merged", "verified"}
	}
	if c.PR.MergeMethod == "" {
		c.PR.MergeMethod = "merge"
	}
	if c.Waves.MaxFailureRatio == 0 {
		c.Waves.MaxFailureRatio = 0.1
	}
	if c.PR.Labels == nil {
		c.PR.Labels = []string{"cutover", "npm-oidc"}
	}
	for _, p := range []*[]string{&c.PR.Reviewers, &c.PR.TeamReviewers, &c.PR.Assignees} {
		if *p == nil {
			*p = []string{}
		}
	}
	if c.Dashboard.Labels == nil {
		c.Dashboard.Labels = []string{"cutover"}
	}
	if c.Schedule.Job == nil {
		c.Schedule.Job = []Job{}
	}
	if c.Lint.Ignore == nil {
		c.Lint.Ignore = []LintIgnore{}
	}
	if c.Sweep.AgeDays == 0 {
		c.Sweep.AgeDays = 60
	}
	if c.Sweep.ExpiryDays == 0 {
		c.Sweep.ExpiryDays = 14
	}
	if c.Sweep.EscalateDays == nil {
		c.Sweep.EscalateDays = []int{7, 3, 1}
	}
}

func setString(p *string, def string) {
	if *p == "" {
		*p = def
	}
}

// ApplyEnv applies environment overrides: CUTOVER_ORG sets github.org.
// The registry's environment variables are handled by ResolveRegistry.
func (c *Config) ApplyEnv(getenv func(string) string) {
	if getenv == nil {
		return
	}
	if v := strings.TrimSpace(getenv("CUTOVER_ORG")); v != "" {
		c.GitHub.Org = v
	}
}

// SecretEnvNames returns the names of every environment variable whose value
// must be redacted: secrets.env plus the token variables of [npm] and [github],
// without duplicates.
func (c *Config) SecretEnvNames() []string {
	names := slices.Clone(c.Secrets.Env)
	for _, n := range []string{c.NPM.TokenEnv, c.GitHub.TokenEnv, c.GitHub.App.PrivateKeyEnv, c.CircleCI.TokenEnv} {
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// Load reads and parses the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("could not read config file %q: %w", path, err)
	}
	return Parse(path, data)
}

// fieldError is a validation problem at a key path.
type fieldError struct {
	key []string
	msg string
	// elem is the 1-based element of the array of tables named by the
	// first arr parts of key; 0 outside one.
	arr, elem int
}

// Validate reports every invalid value, joined into one error.
func (c *Config) Validate() error {
	var errs []error
	for _, fe := range c.validate() {
		errs = append(errs, fmt.Errorf("%s: %s", strings.Join(fe.key, "."), fe.msg))
	}
	return errors.Join(errs...)
}

var (
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	orgRE     = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
)

func (c *Config) validate() []fieldError {
	var errs []fieldError
	add := func(msg string, key ...string) { errs = append(errs, fieldError{key: key, msg: msg}) }

	if c.NPM.Registry != "" {
		if _, err := NormalizeRegistry(c.NPM.Registry); err != nil {
			add(err.Error(), "npm", "registry")
		} else if err := checkSecureURL(c.NPM.Registry, c.NPM.AllowInsecureHTTP, "npm"); err != nil {
			add(err.Error(), "npm", "registry")
		}
	}
	for _, o := range c.NPM.TokenOwner {
		if _, err := path.Match(o.Name, ""); err != nil || o.Name == "" {
			add(fmt.Sprintf("%q is not a name pattern", o.Name), "npm", "token_owner", "name")
		}
		if !repoRE.MatchString(o.Repo) {
			add(fmt.Sprintf("%q is not a repository full name (owner/name)", o.Repo), "npm", "token_owner", "repo")
		}
	}
	if !envNameRE.MatchString(c.NPM.TokenEnv) {
		add(fmt.Sprintf("%q is not an environment variable name", c.NPM.TokenEnv), "npm", "token_env")
	}
	if c.GitHub.Org != "" && !orgRE.MatchString(c.GitHub.Org) {
		add(fmt.Sprintf("%q is not a GitHub organisation name (letters, digits and hyphens, at most 39)", c.GitHub.Org), "github", "org")
	}
	if c.GitHub.APIURL != "" {
		if err := checkHTTPURL(c.GitHub.APIURL); err != nil {
			add(err.Error(), "github", "api_url")
		} else if err := checkSecureURL(c.GitHub.APIURL, c.GitHub.AllowInsecureHTTP, "github"); err != nil {
			add(err.Error(), "github", "api_url")
		}
	}
	if !envNameRE.MatchString(c.GitHub.TokenEnv) {
		add(fmt.Sprintf("%q is not an environment variable name", c.GitHub.TokenEnv), "github", "token_env")
	}
	if c.GitHub.Pacing != "github" && c.GitHub.Pacing != "off" {
		add(fmt.Sprintf("%q is not a pacing; want github or off", c.GitHub.Pacing), "github", "pacing")
	}
	errs = append(errs, c.GitHub.App.validate()...)
	if !slices.Contains(logLevels, c.Log.Level) {
		add(fmt.Sprintf("%q is not a log level; want one of %s", c.Log.Level, strings.Join(logLevels, ", ")), "log", "level")
	}
	if !slices.Contains(logFormats, c.Log.Format) {
		add(fmt.Sprintf("%q is not a log format; want one of %s", c.Log.Format, strings.Join(logFormats, ", ")), "log", "format")
	}
	for _, n := range c.Secrets.Env {
		if !envNameRE.MatchString(n) {
			add(fmt.Sprintf("%q is not an environment variable name", n), "secrets", "env")
		}
	}
	if c.Scan.MaxFileBytes < 1024 || c.Scan.MaxFileBytes > 64<<20 {
		add(fmt.Sprintf("%d is out of range; want 1024 to %d bytes", c.Scan.MaxFileBytes, 64<<20), "scan", "max_file_bytes")
	}
	for _, p := range c.Scan.ManualDocs {
		if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, `\`) || slices.Contains(strings.Split(p, "/"), "..") {
			add(fmt.Sprintf("%q is not a relative slash-separated path inside the repository", p), "scan", "manual_docs")
		}
	}
	if !envNameRE.MatchString(c.Rewrite.FlagVar) || strings.HasPrefix(strings.ToUpper(c.Rewrite.FlagVar), "GITHUB_") {
		add(fmt.Sprintf("%q is not a valid Actions variable name (letters, digits, underscores; not starting with GITHUB_)", c.Rewrite.FlagVar), "rewrite", "flag_var")
	}
	switch v := strings.TrimSpace(c.Rewrite.NPMVersion); {
	case v == "latest" || v == "*" || v == "x" || v == "next":
		add(fmt.Sprintf("%q is not allowed; pin a range such as \"^11.5.1\" (latest is npm 12)", v), "rewrite", "npm_version")
	case !npmRangeRE.MatchString(v):
		add(fmt.Sprintf("%q is not an npm version range such as \"^11.5.1\" (a version, or one prefixed with ^ or ~)", v), "rewrite", "npm_version")
	}
	if strings.TrimSpace(c.Campaign.Name) == "" {
		add("must not be empty", "campaign", "name")
	}
	if !branchRE.MatchString(c.Campaign.Branch) || strings.Contains(c.Campaign.Branch, "..") {
		add(fmt.Sprintf("%q is not a valid branch name", c.Campaign.Branch), "campaign", "branch")
	}
	if c.Campaign.Concurrency < 1 || c.Campaign.Concurrency > 256 {
		add(fmt.Sprintf("%d is out of range; want 1 to 256", c.Campaign.Concurrency), "campaign", "concurrency")
	}
	if !strings.Contains(c.Campaign.AuthorEmail, "@") {
		add(fmt.Sprintf("%q is not an e-mail address", c.Campaign.AuthorEmail), "campaign", "author_email")
	}
	for _, r := range c.Waves.Canaries {
		if !repoRE.MatchString(r) {
			add(fmt.Sprintf("%q is not a repository full name (owner/name)", r), "waves", "canaries")
		}
	}
	for _, n := range c.Waves.Sizes {
		if n < 1 {
			add(fmt.Sprintf("%d: wave sizes must be positive", n), "waves", "sizes")
		}
	}
	for _, r := range c.Waves.Require {
		if !slices.Contains(gateRequires, r) {
			add(fmt.Sprintf("%q is not a gate condition; want one of %s", r, strings.Join(gateRequires, ", ")), "waves", "require")
		}
	}
	for _, r := range c.Waves.CanaryRequire {
		if !slices.Contains(gateRequires, r) {
			add(fmt.Sprintf("%q is not a gate condition; want one of %s", r, strings.Join(gateRequires, ", ")), "waves", "canary_require")
		}
	}
	if !slices.Contains([]string{"merge", "squash", "rebase"}, c.PR.MergeMethod) {
		add(fmt.Sprintf("%q is not a merge method; want merge, squash or rebase", c.PR.MergeMethod), "pr", "merge_method")
	}
	if c.Waves.MaxFailureRatio < 0 || c.Waves.MaxFailureRatio > 1 {
		add(fmt.Sprintf("%g is out of range; want 0 to 1", c.Waves.MaxFailureRatio), "waves", "max_failure_ratio")
	}
	for _, o := range c.Owners {
		if strings.TrimSpace(o.Owner) == "" {
			add("an [[owners]] table names no owner", "owners", "owner")
		}
		if len(o.Repos) == 0 {
			add(fmt.Sprintf("the [[owners]] table of %q names no repositories", o.Owner), "owners", "repos")
		}
		for _, pat := range o.Repos {
			if _, err := path.Match(pat, ""); err != nil || !strings.Contains(pat, "/") {
				add(fmt.Sprintf("%q is not a repository pattern (owner/name, globs allowed)", pat), "owners", "repos")
			}
		}
	}
	if c.Dashboard.Repo != "" && !repoRE.MatchString(c.Dashboard.Repo) {
		add(fmt.Sprintf("%q is not a repository full name (owner/name)", c.Dashboard.Repo), "dashboard", "repo")
	}
	errs = append(errs, c.validateOperations()...)
	return errs
}

// jobRuns are the accepted values of schedule.job.run.
var jobRuns = []string{"status", "apply-next-wave", "sweep", "report"}

// validateOperations checks [[schedule.job]], [sweep] and [lint]. Cron specs
// are parsed with the scheduler's parser (ParseCronSpec), so a spec accepted
// here is one the scheduler runs.
func (c *Config) validateOperations() []fieldError {
	var errs []fieldError
	add := func(msg string, key ...string) { errs = append(errs, fieldError{key: key, msg: msg}) }
	addJob := func(i int, msg string, key ...string) {
		errs = append(errs, fieldError{key: append([]string{"schedule", "job"}, key...), msg: msg, arr: 2, elem: i + 1})
	}
	seen := map[string]bool{}
	for i, j := range c.Schedule.Job {
		switch {
		case strings.TrimSpace(j.Name) == "":
			addJob(i, fmt.Sprintf("job %d has no name", i+1))
		case seen[j.Name]:
			addJob(i, fmt.Sprintf("job %q is defined twice", j.Name), "name")
		}
		seen[j.Name] = true
		if strings.TrimSpace(j.Spec) == "" {
			addJob(i, fmt.Sprintf("job %q has no spec (a cron spec such as \"0 3 * * *\" or \"@daily\")", j.Name))
		} else if _, err := ParseCronSpec(j.Spec); err != nil {
			addJob(i, fmt.Sprintf("job %q: spec %q: %v; want five fields (minute hour day-of-month month day-of-week, such as \"0 3 * * *\") or a descriptor such as @daily", j.Name, j.Spec, err), "spec")
		}
		if !slices.Contains(jobRuns, j.Run) {
			addJob(i, fmt.Sprintf("job %q: run %q is not a job kind; want one of %s", j.Name, j.Run, strings.Join(jobRuns, ", ")), "run")
		}
	}
	if c.Sweep.AgeDays < 1 || c.Sweep.AgeDays > 365 {
		add(fmt.Sprintf("%d is out of range; want 1 to 365 days", c.Sweep.AgeDays), "sweep", "age_days")
	}
	if c.Sweep.ExpiryDays < 1 || c.Sweep.ExpiryDays > 90 {
		add(fmt.Sprintf("%d is out of range; want 1 to 90 days", c.Sweep.ExpiryDays), "sweep", "expiry_days")
	}
	for i, d := range c.Sweep.EscalateDays {
		if d < 0 || d >= c.Sweep.ExpiryDays || (i > 0 && d >= c.Sweep.EscalateDays[i-1]) {
			add(fmt.Sprintf("%v: want days before expiry, largest first, each below expiry_days (%d)", c.Sweep.EscalateDays, c.Sweep.ExpiryDays), "sweep", "escalate_days")
			break
		}
	}
	for i, ig := range c.Lint.Ignore {
		switch {
		case strings.TrimSpace(ig.Rule) == "":
			add(fmt.Sprintf("entry %d has no rule (a rule ID such as token-publish, or \"*\")", i+1), "lint", "ignore")
		case strings.TrimSpace(ig.Path) == "":
			add(fmt.Sprintf("entry %d (%s) has no path (a repository-relative path or pattern)", i+1, ig.Rule), "lint", "ignore")
		case strings.TrimSpace(ig.Reason) == "":
			add(fmt.Sprintf("entry %d (%s on %s) has no reason; an ignored result needs one", i+1, ig.Rule, ig.Path), "lint", "ignore")
		}
		if _, err := path.Match(ig.Path, ""); err != nil {
			add(fmt.Sprintf("entry %d: path %q is not a valid pattern: %v", i+1, ig.Path, err), "lint", "ignore")
		}
	}
	if c.Sweep.WebhookURL != "" {
		// The URL itself is often a secret (chat webhooks): never echo it.
		if u, err := url.Parse(c.Sweep.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("is not an absolute http(s) URL", "sweep", "webhook_url")
		}
	}
	return errs
}

var (
	npmRangeRE = regexp.MustCompile(`^(\^|~)?\d+(\.\d+){0,2}$`)
	branchRE   = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)
	repoRE     = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
)

// gateRequires are the accepted values of waves.require.
var gateRequires = []string{"checks", "merged", "verified"}

// logLevels are the accepted values of log.level.
var logLevels = []string{"debug", "info", "warn", "error"}

// logFormats are the accepted values of log.format.
var logFormats = []string{"auto", "text", "json"}

func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if u.User != nil {
		return fmt.Errorf("%q must not contain credentials; use a token environment variable", redactUserinfo(u))
	}
	return nil
}

// CheckSecureURL refuses raw when it is http:// to a host other than
// loopback, where tokens would cross the network in clear, unless allowed
// (allow_insecure_http = true in [table]). The CLI checks a registry given
// by --registry, the environment or npm's own setting with it, as the
// config's own are checked.
func CheckSecureURL(raw string, allowed bool, table string) error {
	return checkSecureURL(raw, allowed, table)
}

// checkSecureURL refuses http:// to a host other than loopback, where
// tokens would cross the network in clear, unless allowed in [table].
func checkSecureURL(raw string, allowed bool, table string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || allowed {
		return nil
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%q is plain http to %s, which would send tokens in clear over the network: use https, or set allow_insecure_http = true in [%s] if you must", raw, host, table)
}

func redactUserinfo(u *url.URL) string {
	v := *u
	v.User = url.User("REDACTED")
	return v.String()
}

// validate checks [github.app]: an id, and the private key from exactly
// one place.
func (a GitHubApp) validate() []fieldError {
	var errs []fieldError
	add := func(msg string, key ...string) { errs = append(errs, fieldError{key: key, msg: msg}) }
	set := a.ID != 0 || a.InstallationID != 0 || a.PrivateKeyFile != "" || a.PrivateKeyEnv != ""
	if !set {
		return nil
	}
	if a.ID <= 0 {
		add(fmt.Sprintf("%d: want the App's numeric id (the \"App ID\" of its settings page)", a.ID), "github", "app", "id")
	}
	if a.InstallationID < 0 {
		add(fmt.Sprintf("%d: want the installation's numeric id, or leave it out to find the installation on [github] org", a.InstallationID), "github", "app", "installation_id")
	}
	switch {
	case a.PrivateKeyFile == "" && a.PrivateKeyEnv == "":
		add("the App needs its private key: set private_key_file (a PEM file) or private_key_env (a variable holding the PEM)", "github", "app")
	case a.PrivateKeyFile != "" && a.PrivateKeyEnv != "":
		add("set private_key_file or private_key_env, not both", "github", "app")
	case a.PrivateKeyEnv != "" && !envNameRE.MatchString(a.PrivateKeyEnv):
		add(fmt.Sprintf("%q is not an environment variable name", a.PrivateKeyEnv), "github", "app", "private_key_env")
	}
	return errs
}
