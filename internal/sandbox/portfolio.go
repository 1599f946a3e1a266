package sandbox

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/cutover/cutover/rewrite"
)

// Kind is the shape of a generated repository: how, if at all, it publishes.
type Kind string

// Kinds of generated repositories.
const (
	// KindNPM is a single package published by npm publish with a token.
	KindNPM Kind = "npm"
	// KindNPMWorkspaces is an npm workspaces monorepo published with --workspaces.
	KindNPMWorkspaces Kind = "npm-workspaces"
	// KindPNPM is a pnpm workspace published with pnpm -r publish.
	KindPNPM Kind = "pnpm-workspace"
	// KindYarn is a Yarn (Berry) workspaces monorepo published with yarn npm publish.
	KindYarn Kind = "yarn-workspaces"
	// KindLerna is a lerna monorepo published with lerna publish from-package.
	KindLerna Kind = "lerna"
	// KindPrivate is a restricted scoped package (private on the registry).
	KindPrivate Kind = "private-scoped"
	// KindSemanticRelease publishes with semantic-release.
	KindSemanticRelease Kind = "semantic-release"
	// KindChangesets publishes with changesets/action.
	KindChangesets Kind = "changesets"
	// KindReleasePlease runs release-please and a publish job gated on its output.
	KindReleasePlease Kind = "release-please"
	// KindJSDevTools publishes with the JS-DevTools/npm-publish action.
	KindJSDevTools Kind = "js-devtools"
	// KindNpmrc writes the token into .npmrc by hand (a run step or a committed file).
	KindNpmrc Kind = "npmrc"
	// KindReusable publishes from a reusable workflow called by a release workflow.
	KindReusable Kind = "reusable"
	// KindSelfHosted publishes with a token from a self-hosted runner.
	KindSelfHosted Kind = "self-hosted"
	// KindMigrated already publishes through trusted publishing (OIDC).
	KindMigrated Kind = "migrated"
	// KindNone does not publish: CI only.
	KindNone Kind = "none"
	// KindManual does not publish from CI; its RELEASING.md documents a manual publish.
	KindManual Kind = "manual"
	// KindBroken publishes with a token and also holds a workflow that does not parse.
	KindBroken Kind = "broken"
	// KindCircleCI publishes from CircleCI (.circleci/config.yml) with a
	// token kept in a CircleCI context.
	KindCircleCI Kind = "circleci"
	// KindGitLab publishes from GitLab CI/CD (.gitlab-ci.yml) with a token
	// kept in a CI/CD variable. GitLab repositories are not on the
	// sandbox's GitHub: they are Portfolio.GitLab, local checkouts for
	// cutover scan (WriteGitLabCheckouts).
	KindGitLab Kind = "gitlab"
)

// Kinds lists every Kind in a fixed order.
func Kinds() []Kind {
	return []Kind{
		KindNPM, KindNPMWorkspaces, KindPNPM, KindYarn, KindLerna, KindPrivate,
		KindSemanticRelease, KindChangesets, KindReleasePlease, KindJSDevTools, KindNpmrc,
		KindReusable, KindSelfHosted, KindMigrated, KindNone, KindManual, KindBroken,
		KindCircleCI, KindGitLab,
	}
}

// DefaultWeights returns the share of each Kind in a generated portfolio,
// roughly what a JavaScript-heavy organisation holds. CircleCI and GitLab
// repositories are not drawn by weight: PortfolioOptions.CircleCI and
// GitLab set how many there are.
func DefaultWeights() map[Kind]int {
	return map[Kind]int{
		KindNPM: 18, KindNPMWorkspaces: 5, KindPNPM: 6, KindYarn: 4, KindLerna: 4, KindPrivate: 6,
		KindSemanticRelease: 8, KindChangesets: 7, KindReleasePlease: 5, KindJSDevTools: 4, KindNpmrc: 5,
		KindReusable: 4, KindSelfHosted: 3, KindMigrated: 8, KindNone: 8, KindManual: 2, KindBroken: 3,
	}
}

// PortfolioOptions tune Generate. The zero value means the defaults.
type PortfolioOptions struct {
	// Org is the organisation that owns the repositories; empty means "sandbox-org".
	Org string
	// Weights sets the share of each Kind; nil means DefaultWeights.
	Weights map[Kind]int
	// AdminOTP is the one-time password the admin npm user always accepts; empty means "000000".
	AdminOTP string
	// CIFailureRate is the share of repositories whose simulated CI always fails; negative means none, zero means 3%.
	CIFailureRate float64
	// CircleCI is how many of the repositories publish from CircleCI
	// besides those Weights draws (KindCircleCI); zero means 1 + n/40 for
	// six repositories or more when Weights is nil (else none), negative
	// means none.
	CircleCI int
	// GitLab is how many GitLab projects Portfolio.GitLab holds, besides
	// the n repositories; zero means 2 + n/100, negative means none.
	GitLab int
}

// Portfolio is a generated organisation: repositories, their secrets, and the
// npm side (users, packages with histories, tokens). Times are ages relative
// to the moment World.Seed runs, so a Portfolio is the same for a seed
// whenever it is generated.
type Portfolio struct {
	// Seed is the seed the portfolio was generated from.
	Seed int64
	// Org is the organisation.
	Org string
	// Scope is the npm scope of the organisation's scoped packages, with "@".
	Scope string
	// AdminUser is the npm user with two-factor authentication who maintains
	// every package and manages trusted publishers.
	AdminUser string
	// AdminOTP is the one-time password AdminUser accepts.
	AdminOTP string
	// BotUser is the npm automation user whose tokens the repositories hold.
	BotUser string
	// Repos are the repositories, sorted by name.
	Repos []Repo
	// OrgSecret, when set, is the organisation-level npm token secret some
	// repositories read instead of a repository secret.
	OrgSecret *Secret
	// ExtraTokens are registry tokens no secret holds: stale personal tokens
	// and leftovers a sweep should find.
	ExtraTokens []NPMToken
	// CircleCIOrgID is the CircleCI organization (a UUID) of the
	// repositories that publish from CircleCI.
	CircleCIOrgID string
	// GitLab are GitLab projects of the organisation's GitLab group, of
	// KindGitLab: local checkouts (WriteGitLabCheckouts), not on the
	// sandbox's GitHub.
	GitLab []Repo
}

// CircleCIProjects returns the CircleCI IDs of the repositories that publish
// from CircleCI by "org/name", what [[circleci.project]] tables would say.
func (p Portfolio) CircleCIProjects() map[string]rewrite.CircleCIProject {
	out := map[string]rewrite.CircleCIProject{}
	for _, r := range p.Repos {
		if r.CircleCI != nil {
			out[r.FullName(p.Org)] = *r.CircleCI
		}
	}
	return out
}

// Repo is one generated repository and what detection should find in it.
type Repo struct {
	// Name is the repository name (without the organisation).
	Name string
	// Kind is the repository's shape.
	Kind Kind
	// Private makes the GitHub repository private.
	Private bool
	// Archived marks the repository archived.
	Archived bool
	// DefaultBranch is "main" or "master".
	DefaultBranch string
	// Age is how long ago the repository was created.
	Age time.Duration
	// Topics are the repository's topics.
	Topics []string
	// Node is the node-version of the publish job ("20", "22", "24").
	Node string
	// Workflow is the path of the workflow holding the publish job, "" when none.
	Workflow string
	// TrustedWorkflow is the file name a trusted publisher must name: the
	// calling workflow's for reusable workflows.
	TrustedWorkflow string
	// Environment is the publish job's deployment environment, if any.
	Environment string
	// Provenance is true when the token path also asks for provenance.
	Provenance bool
	// SelfHosted is true when the publish job runs on a self-hosted runner.
	SelfHosted bool
	// Credential is what rewrite.Detect should report for the repository.
	Credential rewrite.Credential
	// Publishes is what rewrite.Detect should report as Publishes.
	Publishes bool
	// Broken is true when a workflow file does not parse.
	Broken bool
	// CRLF is true when the workflow files use CRLF line endings.
	CRLF bool
	// Comments is true when the workflow files carry comments.
	Comments bool
	// Secret is the npm token secret the publish reads, if any.
	Secret *Secret
	// Packages are the repository's package.json files; workspace roots included.
	Packages []Package
	// Trust is the trusted-publisher state on the registry: TrustNone,
	// TrustMatch or TrustMismatch.
	Trust string
	// CIFailure, when set, makes every simulated CI run of the repository
	// fail with this summary.
	CIFailure string
	// CircleCI holds the CircleCI project of a KindCircleCI repository.
	CircleCI *rewrite.CircleCIProject

	// variant holds rendering choices that detection does not report.
	variant variant
}

// Secret scopes besides GitHub's repo, env and org.
const (
	ScopeCircleCIContext = "circleci-context"
	ScopeGitLabVariable  = "gitlab-variable"
)

// Trusted-publisher states of a generated repository (Repo.Trust).
const (
	TrustNone     = "none"
	TrustMatch    = "match"
	TrustMismatch = "mismatch"
)

// FullName returns "org/name".
func (r Repo) FullName(org string) string { return org + "/" + r.Name }

// sandboxTeams are the teams CODEOWNERS files name.
var sandboxTeams = []string{"platform", "web", "mobile", "data", "payments", "infra", "design-system"}

// CodeOwner is the team the repository's .github/CODEOWNERS names for
// every file ("@org/team"), or "" for the one repository in eight that
// has no CODEOWNERS file. It is a function of the repository's name, so a
// portfolio's random draws do not depend on it.
func (p Portfolio) CodeOwner(r Repo) string {
	h := fnv.New32a()
	h.Write([]byte(r.Name))
	n := h.Sum32()
	if n%8 == 7 {
		return ""
	}
	return "@" + p.Org + "/" + sandboxTeams[(n/8)%uint32(len(sandboxTeams))]
}

// Publishable returns the names of the packages a release publishes, in order.
func (r Repo) Publishable() []string {
	var out []string
	for _, p := range r.Packages {
		if p.Publish {
			out = append(out, p.Name)
		}
	}
	return out
}

// Package is one package.json of a generated repository.
type Package struct {
	// Name is the package name.
	Name string
	// Dir is the package's folder, "." for the root.
	Dir string
	// Version is the version in package.json.
	Version string
	// Private marks package.json "private": true (never published).
	Private bool
	// Restricted publishes the package with access restricted (a private npm package).
	Restricted bool
	// Publish is true when the repository's pipeline publishes the package.
	Publish bool
	// History is the package's published versions on the registry, oldest first.
	History []Version
}

// Version is one published version of a package.
type Version struct {
	// Version is the semver version.
	Version string
	// Age is how long ago it was published.
	Age time.Duration
	// OIDC is true when it was published through trusted publishing.
	OIDC bool
}

// Secret is an npm token stored as a GitHub Actions secret, in a CircleCI
// context or as a GitLab CI/CD variable.
type Secret struct {
	// Name is the secret's name, such as "NPM_TOKEN".
	Name string
	// Scope is "repo", "env" (the publish job's environment) or "org";
	// ScopeCircleCIContext or ScopeGitLabVariable.
	Scope string
	// Context and ContextID name the CircleCI context of
	// ScopeCircleCIContext.
	Context, ContextID string
	// Token is the registry token the secret holds.
	Token NPMToken
}

// NPMToken is an access token on the registry side.
type NPMToken struct {
	// Name is the token's display name.
	Name string
	// User owns the token.
	User string
	// Age is how long ago it was created (and stored in its secret).
	Age time.Duration
	// Lifetime is how long it lives from creation; zero means no expiry.
	Lifetime time.Duration
	// Readonly tokens cannot publish.
	Readonly bool
	// Bypass2FA tokens publish without an OTP.
	Bypass2FA bool
}

// Expired reports whether the token has expired.
func (t NPMToken) Expired() bool { return t.Lifetime > 0 && t.Age >= t.Lifetime }

// variant is what a template needs beyond the Repo's reported fields.
type variant struct {
	trigger     string // release, tag, dispatch, push
	checkout    string
	setupNode   string
	registryURL bool // write registry-url into setup-node
	jobEnv      bool // token env at job level rather than step level
	npmrcFile   bool // KindNpmrc: a committed .npmrc rather than a run step
	yarnEnv     bool // KindYarn: YARN_NPM_AUTH_TOKEN rather than .yarnrc.yml npmAuthToken
	inherit     bool // KindReusable: secrets: inherit
	srVersion   string
	mismatch    string // how a mismatched trust config differs
	cache       bool
	upgradeNPM  bool // KindMigrated on Node 22: an unguarded npm upgrade step
	description string
}

const day = 24 * time.Hour

// Generate returns a portfolio of n repositories, the same for the same seed,
// n and options.
func Generate(seed int64, n int, opts PortfolioOptions) Portfolio {
	g := &generator{
		rng:   rand.New(rand.NewPCG(uint64(seed), 0x5eed_c0de_cafe_f00d)),
		names: map[string]bool{},
		pkgs:  map[string]bool{},
	}
	org := opts.Org
	if org == "" {
		org = "sandbox-org"
	}
	weights := opts.Weights
	if weights == nil {
		weights = DefaultWeights()
	}
	failRate := opts.CIFailureRate
	if failRate == 0 {
		failRate = 0.03
	}
	p := Portfolio{
		Seed: seed, Org: org, Scope: "@" + strings.ToLower(org),
		AdminUser: strings.ToLower(org) + "-admin", AdminOTP: opts.AdminOTP,
		BotUser: strings.ToLower(org) + "-bot",
	}
	if p.AdminOTP == "" {
		p.AdminOTP = "000000"
	}
	g.p = &p
	p.OrgSecret = &Secret{Name: "NPM_TOKEN", Scope: "org", Token: NPMToken{
		Name: "org-wide publish token", User: p.BotUser, Age: 97 * day, Lifetime: 365 * day, Bypass2FA: true,
	}}
	circle := opts.CircleCI
	switch {
	case circle == 0 && opts.Weights == nil && n >= 6:
		circle = 1 + n/40
	case circle < 0:
		circle = 0
	}
	circle = min(circle, n)
	gitlab := opts.GitLab
	switch {
	case gitlab == 0:
		gitlab = 2 + n/100
	case gitlab < 0:
		gitlab = 0
	}
	// CircleCI and GitLab repositories come from a stream of their own, so
	// the others are the same whatever their number.
	side := rand.New(rand.NewPCG(uint64(seed), 0xc12c_1e_9174b))
	p.CircleCIOrgID = fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", side.Uint32(), side.IntN(1<<16), side.IntN(1<<12), 0x8000|side.IntN(1<<14), side.Uint64()&(1<<48-1))
	usedOrg := false
	for range n - circle {
		r := g.repo(g.pick(weights))
		if r.Secret != nil && r.Secret.Scope == "org" {
			usedOrg = true
		}
		if failRate > 0 && g.rng.Float64() < failRate {
			r.CIFailure = g.choose("test suite failed: 3 failing tests in src/index.test.js", "lint failed: 12 problems (12 errors, 0 warnings)", "build failed: Cannot find module './generated'")
		}
		p.Repos = append(p.Repos, r)
	}
	main := g.rng
	g.rng = side
	for range circle {
		p.Repos = append(p.Repos, g.repo(KindCircleCI))
	}
	for range gitlab {
		p.GitLab = append(p.GitLab, g.repo(KindGitLab))
	}
	slices.SortFunc(p.GitLab, func(a, b Repo) int { return strings.Compare(a.Name, b.Name) })
	g.rng = main
	if !usedOrg {
		p.OrgSecret = nil
	}
	slices.SortFunc(p.Repos, func(a, b Repo) int { return strings.Compare(a.Name, b.Name) })
	for i := range 2 + n/25 {
		p.ExtraTokens = append(p.ExtraTokens, NPMToken{
			Name: fmt.Sprintf("laptop %d", i+1), User: p.AdminUser, Age: time.Duration(30+g.rng.IntN(300)) * day,
			Lifetime: g.chooseDur(0, 90*day, 365*day), Readonly: i%2 == 0,
		})
	}
	return p
}

type generator struct {
	rng   *rand.Rand
	p     *Portfolio
	names map[string]bool
	pkgs  map[string]bool
}

func (g *generator) pick(weights map[Kind]int) Kind {
	total := 0
	weight := func(k Kind) int {
		if k == KindGitLab { // not a GitHub repository
			return 0
		}
		return max(weights[k], 0)
	}
	for _, k := range Kinds() {
		total += weight(k)
	}
	if total == 0 {
		return KindNPM
	}
	x := g.rng.IntN(total)
	for _, k := range Kinds() {
		w := weight(k)
		if x < w {
			return k
		}
		x -= w
	}
	return KindNPM
}

func (g *generator) choose(s ...string) string { return s[g.rng.IntN(len(s))] }

func (g *generator) chooseDur(d ...time.Duration) time.Duration { return d[g.rng.IntN(len(d))] }

func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

// uuid returns a random (version 4 shaped) UUID from the generator's stream.
func (g *generator) uuid() string {
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", g.rng.Uint32(), g.rng.IntN(1<<16), g.rng.IntN(1<<12), 0x8000|g.rng.IntN(1<<14), g.rng.Uint64()&(1<<48-1))
}

var (
	adjectives = []string{"amber", "brisk", "calm", "dapper", "eager", "fuzzy", "gentle", "hollow", "icy", "jolly",
		"keen", "lucid", "mellow", "nimble", "opal", "plucky", "quiet", "rapid", "sunny", "tidy", "umber", "vivid",
		"witty", "young", "zesty", "bold", "crisp", "deft", "epic", "frank"}
	nouns = []string{"otter", "falcon", "badger", "comet", "delta", "ember", "fjord", "glacier", "harbor", "island",
		"jetty", "kernel", "lantern", "meadow", "nebula", "orbit", "pixel", "quartz", "river", "summit", "tundra",
		"umbra", "valley", "willow", "yarrow", "zephyr", "beacon", "cinder", "dune", "ferry"}
	suffixes = []string{"", "-js", "-kit", "-utils", "-core", "-cli", "-sdk", "-ui", "-lib"}
	members  = []string{"core", "cli", "utils", "react", "vue", "server", "client", "types", "config", "plugin"}
)

func (g *generator) repoName() string {
	for i := 0; ; i++ {
		n := adjectives[g.rng.IntN(len(adjectives))] + "-" + nouns[g.rng.IntN(len(nouns))] + suffixes[g.rng.IntN(len(suffixes))]
		if i > 20 {
			n += fmt.Sprintf("-%d", i)
		}
		if !g.names[n] {
			g.names[n] = true
			return n
		}
	}
}

// pkgName returns a package name no other generated package has.
func (g *generator) pkgName(base string, scoped bool) string {
	name := base
	if scoped {
		name = g.p.Scope + "/" + base
	} else {
		name = strings.ToLower(g.p.Org) + "-" + base
	}
	for i := 2; g.pkgs[name]; i++ {
		name = fmt.Sprintf("%s-%d", strings.TrimSuffix(name, fmt.Sprintf("-%d", i-1)), i)
	}
	g.pkgs[name] = true
	return name
}

// history returns n published versions ending at the package.json version.
func (g *generator) history(newest time.Duration) ([]Version, string) {
	n := 2 + g.rng.IntN(7)
	major := g.rng.IntN(5)
	minor, patch := 0, 0
	age := newest + time.Duration(30+g.rng.IntN(700))*day
	step := (age - newest) / time.Duration(n)
	var out []Version
	for i := range n {
		if i > 0 {
			switch x := g.rng.IntN(10); {
			case x < 6:
				patch++
			case x < 9:
				minor, patch = minor+1, 0
			default:
				major, minor, patch = major+1, 0, 0
			}
		}
		out = append(out, Version{Version: fmt.Sprintf("%d.%d.%d", major, minor, patch), Age: age})
		age -= step
	}
	out[n-1].Age = newest
	return out, out[n-1].Version
}

// repo generates one repository of kind k.
func (g *generator) repo(k Kind) Repo {
	r := Repo{
		Name: g.repoName(), Kind: k, Private: g.chance(0.2), DefaultBranch: "main",
		Age:  time.Duration(200+g.rng.IntN(2000)) * day,
		Node: g.choose("20", "22", "22", "24"), Trust: TrustNone,
		Comments: g.chance(0.4), CRLF: g.chance(0.06),
		Publishes: true, Credential: rewrite.CredToken,
	}
	if g.chance(0.15) {
		r.DefaultBranch = "master"
	}
	r.Topics = []string{g.choose("javascript", "typescript", "nodejs"), g.choose("library", "tooling", "sdk", "frontend")}
	v := &r.variant
	v.trigger = g.choose("release", "release", "tag", "dispatch")
	v.checkout = g.choose("actions/checkout@v4", "actions/checkout@v4", "actions/checkout@v5")
	v.setupNode = g.choose("actions/setup-node@v4", "actions/setup-node@v4", "actions/setup-node@v5")
	v.registryURL = true
	v.jobEnv = g.chance(0.2)
	v.cache = g.chance(0.3)
	v.description = "The " + strings.ReplaceAll(r.Name, "-", " ") + " project."
	wfName := g.choose("release.yml", "release.yml", "publish.yml", "npm-publish.yml", "release.yaml")
	r.Workflow = ".github/workflows/" + wfName
	r.TrustedWorkflow = wfName
	if g.chance(0.15) {
		r.Environment = g.choose("npm", "release", "production")
	}
	if g.chance(0.2) && k != KindMigrated {
		r.Provenance = true
	}

	base := strings.TrimSuffix(strings.TrimSuffix(r.Name, "-js"), "-lib")
	secretAge := time.Duration(1+int(120*pow15(g.rng.Float64()))) * day
	newest := secretAge / 2
	single := func(scoped, restricted bool) {
		hist, ver := g.history(newest)
		r.Packages = []Package{{Name: g.pkgName(base, scoped), Dir: ".", Version: ver, Restricted: restricted, Publish: true, History: hist}}
	}
	workspace := func(dir string) {
		r.Packages = []Package{{Name: base + "-monorepo", Dir: ".", Version: "0.0.0", Private: true}}
		names := slices.Clone(members)
		g.rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		for _, m := range names[:2+g.rng.IntN(3)] {
			hist, ver := g.history(newest)
			r.Packages = append(r.Packages, Package{Name: g.pkgName(base+"-"+m, true), Dir: dir + "/" + m, Version: ver, Publish: true, History: hist})
		}
	}

	switch k {
	case KindNPM, KindBroken, KindSelfHosted, KindNpmrc, KindJSDevTools, KindReusable, KindReleasePlease:
		single(g.chance(0.4), false)
	case KindCircleCI, KindGitLab:
		single(g.chance(0.4), false)
		r.Provenance = false
		r.Workflow, r.TrustedWorkflow = rewrite.CircleCIConfig, rewrite.CircleCIConfig
		if k == KindGitLab {
			r.Workflow, r.TrustedWorkflow = rewrite.GitLabCIPath, rewrite.GitLabCIPath
		} else {
			r.Environment = ""
			r.CircleCI = &rewrite.CircleCIProject{
				OrgID: g.p.CircleCIOrgID, ProjectID: g.uuid(), PipelineDefinitionID: g.uuid(),
				VCSOrigin: "github.com/" + r.FullName(g.p.Org),
			}
		}
	case KindPrivate:
		single(true, true)
		r.Provenance = false
	case KindSemanticRelease:
		single(g.chance(0.3), false)
		v.srVersion = g.choose("^24.2.3", "^25.0.2", "^25.0.2")
		v.trigger = "push"
	case KindChangesets:
		if g.chance(0.5) {
			workspace("packages")
		} else {
			single(g.chance(0.5), false)
		}
		v.trigger = "push"
	case KindNPMWorkspaces, KindPNPM, KindYarn, KindLerna:
		workspace("packages")
	case KindMigrated:
		single(g.chance(0.5), false)
		r.Credential, r.Trust, r.Secret = rewrite.CredOIDC, TrustMatch, nil
		r.Node = g.choose("22", "24", "24")
		v.upgradeNPM = r.Node == "22"
		v.registryURL = g.chance(0.5)
		migratedAge := time.Duration(5+g.rng.IntN(50)) * day
		for i := range r.Packages {
			h := r.Packages[i].History
			for j := max(0, len(h)-1-g.rng.IntN(3)); j < len(h); j++ {
				h[j].OIDC = true
				h[j].Age = min(h[j].Age, migratedAge)
			}
		}
	case KindNone, KindManual:
		r.Publishes, r.Credential, r.Workflow, r.TrustedWorkflow, r.Environment, r.Provenance = false, rewrite.CredNone, "", "", "", false
		r.Packages = []Package{{Name: base, Dir: ".", Version: "1.0.0", Private: k == KindNone && g.chance(0.5)}}
		if k == KindManual {
			hist, ver := g.history(newest)
			r.Packages = []Package{{Name: g.pkgName(base, false), Dir: ".", Version: ver, History: hist}}
		}
		r.Archived = k == KindNone && g.chance(0.1)
	}

	switch k {
	case KindSelfHosted:
		r.SelfHosted = true
	case KindNpmrc:
		v.npmrcFile = g.chance(0.4)
	case KindYarn:
		v.yarnEnv = g.chance(0.5)
		r.Provenance = false
	case KindReusable:
		v.inherit = g.chance(0.5)
		r.Workflow = ".github/workflows/publish-package.yml"
		if r.TrustedWorkflow == "publish-package.yml" {
			r.TrustedWorkflow = "release.yml"
		}
	case KindJSDevTools, KindLerna, KindPNPM:
		r.Provenance = r.Provenance && k != KindJSDevTools
	case KindBroken:
		r.Broken = true
	}
	if k == KindReleasePlease || k == KindChangesets || k == KindSemanticRelease {
		r.Environment = ""
	}
	if r.Provenance {
		r.Credential = rewrite.CredTokenProvenance
	}
	if r.Credential == rewrite.CredToken || r.Credential == rewrite.CredTokenProvenance {
		scope := "repo"
		switch {
		case r.Environment != "" && g.chance(0.5):
			scope = "env"
		case g.chance(0.15):
			scope = "org"
		}
		switch {
		case k == KindCircleCI:
			r.Secret = &Secret{Name: "NPM_TOKEN", Scope: ScopeCircleCIContext, Context: "npm-" + r.Name, ContextID: g.uuid(), Token: NPMToken{
				Name: "CircleCI " + r.Name, User: g.p.BotUser, Age: secretAge, Lifetime: g.chooseDur(90*day, 365*day), Bypass2FA: true,
			}}
		case k == KindGitLab:
			r.Secret = &Secret{Name: "NPM_TOKEN", Scope: ScopeGitLabVariable, Token: NPMToken{
				Name: "GitLab CI " + r.Name, User: g.p.BotUser, Age: secretAge, Lifetime: g.chooseDur(90*day, 365*day), Bypass2FA: true,
			}}
		case scope == "org":
			r.Secret = &Secret{Name: g.p.OrgSecret.Name, Scope: "org", Token: g.p.OrgSecret.Token}
		default:
			name := "NPM_TOKEN"
			if g.chance(0.15) && k != KindSemanticRelease && k != KindChangesets {
				name = g.choose("NPM_PUBLISH_TOKEN", "NPM_AUTOMATION_TOKEN")
			}
			r.Secret = &Secret{Name: name, Scope: scope, Token: NPMToken{
				Name: "GitHub Actions " + r.Name, User: g.p.BotUser, Age: secretAge,
				Lifetime: g.chooseDur(90*day, 90*day, 60*day, 365*day), Bypass2FA: true,
			}}
		}
		if g.chance(0.05) && k != KindCircleCI && k != KindGitLab {
			r.Trust = TrustMismatch
			v.mismatch = g.choose("case", "extension", "environment", "repository")
		}
	}
	if r.Publishes {
		r.Topics = append(r.Topics, "npm")
	}
	return r
}

// pow15 skews a uniform draw towards zero, so most secrets are recent.
func pow15(x float64) float64 { return math.Pow(x, 1.5) }
