package batch

import (
	"context"
	"fmt"

	"github.com/cutover/cutover/internal/circleci"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/rewrite"
)

// CircleCIVars sets CircleCI project environment variables, where flag on
// and off put the flag of a pipeline that publishes from CircleCI
// (internal/circleci's Client).
type CircleCIVars interface {
	SetProjectVar(ctx context.Context, slug, name, value string) error
}

// publishesFrom reports which CI providers publish in the repository, from
// its last detection: GitHub Actions (also when nothing was detected) and
// CircleCI.
func publishesFrom(row ledger.Repo) (github, circle bool) {
	if row.Classification == nil || len(row.Classification.Pipelines) == 0 {
		return true, false
	}
	for _, pl := range row.Classification.Pipelines {
		switch pl.Provider {
		case rewrite.ProviderCircleCI:
			circle = true
		case rewrite.ProviderGitLab:
		default:
			github = true
		}
	}
	return github, circle
}

// flagCircleCI puts the flag of a CircleCI pipeline: through CircleCI's API
// when Engine.CircleCI is set; else, with confirm, it records the flip a
// person made; else it is a Manual outcome naming the exact setting (the
// project, the variable, the value and the settings page) and the
// --confirm that records it. done is true when the flag is set.
func (e *Engine) flagCircleCI(ctx context.Context, name, value string, on, confirm bool) (done bool, how string, o Outcome) {
	slug := circleci.ProjectSlug(name)
	setting := fmt.Sprintf("CircleCI project %s: set %s=%s at %s", slug, e.Opts.FlagVar, value, circleci.SettingsURL(name))
	verb := "off"
	if on {
		verb = "on"
	}
	switch {
	case e.CircleCI != nil:
		if err := e.CircleCI.SetProjectVar(ctx, slug, e.Opts.FlagVar, value); err != nil {
			return false, "", failed(name, "set CircleCI variable failed", err,
				fmt.Sprintf("check the CircleCI API token of [circleci] token_env, or set the variable by hand (%s) and run cutover flag %s --repo %s --confirm", setting, verb, name))
		}
		return true, "CircleCI project " + slug + ", set through CircleCI's API", Outcome{}
	case confirm:
		return true, "CircleCI project " + slug + ", set by hand (confirmed)", Outcome{}
	}
	return false, "", Outcome{Repo: name, Kind: Manual, Reason: "set the flag in CircleCI", Detail: setting,
		Hint: fmt.Sprintf("no CircleCI API token is configured ([circleci] token_env): set the variable in CircleCI (Project Settings > Environment Variables, the page named for each repository), then run cutover flag %s --repo OWNER/NAME --confirm", verb)}
}
