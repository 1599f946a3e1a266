package batch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/rewrite"
)

// TokenOwner maps npm token names (a glob) to the repository they serve.
type TokenOwner struct {
	Name string
	Repo string
}

// RevokeTokensOptions select the npm tokens RevokeTokens revokes. Every
// selector given must match (they combine with AND); at least one is
// required, so an empty selection never means every token.
type RevokeTokensOptions struct {
	// Keys selects tokens by key: the full key, or a unique prefix of at least
	// 8 characters.
	Keys []string
	// Name selects tokens whose name matches this glob (path.Match syntax).
	Name string
	// CreatedBefore selects tokens created before this time.
	CreatedBefore time.Time
	// Owners says which repository the tokens of a name serve; matching
	// tokens are recorded with that repository before Migrated selects.
	Owners []TokenOwner
	// Migrated selects tokens the ledger records for repositories that are
	// cut over (flag on) and verified.
	Migrated bool
	// IncludeSelf lets the selection include the token cutover itself
	// authenticates with; without it that token is never revoked.
	IncludeSelf bool
	// Execute revokes the selected tokens; false only shows the plan.
	Execute bool
}

func (o RevokeTokensOptions) empty() bool {
	return len(o.Keys) == 0 && o.Name == "" && o.CreatedBefore.IsZero() && !o.Migrated
}

// TokenAction is one selected token and what happened to it. It holds what
// the registry's list shows (key, display prefix, name, dates, CIDR), never
// a token value.
type TokenAction struct {
	// Key is the token's key, by which it is revoked.
	Key string `json:"key"`
	// Prefix is the first characters of the token as the registry displays them.
	Prefix string `json:"prefix,omitempty"`
	// Name is the token's name.
	Name string `json:"name,omitempty"`
	// Created is when the token was created.
	Created time.Time `json:"created,omitzero"`
	// Expires is when it expires; nil when it does not or is unknown.
	Expires *time.Time `json:"expires,omitempty"`
	// Readonly is true for a read-only token.
	Readonly bool `json:"readonly,omitempty"`
	// CIDR lists the address ranges the token is limited to.
	CIDR []string `json:"cidr,omitempty"`
	// Repo is the repository the ledger records the token for, if any.
	Repo string `json:"repo,omitempty"`
	// Kind is OK (revoked, or would be in a dry run), Skipped or Failed.
	Kind string `json:"kind"`
	// Reason is a short, stable cause for grouping.
	Reason string `json:"reason,omitempty"`
	// Detail says what happened.
	Detail string `json:"detail,omitempty"`
	// Hint says what a person can do about a failure.
	Hint string `json:"hint,omitempty"`
	// RevokedAt is when the registry accepted the revocation.
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// RevokeTokensReport is the outcome of RevokeTokens.
type RevokeTokensReport struct {
	// Step is "revoke tokens" or "revoke tokens (dry run)".
	Step string `json:"step"`
	// Listed is how many tokens the registry listed.
	Listed int `json:"listed"`
	// Tokens are the selected tokens, oldest first, then keys given that
	// matched none.
	Tokens []TokenAction `json:"tokens"`
	// NotSelected are the other listed tokens, oldest first, each Skipped
	// with why: a selector it does not match (Reason names which), or
	// "cutover's own token".
	NotSelected []TokenAction `json:"not_selected"`
}

// Reasons a listed token is not selected.
const (
	NotSelectedSelf        = "cutover's own token"
	NotSelectedKey         = "key not given"
	NotSelectedName        = "name does not match"
	NotSelectedCreated     = "created too recently"
	NotSelectedNoOwner     = "no owner mapping"
	NotSelectedOwnerGone   = "owner not inventoried"
	NotSelectedNotMigrated = "repository not migrated"
	NotSelectedNotVerified = "repository not verified"
	NotSelectedProxy       = "publishes via registry proxy"
)

// Self returns the tokens left out because cutover authenticates with them.
func (r RevokeTokensReport) Self() []TokenAction {
	var out []TokenAction
	for _, t := range r.NotSelected {
		if t.Reason == NotSelectedSelf {
			out = append(out, t)
		}
	}
	return out
}

// Failed reports whether any selected token failed.
func (r RevokeTokensReport) Failed() bool {
	return slices.ContainsFunc(r.Tokens, func(t TokenAction) bool { return t.Kind == Failed })
}

// RevokeTokens lists the account's npm tokens (every page), records them in
// the ledger (metadata only), selects the ones the options name and, with
// Execute, revokes them one after another, answering the registry's
// two-factor challenges once per window, and records each revocation with
// its time. Without Execute it only returns the plan.
func (n *NPM) RevokeTokens(ctx context.Context, o RevokeTokensOptions) (RevokeTokensReport, error) {
	e := n.Engine
	e.defaults()
	rep := RevokeTokensReport{Step: "revoke tokens", Tokens: []TokenAction{}, NotSelected: []TokenAction{}}
	if !o.Execute {
		rep.Step = "revoke tokens (dry run)"
	}
	if o.empty() {
		return rep, errors.New("no tokens selected: give --key, --name, --created-before or --migrated")
	}
	if o.Name != "" {
		if _, err := path.Match(o.Name, ""); err != nil {
			return rep, fmt.Errorf("name pattern %q: %w", o.Name, err)
		}
	}
	list, err := n.Registry.Tokens(ctx)
	if err != nil {
		return rep, err
	}
	rep.Listed = len(list)
	rows := make([]ledger.Token, 0, len(list))
	// Which listed token cutover authenticates with: matched on what the
	// registry displays, before it is cut to the display prefix.
	// A key match identifies it exactly, and then prefix matches are
	// other tokens that start alike.
	own := map[string]string{}
	byKey := false
	for i := range list {
		if how := n.Registry.OwnToken(list[i]); how != "" {
			own[list[i].Key] = how
			byKey = byKey || how == npm.OwnByKey
		}
		list[i].Prefix = displayPrefix(list[i].Prefix)
	}
	if byKey {
		maps.DeleteFunc(own, func(_, how string) bool { return how != npm.OwnByKey })
	}
	ownerGone := map[string]string{} // token key -> the repository its owner rule names
	for _, t := range list {
		row := ledger.Token{Key: t.Key, Prefix: t.Prefix, Name: t.Name, Created: t.Created, Expires: t.Expires,
			Readonly: t.Readonly, CIDR: t.CIDRWhitelist, Source: "registry"}
		for _, ow := range o.Owners {
			if ok, _ := path.Match(ow.Name, t.Name); !ok {
				continue
			}
			if _, err := e.Ledger.Repo(ctx, ow.Repo); err != nil {
				e.Logger.Warn("token owner is not in the inventory; not recorded", "token", t.Name, "repo", ow.Repo, "error", err)
				ownerGone[t.Key] = ow.Repo
				break
			}
			row.Repo, row.Source = ow.Repo, "config"
			break
		}
		rows = append(rows, row)
	}
	if len(rows) > 0 {
		if err := e.Ledger.UpsertTokens(ctx, rows); err != nil {
			return rep, fmt.Errorf("could not record the token list: %w", err)
		}
	}
	known, err := e.Ledger.Tokens(ctx)
	if err != nil {
		return rep, err
	}
	repoOf := map[string]string{}
	for _, t := range known {
		repoOf[t.Key] = t.Repo
	}

	// Resolve keys to tokens of the list.
	want := map[string]bool{}
	var missing []TokenAction
	for _, k := range o.Keys {
		key, err := resolveKey(list, k)
		if err != nil {
			missing = append(missing, n.missingKey(ctx, k, err))
			continue
		}
		want[key] = true
	}
	repoState := map[string]*tokenWhy{} // nil: cut over and verified
	sel := make([]npm.Token, 0, len(list))
	var skipped []TokenAction
	for _, t := range list {
		var why tokenWhy
		switch {
		case own[t.Key] != "" && !o.IncludeSelf:
			// Said first, whatever else holds: the one token never to cut.
			detail := "cutover authenticates with this token; pass --include-self"
			if own[t.Key] == npm.OwnByPrefix {
				detail = "cutover authenticates with this token (its displayed prefix matches); pass --include-self"
			}
			why = tokenWhy{NotSelectedSelf, detail, "revoke it last, with --include-self, or from another login"}
		case len(o.Keys) > 0 && !want[t.Key]:
			why = tokenWhy{NotSelectedKey, "its key is not one of those given with --key", ""}
		case o.Name != "" && !nameMatches(o.Name, t.Name):
			why = tokenWhy{NotSelectedName, fmt.Sprintf("its name %q does not match %q", t.Name, o.Name), ""}
		case !o.CreatedBefore.IsZero() && !t.Created.Before(o.CreatedBefore):
			why = tokenWhy{NotSelectedCreated, fmt.Sprintf("created %s, not before %s", t.Created.UTC().Format(time.RFC3339), o.CreatedBefore.UTC().Format(time.RFC3339)), ""}
		case o.Migrated && repoOf[t.Key] == "" && ownerGone[t.Key] != "":
			why = tokenWhy{NotSelectedOwnerGone, fmt.Sprintf("[[npm.token_owner]] gives it to %s, which is not in the inventory", ownerGone[t.Key]),
				"fix the repository in [[npm.token_owner]], or run cutover inventory"}
		case o.Migrated && repoOf[t.Key] == "":
			why = tokenWhy{NotSelectedNoOwner, "no repository is recorded for this token",
				fmt.Sprintf("map it in the config: [[npm.token_owner]] name = %q repo = \"OWNER/NAME\"", t.Name)}
		case o.Migrated:
			repo := repoOf[t.Key]
			st, seen := repoState[repo]
			if !seen {
				var err error
				st, err = n.tokenRepoState(ctx, repo)
				if err != nil {
					return rep, err
				}
				repoState[repo] = st
			}
			if st != nil {
				why = *st
			}
		}
		if why.reason == "" {
			sel = append(sel, t)
			continue
		}
		skipped = append(skipped, TokenAction{Key: t.Key, Prefix: t.Prefix, Name: t.Name, Created: t.Created, Expires: t.Expires,
			Readonly: t.Readonly, CIDR: t.CIDRWhitelist, Repo: repoOf[t.Key], Kind: Skipped, Reason: why.reason, Detail: why.detail, Hint: why.hint})
	}
	sort.SliceStable(skipped, func(i, j int) bool { return skipped[i].Created.Before(skipped[j].Created) })
	rep.NotSelected = append(rep.NotSelected, skipped...)
	sort.SliceStable(sel, func(i, j int) bool { return sel[i].Created.Before(sel[j].Created) })

	var stop stopper
	for _, t := range sel {
		a := TokenAction{Key: t.Key, Prefix: t.Prefix, Name: t.Name, Created: t.Created, Expires: t.Expires, Readonly: t.Readonly,
			CIDR: t.CIDRWhitelist, Repo: repoOf[t.Key]}
		switch {
		case !o.Execute:
			a.Kind, a.Detail = OK, "would revoke"
		case stop.stopped() != nil:
			a.Kind, a.Reason, a.Detail, a.Hint = Skipped, "not tried", fmt.Sprintf("stopped after an earlier failure: %v", stop.stopped()), "fix the cause and run the command again"
		case ctx.Err() != nil:
			a.Kind, a.Reason, a.Detail, a.Hint = Skipped, "interrupted", "stopped before this token", "run the command again to continue"
		default:
			a = n.revokeOne(ctx, a, &stop)
		}
		rep.Tokens = append(rep.Tokens, a)
	}
	rep.Tokens = append(rep.Tokens, missing...)
	return rep, ctx.Err()
}

// tokenWhy says why a listed token is not selected.
type tokenWhy struct{ reason, detail, hint string }

// nameMatches reports whether a token name matches the --name glob.
func nameMatches(glob, name string) bool {
	ok, _ := path.Match(glob, name)
	return ok
}

// tokenRepoState says why the tokens of a repository are not revoked by
// --migrated: nil when it is cut over and verified.
func (n *NPM) tokenRepoState(ctx context.Context, repo string) (*tokenWhy, error) {
	e := n.Engine
	if proxy, err := e.repoProxy(ctx, repo); err != nil || proxy != "" {
		if err != nil {
			return nil, err
		}
		return &tokenWhy{NotSelectedProxy, fmt.Sprintf("its repository %s %s; the token is not displaced, it still publishes", repo, rewrite.ProxyReason(proxy)),
			"keep it on the token-bridge path and rotate it (cutover sweep reminds); revoke it once the proxy is gone and the repository is verified"}, nil
	}
	ok, why, err := e.cutOver(ctx, repo)
	if err != nil || ok {
		return nil, err
	}
	fl, err := e.Ledger.Flag(ctx, repo, e.Opts.FlagVar)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return nil, err
	}
	if err != nil || fl.Value != "true" {
		return &tokenWhy{NotSelectedNotMigrated, fmt.Sprintf("its repository %s is not cut over: %s", repo, why),
			fmt.Sprintf("cutover flag on --repo %s, then cutover verify --repo %s", repo, repo)}, nil
	}
	return &tokenWhy{NotSelectedNotVerified, fmt.Sprintf("its repository %s is not verified: %s", repo, why),
		fmt.Sprintf("cutover verify --repo %s", repo)}, nil
}

// revokeOne revokes one token and records it.
func (n *NPM) revokeOne(ctx context.Context, a TokenAction, stop *stopper) TokenAction {
	e := n.Engine
	err := n.Registry.RevokeToken(ctx, a.Key)
	if errors.Is(err, npm.ErrNotFound) {
		a.Kind, a.Reason, a.Detail = Skipped, "already gone", "the registry no longer has this token"
		return a
	}
	if err != nil {
		reason, hint, halt := registryFailure(err)
		if halt {
			stop.stop(err)
		}
		a.Kind, a.Reason, a.Detail, a.Hint = Failed, reason, err.Error(), hint
		if reason == ReasonInterrupted {
			a.Kind = Skipped
		}
		return a
	}
	rv, err := e.Ledger.RecordRevocation(ctx, a.Key, n.by())
	if err != nil {
		a.Kind, a.Reason, a.Detail, a.Hint = Failed, "ledger error", "revoked on the registry, but not recorded: "+err.Error(), "check the ledger file"
		return a
	}
	at := rv.RevokedAt
	a.Kind, a.Detail, a.RevokedAt = OK, "revoked", &at
	e.Logger.Info("revoked npm token", "key", a.Key, "prefix", a.Prefix, "name", a.Name)
	return a
}

// missingKey reports a --key that matched no listed token, saying when the
// ledger recorded its revocation if it did.
func (n *NPM) missingKey(ctx context.Context, key string, err error) TokenAction {
	a := TokenAction{Key: key, Kind: Failed, Reason: "no such token", Detail: err.Error(), Hint: "list the tokens with a dry run and use a key it shows"}
	if revs, rerr := n.Engine.Ledger.Revocations(ctx); rerr == nil {
		for _, r := range revs {
			if r.Key == key {
				a.Kind, a.Reason, a.Hint = Skipped, "already revoked", ""
				a.Name, a.Prefix = r.Name, r.Prefix
				a.Detail = fmt.Sprintf("revoked on %s by %s", r.RevokedAt.UTC().Format(time.RFC3339), r.By)
			}
		}
	}
	return a
}

// displayPrefix keeps at most the first 8 characters of what the registry
// shows of a token, so that a registry showing too much never puts a usable
// token into the ledger or a report.
func displayPrefix(p string) string {
	if len(p) > 8 {
		return p[:8]
	}
	return p
}

// resolveKey finds the listed token with key k, or the one whose key starts
// with k when k has at least 8 characters and is unique.
func resolveKey(list []npm.Token, k string) (string, error) {
	var hits []string
	for _, t := range list {
		if t.Key == k {
			return k, nil
		}
		if len(k) >= 8 && strings.HasPrefix(t.Key, k) {
			hits = append(hits, t.Key)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return "", fmt.Errorf("no token with key %q on the registry", k)
	}
	return "", fmt.Errorf("key prefix %q matches %d tokens; give more of the key", k, len(hits))
}

// RevokeSecretsOptions select what RevokeSecrets deletes.
type RevokeSecretsOptions struct {
	// Target selects the repositories.
	Target RepoTarget
	// Execute deletes the secrets; false only shows the plan.
	Execute bool
	// By says who deletes, recorded in the ledger; "" means "cutover".
	By string
}

// SecretAction is one npm token secret and what happened to it.
type SecretAction struct {
	// Repo is the repository the secret belongs to (or was seen from, for an
	// organisation secret).
	Repo string `json:"repo"`
	// Scope is repo, env or org.
	Scope string `json:"scope"`
	// Environment names the environment of an env secret.
	Environment string `json:"environment,omitempty"`
	// Name is the secret's name.
	Name string `json:"name"`
	// UsedBy lists the unmigrated repositories and workflow files that still
	// read the secret.
	UsedBy []string `json:"used_by,omitempty"`
	// Kind is OK (deleted, or would be in a dry run), Manual (kept because it
	// is still used) or Failed.
	Kind string `json:"kind"`
	// Reason is a short, stable cause for grouping.
	Reason string `json:"reason,omitempty"`
	// Detail says what happened.
	Detail string `json:"detail,omitempty"`
}

// Where names the secret and its scope for people.
func (s SecretAction) Where() string {
	switch s.Scope {
	case ledger.ScopeOrg:
		return fmt.Sprintf("organisation secret %s", s.Name)
	case ledger.ScopeEnv:
		return fmt.Sprintf("%s (environment %s of %s)", s.Name, s.Environment, s.Repo)
	}
	return fmt.Sprintf("%s (repository %s)", s.Name, s.Repo)
}

// RevokeSecretsReport is the outcome of RevokeSecrets.
type RevokeSecretsReport struct {
	// Summary has one outcome per repository, then one per organisation
	// whose secrets were considered.
	Summary Summary `json:"summary"`
	// Secrets are the npm token secrets found, in the order handled.
	Secrets []SecretAction `json:"secrets"`
}

// npmSecretName matches the conventional names of npm publish token
// secrets; secrets for installing private packages (NPM_READ_TOKEN and the
// like) do not match and are only deleted when detection saw them feed a
// publish.
var npmSecretName = regexp.MustCompile(`^(NPM|NPMJS|NODE)_(AUTH_|PUBLISH_)?TOKEN$`)

// tokenSecrets returns the upper-case names of the secrets detection saw
// feeding an npm publish in a repository, with the workflow files.
func tokenSecrets(r ledger.Repo) map[string][]string {
	out := map[string][]string{}
	if r.Classification == nil {
		return out
	}
	for _, p := range r.Classification.Pipelines {
		for _, f := range p.TokenFeeds {
			if f.Secret == "" {
				continue
			}
			name := strings.ToUpper(f.Secret)
			file := f.File
			if file == "" {
				file = p.File
			}
			if !slices.Contains(out[name], file) {
				out[name] = append(out[name], file)
			}
		}
	}
	return out
}

// RevokeSecrets deletes the npm token secrets of the targeted repositories
// that are cut over (flag on) and verified (every package's latest canary
// verification passed): the repository's, its environments' and the
// organisation's secrets that detection saw feeding a publish, or that carry
// a conventional npm token name. It refuses to delete an organisation secret
// that a repository not yet cut over still reads in the inventory, and says
// which repository and workflow file. Without Execute it only shows the
// plan. Each deletion is recorded in the ledger with where it was.
func (e *Engine) RevokeSecrets(ctx context.Context, o RevokeSecretsOptions) (RevokeSecretsReport, error) {
	e.defaults()
	rep := RevokeSecretsReport{Summary: Summary{Step: "revoke secrets"}, Secrets: []SecretAction{}}
	if !o.Execute {
		rep.Summary.Step = "revoke secrets (dry run)"
	}
	by := orDefault(o.By, "cutover")
	names, err := e.targetRepos(ctx, o.Target)
	if err != nil {
		return rep, err
	}
	// Who still reads which secret: the repositories not cut over.
	all, err := e.Ledger.Repos(ctx)
	if err != nil {
		return rep, err
	}
	type user struct {
		repo ledger.Repo
		file string
	}
	usedBy := map[string][]user{} // upper-case secret name -> readers
	for _, r := range all {
		ok, _, err := e.cutOver(ctx, r.FullName)
		if err != nil {
			return rep, err
		}
		if ok {
			continue
		}
		for name, files := range tokenSecrets(r) {
			for _, f := range files {
				usedBy[name] = append(usedBy[name], user{repo: r, file: f})
			}
		}
	}

	type orgSecret struct {
		owner  string
		via    forge.Repo
		secret forge.Secret
		repo   string
	}
	var mu sync.Mutex
	orgs := map[string]*orgSecret{} // owner + "/" + name
	per := make([][]SecretAction, len(names))
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	rep.Summary.Outcomes = each(ctx, e, rep.Summary.Step, idx, func(i int) string { return names[i] }, func(ctx context.Context, i int) Outcome {
		name := names[i]
		row, err := e.Ledger.Repo(ctx, name)
		if errors.Is(err, ledger.ErrNotFound) {
			return Outcome{Kind: Failed, Reason: "not inventoried", Detail: "the repository is not in the ledger", Hint: "run cutover inventory"}
		}
		if err != nil {
			return failed(name, "ledger error", err, "check the ledger file")
		}
		ok, why, err := e.cutOver(ctx, name)
		if err != nil {
			return failed(name, "ledger error", err, "check the ledger file")
		}
		if !ok {
			return Outcome{Kind: Skipped, Reason: "not cut over and verified", Detail: why, Hint: "secrets are deleted only after the flag is on and a canary passed cutover verify"}
		}
		fr := e.forgeRepo(row)
		list, err := e.Forge.Secrets(ctx, fr)
		if err != nil {
			return failed(name, "list secrets failed", err, "the token needs the secrets read permission (and organisation secrets read for organisation secrets)")
		}
		mine := tokenSecrets(row)
		var acts []SecretAction
		var orgNames []string
		for _, s := range list {
			up := strings.ToUpper(s.Name)
			if _, fed := mine[up]; !fed && !npmSecretName.MatchString(up) {
				continue
			}
			if s.Scope == ledger.ScopeOrg {
				orgNames = append(orgNames, s.Name)
				owner, _, _ := strings.Cut(name, "/")
				mu.Lock()
				if orgs[owner+"/"+up] == nil {
					orgs[owner+"/"+up] = &orgSecret{owner: owner, via: fr, secret: s, repo: name}
				}
				mu.Unlock()
				continue
			}
			a := SecretAction{Repo: name, Scope: s.Scope, Environment: s.Environment, Name: s.Name}
			ls := ledger.Secret{Repo: name, Scope: s.Scope, Environment: s.Environment, Name: s.Name, UpdatedAt: s.UpdatedAt}
			acts = append(acts, e.deleteSecret(ctx, fr, s, ls, a, o.Execute, by))
		}
		per[i] = acts
		if len(acts) == 0 && len(orgNames) > 0 {
			owner, _, _ := strings.Cut(name, "/")
			return Outcome{Kind: Skipped, Reason: "organisation secrets only",
				Detail: fmt.Sprintf("no repository or environment secret; organisation secret(s) %s are handled under %s (organisation)", strings.Join(orgNames, ", "), owner)}
		}
		return secretsOutcome(name, acts)
	})
	for _, acts := range per {
		rep.Secrets = append(rep.Secrets, acts...)
	}

	// Organisation secrets: once each, and only when no repository that is
	// not cut over still reads them.
	keys := sortedKeys(orgs)
	byOwner := map[string][]SecretAction{}
	var owners []string
	for _, k := range keys {
		os := orgs[k]
		if ctx.Err() != nil {
			break
		}
		a := SecretAction{Repo: os.repo, Scope: ledger.ScopeOrg, Name: os.secret.Name}
		// A repository with a secret of its own by that name reads that one,
		// not the organisation's; when its secrets cannot be listed, it
		// counts as a reader.
		var users []string
		for _, u := range usedBy[strings.ToUpper(os.secret.Name)] {
			if owner, _, _ := strings.Cut(u.repo.FullName, "/"); owner != os.owner {
				continue
			}
			if shadowed(ctx, e, u.repo, os.secret.Name) {
				continue
			}
			users = append(users, fmt.Sprintf("%s (%s)", u.repo.FullName, u.file))
		}
		if len(users) > 0 {
			sort.Strings(users)
			a.UsedBy = users
			a.Kind, a.Reason = Manual, "still used"
			if err := e.Ledger.RecordSecret(ctx, ledger.Secret{Scope: ledger.ScopeOrg, Name: os.secret.Name, UpdatedAt: os.secret.UpdatedAt}); err != nil {
				e.Logger.Error("ledger: record secret", "secret", os.secret.Name, "error", err)
			}
			a.Detail = fmt.Sprintf("kept: still read by %s", strings.Join(users, ", "))
			e.npmEvent(ctx, "secret.kept", "", fmt.Sprintf("kept organisation secret %s of %s: still read by %s", os.secret.Name, os.owner, strings.Join(users, ", ")),
				map[string]any{"scope": ledger.ScopeOrg, "name": os.secret.Name, "org": os.owner, "used_by": users, "dry_run": !o.Execute})
		} else {
			ls := ledger.Secret{Scope: ledger.ScopeOrg, Name: os.secret.Name, UpdatedAt: os.secret.UpdatedAt}
			a = e.deleteSecret(ctx, os.via, os.secret, ls, a, o.Execute, by)
		}
		if _, seen := byOwner[os.owner]; !seen {
			owners = append(owners, os.owner)
		}
		byOwner[os.owner] = append(byOwner[os.owner], a)
		rep.Secrets = append(rep.Secrets, a)
	}
	for _, owner := range owners {
		out := secretsOutcome(owner+" (organisation)", byOwner[owner])
		rep.Summary.Outcomes = append(rep.Summary.Outcomes, out)
	}
	return rep, ctx.Err()
}

// shadowed reports whether a repository has a repository secret of this
// name, which its workflows read instead of the organisation's.
func shadowed(ctx context.Context, e *Engine, r ledger.Repo, name string) bool {
	list, err := e.Forge.Secrets(ctx, e.forgeRepo(r))
	if err != nil {
		e.Logger.Warn("could not list secrets; counting the repository as a reader of the organisation secret", "repo", r.FullName, "secret", name, "error", err)
		return false
	}
	return slices.ContainsFunc(list, func(s forge.Secret) bool {
		return s.Scope == ledger.ScopeRepo && strings.EqualFold(s.Name, name)
	})
}

// deleteSecret records the secret as seen and, with execute, deletes it and
// records the deletion.
func (e *Engine) deleteSecret(ctx context.Context, fr forge.Repo, s forge.Secret, ls ledger.Secret, a SecretAction, execute bool, by string) SecretAction {
	if err := e.Ledger.RecordSecret(ctx, ls); err != nil {
		a.Kind, a.Reason, a.Detail = Failed, "ledger error", err.Error()
		return a
	}
	if !execute {
		a.Kind, a.Detail = OK, "would delete"
		return a
	}
	if err := e.Forge.DeleteSecret(ctx, fr, s); err != nil {
		reason := "delete failed"
		if errors.Is(err, forge.ErrPermission) {
			reason = "missing permission"
		}
		a.Kind, a.Reason, a.Detail = Failed, reason, err.Error()
		return a
	}
	if err := e.Ledger.MarkSecretDeleted(ctx, ls, by); err != nil {
		a.Kind, a.Reason, a.Detail = Failed, "ledger error", "deleted on the forge, but not recorded: "+err.Error()
		return a
	}
	a.Kind, a.Detail = OK, "deleted"
	e.Logger.Info("deleted npm token secret", "repo", a.Repo, "scope", a.Scope, "environment", a.Environment, "secret", a.Name)
	return a
}

// secretsOutcome sums up the secrets of one repository or organisation.
func secretsOutcome(repo string, acts []SecretAction) Outcome {
	if len(acts) == 0 {
		return Outcome{Repo: repo, Kind: Skipped, Reason: "no npm token secrets", Detail: "no npm token secret found"}
	}
	var done, kept, bad []string
	for _, a := range acts {
		switch a.Kind {
		case OK:
			done = append(done, a.Where()+": "+a.Detail)
		case Manual:
			kept = append(kept, a.Where()+": "+a.Detail)
		default:
			bad = append(bad, a.Where()+": "+a.Detail)
		}
	}
	all := strings.Join(slices.Concat(bad, kept, done), "; ")
	switch {
	case len(bad) > 0:
		return Outcome{Repo: repo, Kind: Failed, Reason: acts[slices.IndexFunc(acts, func(a SecretAction) bool { return a.Kind != OK && a.Kind != Manual })].Reason, Detail: all,
			Hint: "run the command again; deleted secrets are recorded"}
	case len(kept) > 0:
		return Outcome{Repo: repo, Kind: Manual, Reason: "secret still used by unmigrated repositories", Detail: all,
			Hint: "cut over and verify the repositories named, then run revoke secrets again"}
	}
	return Outcome{Repo: repo, Kind: OK, Detail: all}
}
