package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/cutover/cutover/internal/interrupt"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/rewrite"
)

// Registry is what the npm steps need from an npm registry; *npm.Client
// implements it. Every method that needs two-factor authentication asks
// the client's OTP source, which the client reuses for the registry's
// five-minute window, so one approval covers a batch.
type Registry interface {
	// Packument fetches a package document.
	Packument(ctx context.Context, name string) (*npm.Packument, error)
	// Attestations fetches a version's attestations.
	Attestations(ctx context.Context, name, version string) ([]npm.Attestation, error)
	// TrustList returns the package's trusted-publisher configs.
	TrustList(ctx context.Context, name string) ([]npm.TrustConfig, error)
	// TrustCreate creates the package's trusted-publisher config.
	TrustCreate(ctx context.Context, name string, cfg npm.TrustConfig) ([]npm.TrustConfig, error)
	// TrustDelete deletes a trusted-publisher config by id.
	TrustDelete(ctx context.Context, name, id string) error
	// Tokens lists the account's access tokens, all pages.
	Tokens(ctx context.Context) ([]npm.Token, error)
	// RevokeToken revokes a token by its full key.
	RevokeToken(ctx context.Context, key string) error
	// SetPublishAccess sets a package's publishing access (npm access set mfa=LEVEL).
	SetPublishAccess(ctx context.Context, name, level string) error
	// OwnToken says whether a listed token is the one the client
	// authenticates with: npm.OwnByKey, npm.OwnByPrefix or "".
	OwnToken(t npm.Token) string
}

var _ Registry = (*npm.Client)(nil)

// NPM runs the campaign steps that talk to the npm registry (trust, verify,
// revoke tokens) with an Engine's ledger, clock, logger and pool.
type NPM struct {
	// Engine provides the ledger, the clock, the logger and the pool.
	Engine *Engine
	// Registry is the npm registry client.
	Registry Registry
	// By says who acts, recorded with revocations; "" means "cutover".
	By string
}

func (n *NPM) by() string {
	if n.By != "" {
		return n.By
	}
	return "cutover"
}

// RepoTarget selects repositories for a step: a wave, or named
// repositories, or (with Topics alone) every inventoried repository with a
// topic; then Skip and Topics narrow it (see Selection).
type RepoTarget struct {
	// Wave selects the members of this wave.
	Wave *int
	// Repos selects these repositories ("owner/name").
	Repos []string
	// Skip leaves these repositories out.
	Skip []string
	// Topics keeps the repositories with at least one of these topics.
	Topics []string
}

// targetRepos resolves the target to repository names in plan or given
// order. A repository named that the inventory does not have is an
// *UnknownRepoError.
func (e *Engine) targetRepos(ctx context.Context, t RepoTarget) ([]string, error) {
	if t.Wave != nil && len(t.Repos) > 0 {
		return nil, errors.New("give a wave or repositories, not both")
	}
	var members []string
	if t.Wave != nil {
		w, err := e.Ledger.Wave(ctx, *t.Wave)
		if err != nil {
			return nil, fmt.Errorf("wave %d: %w (run cutover plan first)", *t.Wave, err)
		}
		members = w.Members
		if len(t.Skip) == 0 && len(t.Topics) == 0 {
			return members, nil
		}
	}
	if t.Wave == nil && len(t.Repos) == 0 && len(t.Topics) == 0 {
		return nil, errors.New("no repositories selected: give --wave N, --repo OWNER/NAME, --repos-file FILE or --topic TOPIC")
	}
	known, topics, rows, err := e.ledgerRepos(ctx)
	if err != nil {
		return nil, err
	}
	r, err := Selection{Repos: t.Repos, Skip: t.Skip, Topics: t.Topics}.resolve(known, "the inventory", inventoryHint)
	if err != nil {
		return nil, err
	}
	switch {
	case t.Wave != nil:
	case len(r.repos) > 0:
		members = r.repos
	default:
		for _, row := range rows {
			members = append(members, row.FullName)
		}
	}
	out := make([]string, 0, len(members))
	for _, n := range members {
		if r.keep(n, topics[n]) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no repositories left: --skip-repo and --topic leave none of the %d selected", len(members))
	}
	return out, nil
}

// cutOver says whether a repository is cut over (its flag is on) and
// verified (every package's latest canary verification passed), and if not,
// why.
func (e *Engine) cutOver(ctx context.Context, repo string) (ok bool, why string, err error) {
	if proxy, err := e.repoProxy(ctx, repo); err != nil || proxy != "" {
		// Its token is still what publishes: never displaced.
		if err != nil {
			return false, "", err
		}
		return false, rewrite.ProxyReason(proxy) + "; its token stays (token-bridge path)", nil
	}
	fl, err := e.Ledger.Flag(ctx, repo, e.Opts.FlagVar)
	if errors.Is(err, ledger.ErrNotFound) || (err == nil && fl.Value != "true") {
		return false, fmt.Sprintf("the flag %s is not on", e.Opts.FlagVar), nil
	}
	if err != nil {
		return false, "", err
	}
	vs, err := e.Ledger.LatestVerifications(ctx, repo)
	if err != nil {
		return false, "", err
	}
	if len(vs) == 0 {
		return false, "no canary verified yet", nil
	}
	for _, v := range vs {
		if !v.Passed {
			return false, fmt.Sprintf("the canary %s@%s failed verification", v.Package, v.Version), nil
		}
	}
	return true, "", nil
}

// npmEvent appends an event with a JSON detail document; errors are logged.
func (e *Engine) npmEvent(ctx context.Context, kind, repo, msg string, data map[string]any) {
	ev := ledger.Event{Kind: kind, Repo: repo, Message: ledger.Redact(msg)}
	if data != nil {
		b, err := json.Marshal(data)
		if err == nil {
			ev.Data = b
		}
	}
	if _, err := e.Ledger.AppendEvent(ctx, ev); err != nil {
		e.Logger.Error("ledger: append event", "kind", kind, "error", err)
	}
}

// registryFailure classifies a registry error into a failed outcome's
// reason and hint, and says whether the rest of the batch should stop
// because every further call would fail the same way.
func registryFailure(err error) (reason, hint string, stop bool) {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, interrupt.ErrInterrupted):
		return ReasonInterrupted, "run the command again to continue", true
	case errors.Is(err, npm.ErrOTPRequired):
		return "two-factor authentication needed", "pass --otp CODE, or --web and approve the login in a browser within five minutes, or run on a terminal to be asked", true
	case errors.Is(err, npm.ErrUnauthorized):
		return "not logged in to the registry", "set the token variable named by [npm] token_env, or log in with npm login", true
	case errors.Is(err, npm.ErrForbidden):
		return "not allowed by the registry", "this needs a maintainer's own login with two-factor authentication; tokens that bypass 2FA are refused for trust and token management", false
	case errors.Is(err, npm.ErrRateLimited), errors.Is(err, npm.ErrServer):
		return "registry unavailable", "run the command again later; completed work is recorded", false
	}
	return "registry error", "", false
}

// stopper remembers the first error after which a batch should stop.
type stopper struct{ err atomic.Pointer[error] }

func (s *stopper) stop(err error) { s.err.CompareAndSwap(nil, &err) }

// stopped returns the error that stopped the batch, or nil.
func (s *stopper) stopped() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

// repoProxy returns the registry proxy some pipeline of the repository
// publishes through, per its last detection; "" when none does.
func (e *Engine) repoProxy(ctx context.Context, repo string) (string, error) {
	row, err := e.Ledger.Repo(ctx, repo)
	if errors.Is(err, ledger.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return row.Classification.ProxyFor(""), nil
}
