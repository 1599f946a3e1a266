package reports

import (
	"cmp"
	"fmt"
	"math"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/logging"
	"github.com/cutover/cutover/rewrite"
)

// Limits on text taken from the ledger, so that one long error does not
// swell the report.
const (
	maxDetail  = 400
	maxMessage = 300
	keyPrefix  = 8
	// maxKey bounds a token key shown whole (npm's keys are UUIDs or
	// 128-bit hex strings; anything longer is not a key).
	maxKey      = 72
	tokenPrefix = 12
	// maxBurndown bounds the number of burndown points.
	maxBurndown = 240
)

// defaultFlagVariable is the flag variable when Meta names none.
const defaultFlagVariable = "CUTOVER_NPM_OIDC"

// Build makes the report of a ledger snapshot. It is pure: the same
// snapshot and meta give the same report. Every string taken from the
// snapshot passes through meta.Redactor (token patterns at least), and no
// token value is ever copied: tokens are known by key and display prefix only.
func Build(snap *ledger.Snapshot, meta Meta) *Report {
	if snap == nil {
		snap = &ledger.Snapshot{}
	}
	b := &builder{red: meta.Redactor, flagVar: meta.FlagVariable, revoked: map[string]bool{}}
	if b.red == nil {
		b.red = &logging.Redactor{}
	}
	if b.flagVar == "" {
		b.flagVar = defaultFlagVariable
	}
	b.pkgURL = packageBase(meta.PackageURL)
	b.releaseFailed = map[string]ledger.Event{}
	b.lastEvent = map[string]ledger.Event{}
	for _, e := range snap.Events {
		if e.Repo == "" {
			continue
		}
		if e.Kind == "release.failed" && !e.Time.Before(b.releaseFailed[e.Repo].Time) {
			b.releaseFailed[e.Repo] = e
		}
		if !e.Time.Before(b.lastEvent[e.Repo].Time) {
			b.lastEvent[e.Repo] = e
		}
	}

	gen := meta.GeneratedAt
	if gen.IsZero() {
		gen = snap.TakenAt
	}
	r := &Report{
		Schema: Schema,
		Campaign: Campaign{
			Name:         b.text(cmp.Or(meta.Campaign, snap.Campaign.Name)),
			ConfigDigest: b.text(cmp.Or(meta.ConfigDigest, snap.Campaign.ConfigDigest)),
			Created:      utc(snap.Campaign.Created),
			GeneratedAt:  utc(gen),
			SnapshotAt:   utc(snap.TakenAt),
			ToolVersion:  b.text(cmp.Or(meta.ToolVersion, "(devel)")),
			LedgerSchema: snap.SchemaVersion,
			FlagVariable: b.text(b.flagVar),
			ReportURL:    cmp.Or(b.url(meta.HTMLURL, true), "report.html"),
			Sandbox:      meta.Sandbox || sandboxLinks(snap),
		},
		Waves:            []Wave{},
		Repos:            make([]Card, 0, len(snap.Repos)),
		RevokedTokens:    []Revocation{},
		VerifiedCanaries: []Canary{},
		Failures:         []FailureGroup{},
		Burndown:         []BurndownPoint{},
		red:              b.red,
	}

	revs := b.revocations(snap)
	b.locked = ledger.LockdownState(snap.Events)
	for _, rs := range snap.Repos {
		r.Repos = append(r.Repos, b.card(&rs))
	}
	r.RevokedTokens = revs
	r.Waves = b.waves(snap.Waves, r.Repos)
	for _, c := range r.Repos {
		for _, cn := range c.Canaries {
			if cn.Passed {
				r.VerifiedCanaries = append(r.VerifiedCanaries, cn)
			}
		}
	}
	r.Summary = b.summary(snap, r)
	r.Failures = failures(r.Repos)
	r.Burndown = burndown(snap, r)
	redactAll(reflect.ValueOf(r).Elem(), b.red)
	return r
}

type builder struct {
	red     *logging.Redactor
	flagVar string
	pkgURL  string
	revoked map[string]bool
	// releaseFailed is each repository's latest "release.failed" event,
	// the watch of status blocking it after its flag went on.
	releaseFailed map[string]ledger.Event
	// locked is the latest publishing-access change of each package, by
	// repository then package (cutover lockdown).
	locked map[string]map[string]ledger.LockdownChange
	// lastEvent is each repository's latest event.
	lastEvent map[string]ledger.Event
}

// sandboxLinks reports whether the snapshot's pull requests live on a
// loopback address, as those of cutover demo and sandbox serve do.
func sandboxLinks(snap *ledger.Snapshot) bool {
	for _, rs := range snap.Repos {
		if rs.Change == nil || rs.Change.URL == "" {
			continue
		}
		u, err := url.Parse(rs.Change.URL)
		if err != nil {
			continue
		}
		h := u.Hostname()
		if h == "localhost" || strings.HasSuffix(h, ".localhost") {
			return true
		}
		if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
			return true
		}
		return false // the first link decides: one campaign, one forge
	}
	return false
}

// text redacts s.
func (b *builder) text(s string) string { return b.red.Redact(s) }

// short redacts s, then shortens it to n runes.
func (b *builder) short(s string, n int) string { return truncate(b.red.Redact(s), n) }

// prefix redacts s and keeps its first n runes; a string holding anything
// secret becomes [REDACTED] whole, so no part of a secret is kept.
func (b *builder) prefix(s string, n int) string {
	if r := b.red.Redact(s); r != s {
		return logging.Redacted
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// url redacts s and keeps it only when it is an http or https address (or,
// with relative, any relative reference), so that a link in the report can
// never be a javascript: or data: URL.
func (b *builder) url(s string, relative bool) string {
	s = strings.TrimSpace(b.red.Redact(s))
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	switch {
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
		return s
	case relative && u.Scheme == "" && u.Host == "" && u.Opaque == "":
		return s
	}
	return ""
}

func packageBase(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if s == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s
}

// packageURL links a package's page; "" without Meta.PackageURL.
func (b *builder) packageURL(name string) string {
	if b.pkgURL == "" || name == "" {
		return ""
	}
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return b.url(b.pkgURL+strings.Join(segs, "/"), false)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// revocations lists every revocation once, oldest first, and marks the
// revoked keys.
func (b *builder) revocations(snap *ledger.Snapshot) []Revocation {
	var all []ledger.Revocation
	seen := map[string]bool{}
	add := func(rv ledger.Revocation) {
		if seen[rv.Key] {
			return
		}
		seen[rv.Key] = true
		all = append(all, rv)
	}
	for _, rv := range snap.Revocations {
		add(rv)
	}
	for _, rs := range snap.Repos {
		for _, rv := range rs.Revocations {
			add(rv)
		}
	}
	slices.SortStableFunc(all, func(a, c ledger.Revocation) int { return a.RevokedAt.Compare(c.RevokedAt) })
	out := make([]Revocation, 0, len(all))
	for _, rv := range all {
		b.revoked[rv.Key] = true
		out = append(out, b.revocation(rv))
	}
	return out
}

func (b *builder) revocation(rv ledger.Revocation) Revocation {
	return Revocation{
		Key:       b.prefix(rv.Key, maxKey),
		KeyPrefix: b.prefix(rv.Key, keyPrefix),
		Prefix:    b.prefix(rv.Prefix, tokenPrefix),
		Name:      b.short(rv.Name, maxMessage),
		Repo:      b.text(rv.Repo),
		RevokedAt: utc(rv.RevokedAt),
		By:        b.short(rv.By, maxMessage),
	}
}

// repoFacts are what the state and the checklist of a repository are
// derived from.
type repoFacts struct {
	detected, publishes bool
	credential          rewrite.Credential
	path                string
	flagOn              bool
	verified            bool // a latest verification passed and none failed
	failedCanary        []ledger.Verification
	secretsLeft         int
	tokensLeft          int
	publishable         int
	trustConfigured     int
	trustMismatch       []string
}

func (b *builder) card(rs *ledger.RepoState) Card {
	repo := rs.Repo
	res := repo.Classification
	c := Card{
		Repo:              b.text(repo.FullName),
		Owner:             b.text(repo.Owner),
		Visibility:        b.text(repo.Visibility),
		DefaultBranch:     b.text(repo.DefaultBranch),
		Credential:        b.text(string(repo.Credential)),
		Packages:          []PackageScope{},
		TrustedPublishers: []TrustedPublisher{},
		Canaries:          []Canary{},
		Revocations:       []Revocation{},
		SecretsDeleted:    []Secret{},
		PostChecks:        []PostCheck{},
		Findings:          []Finding{},
		ManualSteps:       []ManualStep{},
	}
	if rs.Wave != nil {
		w := *rs.Wave
		c.Wave = &w
	}
	f := repoFacts{
		detected:   res != nil || !repo.DetectedAt.IsZero() || repo.Credential != "",
		publishes:  repo.Publishes,
		credential: repo.Credential,
	}

	// Scope: the packages, from the ledger, else from the classification.
	if len(rs.Packages) > 0 {
		for _, p := range rs.Packages {
			c.Packages = append(c.Packages, b.pkg(p.Name, p.Dir, p.Private, p.Publishable, p.Access))
			if !p.Publishable {
				continue
			}
			f.publishable++
			tp := TrustedPublisher{
				Package:     b.text(p.Name),
				Repository:  b.text(p.TrustRepository),
				Workflow:    b.text(p.TrustWorkflow),
				Environment: b.text(p.TrustEnvironment),
				State:       b.text(cmp.Or(p.TrustState, ledger.TrustUnknown)),
				Detail:      b.short(p.TrustDetail, maxMessage),
				Checked:     utc(p.TrustChecked),
			}
			if b.pkgURL != "" {
				if u := b.packageURL(p.Name); u != "" {
					tp.SettingsURL = u + "/access"
				}
			}
			switch p.TrustState {
			case ledger.TrustConfigured:
				f.trustConfigured++
			case ledger.TrustMismatch:
				f.trustMismatch = append(f.trustMismatch, p.Name+": "+p.TrustDetail)
			}
			c.TrustedPublishers = append(c.TrustedPublishers, tp)
		}
	} else if res != nil {
		for _, p := range res.Packages {
			c.Packages = append(c.Packages, b.pkg(p.Name, p.Dir, p.Private, p.Publishable, p.Access))
			if p.Publishable {
				f.publishable++
			}
		}
		for _, t := range res.Trust {
			tp := TrustedPublisher{Package: b.text(t.Package), Repository: b.text(t.Repository),
				Workflow: b.text(t.Workflow), Environment: b.text(t.Environment), State: ledger.TrustUnknown}
			if u := b.packageURL(t.Package); u != "" {
				tp.SettingsURL = u + "/access"
			}
			c.TrustedPublishers = append(c.TrustedPublishers, tp)
		}
	}

	// Flag.
	c.Flag = Flag{Variable: b.text(b.flagVar), State: "unset"}
	for _, fl := range rs.Flags {
		if fl.Variable != b.flagVar {
			continue
		}
		c.Flag.Value = b.short(fl.Value, 40)
		c.Flag.Updated = utc(fl.Updated)
		c.Flag.State = "off"
		if strings.EqualFold(strings.TrimSpace(fl.Value), "true") {
			c.Flag.State = "on"
			f.flagOn = true
		}
	}

	// Pull request.
	if ch := rs.Change; ch != nil {
		c.PR = &PR{
			Number:    ch.PRNumber,
			URL:       b.url(ch.URL, false),
			Title:     b.short(ch.Title, maxMessage),
			State:     b.text(cmp.Or(ch.State, ledger.ChangeOpen)),
			Draft:     ch.Draft,
			Checks:    b.text(cmp.Or(ch.Checks, "none")),
			Mergeable: b.text(ch.Mergeable),
			Branch:    b.text(ch.Branch),
			Base:      b.text(ch.Base),
			Playbook:  b.text(ch.Playbook),
			Updated:   utc(ch.Updated),
		}
	}

	// Canaries: the latest verification of each package.
	latest := map[string]ledger.Verification{}
	for _, v := range rs.Verifications {
		if old, ok := latest[v.Package]; !ok || !v.VerifiedAt.Before(old.VerifiedAt) {
			latest[v.Package] = v
		}
	}
	pkgs := make([]string, 0, len(latest))
	for p := range latest {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	passed := 0
	for _, p := range pkgs {
		v := latest[p]
		c.Canaries = append(c.Canaries, b.canary(repo.FullName, v))
		if v.Passed {
			passed++
		} else {
			f.failedCanary = append(f.failedCanary, v)
		}
	}
	f.verified = passed > 0 && len(f.failedCanary) == 0

	// Revocations and secrets.
	for _, rv := range rs.Revocations {
		c.Revocations = append(c.Revocations, b.revocation(rv))
	}
	slices.SortStableFunc(c.Revocations, func(a, d Revocation) int { return a.RevokedAt.Compare(d.RevokedAt) })
	var left []Secret
	for _, s := range rs.Secrets {
		sc := b.secret(s)
		if s.DeletedAt != nil {
			c.SecretsDeleted = append(c.SecretsDeleted, sc)
		} else {
			left = append(left, sc)
		}
	}
	var tokens []TokenInfo
	for _, t := range rs.Tokens {
		if !b.revoked[t.Key] {
			tokens = append(tokens, b.token(t))
		}
	}
	f.secretsLeft, f.tokensLeft = len(left), len(tokens)
	var feeds []Feed
	if res != nil && (repo.Credential == rewrite.CredToken || repo.Credential == rewrite.CredTokenProvenance) {
		seen := map[Feed]bool{}
		for _, p := range res.Pipelines {
			for _, fd := range p.TokenFeeds {
				if fd.Guarded && f.flagOn {
					continue // behind the flag, which is on: the token no longer flows
				}
				fe := Feed{File: b.text(fd.File), Line: fd.Line, Kind: b.text(fd.Kind), Name: b.text(fd.Name), Secret: b.text(fd.Secret)}
				if !seen[fe] {
					seen[fe] = true
					feeds = append(feeds, fe)
				}
			}
		}
	}
	if len(left)+len(tokens)+len(feeds) > 0 {
		c.Token = &TokenDetails{Secrets: orEmpty(left), Feeds: orEmpty(feeds), Tokens: orEmpty(tokens)}
	}

	// Path, state and checklist.
	f.path = repoPath(rs, f)
	c.Path = f.path
	c.Stage = stage(rs, f)
	c.State = c.Stage
	if bl := b.blocker(rs, f); bl != nil {
		c.Blocked = bl
		c.State = StateBlocked
	}
	c.PostChecks = postChecks(rs, f, c.Stage)

	if res != nil {
		for _, fd := range res.Findings {
			c.Findings = append(c.Findings, Finding{Severity: b.text(string(fd.Severity)), Code: b.text(fd.Code),
				File: b.text(fd.File), Line: fd.Line, Message: b.short(fd.Message, maxMessage)})
		}
	}
	c.ManualSteps = b.manualSteps(rs, &c)
	c.LockedDown = []string{}
	for pkg, ch := range b.locked[repo.FullName] {
		if ch.To == ledger.AccessLockedDown {
			c.LockedDown = append(c.LockedDown, b.text(pkg))
		}
	}
	slices.Sort(c.LockedDown)
	if s := rs.Step; s != nil {
		c.LastStep = &Step{Name: b.text(s.Name), Outcome: b.text(s.Outcome), Reason: b.short(s.Reason, maxMessage),
			Hint: b.short(s.Hint, maxMessage), Attempts: s.Attempts, At: utc(s.At)}
	}
	if e, ok := b.lastEvent[repo.FullName]; ok {
		c.LastEvent = &Event{Kind: b.text(e.Kind), Message: b.short(e.Message, maxMessage), At: utc(e.Time)}
	}
	return c
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (b *builder) pkg(name, dir string, private, publishable bool, access string) PackageScope {
	p := PackageScope{Name: b.text(name), Dir: b.text(dir), Private: private, Publishable: publishable, Access: b.text(access)}
	if publishable {
		p.URL = b.packageURL(name)
	}
	return p
}

func (b *builder) canary(repo string, v ledger.Verification) Canary {
	cn := Canary{Repo: b.text(repo), Package: b.text(v.Package), Version: b.short(v.Version, 80), Tag: b.short(v.Tag, 80),
		Passed: v.Passed, ChecksTotal: len(v.Checks), Checks: make([]CanaryCheck, 0, len(v.Checks)),
		VerifiedAt: utc(v.VerifiedAt), URL: b.packageURL(v.Package)}
	for _, ck := range v.Checks {
		if ck.OK {
			cn.ChecksPassed++
		}
		cn.Checks = append(cn.Checks, CanaryCheck{Name: b.text(ck.Name), OK: ck.OK, Skipped: ck.Skipped, Message: b.short(ck.Message, maxMessage)})
	}
	return cn
}

func (b *builder) secret(s ledger.Secret) Secret {
	out := Secret{Name: b.text(s.Name), Scope: b.text(s.Scope), Environment: b.text(s.Environment),
		UpdatedAt: utc(s.UpdatedAt), DeletedBy: b.short(s.DeletedBy, maxMessage)}
	if s.DeletedAt != nil {
		out.DeletedAt = utc(*s.DeletedAt)
	}
	return out
}

func (b *builder) token(t ledger.Token) TokenInfo {
	ti := TokenInfo{Key: b.prefix(t.Key, maxKey), KeyPrefix: b.prefix(t.Key, keyPrefix), Prefix: b.prefix(t.Prefix, tokenPrefix), Name: b.short(t.Name, maxMessage),
		Created: utc(t.Created), Readonly: t.Readonly, CIDR: []string{}}
	if t.Expires != nil {
		ti.Expires = utc(*t.Expires)
	}
	if t.Bypass2FA != nil {
		v := *t.Bypass2FA
		ti.Bypass2FA = &v
	}
	for _, c := range t.CIDR {
		ti.CIDR = append(ti.CIDR, b.text(c))
	}
	return ti
}

// repoPath says which path a repository takes: the playbook of its change,
// else what its classification allows.
func repoPath(rs *ledger.RepoState, f repoFacts) string {
	if ch := rs.Change; ch != nil {
		switch rewrite.Playbook(ch.Playbook) {
		case rewrite.PlaybookTokenBridge:
			return PathTokenBridge
		case rewrite.PlaybookOIDC, rewrite.PlaybookCleanup:
			return PathOIDC
		}
	}
	switch {
	case !f.detected:
		return PathUndecided
	case !f.publishes && rs.Change == nil:
		return PathNone
	case f.credential == rewrite.CredOIDC:
		return PathOIDC
	}
	if res := rs.Repo.Classification; res != nil {
		for _, p := range res.Pipelines {
			if p.SelfHosted || p.Proxy != "" {
				// No trusted publishing here: a self-hosted runner, or a
				// registry proxy on the publish path.
				return PathTokenBridge
			}
		}
	}
	return PathOIDC
}

var stateRank = func() map[string]int {
	m := map[string]int{}
	for i, s := range States() {
		m[s] = i
	}
	return m
}()

// stage is the furthest state a repository reached, blocked or not.
func stage(rs *ledger.RepoState, f repoFacts) string {
	if f.path == PathNone {
		return StateNotPublishing
	}
	st := StateInventoried
	if rs.Wave != nil {
		st = StatePlanned
	}
	changed := false
	if ch := rs.Change; ch != nil {
		changed = true
		cleanup := ch.Playbook == string(rewrite.PlaybookCleanup)
		switch {
		case ch.State == ledger.ChangeMerged, cleanup:
			// A cleanup change follows a merged oidc change.
			st = StateMerged
		case ch.State == ledger.ChangeOpen || ch.State == "":
			st = StatePROpen
		}
		if f.path == PathTokenBridge {
			if st == StateMerged {
				return StateBridged
			}
			return st
		}
	}
	if (f.flagOn || f.credential == rewrite.CredOIDC) && (!changed || st == StateMerged) {
		st = StateFlagOn
	}
	// A verified canary counts once the workflow change is merged, or
	// when the repository published with OIDC before the campaign.
	if f.verified && (stateRank[st] >= stateRank[StateMerged] || !changed && f.credential == rewrite.CredOIDC) {
		st = StateVerified
	}
	migrated := st == StateVerified || (!changed && f.credential == rewrite.CredOIDC && st == StateFlagOn)
	if migrated && f.secretsLeft == 0 && f.tokensLeft == 0 {
		st = StateDone
	}
	return st
}

// blocker says why a repository is blocked, or nil.
func (b *builder) blocker(rs *ledger.RepoState, f repoFacts) *Blocker {
	if s := rs.Step; s != nil && s.Outcome == ledger.OutcomeFailed {
		reason := strings.TrimSpace(s.Reason)
		if reason == "" {
			reason = cmp.Or(s.Name, "step") + " failed"
		}
		return &Blocker{Reason: b.short(reason, maxMessage), Hint: b.short(s.Hint, maxMessage),
			Detail: b.short(s.Error, maxDetail), Step: b.text(s.Name), Since: utc(s.At)}
	}
	if ev, ok := b.releaseFailed[rs.Repo.FullName]; ok {
		// Blocked until the flag is turned on again after the failure.
		reflipped, off := false, false
		for _, fl := range rs.Flags {
			if fl.Variable == b.flagVar {
				reflipped = fl.Value == "true" && fl.Updated.After(ev.Time)
				off = fl.Value != "true"
			}
		}
		if !reflipped {
			hint := "cutover flag off --repo " + rs.Repo.FullName
			if off {
				hint = "rolled back to the token path; fix the cause, then cutover flag on --repo " + rs.Repo.FullName
			}
			return &Blocker{Reason: "release failed after flag on", Hint: b.short(hint, maxMessage),
				Detail: b.short(ev.Message, maxDetail), Step: "release", Since: utc(ev.Time)}
		}
	}
	if ch := rs.Change; ch != nil && ch.State == ledger.ChangeClosed {
		return &Blocker{Reason: "pull request closed without merging",
			Hint:  "reopen the pull request, or run apply again to open a new one",
			Since: utc(ch.Updated)}
	}
	if len(f.failedCanary) > 0 {
		var parts []string
		var since time.Time
		for _, v := range f.failedCanary {
			var bad []string
			for _, ck := range v.Checks {
				if !ck.OK {
					bad = append(bad, ck.Name+": "+ck.Message)
				}
			}
			parts = append(parts, fmt.Sprintf("%s@%s: %s", v.Package, v.Version, strings.Join(bad, "; ")))
			if v.VerifiedAt.After(since) {
				since = v.VerifiedAt
			}
		}
		return &Blocker{Reason: "canary verification failed",
			Hint:   "fix what the failed checks name, publish a new canary and run verify again",
			Detail: b.short(strings.Join(parts, " | "), maxDetail), Step: "verify", Since: utc(since)}
	}
	return nil
}

// postChecks is a repository's migration checklist.
func postChecks(rs *ledger.RepoState, f repoFacts, st string) []PostCheck {
	if f.path == PathNone {
		return []PostCheck{}
	}
	ch := rs.Change
	already := ch == nil && f.credential == rewrite.CredOIDC
	bridge := f.path == PathTokenBridge
	var out []PostCheck
	add := func(name, status, detail string) {
		out = append(out, PostCheck{Name: name, Status: status, Detail: detail})
	}

	switch {
	case already:
		add("checks green", CheckSkipped, "already publishing with OIDC")
	case ch == nil:
		add("checks green", CheckPending, "no pull request yet")
	case ch.State == ledger.ChangeMerged:
		add("checks green", CheckPass, "merged")
	default:
		switch ch.Checks {
		case "success":
			add("checks green", CheckPass, "checks passed")
		case "failure":
			add("checks green", CheckFail, "checks failed")
		case "none":
			add("checks green", CheckSkipped, "no checks reported")
		default:
			add("checks green", CheckPending, "checks pending")
		}
	}

	switch {
	case already:
		add("merged", CheckSkipped, "already publishing with OIDC")
	case ch == nil:
		add("merged", CheckPending, "no pull request yet")
	case ch.State == ledger.ChangeMerged:
		add("merged", CheckPass, "")
	case ch.State == ledger.ChangeClosed:
		add("merged", CheckFail, "closed without merging")
	default:
		add("merged", CheckPending, "open")
	}

	switch {
	case bridge:
		add("trusted publisher", CheckSkipped, "the token bridge publishes with a token")
	case f.publishable == 0:
		add("trusted publisher", CheckSkipped, "no publishable package")
	case len(f.trustMismatch) > 0:
		add("trusted publisher", CheckFail, strings.Join(f.trustMismatch, "; "))
	case f.trustConfigured == f.publishable:
		add("trusted publisher", CheckPass, fmt.Sprintf("%d of %d packages", f.trustConfigured, f.publishable))
	default:
		add("trusted publisher", CheckPending, fmt.Sprintf("%d of %d packages", f.trustConfigured, f.publishable))
	}

	switch {
	case bridge:
		add("flag on", CheckSkipped, "the token bridge has no flag")
	case f.flagOn:
		add("flag on", CheckPass, "")
	case already || f.credential == rewrite.CredOIDC && ch != nil && ch.Playbook == string(rewrite.PlaybookCleanup):
		add("flag on", CheckSkipped, "no flag needed: the workflow publishes with OIDC only")
	default:
		add("flag on", CheckPending, "")
	}

	switch {
	case bridge:
		add("canary verified", CheckSkipped, "the token bridge is not verified by canary")
	case len(f.failedCanary) > 0:
		add("canary verified", CheckFail, fmt.Sprintf("%d package(s) failed verification", len(f.failedCanary)))
	case f.verified:
		add("canary verified", CheckPass, "")
	default:
		add("canary verified", CheckPending, "")
	}

	late := stateRank[st] < stateRank[StateVerified] && !already
	for _, k := range []struct {
		name string
		left int
		done int
	}{{"tokens revoked", f.tokensLeft, len(rs.Revocations)}, {"secrets deleted", f.secretsLeft, countDeleted(rs.Secrets)}} {
		switch {
		case bridge:
			add(k.name, CheckSkipped, "the token bridge keeps its token")
		case k.left > 0:
			add(k.name, CheckPending, fmt.Sprintf("%d remaining", k.left))
		case late && k.done == 0:
			add(k.name, CheckPending, "after the canary is verified")
		case k.done > 0:
			add(k.name, CheckPass, fmt.Sprintf("%d done", k.done))
		default:
			add(k.name, CheckPass, "none recorded")
		}
	}
	return out
}

func countDeleted(ss []ledger.Secret) int {
	n := 0
	for _, s := range ss {
		if s.DeletedAt != nil {
			n++
		}
	}
	return n
}

// findingSteps turn findings into what a person has to do.
var findingSteps = map[string]string{
	"manual-publish":     "Update the documented manual publish in %s: local publishing needs 2FA; publish from the workflow",
	"literal-token":      "Remove the token committed in %s and revoke it",
	"self-hosted-runner": "Move the publish job in %s to a GitHub-hosted runner, or keep it on the token bridge",
	"untrusted-trigger":  "Review the untrusted trigger of the publishing workflow %s",
	"token-exposed":      "Confine the token in %s to the publish step",
}

// manualSteps lists what a person has to do for a repository.
func (b *builder) manualSteps(rs *ledger.RepoState, c *Card) []ManualStep {
	out := []ManualStep{}
	if c.Blocked != nil && c.Blocked.Hint != "" {
		out = append(out, ManualStep{Text: c.Blocked.Hint})
	}
	if c.Path == PathOIDC {
		for _, tp := range c.TrustedPublishers {
			switch tp.State {
			case ledger.TrustMissing, ledger.TrustMismatch:
				where := "repository " + tp.Repository + ", workflow " + tp.Workflow
				if tp.Environment != "" {
					where += ", environment " + tp.Environment
				}
				out = append(out, ManualStep{Text: "Configure the trusted publisher of " + tp.Package + " on npm: " + where, URL: tp.SettingsURL})
			case ledger.TrustUnpublished:
				out = append(out, ManualStep{Text: "Publish the first version of " + tp.Package + " (with a token): npm configures trusted publishers only for existing packages"})
			}
		}
	}
	for _, fd := range c.Findings {
		if tmpl, ok := findingSteps[fd.Code]; ok {
			loc := fd.File
			if fd.Line > 0 {
				loc = fmt.Sprintf("%s:%d", fd.File, fd.Line)
			}
			out = append(out, ManualStep{Text: fmt.Sprintf(tmpl, cmp.Or(loc, "the repository"))})
		}
	}
	for _, rm := range rs.Reminders {
		if rm.State == ledger.ReminderOpen {
			out = append(out, ManualStep{Text: b.short(cmp.Or(rm.Message, "Reminder: "+rm.Topic), maxMessage), URL: b.url(rm.IssueURL, false)})
		}
	}
	return out
}

func (b *builder) waves(ws []ledger.Wave, cards []Card) []Wave {
	state := make(map[string]string, len(cards))
	for _, c := range cards {
		state[c.Repo] = c.State
	}
	out := make([]Wave, 0, len(ws))
	for _, w := range ws {
		nw := Wave{Number: w.Number, Name: b.text(w.Name), State: b.text(w.State),
			Gate:    Gate{Require: []string{}, MaxFailureRatio: w.Gate.MaxFailureRatio},
			Started: utc(w.Started), Finished: utc(w.Finished), Members: make([]string, 0, len(w.Members)),
			ByState: zeroCounts(States())}
		for _, g := range w.Gate.Require {
			nw.Gate.Require = append(nw.Gate.Require, b.text(g))
		}
		fin := 0
		for _, m := range w.Members {
			name := b.text(m)
			nw.Members = append(nw.Members, name)
			if s, ok := state[name]; ok {
				nw.ByState[s]++
				if s == StateDone || s == StateBridged {
					fin++
				}
			}
		}
		nw.ProgressPercent = percent(fin, len(w.Members))
		out = append(out, nw)
	}
	return out
}

func zeroCounts(keys []string) map[string]int {
	m := make(map[string]int, len(keys))
	for _, k := range keys {
		m[k] = 0
	}
	return m
}

func percent(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(1000*float64(n)/float64(of)) / 10
}

func (b *builder) summary(snap *ledger.Snapshot, r *Report) Summary {
	s := Summary{Repos: len(r.Repos), ByState: zeroCounts(States()),
		ByPath: zeroCounts([]string{PathOIDC, PathTokenBridge, PathUndecided, PathNone})}
	for _, c := range r.Repos {
		s.ByState[c.State]++
		s.ByPath[c.Path]++
		if c.State != StateNotPublishing {
			s.InScope++
		}
		for _, p := range c.Packages {
			if p.Publishable {
				s.Packages++
			}
		}
		for _, tp := range c.TrustedPublishers {
			if tp.State == ledger.TrustConfigured {
				s.TrustConfigured++
			}
		}
		if c.PR != nil {
			switch c.PR.State {
			case ledger.ChangeOpen:
				s.PROpen++
			case ledger.ChangeMerged:
				s.PRMerged++
			}
		}
		if c.Flag.State == "on" {
			s.FlagOn++
		}
	}
	s.Finished = s.ByState[StateDone] + s.ByState[StateBridged]
	s.Blocked = s.ByState[StateBlocked]
	s.ProgressPercent = percent(s.Finished, s.InScope)
	s.TokensRevoked = len(r.RevokedTokens)
	s.CanariesVerified = len(r.VerifiedCanaries)
	for _, c := range r.Repos {
		s.PackagesLockedDown += len(c.LockedDown)
	}

	tokens := map[string]bool{}
	for _, t := range snap.Tokens {
		tokens[t.Key] = true
	}
	for _, rs := range snap.Repos {
		for _, t := range rs.Tokens {
			tokens[t.Key] = true
		}
	}
	for k := range tokens {
		if !b.revoked[k] {
			s.TokensRemaining++
		}
	}
	secrets := slices.Clone(snap.OrgSecrets)
	for _, rs := range snap.Repos {
		secrets = append(secrets, rs.Secrets...)
	}
	for _, sc := range secrets {
		if sc.DeletedAt != nil {
			s.SecretsDeleted++
		} else {
			s.SecretsRemaining++
		}
	}
	return s
}

// failures groups the blocked repositories by reason, largest group first.
func failures(cards []Card) []FailureGroup {
	idx := map[string]int{}
	var out []FailureGroup
	for _, c := range cards {
		if c.Blocked == nil {
			continue
		}
		i, ok := idx[c.Blocked.Reason]
		if !ok {
			i = len(out)
			idx[c.Blocked.Reason] = i
			out = append(out, FailureGroup{Reason: c.Blocked.Reason})
		}
		g := &out[i]
		if g.Hint == "" {
			g.Hint = c.Blocked.Hint
		}
		g.Repos = append(g.Repos, FailedRepo{Repo: c.Repo, Step: c.Blocked.Step, Detail: c.Blocked.Detail, Since: c.Blocked.Since})
		g.Count++
	}
	slices.SortStableFunc(out, func(a, b FailureGroup) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
	})
	return orEmpty(out)
}

// Kinds of events that move a repository towards done.
var progressKinds = map[string]bool{
	ledger.EventChangeState: true, ledger.EventFlag: true, ledger.EventVerified: true,
	ledger.EventTokenRevoked: true, ledger.EventSecretDeleted: true,
}

// burndown replays the event log: a repository is in progress from its
// first change event, and finished (if it is now) at its last progress
// event; the records stand in where the log has no event.
func burndown(snap *ledger.Snapshot, r *Report) []BurndownPoint {
	type span struct{ first, last time.Time }
	byRepo := map[string]*span{}
	var t0 time.Time
	for _, e := range snap.Events {
		if t0.IsZero() || e.Time.Before(t0) {
			t0 = e.Time
		}
		if e.Repo == "" || !progressKinds[e.Kind] {
			continue
		}
		sp := byRepo[e.Repo]
		if sp == nil {
			sp = &span{}
			byRepo[e.Repo] = sp
		}
		if e.Kind == ledger.EventChangeState && (sp.first.IsZero() || e.Time.Before(sp.first)) {
			sp.first = e.Time
		}
		if e.Time.After(sp.last) {
			sp.last = e.Time
		}
	}
	if c := snap.Campaign.Created; !c.IsZero() && (t0.IsZero() || c.Before(t0)) {
		t0 = c
	}
	t1 := snap.TakenAt
	if t0.IsZero() {
		t0 = t1
	}
	if t1.Before(t0) {
		t1 = t0
	}
	var started, finished []time.Time
	inScope := 0
	for i, c := range r.Repos {
		if c.State == StateNotPublishing {
			continue
		}
		inScope++
		name := snap.Repos[i].Repo.FullName
		sp := byRepo[name]
		if sp == nil {
			sp = &span{}
		}
		first, last := sp.first, sp.last
		if first.IsZero() && c.PR != nil {
			first = c.PR.Updated
		}
		if c.State == StateDone || c.State == StateBridged {
			if last.IsZero() {
				last = latestRecord(c)
			}
			if last.IsZero() || last.Before(t0) {
				last = t0
			}
			finished = append(finished, last)
			if first.IsZero() || first.After(last) {
				first = last
			}
		}
		if !first.IsZero() {
			started = append(started, first)
		}
	}
	slices.SortFunc(started, time.Time.Compare)
	slices.SortFunc(finished, time.Time.Compare)

	var at []time.Time
	at = append(at, t0)
	at = append(at, started...)
	at = append(at, finished...)
	at = append(at, t1)
	slices.SortFunc(at, time.Time.Compare)
	at = slices.CompactFunc(at, time.Time.Equal)
	if len(at) > maxBurndown {
		step := t1.Sub(t0) / time.Duration(maxBurndown-1)
		at = at[:0]
		for i := range maxBurndown - 1 {
			at = append(at, t0.Add(time.Duration(i)*step))
		}
		at = append(at, t1)
	}
	count := func(ts []time.Time, t time.Time) int {
		n, _ := slices.BinarySearchFunc(ts, t, func(a, b time.Time) int {
			if a.After(b) {
				return 1
			}
			return -1
		})
		return n
	}
	out := make([]BurndownPoint, 0, len(at))
	for _, t := range at {
		fin := count(finished, t)
		st := count(started, t)
		out = append(out, BurndownPoint{At: utc(t), Remaining: inScope - fin, InProgress: max(st-fin, 0), Finished: fin})
	}
	return out
}

// latestRecord is the latest time a card records progress at.
func latestRecord(c Card) time.Time {
	var t time.Time
	later := func(u time.Time) {
		if u.After(t) {
			t = u
		}
	}
	for _, cn := range c.Canaries {
		later(cn.VerifiedAt)
	}
	for _, rv := range c.Revocations {
		later(rv.RevokedAt)
	}
	for _, s := range c.SecretsDeleted {
		later(s.DeletedAt)
	}
	if c.PR != nil {
		later(c.PR.Updated)
	}
	return t
}

// redactAll redacts every settable string reachable from v: whatever a
// builder step forgot, no token value leaves Build.
func redactAll(v reflect.Value, r *logging.Redactor) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			redactAll(v.Elem(), r)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				redactAll(v.Field(i), r)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			redactAll(v.Index(i), r)
		}
	case reflect.String:
		if v.CanSet() {
			if s := v.String(); r.Contains(s) {
				v.SetString(r.Redact(s))
			}
		}
	}
	// Maps hold counts keyed by state and path names only.
}
