package batch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/rewrite"
)

// Inventory lists the portfolio, snapshots and classifies every repository
// concurrently and records the results. A repository whose default branch
// did not move since the last inventory keeps its recorded classification.
func (e *Engine) Inventory(ctx context.Context) (Summary, error) {
	e.defaults()
	sum := Summary{Step: "inventory"}
	if e.Opts.Org == "" {
		return sum, fmt.Errorf("no organisation to inventory: set [github] org or CUTOVER_ORG")
	}
	// List archived repositories and forks too, to count what is skipped
	// and to tell a named one from an unknown one.
	lo := e.Opts.List
	lo.Archived, lo.Forks = true, true
	listed, err := e.Forge.Repos(ctx, e.Opts.Org, lo)
	if err != nil {
		return sum, err // the forge's error names the organisation
	}
	repos, notes, err := e.inventorySelect(listed)
	if err != nil {
		return sum, err
	}
	sum.Notes = notes
	e.Logger.Info("inventory", "org", e.Opts.Org, "repos", len(repos))
	e.event(ctx, "inventory.start", "", nil, fmt.Sprintf("inventory of %d repositories", len(repos)))
	sum.Outcomes = each(ctx, e, "inventory", repos, func(r forge.Repo) string { return r.FullName }, e.inventoryRepo)
	e.event(ctx, "inventory.done", "", nil, fmt.Sprintf("%d ok, %d failed", sum.Count(OK), sum.Count(Failed)))
	return sum, nil
}

func (e *Engine) inventoryRepo(ctx context.Context, r forge.Repo) Outcome {
	log := e.Logger.With("repo", r.FullName)
	known, err := e.Ledger.Repo(ctx, r.FullName)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return failed(r.FullName, "ledger error", err, "check the ledger file")
	}
	row := ledger.Repo{
		FullName: r.FullName, ID: r.ID, DefaultBranch: r.DefaultBranch, Visibility: r.Visibility,
		CloneURL: r.CloneURL, Owner: known.Owner, Topics: r.Topics,
	}
	configured := ""
	if e.Opts.OwnerOf != nil {
		configured = e.Opts.OwnerOf(r.FullName)
	}
	if configured != "" {
		row.Owner = configured
	}
	snap, unchanged, err := e.Forge.Snapshot(ctx, r, known.Commit, rewrite.Relevant)
	if err != nil {
		o := failed(r.FullName, "snapshot failed", err, "check the token can read the repository's contents, then cutover retry --failed")
		// A repository read for the first time is recorded without a
		// classification, so its failed step is kept and retry finds it.
		if known.FullName == "" {
			if err := e.Ledger.UpsertRepo(ctx, row); err != nil {
				return failed(r.FullName, "ledger error", err, "check the ledger file")
			}
		}
		e.step(ctx, "inventory", o)
		return o
	}
	if unchanged && known.Classification != nil {
		if err := e.Ledger.UpsertRepo(ctx, row); err != nil {
			return failed(r.FullName, "ledger error", err, "check the ledger file")
		}
		o := Outcome{Repo: r.FullName, Kind: OK, Detail: "unchanged since " + short(known.Commit)}
		e.step(ctx, "inventory", o)
		return o
	}
	dopts := rewrite.Options{Registry: e.Opts.Registry, FlagVar: e.Opts.FlagVar, MaxFileBytes: e.Opts.MaxFileBytes}
	if c, ok := e.Opts.CircleCI[r.FullName]; ok {
		dopts.CircleCI = &c
	}
	res := rewrite.Detect(rewrite.Snapshot{Repo: r.FullName, Files: snap.Files, Problems: snap.Problems}, dopts)
	if o := codeOwner(snap.Files); o != "" && configured == "" {
		row.Owner = o
	}
	if err := e.Ledger.UpsertRepo(ctx, row); err != nil {
		return failed(r.FullName, "ledger error", err, "check the ledger file")
	}
	if err := e.Ledger.RecordDetection(ctx, r.FullName, snap.Commit, res); err != nil {
		return failed(r.FullName, "ledger error", err, "check the ledger file")
	}
	log.Debug("classified", "publishes", res.Publishes, "credential", res.Credential, "pipelines", len(res.Pipelines))
	o := Outcome{Repo: r.FullName, Kind: OK, Detail: fmt.Sprintf("publishes=%v credential=%s", res.Publishes, res.Credential)}
	e.step(ctx, "inventory", o)
	return o
}

// inventorySelect keeps the listed repositories the selection and the
// archived and fork settings let through, and says what it skipped. A
// repository named with --repo that is archived or a fork without the flag
// that includes it is an error, as is one the organisation does not have.
func (e *Engine) inventorySelect(listed []forge.Repo) ([]forge.Repo, []string, error) {
	known := knownNames{}
	for _, r := range listed {
		known[strings.ToLower(r.FullName)] = r.FullName
	}
	sel, err := e.Opts.Select.resolve(known, fmt.Sprintf("the repositories of %s on the forge", e.Opts.Org),
		"check the name (OWNER/NAME, or NAME in the configured organisation)")
	if err != nil {
		return nil, nil, err
	}
	named := map[string]bool{}
	for _, n := range sel.repos {
		named[n] = true
	}
	var out []forge.Repo
	var archived, forks, unselected int
	var refused []string
	for _, r := range listed {
		if len(named) > 0 && !named[r.FullName] {
			unselected++
			continue
		}
		switch {
		case r.Archived && !e.Opts.List.Archived:
			archived++
			if named[r.FullName] {
				refused = append(refused, r.FullName+" is archived (pass --include-archived)")
			}
			continue
		case r.Fork && !e.Opts.List.Forks:
			forks++
			if named[r.FullName] {
				refused = append(refused, r.FullName+" is a fork (pass --include-forks)")
			}
			continue
		}
		if !sel.keep(r.FullName, r.Topics) {
			unselected++
			continue
		}
		out = append(out, r)
	}
	if len(refused) > 0 {
		return nil, nil, fmt.Errorf("%s", strings.Join(refused, "; "))
	}
	var notes []string
	if archived+forks > 0 {
		notes = append(notes, fmt.Sprintf("skipped %d archived, %d forks; pass --include-archived/--include-forks", archived, forks))
	}
	if unselected > 0 {
		notes = append(notes, fmt.Sprintf("left out %d repositories the selection (--repo, --skip-repo, --topic, --repos-file) does not keep", unselected))
	}
	return out, notes, nil
}

// codeOwner returns the first owner of the catch-all CODEOWNERS rule.
func codeOwner(files map[string][]byte) string {
	for _, p := range []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"} {
		b, ok := files[p]
		if !ok {
			continue
		}
		owner := ""
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "*" {
				owner = f[1] // the last matching rule wins
			}
		}
		return owner
	}
	return ""
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// step records a repository's step outcome; ledger errors are logged.
func (e *Engine) step(ctx context.Context, name string, o Outcome) {
	// Error texts may quote anything a forge or registry said: the ledger
	// refuses token-shaped values, so they are redacted first.
	s := ledger.Step{Repo: o.Repo, Name: name, Reason: ledger.Redact(o.Reason), Hint: ledger.Redact(o.Hint)}
	switch o.Kind {
	case Failed, Manual:
		s.Outcome, s.Error = ledger.OutcomeFailed, ledger.Redact(o.Detail)
		if o.Kind == Manual {
			s.Reason = "manual: " + o.Reason
		}
	case Skipped:
		s.Outcome = ledger.OutcomeSkipped
		if s.Reason == "" {
			s.Reason = ledger.Redact(o.Detail)
		}
	default:
		s.Outcome = ledger.OutcomeOK
	}
	if err := e.Ledger.RecordStep(ctx, s); err != nil {
		e.Logger.Error("ledger: record step", "repo", o.Repo, "step", name, "error", err)
	}
}

// event appends to the ledger's event log; errors are logged.
func (e *Engine) event(ctx context.Context, kind, repo string, wave *int, msg string) {
	if _, err := e.Ledger.AppendEvent(ctx, ledger.Event{Kind: kind, Repo: repo, Wave: wave, Message: ledger.Redact(msg)}); err != nil {
		e.Logger.Error("ledger: append event", "kind", kind, "error", err)
	}
}
