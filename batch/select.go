package batch

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/ledger"
)

// Selection narrows the repositories a step works on, the same way for
// every command: Repos names repositories (from --repo and --repos-file),
// Skip leaves repositories out (--skip-repo), and Topics keeps only
// repositories with at least one of these topics (--topic). Names are
// "owner/name" and compare without regard to case, as on GitHub; topics
// too. The zero value selects everything it is applied to.
type Selection struct {
	// Repos names repositories ("owner/name"); empty names none.
	Repos []string
	// Skip leaves these repositories out.
	Skip []string
	// Topics keeps repositories with at least one of these topics.
	Topics []string
}

// IsZero reports whether the selection narrows nothing.
func (s Selection) IsZero() bool {
	return len(s.Repos) == 0 && len(s.Skip) == 0 && len(s.Topics) == 0
}

// UnknownRepoError names repositories given on the command line that the
// inventory (or the forge's listing, for inventory) does not have.
type UnknownRepoError struct {
	// Names are the unknown repositories, as given.
	Names []string
	// Flag says where they were given: "--repo or --repos-file" or "--skip-repo".
	Flag string
	// Where says what they were looked up in, such as "the inventory".
	Where string
	// Hint says what to do.
	Hint string
}

func (e *UnknownRepoError) Error() string {
	noun := "repository"
	if len(e.Names) > 1 {
		noun = "repositories"
	}
	return fmt.Sprintf("unknown %s %s (%s): not in %s; %s", noun, strings.Join(e.Names, ", "), e.Flag, e.Where, e.Hint)
}

// knownNames maps lower-cased full names to the names as recorded.
type knownNames map[string]string

func (k knownNames) canonical(names []string, flag, where, hint string) ([]string, error) {
	out := make([]string, 0, len(names))
	var unknown []string
	for _, n := range names {
		c, ok := k[strings.ToLower(n)]
		if !ok {
			unknown = append(unknown, n)
			continue
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if len(unknown) > 0 {
		return nil, &UnknownRepoError{Names: unknown, Flag: flag, Where: where, Hint: hint}
	}
	return out, nil
}

// resolved is a selection checked against the repositories known: names
// as recorded, topics lower-cased.
type resolved struct {
	repos  []string
	skip   map[string]bool
	topics []string
}

// resolve checks that every repository the selection names is known and
// returns it in the names as recorded.
func (s Selection) resolve(known knownNames, where, hint string) (resolved, error) {
	var r resolved
	var err error
	if r.repos, err = known.canonical(s.Repos, "--repo or --repos-file", where, hint); err != nil {
		return r, err
	}
	skip, err := known.canonical(s.Skip, "--skip-repo", where, hint)
	if err != nil {
		return r, err
	}
	r.skip = map[string]bool{}
	for _, n := range skip {
		r.skip[n] = true
	}
	for _, t := range s.Topics {
		r.topics = append(r.topics, strings.ToLower(t))
	}
	return r, nil
}

// keep says whether a repository with these topics passes Skip and Topics.
func (r resolved) keep(name string, topics []string) bool {
	if r.skip[name] {
		return false
	}
	if len(r.topics) == 0 {
		return true
	}
	return slices.ContainsFunc(topics, func(t string) bool { return slices.Contains(r.topics, strings.ToLower(t)) })
}

// inventoryHint is what to do about a repository the ledger does not have.
const inventoryHint = "check the name, or run cutover inventory (archived repositories and forks need --include-archived or --include-forks)"

// ledgerRepos reads the inventory once: the names known and each
// repository's topics.
func (e *Engine) ledgerRepos(ctx context.Context) (knownNames, map[string][]string, []ledger.Repo, error) {
	rows, err := e.Ledger.Repos(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	known := knownNames{}
	topics := map[string][]string{}
	for _, r := range rows {
		known[strings.ToLower(r.FullName)] = r.FullName
		topics[r.FullName] = r.Topics
	}
	return known, topics, rows, nil
}

// Select returns the names, in their order, that the selection keeps, with
// Repos (when given) narrowing them to those named. Every repository the
// selection names must be in the inventory. Commands whose repositories
// come from elsewhere (pull requests for status, failed steps for retry)
// filter them with it.
func (e *Engine) Select(ctx context.Context, names []string, s Selection) ([]string, error) {
	if s.IsZero() {
		return names, nil
	}
	keep, err := e.keeper(ctx, s)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if keep(n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// selected returns whether Opts.Select keeps a repository; it keeps every
// one when the selection is empty. Repositories named must be in the
// inventory.
func (e *Engine) selected(ctx context.Context) (func(string) bool, error) {
	return e.keeper(ctx, e.Opts.Select)
}

// keeper returns whether s keeps a repository: one of the repositories s
// names (when it names any) that its other criteria keep. An empty s
// keeps every one.
func (e *Engine) keeper(ctx context.Context, s Selection) (func(string) bool, error) {
	if s.IsZero() {
		return func(string) bool { return true }, nil
	}
	known, topics, _, err := e.ledgerRepos(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.resolve(known, "the inventory", inventoryHint)
	if err != nil {
		return nil, err
	}
	return func(name string) bool {
		if len(r.repos) > 0 && !slices.Contains(r.repos, name) {
			return false
		}
		return r.keep(name, topics[name])
	}, nil
}
