package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/classdoc"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/logging"
	"github.com/cutover/cutover/reports"
	"github.com/cutover/cutover/rewrite"
)

// showSchema names the version of show's JSON document.
const showSchema = "cutover.show/v1"

// PathManual is show's path of a repository whose rewrite cutover left to a
// person (its last step needs manual work).
const PathManual = "manual"

// defaultShowEvents is how many of the last events show prints.
const defaultShowEvents = 10

type showOptions struct {
	// ledgerPath is the campaign ledger read.
	ledgerPath string
	// repo is the repository asked for: ORG/NAME, or NAME in the configured org.
	repo string
	// org is the configured organisation, for a bare NAME.
	org string
	// format is table or json.
	format string
	// web opens the pull request in the browser instead of printing.
	web bool
	// events is how many of the last events are shown.
	events int
	// meta is what the report model needs besides the ledger.
	meta reports.Meta
	// openURL opens a web address in the user's browser.
	openURL func(ctx context.Context, u string) error
	// out receives the document; errOut the --web message.
	out, errOut io.Writer
}

// ShowDoc is the document cutover show --format json prints
// ("schema": "cutover.show/v1"): one repository at a glance. Its field names
// are a contract; changes to it are additive only.
type ShowDoc struct {
	// Schema is always "cutover.show/v1".
	Schema string `json:"schema"`
	// Repo is the repository's full name, "owner/name".
	Repo string `json:"repo"`
	// State is the repository's campaign state, as in the report
	// (not-publishing, inventoried, planned, pr-open, merged, flag-on,
	// verified, bridged, done, blocked).
	State string `json:"state"`
	// Stage is the furthest state reached, blocked or not.
	Stage string `json:"stage"`
	// Blocked says why the repository is blocked; absent when it is not.
	Blocked *reports.Blocker `json:"blocked,omitempty"`
	// Next is the command that moves a blocked repository on; absent otherwise.
	Next string `json:"next,omitempty"`
	// Wave is the number of the repository's wave; null when unplanned.
	Wave *int `json:"wave"`
	// WaveName is the wave's name, such as canary; absent when unplanned.
	WaveName string `json:"wave_name,omitempty"`
	// Path is oidc, token-bridge, manual, undecided or none.
	Path string `json:"path"`
	// Credential is the least migrated credential detection found.
	Credential string `json:"credential,omitempty"`
	// Owner is who answers for the repository, when known.
	Owner string `json:"owner,omitempty"`
	// Visibility is public, private or internal.
	Visibility string `json:"visibility,omitempty"`
	// DefaultBranch is the branch changes are based on.
	DefaultBranch string `json:"default_branch,omitempty"`
	// DetectedAt is when inventory last classified the repository.
	DetectedAt time.Time `json:"detected_at,omitzero"`
	// Pipelines are the publishing jobs detection found, in its order.
	Pipelines []ShowPipeline `json:"pipelines"`
	// PR is the campaign pull request; null before apply pushed.
	PR *reports.PR `json:"pr"`
	// Flag is the state of the OIDC flag variable.
	Flag reports.Flag `json:"flag"`
	// TrustedPublishers are the trusted-publisher settings each package
	// needs and what the registry was last found to hold.
	TrustedPublishers []reports.TrustedPublisher `json:"trusted_publishers"`
	// Canaries are the latest canary verification of each package.
	Canaries []reports.Canary `json:"canaries"`
	// LockedDown are the packages whose publishing access disallows tokens.
	LockedDown []string `json:"locked_down"`
	// TokensRemaining are the npm tokens recorded for the repository and
	// not revoked (key and displayed prefix, never a value).
	TokensRemaining []reports.TokenInfo `json:"tokens_remaining"`
	// SecretsRemaining are the token secrets that still exist.
	SecretsRemaining []reports.Secret `json:"secrets_remaining"`
	// TokenFeeds are where the workflows still hand a token to a publish.
	TokenFeeds []reports.Feed `json:"token_feeds"`
	// Revocations are the repository's tokens cutover revoked.
	Revocations []reports.Revocation `json:"revocations"`
	// SecretsDeleted are the token secrets cutover deleted.
	SecretsDeleted []reports.Secret `json:"secrets_deleted"`
	// ManualSteps are what a person has to do for the repository.
	ManualSteps []reports.ManualStep `json:"manual_steps"`
	// LastStep is the last engine step run on the repository.
	LastStep *reports.Step `json:"last_step,omitempty"`
	// Events are the repository's last events, oldest first.
	Events []ShowEvent `json:"events"`
	// EventsTotal counts all of the repository's events.
	EventsTotal int `json:"events_total"`
}

// ShowPipeline is one publishing job of a repository.
type ShowPipeline struct {
	// Provider is github, gitlab or circleci.
	Provider string `json:"provider"`
	// File is the workflow (or CI) file.
	File string `json:"file"`
	// Job is the job's id.
	Job string `json:"job"`
	// Line is the job's line in File.
	Line int `json:"line,omitempty"`
	// Tools are the publishing tools the job runs (npm, pnpm, changesets, …).
	Tools []string `json:"tools"`
	// Credential is token, token+provenance, oidc or none.
	Credential string `json:"credential"`
	// Environment is the job's deployment environment, if any.
	Environment string `json:"environment,omitempty"`
	// SelfHosted is true when the job runs on self-hosted runners.
	SelfHosted bool `json:"self_hosted"`
	// Confidence is "inferred" when cutover inferred the publish.
	Confidence string `json:"confidence,omitempty"`
	// Proxy is the registry proxy the job publishes through, if any.
	Proxy string `json:"proxy,omitempty"`
	// ProxyScopes are the scopes routed to Proxy; empty means every package.
	ProxyScopes []string `json:"proxy_scopes,omitempty"`
}

// ShowEvent is one event of the ledger about the repository.
type ShowEvent struct {
	// Time is when it was recorded (UTC).
	Time time.Time `json:"time"`
	// Kind classifies it, such as flag.set or change.state.
	Kind string `json:"kind"`
	// Message is a sentence for people.
	Message string `json:"message,omitempty"`
}

func newShowCmd(app *App) *cobra.Command {
	opts := &showOptions{}
	cmd := &cobra.Command{
		Use:   "show REPO [--format table|json] [--web]",
		Short: "Show one repository at a glance: state, wave, pipelines, pull request, flag, publishers, canaries, tokens, events",
		Long: `Show everything the ledger knows about one repository: its campaign state
and wave, the path it takes (oidc, token-bridge or manual), its publishing
pipelines (file, job, tool, credential), the campaign pull request with its
checks, the flag, the trusted publisher of each package, the canary checks
of its last verification, the npm tokens and token secrets that remain, and
its last events with their times.

REPO is ORG/NAME, or NAME within the configured organisation ([github] org,
CUTOVER_ORG). show reads the ledger only (run cutover status first for fresh
pull request states) and never writes to it, so it runs while another
command works on the campaign.

--web opens the pull request in the browser instead. --format json prints
a versioned document (schema "cutover.show/v1", field names in the README).
Exit code 2 when the ledger does not know the repository.`,
		Example: example(
			"cutover show acme/widget",
			"cutover show widget --format json",
			"cutover show acme/widget --web",
		),
		Args: exactArgs(1, "REPO"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.format != "table" && opts.format != "json" {
				return usageErrorf(cmd, "--format %q: use table or json", opts.format)
			}
			if opts.events < 0 {
				return usageErrorf(cmd, "--events %d: want 0 or more", opts.events)
			}
			opts.repo = args[0]
			opts.org = app.Config.GitHub.Org
			if opts.ledgerPath == "" {
				opts.ledgerPath = app.Config.Campaign.Ledger
			}
			opts.meta.ToolVersion = buildVersion(debug.ReadBuildInfo)
			opts.meta.FlagVariable = app.Config.Rewrite.FlagVar
			opts.meta.Redactor = app.Redactor
			opts.openURL = app.OpenURL
			opts.out, opts.errOut = &redactingWriter{w: app.Out, app: app}, app.Err
			return runShow(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.ledgerPath, "ledger", "", "read the campaign ledger from `FILE` (default: [campaign] ledger, cutover.db)")
	f.StringVar(&opts.format, "format", "table", "output format: table or json")
	f.BoolVar(&opts.web, "web", false, "open the repository's pull request in the browser")
	f.IntVar(&opts.events, "events", defaultShowEvents, "how many of the last events to show")
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletions("table", "json"))
	_ = cmd.MarkFlagFilename("ledger", "db")
	return cmd
}

// redactingWriter redacts what a command prints to stdout.
type redactingWriter struct {
	w   io.Writer
	app *App
}

func (r *redactingWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.app.Redactor.Redact(string(b))); err != nil {
		return 0, err
	}
	return len(b), nil
}

func runShow(ctx context.Context, opts *showOptions) error {
	if _, err := os.Stat(opts.ledgerPath); errors.Is(err, fs.ErrNotExist) {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("no ledger at %q: run cutover inventory first, or name the ledger with --ledger or [campaign] ledger", opts.ledgerPath)}
	}
	led, err := ledger.Open(ctx, opts.ledgerPath, ledger.Options{})
	if err != nil {
		return err
	}
	defer led.Close()
	snap, err := led.Snapshot(ctx)
	if err != nil {
		return err
	}
	rs, err := findRepo(snap, opts.repo, opts.org)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	// The report's model gives state, path and the rest exactly as the
	// report shows them; only this repository is built.
	one := *snap
	one.Repos = []ledger.RepoState{*rs}
	rep := reports.Build(&one, opts.meta)
	if len(rep.Repos) != 1 {
		return fmt.Errorf("internal error: the report model has %d cards for %s", len(rep.Repos), rs.Repo.FullName)
	}
	doc := newShowDoc(rep.Repos[0], rs, snap, opts.events)
	if opts.web {
		return openPR(ctx, opts, doc)
	}
	if opts.format == "json" {
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		_, err = opts.out.Write(append(b, '\n'))
		return err
	}
	_, err = io.WriteString(opts.out, showText(doc, opts.meta.Redactor))
	return err
}

// findRepo finds the repository name asks for: ORG/NAME as it is, NAME in
// org; GitHub's names are case-insensitive. Unknown names get a hint.
func findRepo(snap *ledger.Snapshot, name, org string) (*ledger.RepoState, error) {
	want := name
	if !strings.Contains(name, "/") && org != "" {
		want = org + "/" + name
	}
	var bare []*ledger.RepoState
	for i := range snap.Repos {
		rs := &snap.Repos[i]
		full := rs.Repo.FullName
		if strings.EqualFold(full, want) {
			return rs, nil
		}
		if _, n, _ := strings.Cut(full, "/"); !strings.Contains(name, "/") && strings.EqualFold(n, name) {
			bare = append(bare, rs)
		}
	}
	if len(bare) == 1 && org == "" {
		return bare[0], nil
	}
	msg := fmt.Sprintf("no repository %q in the ledger", want)
	if len(bare) > 0 {
		var names []string
		for _, rs := range bare {
			names = append(names, rs.Repo.FullName)
		}
		return nil, fmt.Errorf("%s; did you mean %s?", msg, strings.Join(names, " or "))
	}
	if len(snap.Repos) == 0 {
		return nil, fmt.Errorf("%s: the ledger has no repositories yet; run cutover inventory", msg)
	}
	if s := nearestRepo(want, snap.Repos); s != "" {
		return nil, fmt.Errorf("%s; did you mean %q? (the ledger has %d repositories; cutover status lists them)", msg, s, len(snap.Repos))
	}
	return nil, fmt.Errorf("%s (the ledger has %d repositories; cutover status lists them, cutover inventory adds new ones)", msg, len(snap.Repos))
}

// nearestRepo returns the repository whose full name is closest to want,
// or "" when none is a plausible typo.
func nearestRepo(want string, repos []ledger.RepoState) string {
	best, bestD := "", -1
	w := strings.ToLower(want)
	for _, rs := range repos {
		d := editDistance(w, strings.ToLower(rs.Repo.FullName))
		if d <= max(2, len(w)/4) && (bestD < 0 || d < bestD) {
			best, bestD = rs.Repo.FullName, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func newShowDoc(c reports.Card, rs *ledger.RepoState, snap *ledger.Snapshot, nEvents int) ShowDoc {
	d := ShowDoc{
		Schema: showSchema, Repo: c.Repo, State: c.State, Stage: c.Stage, Blocked: c.Blocked, Next: reports.NextCommand(c),
		Wave: c.Wave, Path: c.Path, Credential: c.Credential, Owner: c.Owner, Visibility: c.Visibility,
		DefaultBranch: c.DefaultBranch, DetectedAt: rs.Repo.DetectedAt.UTC(), PR: c.PR, Flag: c.Flag,
		TrustedPublishers: orEmptySlice(c.TrustedPublishers), Canaries: orEmptySlice(c.Canaries), LockedDown: orEmptySlice(c.LockedDown),
		Revocations: orEmptySlice(c.Revocations), SecretsDeleted: orEmptySlice(c.SecretsDeleted), ManualSteps: orEmptySlice(c.ManualSteps),
		LastStep:  c.LastStep,
		Pipelines: []ShowPipeline{}, TokensRemaining: []reports.TokenInfo{}, SecretsRemaining: []reports.Secret{},
		TokenFeeds: []reports.Feed{}, Events: []ShowEvent{},
	}
	if c.Wave != nil {
		for _, w := range snap.Waves {
			if w.Number == *c.Wave {
				d.WaveName = w.Name
			}
		}
	}
	if st := rs.Step; st != nil && st.Outcome == ledger.OutcomeFailed && strings.Contains(st.Reason, "manual") {
		d.Path = PathManual
	}
	if t := c.Token; t != nil {
		d.TokensRemaining = orEmptySlice(t.Tokens)
		d.SecretsRemaining = orEmptySlice(t.Secrets)
		d.TokenFeeds = orEmptySlice(t.Feeds)
	}
	if res := rs.Repo.Classification; res != nil {
		for _, p := range res.Pipelines {
			d.Pipelines = append(d.Pipelines, showPipeline(p))
		}
	}
	var evs []ShowEvent
	for _, e := range snap.Events {
		if e.Repo == rs.Repo.FullName {
			evs = append(evs, ShowEvent{Time: e.Time.UTC(), Kind: e.Kind, Message: e.Message})
		}
	}
	d.EventsTotal = len(evs)
	if len(evs) > nEvents {
		evs = evs[len(evs)-nEvents:]
	}
	d.Events = append(d.Events, evs...)
	return d
}

func showPipeline(p classdoc.Pipeline) ShowPipeline {
	provider := p.Provider
	if provider == "" {
		provider = "github"
	}
	return ShowPipeline{
		Provider: provider, File: p.File, Job: p.Job, Line: p.Line, Tools: orEmptySlice(p.Tools),
		Credential: string(p.Credential), Environment: p.Environment, SelfHosted: p.SelfHosted, Confidence: p.Confidence,
		Proxy: p.Proxy, ProxyScopes: p.ProxyScopes,
	}
}

func orEmptySlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// openPR opens the repository's pull request with opts.openURL.
func openPR(ctx context.Context, opts *showOptions, d ShowDoc) error {
	if d.PR == nil || d.PR.URL == "" {
		hint := "run cutover apply --execute for its wave"
		if d.Wave != nil {
			hint = fmt.Sprintf("run cutover apply --wave %d --execute", *d.Wave)
		}
		return &ExitError{Code: ExitFindings, Err: fmt.Errorf("%s has no campaign pull request yet: %s", d.Repo, hint)}
	}
	u, err := url.Parse(d.PR.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("the pull request address of %s in the ledger, %q, is not a web address", d.Repo, d.PR.URL)
	}
	fmt.Fprintf(opts.errOut, "Opening %s in your browser.\n", u)
	if err := opts.openURL(ctx, u.String()); err != nil {
		return fmt.Errorf("could not open the browser (%v): open %s yourself", err, u)
	}
	return nil
}

// openBrowser opens u with the operating system's opener: $BROWSER when
// set, else open (macOS), rundll32 (Windows) or xdg-open.
func openBrowser(getenv func(string) string) func(ctx context.Context, u string) error {
	return func(ctx context.Context, u string) error {
		var name string
		var args []string
		switch b := getenv("BROWSER"); {
		case b != "":
			name, args = b, []string{u}
		case runtime.GOOS == "darwin":
			name, args = "open", []string{u}
		case runtime.GOOS == "windows":
			name, args = "rundll32", []string{"url.dll,FileProtocolHandler", u}
		default:
			name, args = "xdg-open", []string{u}
		}
		cmd := exec.CommandContext(context.WithoutCancel(ctx), name, args...)
		if err := cmd.Start(); err != nil {
			return err
		}
		// The opener hands the address to the browser and exits; do not
		// leave it a zombie.
		go func() { _ = cmd.Wait() }()
		return nil
	}
}

// showText renders the document for people.
func showText(d ShowDoc, r *logging.Redactor) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	fmt.Fprintf(&b, "%s\n", termSafe(d.Repo))
	state := d.State
	if d.Stage != "" && d.Stage != d.State {
		state += " (reached " + d.Stage + ")"
	}
	row("state", state)
	if d.Blocked != nil {
		why := d.Blocked.Reason
		if d.Blocked.Detail != "" {
			why += ": " + d.Blocked.Detail
		}
		row("blocked", oneLine(r, why, 160))
		if d.Blocked.Hint != "" {
			row("hint", oneLine(r, d.Blocked.Hint, 160))
		}
	}
	if d.Next != "" {
		row("next", d.Next)
	}
	wave := "not planned"
	if d.Wave != nil {
		wave = fmt.Sprint(*d.Wave)
		if d.WaveName != "" && d.WaveName != "wave "+wave {
			wave += " (" + d.WaveName + ")"
		}
	}
	row("wave", wave)
	path := d.Path
	if d.Credential != "" {
		path += " (publishes with " + d.Credential + ")"
	}
	row("path", path)
	if d.Owner != "" {
		row("owner", termSafe(d.Owner))
	}
	if d.Visibility != "" {
		row("visibility", d.Visibility)
	}
	if pr := d.PR; pr != nil {
		s := fmt.Sprintf("#%d %s, checks %s", pr.Number, pr.State, orDash(pr.Checks))
		if pr.Number == 0 {
			s = fmt.Sprintf("branch %s pushed, no pull request yet", pr.Branch)
		}
		if pr.Draft {
			s += ", draft"
		}
		if pr.Mergeable != "" {
			s += ", mergeable " + pr.Mergeable
		}
		if pr.URL != "" {
			s += "  " + pr.URL
		}
		row("pull request", s)
	} else {
		row("pull request", "none yet")
	}
	flag := d.Flag.Variable + " " + d.Flag.State
	if !d.Flag.Updated.IsZero() {
		flag += " (set " + fmtShowTime(d.Flag.Updated) + ")"
	}
	row("flag", flag)
	if d.LastStep != nil {
		row("last step", showStep(d.LastStep))
	}
	tw.Flush()

	section := func(title string, n int) bool {
		if n == 0 {
			fmt.Fprintf(&b, "\n%s: none\n", title)
			return false
		}
		fmt.Fprintf(&b, "\n%s:\n", title)
		return true
	}
	if section("pipelines", len(d.Pipelines)) {
		tw = tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  FILE\tJOB\tTOOL\tCREDENTIAL\tNOTES")
		for _, p := range d.Pipelines {
			var notes []string
			if p.Provider != "github" {
				notes = append(notes, p.Provider)
			}
			if p.Environment != "" {
				notes = append(notes, "environment "+p.Environment)
			}
			if p.SelfHosted {
				notes = append(notes, "self-hosted")
			}
			if p.Confidence != "" {
				notes = append(notes, p.Confidence)
			}
			if p.Proxy != "" {
				via := "via proxy " + rewrite.RegistryHost(p.Proxy)
				if len(p.ProxyScopes) > 0 {
					via += " (scope " + strings.Join(p.ProxyScopes, ", ") + ")"
				}
				notes = append(notes, via)
			}
			file := p.File
			if p.Line > 0 {
				file += fmt.Sprintf(":%d", p.Line)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", termSafe(file), termSafe(p.Job), orDash(strings.Join(p.Tools, ", ")), p.Credential, orDash(strings.Join(notes, ", ")))
		}
		tw.Flush()
	}
	if section("trusted publishers", len(d.TrustedPublishers)) {
		tw = tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  PACKAGE\tSTATE\tREPOSITORY\tWORKFLOW\tENVIRONMENT\tCHECKED")
		for _, t := range d.TrustedPublishers {
			checked := "never"
			if !t.Checked.IsZero() {
				checked = fmtShowTime(t.Checked)
			}
			state := t.State
			if t.Detail != "" && t.State != ledger.TrustConfigured {
				state += ": " + oneLine(r, t.Detail, 80)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", termSafe(t.Package), state, orDash(t.Repository), orDash(t.Workflow), orDash(t.Environment), checked)
		}
		tw.Flush()
	}
	if section("canary checks", len(d.Canaries)) {
		for _, c := range d.Canaries {
			result := "passed"
			if !c.Passed {
				result = "FAILED"
			}
			fmt.Fprintf(&b, "  %s@%s  %s, %d/%d checks  (%s)\n", termSafe(c.Package), termSafe(c.Version), result, c.ChecksPassed, c.ChecksTotal, fmtShowTime(c.VerifiedAt))
			for _, ch := range c.Checks {
				mark := "ok  "
				switch {
				case ch.Skipped:
					mark = "skip"
				case !ch.OK:
					mark = "FAIL"
				}
				fmt.Fprintf(&b, "    %s %s: %s\n", mark, ch.Name, oneLine(r, ch.Message, 140))
			}
		}
	}
	if len(d.LockedDown) > 0 {
		fmt.Fprintf(&b, "\nlocked down (no token can publish): %s\n", strings.Join(d.LockedDown, ", "))
	}
	if section("npm tokens remaining", len(d.TokensRemaining)) {
		tw = tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  KEY\tPREFIX\tNAME\tEXPIRES")
		for _, t := range d.TokensRemaining {
			exp := "never"
			if !t.Expires.IsZero() {
				exp = fmtShowTime(t.Expires)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", orDash(cmpOr(t.Key, t.KeyPrefix)), orDash(t.Prefix), orDash(termSafe(t.Name)), exp)
		}
		tw.Flush()
	}
	if section("token secrets remaining", len(d.SecretsRemaining)) {
		for _, s := range d.SecretsRemaining {
			scope := s.Scope
			if s.Environment != "" {
				scope += " " + s.Environment
			}
			rot := ""
			if !s.UpdatedAt.IsZero() {
				rot = ", last rotated " + fmtShowTime(s.UpdatedAt)
			}
			fmt.Fprintf(&b, "  %s (%s%s)\n", termSafe(s.Name), scope, rot)
		}
	}
	if len(d.TokenFeeds) > 0 {
		fmt.Fprintf(&b, "\ntoken feeds in the workflows:\n")
		for _, f := range d.TokenFeeds {
			loc := f.File
			if f.Line > 0 {
				loc += fmt.Sprintf(":%d", f.Line)
			}
			from := ""
			if f.Secret != "" {
				from = " from secret " + f.Secret
			}
			fmt.Fprintf(&b, "  %s  %s %s%s\n", termSafe(loc), f.Kind, termSafe(f.Name), termSafe(from))
		}
	}
	if len(d.Revocations) > 0 || len(d.SecretsDeleted) > 0 {
		fmt.Fprintf(&b, "\nremoved by cutover:\n")
		for _, r := range d.Revocations {
			fmt.Fprintf(&b, "  npm token %s revoked %s\n", cmpOr(r.Key, r.KeyPrefix), fmtShowTime(r.RevokedAt))
		}
		for _, s := range d.SecretsDeleted {
			fmt.Fprintf(&b, "  secret %s (%s) deleted %s\n", termSafe(s.Name), s.Scope, fmtShowTime(s.DeletedAt))
		}
	}
	if len(d.ManualSteps) > 0 {
		fmt.Fprintf(&b, "\nmanual steps:\n")
		for _, m := range d.ManualSteps {
			fmt.Fprintf(&b, "  - %s\n", oneLine(r, m.Text, 200))
		}
	}
	title := "last events"
	if d.EventsTotal > len(d.Events) {
		title = fmt.Sprintf("last %d of %d events", len(d.Events), d.EventsTotal)
	}
	if section(title, len(d.Events)) {
		for _, e := range d.Events {
			fmt.Fprintf(&b, "  %s  %-16s %s\n", fmtShowTime(e.Time), e.Kind, oneLine(r, e.Message, 160))
		}
	}
	return b.String()
}

func showStep(s *reports.Step) string {
	out := s.Name + " " + s.Outcome
	if s.Reason != "" {
		out += ": " + s.Reason
	}
	if !s.At.IsZero() {
		out += " (" + fmtShowTime(s.At) + ")"
	}
	return out
}

// cmpOr returns a, or b when a is empty: the whole token key when the
// report has it, else its prefix.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func fmtShowTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }
