package reports

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DashboardMarker is the hidden marker that finds the campaign's dashboard
// issue again (see forge.MarkerComment); the campaign's name follows it.
const DashboardMarker = "dashboard"

// dashboardMax caps each list of the dashboard; the rest is counted.
const dashboardMax = 50

// DashboardTitle is the title of the campaign's dashboard issue.
func DashboardTitle(r *Report) string {
	return fmt.Sprintf("cutover dashboard: %s", r.Campaign.Name)
}

// Dashboard renders the campaign's dashboard issue body in GitHub
// Markdown: progress per wave, blocked repositories with their reason and
// the command that moves them on, pull requests waiting for review, and the
// npm tokens and token secrets that remain. Like Renovate's Dependency
// Dashboard it is one issue, rewritten in place on every update.
func Dashboard(r *Report) []byte {
	var b strings.Builder
	s := r.Summary
	fmt.Fprintf(&b, "## %s\n\n", mdEscape(DashboardTitle(r)))
	fmt.Fprintf(&b, "**%d of %d** repositories in scope are finished (%.1f%%); %d blocked, %d pull requests open, %d merged, %d flags on.\n\n",
		s.Finished, s.InScope, s.ProgressPercent, s.Blocked, s.PROpen, s.PRMerged, s.FlagOn)
	fmt.Fprintf(&b, "Updated %s by cutover %s. This issue is rewritten by `cutover status` and the scheduler; edits are lost.\n\n",
		r.Campaign.GeneratedAt.UTC().Format(time.RFC3339), mdEscape(r.Campaign.ToolVersion))

	b.WriteString("### Progress per wave\n\n")
	if len(r.Waves) == 0 {
		b.WriteString("No waves planned yet: run `cutover plan`.\n\n")
	} else {
		b.WriteString("| wave | state | members | open | merged | flag on | done | blocked | progress |\n")
		b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, w := range r.Waves {
			bs := w.ByState
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %d | %d | %.0f%% |\n", mdEscape(waveLabel(w)), mdEscape(w.State),
				len(w.Members), bs[StatePROpen], bs[StateMerged], bs[StateFlagOn]+bs[StateVerified], bs[StateDone]+bs[StateBridged],
				bs[StateBlocked], w.ProgressPercent)
		}
		b.WriteString("\n")
	}

	var blocked, waiting []Card
	for _, c := range r.Repos {
		if c.Blocked != nil {
			blocked = append(blocked, c)
		} else if c.PR != nil && c.PR.State == "open" {
			waiting = append(waiting, c)
		}
	}
	fmt.Fprintf(&b, "### Blocked (%d)\n\n", len(blocked))
	if len(blocked) == 0 {
		b.WriteString("Nothing is blocked.\n\n")
	} else {
		slices.SortStableFunc(blocked, func(x, y Card) int { return cmp.Compare(x.Blocked.Reason, y.Blocked.Reason) })
		b.WriteString("| repository | reason | next |\n| --- | --- | --- |\n")
		for i, c := range blocked {
			if i == dashboardMax {
				fmt.Fprintf(&b, "| and %d more | | |\n", len(blocked)-dashboardMax)
				break
			}
			reason := mdEscape(c.Blocked.Reason)
			if c.Blocked.Hint != "" {
				reason += ": " + mdEscape(c.Blocked.Hint)
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", mdEscape(c.Repo), reason, mdCode(NextCommand(c)))
		}
		b.WriteString("\n")
	}

	fmt.Fprintf(&b, "### Pull requests waiting for review (%d)\n\n", len(waiting))
	if len(waiting) == 0 {
		b.WriteString("None.\n\n")
	} else {
		slices.SortStableFunc(waiting, func(x, y Card) int { return x.PR.Updated.Compare(y.PR.Updated) })
		for i, c := range waiting {
			if i == dashboardMax {
				fmt.Fprintf(&b, "- and %d more\n", len(waiting)-dashboardMax)
				break
			}
			link := mdEscape(fmt.Sprintf("%s#%d", c.Repo, c.PR.Number))
			if c.PR.URL != "" {
				link = fmt.Sprintf("[%s](%s)", link, mdURL(c.PR.URL))
			}
			draft := ""
			if c.PR.Draft {
				draft = ", draft"
			}
			fmt.Fprintf(&b, "- [ ] %s: checks %s%s\n", link, mdEscape(c.PR.Checks), draft)
		}
		b.WriteString("\n")
	}

	b.WriteString("### Tokens and secrets remaining\n\n")
	fmt.Fprintf(&b, "- npm tokens known and not revoked: **%d** (%d revoked)\n", s.TokensRemaining, s.TokensRevoked)
	fmt.Fprintf(&b, "- token secrets still in GitHub: **%d** (%d deleted)\n", s.SecretsRemaining, s.SecretsDeleted)
	var holders []string
	for _, c := range r.Repos {
		if c.Token != nil && len(c.Token.Secrets) > 0 {
			var names []string
			for _, sec := range c.Token.Secrets {
				names = append(names, sec.Name)
			}
			holders = append(holders, fmt.Sprintf("%s (%s)", mdEscape(c.Repo), mdEscape(strings.Join(names, ", "))))
		}
	}
	if len(holders) > 0 {
		more := ""
		if len(holders) > dashboardMax {
			more = fmt.Sprintf(" and %d more", len(holders)-dashboardMax)
			holders = holders[:dashboardMax]
		}
		fmt.Fprintf(&b, "- secrets left in: %s%s\n", strings.Join(holders, ", "), more)
	}
	if r.Campaign.ReportURL != "" {
		fmt.Fprintf(&b, "\n[Full report](%s)\n", mdURL(r.Campaign.ReportURL))
	}
	return r.redactOutput([]byte(b.String()))
}

// waveLabel names a wave once: "wave 0 (canary)", "wave 1".
func waveLabel(w Wave) string { return waveTitle(w.Number, w.Name) }

// NextCommand is the cutover command that moves a blocked repository on.
func NextCommand(c Card) string {
	if c.Blocked == nil {
		return ""
	}
	wave := "N"
	if c.Wave != nil {
		wave = fmt.Sprint(*c.Wave)
	}
	switch c.Blocked.Step {
	case "inventory", "apply":
		return "cutover retry --failed"
	case "verify":
		return "cutover verify --repo " + c.Repo
	case "trust":
		return "cutover trust --repo " + c.Repo + " --execute"
	case "flag":
		return "cutover flag on --repo " + c.Repo
	case "revoke", "revoke-secrets", "secrets":
		return "cutover revoke secrets --repo " + c.Repo + " --execute"
	}
	if c.PR != nil && c.PR.State == "closed" {
		return "cutover apply --wave " + wave + " --execute"
	}
	return "cutover show " + c.Repo
}
