package batch

import (
	"context"
	"fmt"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/reports"
)

// DashboardOptions configure the campaign's dashboard issue.
type DashboardOptions struct {
	// Repo is the repository ("owner/name") holding the dashboard issue;
	// empty means no dashboard.
	Repo string
	// Labels are added to the issue.
	Labels []string
	// Meta is what the report the dashboard is built from needs besides
	// the ledger.
	Meta reports.Meta
}

// DashboardBody builds the dashboard's title and body from the ledger.
func (e *Engine) DashboardBody(ctx context.Context) (title string, body []byte, err error) {
	e.defaults()
	snap, err := e.Ledger.Snapshot(ctx)
	if err != nil {
		return "", nil, err
	}
	meta := e.Opts.Dashboard.Meta
	meta.GeneratedAt = e.Now()
	if snap.Campaign.Name == "" {
		meta.Campaign = e.Opts.Campaign
	}
	r := reports.Build(snap, meta)
	return reports.DashboardTitle(r), reports.Dashboard(r), nil
}

// UpdateDashboard opens the campaign's dashboard issue in
// Opts.Dashboard.Repo, or rewrites it: the issue is found again by a
// hidden marker naming the campaign, so there is only ever one.
func (e *Engine) UpdateDashboard(ctx context.Context) (forge.Issue, error) {
	d := e.Opts.Dashboard
	if d.Repo == "" {
		return forge.Issue{}, fmt.Errorf("no dashboard repository: set [dashboard] repo")
	}
	title, body, err := e.DashboardBody(ctx)
	if err != nil {
		return forge.Issue{}, err
	}
	is, err := e.Forge.EnsureIssue(ctx, forge.Repo{FullName: d.Repo}, forge.IssueSpec{
		Marker: reports.DashboardMarker + ":" + e.Opts.Campaign, Title: title, Body: string(body), Labels: d.Labels,
	})
	if err != nil {
		return forge.Issue{}, err // the forge's error names the issue and repository
	}
	e.Logger.Info("dashboard updated", "repo", d.Repo, "issue", is.Number, "url", is.URL)
	return is, nil
}
