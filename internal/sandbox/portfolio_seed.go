package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// Seeded is what World.Seed made that a client needs. Token values are
// secrets: print GitHubToken only where the user asked for it, and never
// print NPMToken.
type Seeded struct {
	// Org is the organisation holding the repositories.
	Org string
	// GitHubLogin and GitHubToken are a user and a token with every
	// permission the emulator checks, for running a campaign.
	GitHubLogin, GitHubToken string
	// LimitedLogin and LimitedToken are a second user whose fine-grained
	// token reaches Org with every permission but workflows (write): its
	// pushes touching .github/workflows are refused, as GitHub refuses
	// them, so the permission preflight's refusals can be rehearsed.
	LimitedLogin, LimitedToken string
	// ReadOnlyLogin and ReadOnlyToken are a third user whose fine-grained
	// token may only read Org's repositories.
	ReadOnlyLogin, ReadOnlyToken string
	// NPMUser is the registry user with two-factor authentication who
	// maintains every package; NPMToken is its token for management calls
	// (trust, token list, revoke), which also need NPMOTP or the web flow.
	NPMUser, NPMToken, NPMOTP string
	// Repos is how many repositories were created.
	Repos int
	// Packages is how many packages the registry holds.
	Packages int
	// CircleCIToken is a personal API token of the sandbox's CircleCI
	// (World.CircleCIAPIURL), which sets project environment variables.
	CircleCIToken string
}

// Seed creates the portfolio in the World: the repositories with their
// rendered files, environments, secrets and CI failures; on the registry,
// the users, the packages with their version histories (token- and
// OIDC-published), trusted publishers and tokens; and a GitHub token with
// every permission. Times are set back from the World's clock by the ages
// the portfolio holds. Seed turns the lint CI on when the World runs its own
// CI. The registry side is seeded in order, so the same portfolio gives the
// same identifiers; repositories are created concurrently. Seed a World
// once: a second portfolio's users and packages clash with the first's.
func (w *World) Seed(ctx context.Context, p Portfolio) (Seeded, error) {
	now := w.now().UTC()
	out := Seeded{Org: p.Org, GitHubLogin: p.Org + "-campaign", NPMUser: p.AdminUser, NPMOTP: p.AdminOTP}
	if err := w.seedNPMUsers(p, now, &out); err != nil {
		return out, err
	}

	type repoSeed struct {
		r     Repo
		token string // the value of the repository's own npm token secret
	}
	seeds := make([]repoSeed, len(p.Repos))
	orgToken := ""
	if p.OrgSecret != nil {
		tok, err := w.addToken(p.OrgSecret.Token, now)
		if err != nil {
			return out, err
		}
		orgToken = tok
	}
	for i, r := range p.Repos {
		seeds[i].r = r
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if err := w.seedPackages(p, r, now); err != nil {
			return out, err
		}
		if r.Secret != nil && r.Secret.Scope != "org" {
			tok, err := w.addToken(r.Secret.Token, now)
			if err != nil {
				return out, err
			}
			seeds[i].token = tok
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(16, 4*runtime.GOMAXPROCS(0)))
	for _, s := range seeds {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			return w.seedRepo(p, s.r, s.token, now)
		})
	}
	if err := g.Wait(); err != nil {
		return out, err
	}
	if p.OrgSecret != nil {
		if err := w.SetSecret("org", p.Org, "", p.OrgSecret.Name, orgToken, now.Add(-p.OrgSecret.Token.Age)); err != nil {
			return out, err
		}
	}

	var b [20]byte
	_, _ = rand.Read(b[:])
	out.GitHubToken = "ghp_" + hex.EncodeToString(b[:])
	w.API.AddToken(out.GitHubToken, ghapi.Identity{Login: out.GitHubLogin, Owners: []string{p.Org}, Permissions: ghapi.AllPermissions()})
	noWorkflows := ghapi.AllPermissions()
	delete(noWorkflows, ghapi.PermWorkflows)
	out.LimitedLogin, out.LimitedToken = p.Org+"-limited", fineGrainedToken()
	w.API.AddToken(out.LimitedToken, ghapi.Identity{Login: out.LimitedLogin, Owners: []string{p.Org}, Permissions: noWorkflows})
	out.ReadOnlyLogin, out.ReadOnlyToken = p.Org+"-reader", fineGrainedToken()
	w.API.AddToken(out.ReadOnlyToken, ghapi.Identity{Login: out.ReadOnlyLogin, Owners: []string{p.Org}, Permissions: map[string]string{
		ghapi.PermContents: ghapi.Read, ghapi.PermPullRequests: ghapi.Read, ghapi.PermIssues: ghapi.Read,
		ghapi.PermChecks: ghapi.Read, ghapi.PermStatuses: ghapi.Read, ghapi.PermActions: ghapi.Read,
		ghapi.PermVariables: ghapi.Read, ghapi.PermEnvironments: ghapi.Read,
	}})
	w.CI.SetLint(true)
	out.CircleCIToken = w.CircleCIToken()
	out.Repos = len(p.Repos)
	out.Packages = len(w.NPM.Packages())
	return out, nil
}

// seedNPMUsers adds the admin and bot users, the admin's management token
// and the stray tokens.
func (w *World) seedNPMUsers(p Portfolio, now time.Time, out *Seeded) error {
	for _, u := range []npmreg.UserSpec{
		{Name: p.AdminUser, Email: p.AdminUser + "@users.noreply.invalid", OTP: p.AdminOTP, WebAuth: true},
		{Name: p.BotUser, Email: p.BotUser + "@users.noreply.invalid"},
	} {
		if err := w.NPM.AddUser(u); err != nil {
			return fmt.Errorf("could not add npm user %q: %w", u.Name, err)
		}
	}
	admin, err := w.NPM.AddToken(npmreg.TokenSpec{
		User: p.AdminUser, Name: "cutover campaign", Created: now.Add(-day), Expires: now.Add(29 * day),
	})
	if err != nil {
		return fmt.Errorf("could not add the admin's npm token: %w", err)
	}
	out.NPMToken = admin.Value
	for _, t := range p.ExtraTokens {
		if _, err := w.addToken(t, now); err != nil {
			return err
		}
	}
	return nil
}

// addToken adds t on the registry and returns its value.
func (w *World) addToken(t NPMToken, now time.Time) (string, error) {
	spec := npmreg.TokenSpec{
		User: t.User, Name: t.Name, Created: now.Add(-t.Age), Readonly: t.Readonly, Bypass2FA: t.Bypass2FA,
	}
	if t.Lifetime > 0 {
		spec.Expires = spec.Created.Add(t.Lifetime)
	}
	tok, err := w.NPM.AddToken(spec)
	if err != nil {
		return "", fmt.Errorf("could not add npm token %q: %w", t.Name, err)
	}
	return tok.Value, nil
}

// seedPackages adds the repository's packages with their histories and its
// trusted-publisher configurations.
func (w *World) seedPackages(p Portfolio, r Repo, now time.Time) error {
	full := r.FullName(p.Org)
	for _, pkg := range r.Packages {
		if len(pkg.History) == 0 {
			continue
		}
		err := w.NPM.AddPackage(npmreg.PackageSpec{
			Name: pkg.Name, Maintainers: []string{p.BotUser, p.AdminUser}, Private: pkg.Restricted,
			Created: now.Add(-pkg.History[0].Age),
		})
		if err != nil {
			return fmt.Errorf("could not add package %q: %w", pkg.Name, err)
		}
		if r.Trust != TrustNone && pkg.Publish {
			if _, err := w.NPM.SetTrust(pkg.Name, trustSpec(full, r)); err != nil {
				return fmt.Errorf("could not set the trusted publisher of %q: %w", pkg.Name, err)
			}
		}
		wf := &npmreg.Workflow{Repository: full, Path: ".github/workflows/" + r.TrustedWorkflow, Ref: "refs/heads/" + r.DefaultBranch, Environment: r.Environment}
		for _, v := range pkg.History {
			spec := npmreg.VersionSpec{Version: v.Version, Published: now.Add(-v.Age), By: p.BotUser, NpmVersion: "10.9.2"}
			if v.OIDC {
				spec.By, spec.OIDC, spec.NpmVersion = "", wf, "11.6.2"
				if !r.Private && !pkg.Restricted {
					spec.Provenance = wf
				}
			}
			if err := w.NPM.AddVersion(pkg.Name, spec); err != nil {
				return fmt.Errorf("could not add %s@%s: %w", pkg.Name, v.Version, err)
			}
		}
	}
	return nil
}

// trustSpec is the trusted publisher of r's packages: the right one, or one
// that differs the way real mistakes do.
func trustSpec(full string, r Repo) npmreg.TrustSpec {
	t := npmreg.TrustSpec{Repository: full, File: r.TrustedWorkflow, Environment: r.Environment}
	if r.Trust != TrustMismatch {
		return t
	}
	switch r.variant.mismatch {
	case "case":
		t.File = strings.ToUpper(r.TrustedWorkflow[:1]) + r.TrustedWorkflow[1:]
	case "extension":
		if ext := ".yml"; len(t.File) > 4 && t.File[len(t.File)-4:] == ext {
			t.File = t.File[:len(t.File)-4] + ".yaml"
		} else {
			t.File = t.File[:len(t.File)-5] + ".yml"
		}
	case "environment":
		t.Environment = "npm-publish"
		if r.Environment == "npm-publish" {
			t.Environment = "npm"
		}
	default: // the repository was renamed or transferred
		t.Repository = full + "-old"
	}
	return t
}

// seedRepo creates one repository with its files, environment, secret and
// CI failure.
func (w *World) seedRepo(p Portfolio, r Repo, token string, now time.Time) error {
	files, err := p.Files(r, w.RegistryURL)
	if err != nil {
		return err
	}
	created := now.Add(-r.Age)
	full := r.FullName(p.Org)
	err = w.CreateRepo(p.Org, r.Name, ghapi.RepoOptions{
		Description: r.variant.description, Private: r.Private, Archived: r.Archived,
		Topics: r.Topics, Language: "JavaScript", DefaultBranch: r.DefaultBranch, Files: files, CreatedAt: created,
		Author:  object.Signature{Name: "Sandbox Maintainer", Email: "maintainer@users.noreply.invalid", When: created},
		Message: "Initial import of " + r.Name,
	})
	if err != nil {
		return fmt.Errorf("could not create %q: %w", full, err)
	}
	if r.Environment != "" {
		if err := w.API.SetEnvironment(p.Org, r.Name, r.Environment); err != nil {
			return err
		}
	}
	if r.CircleCI != nil {
		w.AddCircleCIProject(full, *r.CircleCI)
	}
	switch {
	case r.Secret == nil || r.Secret.Scope == "org":
	case r.Secret.Scope == ScopeCircleCIContext:
		w.SetCircleCIContextVar(r.Secret.Context, r.Secret.ContextID, r.Secret.Name, token)
	default:
		if err := w.SetSecret(r.Secret.Scope, full, r.Environment, r.Secret.Name, token, now.Add(-r.Secret.Token.Age)); err != nil {
			return fmt.Errorf("could not set the secret of %q: %w", full, err)
		}
	}
	if r.CIFailure != "" {
		w.CI.Fail(full, r.CIFailure)
	}
	return nil
}

// fineGrainedToken returns a new fine-grained personal access token value.
func fineGrainedToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "github_pat_" + hex.EncodeToString(b[:])
}
