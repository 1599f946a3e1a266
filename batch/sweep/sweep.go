// Package sweep finds credentials that still need care after the cutover and
// reminds their owners: npm token secrets and npm tokens due for rotation,
// and drift (a cut-over repository publishing with a token again, or a
// package whose newest version lost its trusted-publisher evidence), as
// reminder issues and a webhook.
package sweep

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/rewrite"
	"github.com/cutover/cutover/templates"
)

// Reminder kinds: what a reminder is about.
const (
	// ReminderSecret is an Actions secret holding an npm token that is due for rotation.
	ReminderSecret = "secret-age"
	// ReminderToken is an npm access token that is due for rotation.
	ReminderToken = "token-age"
	// ReminderDriftToken is a cut-over repository whose workflows publish with a token again.
	ReminderDriftToken = "drift-token"
	// ReminderDriftTrust is a package whose newest version lost the
	// trusted-publisher evidence an older version had.
	ReminderDriftTrust = "drift-trust"
)

// Changes of a reminder in one sweep.
const (
	ChangeNew       = "new"
	ChangeEscalated = "escalated"
	ChangeUnchanged = "unchanged"
	ChangeResolved  = "resolved"
)

// Registry is what Sweep reads from the npm registry. *npm.Client
// implements it.
type Registry interface {
	// Tokens lists the account's access tokens (never their values).
	Tokens(ctx context.Context) ([]npm.Token, error)
	// Packument fetches a package document.
	Packument(ctx context.Context, name string) (*npm.Packument, error)
}

// ErrNoRegistryToken is returned (wrapped) by a Registry's Tokens
// when it has no credential to list tokens with: the sweep then works from
// the tokens the ledger knows, without reporting a problem.
var ErrNoRegistryToken = errors.New("no npm token to list the account's tokens with")

// Options configure Sweep. The zero value is a dry run with the
// defaults and no registry.
type Options struct {
	// Execute opens, updates and closes reminder issues and posts the
	// webhook; false is a dry run that only reports (and records what it saw).
	Execute bool
	// AgeDays is the age at which a token's rotation reminder starts; zero means 60.
	AgeDays int
	// ExpiryDays is how close expiry must be for the reminder to escalate; zero means 14.
	ExpiryDays int
	// EscalateDays are the days before expiry at which the reminder escalates
	// further, largest first; nil means 7, 3, 1.
	EscalateDays []int
	// MaxLifetime is the lifetime of a write token whose expiry is unknown
	// (npm caps write tokens at 90 days); zero means 90 days.
	MaxLifetime time.Duration
	// Registry lists tokens and reads packuments; nil skips the registry.
	Registry Registry
	// Webhook receives a JSON POST when reminders are new, escalated or
	// resolved; "" means none. It is never logged.
	Webhook string
	// HTTP sends the webhook; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// Labels are put on reminder issues; nil means "cutover" and "npm-token".
	Labels []string
}

func (o *Options) defaults() {
	if o.AgeDays <= 0 {
		o.AgeDays = 60
	}
	if o.ExpiryDays <= 0 {
		o.ExpiryDays = 14
	}
	if o.EscalateDays == nil {
		o.EscalateDays = []int{7, 3, 1}
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = 90 * 24 * time.Hour
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Labels == nil {
		o.Labels = []string{"cutover", "npm-token"}
	}
}

// Due is one reminder a sweep found due, or resolved.
type Due struct {
	// Repo is the repository the reminder is filed in; "" for account
	// tokens and organisation secrets (webhook and event log only).
	Repo string `json:"repo,omitempty"`
	// Topic identifies the reminder within the repository; the issue's
	// hidden marker is "reminder:" + Topic.
	Topic string `json:"topic"`
	// Kind is ReminderSecret, ReminderToken, ReminderDriftToken or ReminderDriftTrust.
	Kind string `json:"kind"`
	// Subject names what needs care, such as `secret NPM_TOKEN`.
	Subject string `json:"subject"`
	// Level is the escalation level: 0 when the age threshold is reached,
	// 1 within ExpiryDays of expiry, one more per EscalateDays step passed,
	// and the highest once expired. Drift is level 1.
	Level int `json:"level"`
	// Born is when the token was created or its secret last updated.
	Born time.Time `json:"born,omitzero"`
	// Expires is when the token expires; zero when it does not.
	Expires time.Time `json:"expires,omitzero"`
	// Estimated is true when Expires was derived from Born and the
	// 90-day cap on write tokens.
	Estimated bool `json:"estimated,omitempty"`
	// Title is the issue's title.
	Title string `json:"title"`
	// Message is the one-line summary recorded in the ledger.
	Message string `json:"message"`
	// Details lists findings behind a drift reminder (file:line, versions).
	Details []string `json:"details,omitempty"`
	// Change is ChangeNew, ChangeEscalated, ChangeUnchanged or ChangeResolved.
	Change string `json:"change"`
	// IssueURL is the reminder issue, when one exists.
	IssueURL string `json:"issue_url,omitempty"`
	// Error says why the issue or ledger could not be updated.
	Error string `json:"error,omitempty"`
}

// Result is what Sweep found and did.
type Result struct {
	// Summary has one outcome per repository.
	Summary batch.Summary `json:"summary"`
	// Reminders are the reminders due now, by repository and topic.
	Reminders []Due `json:"reminders"`
	// Resolved are the reminders closed because their cause went away.
	Resolved []Due `json:"resolved"`
	// Problems are what could not be checked (the registry unreachable, …).
	Problems []string `json:"problems,omitempty"`
	// Webhook says what happened to the webhook: "", "sent", "not needed",
	// "dry run" or "failed: …".
	Webhook string `json:"webhook,omitempty"`
}

// Changed returns the reminders that are new or escalated.
func (r Result) Changed() []Due {
	var out []Due
	for _, d := range r.Reminders {
		if d.Change == ChangeNew || d.Change == ChangeEscalated {
			out = append(out, d)
		}
	}
	return out
}

// repoSweep is what the first phase found in one repository.
type repoSweep struct {
	due []Due
	// checked lists topic prefixes checked successfully: an open reminder
	// under one of them that is not due any more is resolved.
	checked []string
}

// engine is the campaign engine a sweep works with.
type engine struct{ *batch.Engine }

// Run finds every credential that still needs care and reminds its
// owners: npm token secrets in the inventoried repositories (their
// updated_at is the last rotation) and npm tokens known to the ledger or
// listed by the registry, when their age reaches AgeDays or their expiry
// nears; and drift, a cut-over repository (flag on) whose workflows publish
// with a token again, or a package whose newest version lacks the
// trusted-publisher evidence an older one had. With Execute, each reminder
// is one issue per repository and topic (found again by its hidden marker,
// updated rather than duplicated, closed when resolved) and, if configured,
// a webhook POST. Results go to the ledger either way.
func Run(ctx context.Context, eng *batch.Engine, o Options) (Result, error) {
	e := engine{eng}
	e.Defaults()
	o.defaults()
	res := Result{Summary: batch.Summary{Step: "sweep"}}
	if !o.Execute {
		res.Summary.Step = "sweep (dry run)"
	}
	now := e.Now()
	repos, err := e.Ledger.Repos(ctx)
	if err != nil {
		return res, err
	}
	open, err := e.Ledger.Reminders(ctx)
	if err != nil {
		return res, err
	}
	known := map[string]ledger.Reminder{}
	for _, r := range open {
		known[r.Repo+"\x00"+r.Topic] = r
	}
	if err := e.loadAccountReminders(ctx, known); err != nil {
		return res, err
	}

	// Tokens: the registry's list, recorded, then everything the ledger knows.
	var listed map[string]bool
	if o.Registry != nil {
		listed, err = e.recordRegistryTokens(ctx, o.Registry)
		switch {
		case errors.Is(err, ErrNoRegistryToken):
			e.Logger.Info("npm tokens not listed from the registry", "reason", err.Error())
		case err != nil:
			res.Problems = append(res.Problems, "npm tokens not listed: "+err.Error())
		}
	}
	tokenDue, err := e.tokenReminders(ctx, o, now, listed)
	if err != nil {
		return res, err
	}

	// Per repository: secrets and drift.
	var orgMu sync.Mutex
	orgSecrets := map[string]forge.Secret{}
	found := make([]repoSweep, len(repos))
	index := map[string]int{}
	for i, r := range repos {
		index[r.FullName] = i
	}
	outcomes := batch.Each(ctx, e.Engine, "sweep", repos, func(r ledger.Repo) string { return r.FullName }, func(ctx context.Context, r ledger.Repo) batch.Outcome {
		rs, orgs, o := e.sweepRepo(ctx, o, r, now)
		found[index[r.FullName]] = rs
		orgMu.Lock()
		for _, s := range orgs {
			orgSecrets[s.Name] = s
		}
		orgMu.Unlock()
		return o
	})
	var accountDue []Due
	for _, t := range tokenDue {
		if i, ok := index[t.Repo]; ok {
			found[i].due = append(found[i].due, t)
		} else {
			t.Repo = ""
			accountDue = append(accountDue, t)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(orgSecrets)) {
		s := orgSecrets[name]
		if err := e.Ledger.RecordSecret(ctx, ledger.Secret{Scope: ledger.ScopeOrg, Name: s.Name, UpdatedAt: s.UpdatedAt}); err != nil {
			e.Logger.Warn("ledger: record organisation secret", "secret", s.Name, "error", err)
		}
		if d, ok := secretDue(o, "", s, now); ok {
			accountDue = append(accountDue, d)
		}
	}
	accountChecked := []string{"secret:org:", "npm-token:"}
	for i := range found {
		found[i].checked = append(found[i].checked, "npm-token:")
	}

	// Reconcile: issues and ledger per repository, then the account-level ones.
	for i, r := range repos {
		if outcomes[i].Kind == batch.Skipped {
			continue
		}
		due, resolved := e.reconcile(ctx, o, r, found[i], known)
		res.Reminders = append(res.Reminders, due...)
		res.Resolved = append(res.Resolved, resolved...)
		if n := len(due); n > 0 && outcomes[i].Kind == batch.OK {
			outcomes[i].Detail = strings.TrimSpace(outcomes[i].Detail + fmt.Sprintf("; %d reminder(s) due", n))
		}
		for _, d := range due {
			if d.Error != "" {
				outcomes[i] = batch.Outcome{Repo: r.FullName, Kind: batch.Failed, Reason: "reminder not filed", Detail: d.Error, Hint: "the token needs the issues write permission; run sweep again"}
			}
		}
	}
	due, resolved := e.reconcileAccount(ctx, o, accountDue, accountChecked, known)
	res.Reminders = append(res.Reminders, due...)
	res.Resolved = append(res.Resolved, resolved...)
	res.Summary.Outcomes = outcomes
	sortDue(res.Reminders)
	sortDue(res.Resolved)

	switch {
	case o.Webhook == "":
	case !o.Execute:
		res.Webhook = "dry run"
	case len(res.Changed()) == 0 && len(res.Resolved) == 0:
		res.Webhook = "not needed"
	default:
		if err := e.postWebhook(ctx, o, res); err != nil {
			res.Webhook = "failed: " + err.Error()
			res.Problems = append(res.Problems, "webhook: "+err.Error())
			e.Logger.Error("sweep webhook failed", "error", err)
		} else {
			res.Webhook = "sent"
		}
	}
	kind := "sweep"
	if !o.Execute {
		kind = "sweep.dry-run"
	}
	e.eventData(ctx, kind, "", fmt.Sprintf("%d reminder(s) due (%d new or escalated), %d resolved, %d repositories", len(res.Reminders), len(res.Changed()), len(res.Resolved), len(repos)),
		map[string]any{"due": len(res.Reminders), "changed": len(res.Changed()), "resolved": len(res.Resolved), "problems": res.Problems, "webhook": res.Webhook})
	return res, ctx.Err()
}

// sweepRepo lists a repository's npm token secrets, records them, and checks
// for drift. It returns the organisation secrets it saw separately.
func (e engine) sweepRepo(ctx context.Context, o Options, r ledger.Repo, now time.Time) (repoSweep, []forge.Secret, batch.Outcome) {
	var rs repoSweep
	var orgs []forge.Secret
	fr := e.ForgeRepo(r)
	var problems []string
	names := r.Classification.FeedSecrets()
	secrets, err := e.Forge.Secrets(ctx, fr)
	if err != nil {
		problems = append(problems, "secrets not listed: "+err.Error())
	} else {
		rs.checked = append(rs.checked, "secret:")
		for _, s := range secrets {
			if !names[s.Name] && !IsNPMTokenSecret(s.Name) {
				continue
			}
			if s.Scope == ledger.ScopeOrg {
				orgs = append(orgs, s)
				continue
			}
			if err := e.Ledger.RecordSecret(ctx, ledger.Secret{Repo: r.FullName, Scope: s.Scope, Environment: s.Environment, Name: s.Name, UpdatedAt: s.UpdatedAt}); err != nil {
				problems = append(problems, "ledger: "+err.Error())
			}
			if d, ok := secretDue(o, r.FullName, s, now); ok {
				rs.due = append(rs.due, d)
			}
		}
	}
	if d, checked, err := e.tokenDrift(ctx, r); err != nil {
		problems = append(problems, "drift not checked: "+err.Error())
	} else {
		if checked {
			rs.checked = append(rs.checked, "drift:token-publish")
		}
		if d != nil {
			rs.due = append(rs.due, *d)
		}
	}
	if o.Registry != nil && r.Publishes {
		ds, err := e.trustDrift(ctx, o.Registry, r)
		if err != nil {
			problems = append(problems, "trust evidence not checked: "+err.Error())
		} else {
			rs.checked = append(rs.checked, "drift:trust-downgrade:")
			rs.due = append(rs.due, ds...)
		}
	}
	if len(problems) > 0 {
		return rs, orgs, batch.Outcome{Repo: r.FullName, Kind: batch.Failed, Reason: "sweep incomplete", Detail: strings.Join(problems, "; "), Hint: "the token needs secrets read and contents read; run sweep again"}
	}
	return rs, orgs, batch.Outcome{Repo: r.FullName, Kind: batch.OK, Detail: fmt.Sprintf("%d check(s)", len(rs.checked))}
}

// IsNPMTokenSecret reports whether a secret's name says it holds an npm
// token (NPM_TOKEN, NODE_AUTH_TOKEN, NPM_PUBLISH_TOKEN, …).
func IsNPMTokenSecret(name string) bool {
	n := strings.ToUpper(name)
	return n == "NODE_AUTH_TOKEN" || strings.Contains(n, "NPM") && (strings.Contains(n, "TOKEN") || strings.Contains(n, "AUTH"))
}

// level returns the escalation level of a credential born at born that
// expires at expires (zero: never), and whether a reminder is due at all.
func (o Options) level(now, born, expires time.Time) (int, bool) {
	day := 24 * time.Hour
	if !expires.IsZero() {
		left := expires.Sub(now)
		if left <= 0 {
			return 2 + len(o.EscalateDays), true
		}
		for i := len(o.EscalateDays) - 1; i >= 0; i-- {
			if left <= time.Duration(o.EscalateDays[i])*day {
				return 2 + i, true
			}
		}
		if left <= time.Duration(o.ExpiryDays)*day {
			return 1, true
		}
	}
	if !born.IsZero() && now.Sub(born) >= time.Duration(o.AgeDays)*day {
		return 0, true
	}
	return 0, false
}

func secretTopic(s forge.Secret) string {
	if s.Scope == ledger.ScopeEnv {
		return "secret:env:" + s.Environment + ":" + s.Name
	}
	return "secret:" + s.Scope + ":" + s.Name
}

// secretDue returns the reminder for a token secret, if one is due. Its
// token expires at the latest MaxLifetime after the secret was last set.
func secretDue(o Options, repo string, s forge.Secret, now time.Time) (Due, bool) {
	if s.UpdatedAt.IsZero() {
		return Due{}, false
	}
	expires := s.UpdatedAt.Add(o.MaxLifetime)
	lvl, ok := o.level(now, s.UpdatedAt, expires)
	if !ok {
		return Due{}, false
	}
	subject := "secret " + s.Name
	switch s.Scope {
	case ledger.ScopeEnv:
		subject = fmt.Sprintf("secret %s of environment %s", s.Name, s.Environment)
	case ledger.ScopeOrg:
		subject = "organisation secret " + s.Name
	}
	d := Due{Repo: repo, Topic: secretTopic(s), Kind: ReminderSecret, Subject: subject, Level: lvl, Born: s.UpdatedAt, Expires: expires, Estimated: true}
	d.Message = fmt.Sprintf("%s last rotated %s; its token expires by %s (%s)", subject, day(d.Born), day(d.Expires), o.levelName(lvl))
	return d, true
}

// levelName says what a level means, for titles and messages.
func (o Options) levelName(lvl int) string {
	switch {
	case lvl == 0:
		return fmt.Sprintf("older than %d days", o.AgeDays)
	case lvl == 1:
		return fmt.Sprintf("expires within %d days", o.ExpiryDays)
	case lvl >= 2+len(o.EscalateDays):
		return "expired"
	default:
		n := o.EscalateDays[lvl-2]
		if n == 1 {
			return "expires within a day"
		}
		return fmt.Sprintf("expires within %d days", n)
	}
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// recordRegistryTokens lists the account's tokens and records them. It
// returns the keys listed.
func (e engine) recordRegistryTokens(ctx context.Context, reg Registry) (map[string]bool, error) {
	list, err := reg.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	rows := make([]ledger.Token, 0, len(list))
	for _, t := range list {
		if t.Key == "" {
			continue
		}
		listed[t.Key] = true
		rows = append(rows, ledger.Token{Key: t.Key, Prefix: t.Prefix, Name: t.Name, Created: t.Created, Expires: t.Expires, Readonly: t.Readonly, CIDR: t.CIDRWhitelist, Source: "registry"})
	}
	err = e.Ledger.UpsertTokens(ctx, rows)
	if errors.Is(err, ledger.ErrSecretValue) {
		// A registry showing more of a token than a prefix: keep no prefix.
		for i := range rows {
			rows[i].Prefix = ""
		}
		err = e.Ledger.UpsertTokens(ctx, rows)
	}
	if err != nil {
		return nil, err
	}
	return listed, nil
}

// tokenReminders returns the reminders of the npm tokens the ledger knows
// that are not revoked. When listed is not nil (the registry's list was
// read), a token first seen on the registry and no longer listed is gone.
func (e engine) tokenReminders(ctx context.Context, o Options, now time.Time, listed map[string]bool) ([]Due, error) {
	tokens, err := e.Ledger.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	revs, err := e.Ledger.Revocations(ctx)
	if err != nil {
		return nil, err
	}
	revoked := map[string]bool{}
	for _, r := range revs {
		revoked[r.Key] = true
	}
	var out []Due
	for _, t := range tokens {
		if revoked[t.Key] || t.Created.IsZero() || listed != nil && t.Source == "registry" && !listed[t.Key] {
			continue
		}
		var expires time.Time
		estimated := false
		switch {
		case t.Expires != nil:
			expires = *t.Expires
		case !t.Readonly:
			expires, estimated = t.Created.Add(o.MaxLifetime), true
		}
		lvl, ok := o.level(now, t.Created, expires)
		if !ok {
			continue
		}
		name := t.Name
		if name == "" {
			name = "created " + day(t.Created)
		}
		d := Due{Repo: t.Repo, Topic: "npm-token:" + keyDigest(t.Key), Kind: ReminderToken, Subject: fmt.Sprintf("npm token %q", name), Level: lvl, Born: t.Created, Expires: expires, Estimated: estimated}
		if expires.IsZero() {
			d.Message = fmt.Sprintf("%s created %s (%s)", d.Subject, day(d.Born), o.levelName(lvl))
		} else {
			by := "expires"
			if estimated {
				by = "expires by"
			}
			d.Message = fmt.Sprintf("%s created %s %s %s (%s)", d.Subject, day(d.Born), by, day(d.Expires), o.levelName(lvl))
		}
		out = append(out, d)
	}
	return out, nil
}

// keyDigest shortens a token key for topics and markers: issue bodies may
// be public, and the key is what revokes the token.
func keyDigest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:6])
}

// tokenDrift re-detects a cut-over repository (flag on) from a fresh
// snapshot and returns a reminder when a publish is fed a token the flag
// does not switch off. checked is false when the repository is not cut over.
func (e engine) tokenDrift(ctx context.Context, r ledger.Repo) (*Due, bool, error) {
	f, err := e.Ledger.Flag(ctx, r.FullName, e.Opts.FlagVar)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if f.Value != "true" {
		return nil, false, nil
	}
	snap, _, err := e.Forge.Snapshot(ctx, e.ForgeRepo(r), "", rewrite.Relevant)
	if err != nil {
		return nil, false, err
	}
	res := rewrite.Detect(rewrite.Snapshot{Repo: r.FullName, Files: snap.Files, Problems: snap.Problems}, rewrite.Options{Registry: e.Opts.Registry, FlagVar: e.Opts.FlagVar, MaxFileBytes: e.Opts.MaxFileBytes})
	details := ActiveTokenFeeds(res)
	if len(details) == 0 {
		return nil, true, nil
	}
	d := &Due{Repo: r.FullName, Topic: "drift:token-publish", Kind: ReminderDriftToken, Subject: "publishing with an npm token", Level: 1, Details: details}
	d.Message = fmt.Sprintf("%s publishes with a token again although %s is on: %s", r.FullName, e.Opts.FlagVar, strings.Join(details, ", "))
	return d, true, nil
}

// ActiveTokenFeeds lists, as "file:line (job)", the places where a stored
// token reaches a publish and is not switched off by the feature flag. A
// feed detection marked Guarded (the oidc playbook's exact guard, for the
// flag the detection was given) is the kept rollback path; an inverted or
// partial guard is not, and is drift.
func ActiveTokenFeeds(res *rewrite.Result) []string {
	var out []string
	for _, p := range res.Pipelines {
		if p.Credential != rewrite.CredToken && p.Credential != rewrite.CredTokenProvenance {
			continue
		}
		for _, f := range p.Feeds {
			if f.Guarded {
				continue
			}
			s := fmt.Sprintf("%s:%d (job %s)", f.File, f.Line, p.Job)
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// trustDrift checks each publishable package of the repository: a newest
// version with weaker evidence than a trusted-publisher release before it
// is drift.
func (e engine) trustDrift(ctx context.Context, reg Registry, r ledger.Repo) ([]Due, error) {
	pkgs, err := e.Ledger.Packages(ctx, r.FullName)
	if err != nil {
		return nil, err
	}
	var out []Due
	for _, p := range pkgs {
		if !p.Publishable || p.Name == "" {
			continue
		}
		doc, err := reg.Packument(ctx, p.Name)
		if errors.Is(err, npm.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if d, ok := downgrade(doc); ok {
			d.Repo = r.FullName
			out = append(out, d)
		}
	}
	return out, nil
}

// downgrade reports a package whose newest version (by publish time) lacks
// the trusted-publisher evidence an older version has.
func downgrade(p *npm.Packument) (Due, bool) {
	type ver struct {
		v  string
		at time.Time
		ev npm.Evidence
	}
	var vs []ver
	for v, doc := range p.Versions {
		at, _ := p.PublishedAt(v)
		vs = append(vs, ver{v, at, npm.EvidenceOf(doc)})
	}
	if len(vs) < 2 {
		return Due{}, false
	}
	sort.Slice(vs, func(i, j int) bool {
		if !vs[i].at.Equal(vs[j].at) {
			return vs[i].at.Before(vs[j].at)
		}
		return vs[i].v < vs[j].v
	})
	newest := vs[len(vs)-1]
	if newest.ev >= npm.EvidenceTrustedPublisher {
		return Due{}, false
	}
	var had *ver
	for i := len(vs) - 2; i >= 0; i-- {
		if vs[i].ev == npm.EvidenceTrustedPublisher {
			had = &vs[i]
			break
		}
	}
	if had == nil {
		return Due{}, false
	}
	d := Due{Topic: "drift:trust-downgrade:" + p.Name, Kind: ReminderDriftTrust, Subject: "package " + p.Name, Level: 1,
		Details: []string{
			fmt.Sprintf("%s@%s: %s", p.Name, newest.v, newest.ev),
			fmt.Sprintf("%s@%s: %s", p.Name, had.v, had.ev),
		}}
	d.Message = fmt.Sprintf("%s@%s was published without trusted publishing (%s); %s was published through it", p.Name, newest.v, newest.ev, had.v)
	return d, true
}

// reconcile files, updates and closes one repository's reminder issues and
// records them.
func (e engine) reconcile(ctx context.Context, o Options, r ledger.Repo, rs repoSweep, known map[string]ledger.Reminder) (due, resolved []Due) {
	fr := e.ForgeRepo(r)
	seen := map[string]bool{}
	for _, d := range rs.due {
		seen[d.Topic] = true
		prev, had := known[r.FullName+"\x00"+d.Topic]
		d.Change = change(had && prev.State == ledger.ReminderOpen, prev.Level, d.Level)
		d.IssueURL = prev.IssueURL
		title, body, err := e.reminderText(o, d)
		if err != nil {
			d.Error = err.Error()
			due = append(due, d)
			continue
		}
		d.Title = title
		if !o.Execute {
			due = append(due, d)
			continue
		}
		if d.Change == ChangeUnchanged && prev.IssueNumber > 0 && prev.Message == d.Message {
			due = append(due, d)
			continue
		}
		is, err := e.Forge.EnsureIssue(ctx, fr, forge.IssueSpec{Marker: "reminder:" + d.Topic, Title: title, Body: body, Labels: o.Labels})
		if err != nil {
			d.Error = err.Error()
			due = append(due, d)
			continue
		}
		d.IssueURL = is.URL
		if err := e.Ledger.RecordReminder(ctx, ledger.Reminder{Repo: r.FullName, Topic: d.Topic, IssueNumber: is.Number, IssueURL: is.URL, Level: d.Level, Message: d.Message}); err != nil {
			d.Error = "ledger: " + err.Error()
		}
		if d.Change != ChangeUnchanged {
			e.eventData(ctx, "reminder."+d.Change, r.FullName, d.Message, map[string]any{"topic": d.Topic, "kind": d.Kind, "level": d.Level, "issue": is.Number})
		}
		due = append(due, d)
	}
	for _, prev := range sortedReminders(known, r.FullName) {
		if prev.State != ledger.ReminderOpen || seen[prev.Topic] || !checkedTopic(rs.checked, prev.Topic) {
			continue
		}
		d := Due{Repo: r.FullName, Topic: prev.Topic, Kind: kindOf(prev.Topic), Level: prev.Level, Message: prev.Message, Change: ChangeResolved, IssueURL: prev.IssueURL}
		if o.Execute {
			comment, err := templates.Render("reminder/resolved.md.tmpl", d)
			if err == nil {
				err = e.Forge.CloseIssue(ctx, fr, "reminder:"+prev.Topic, comment)
			}
			if err == nil {
				err = e.Ledger.CloseReminder(ctx, r.FullName, prev.Topic)
			}
			if err != nil {
				d.Error = err.Error()
			} else {
				e.eventData(ctx, "reminder.resolved", r.FullName, "resolved: "+prev.Message, map[string]any{"topic": prev.Topic, "issue": prev.IssueNumber})
			}
		}
		resolved = append(resolved, d)
	}
	return due, resolved
}

// reconcileAccount handles reminders that belong to no repository: they go
// to the event log (and the webhook) only.
func (e engine) reconcileAccount(ctx context.Context, o Options, ds []Due, checked []string, known map[string]ledger.Reminder) (due, resolved []Due) {
	seen := map[string]bool{}
	for _, d := range ds {
		seen[d.Topic] = true
		prev, had := known["\x00"+d.Topic]
		d.Change = change(had && prev.State == ledger.ReminderOpen, prev.Level, d.Level)
		if title, _, err := e.reminderText(o, d); err == nil {
			d.Title = title
		}
		if o.Execute && d.Change != ChangeUnchanged {
			e.eventData(ctx, "reminder."+d.Change, "", d.Message, map[string]any{"topic": d.Topic, "kind": d.Kind, "level": d.Level})
		}
		due = append(due, d)
	}
	for _, prev := range sortedReminders(known, "") {
		if prev.State != ledger.ReminderOpen || seen[prev.Topic] || !checkedTopic(checked, prev.Topic) {
			continue
		}
		d := Due{Topic: prev.Topic, Kind: kindOf(prev.Topic), Level: prev.Level, Message: prev.Message, Change: ChangeResolved}
		if o.Execute {
			e.eventData(ctx, "reminder.resolved", "", "resolved: "+prev.Message, map[string]any{"topic": prev.Topic})
		}
		resolved = append(resolved, d)
	}
	return due, resolved
}

// loadAccountReminders rebuilds the state of repository-less reminders from
// the event log, as the ledger's reminders need a repository.
func (e engine) loadAccountReminders(ctx context.Context, known map[string]ledger.Reminder) error {
	evs, err := e.Ledger.Events(ctx, ledger.EventFilter{Kind: "reminder.*"})
	if err != nil {
		return err
	}
	for _, ev := range evs {
		if ev.Repo != "" {
			continue
		}
		var data struct {
			Topic string `json:"topic"`
			Level int    `json:"level"`
		}
		if json.Unmarshal(ev.Data, &data) != nil || data.Topic == "" {
			continue
		}
		key := "\x00" + data.Topic
		if ev.Kind == "reminder."+ChangeResolved {
			r := known[key]
			r.State = ledger.ReminderClosed
			known[key] = r
			continue
		}
		known[key] = ledger.Reminder{Topic: data.Topic, Level: data.Level, State: ledger.ReminderOpen, Message: strings.TrimPrefix(ev.Message, "resolved: ")}
	}
	return nil
}

func change(wasOpen bool, prevLevel, level int) string {
	switch {
	case !wasOpen:
		return ChangeNew
	case level > prevLevel:
		return ChangeEscalated
	}
	return ChangeUnchanged
}

func checkedTopic(prefixes []string, topic string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(topic, p) {
			return true
		}
	}
	return false
}

func kindOf(topic string) string {
	switch {
	case strings.HasPrefix(topic, "secret:"):
		return ReminderSecret
	case strings.HasPrefix(topic, "npm-token:"):
		return ReminderToken
	case strings.HasPrefix(topic, "drift:token-publish"):
		return ReminderDriftToken
	case strings.HasPrefix(topic, "drift:trust-downgrade:"):
		return ReminderDriftTrust
	}
	return ""
}

func sortedReminders(known map[string]ledger.Reminder, repo string) []ledger.Reminder {
	var out []ledger.Reminder
	for _, r := range known {
		if r.Repo == repo {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}

func sortDue(ds []Due) {
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].Repo != ds[j].Repo {
			return ds[i].Repo < ds[j].Repo
		}
		return ds[i].Topic < ds[j].Topic
	})
}

// reminderData is what the reminder templates see.
type reminderData struct {
	Due
	LevelName   string
	Campaign    string
	FlagVar     string
	AgeDays     int
	ExpiryDays  int
	MaxLifetime int
	BornDay     string
	ExpiresDay  string
}

// reminderText renders a reminder's issue title and body.
func (e engine) reminderText(o Options, d Due) (title, body string, err error) {
	data := reminderData{Due: d, LevelName: o.levelName(d.Level), Campaign: e.Opts.Campaign, FlagVar: e.Opts.FlagVar,
		AgeDays: o.AgeDays, ExpiryDays: o.ExpiryDays, MaxLifetime: int(o.MaxLifetime / (24 * time.Hour))}
	if !d.Born.IsZero() {
		data.BornDay = day(d.Born)
	}
	if !d.Expires.IsZero() {
		data.ExpiresDay = day(d.Expires)
	}
	if d.Kind == ReminderDriftToken || d.Kind == ReminderDriftTrust {
		data.LevelName = "drift"
	}
	title, err = templates.Render("reminder/title.tmpl", data)
	if err != nil {
		return "", "", fmt.Errorf("reminder title: %w", err)
	}
	body, err = templates.Render("reminder/"+d.Kind+".md.tmpl", data)
	if err != nil {
		return "", "", fmt.Errorf("reminder body: %w", err)
	}
	return strings.TrimSpace(title), body, nil
}

// webhookPayload is the JSON body of the sweep webhook. Text is for chat
// tools that read a Slack-compatible "text" field.
type webhookPayload struct {
	Text      string    `json:"text"`
	Campaign  string    `json:"campaign"`
	Time      time.Time `json:"time"`
	Reminders []Due     `json:"reminders"`
	Resolved  []Due     `json:"resolved"`
}

// postWebhook posts the new, escalated and resolved reminders. Errors never
// contain the URL, which is often itself a secret.
func (e engine) postWebhook(ctx context.Context, o Options, res Result) error {
	p := webhookPayload{Campaign: e.Opts.Campaign, Time: e.Now().UTC(), Reminders: res.Changed(), Resolved: res.Resolved}
	if p.Reminders == nil {
		p.Reminders = []Due{}
	}
	if p.Resolved == nil {
		p.Resolved = []Due{}
	}
	text, err := templates.Render("reminder/webhook.txt.tmpl", p)
	if err != nil {
		return err
	}
	p.Text = strings.TrimSpace(text)
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.Webhook, bytes.NewReader(body))
	if err != nil {
		return errors.New("the webhook URL is not valid")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cutover")
	resp, err := o.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("POST failed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST answered %s", resp.Status)
	}
	return nil
}

// eventData appends an event with a JSON document; errors are logged.
func (e engine) eventData(ctx context.Context, kind, repo, msg string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		b = nil
	}
	if _, err := e.Ledger.AppendEvent(ctx, ledger.Event{Kind: kind, Repo: repo, Message: msg, Data: b}); err != nil {
		e.Logger.Error("ledger: append event", "kind", kind, "error", err)
	}
}
