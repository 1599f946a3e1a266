package ghapi

import (
	"time"

	"net/http"
	"sort"
	"strconv"

	"github.com/go-git/go-git/v5"
)

// CheckRun is a check run to record on a commit.
type CheckRun struct {
	// Name is the check's name, such as "ci" or "build".
	Name string
	// Status is "queued", "in_progress" or "completed"; empty means completed.
	Status string
	// Conclusion is "success", "failure", "neutral", "cancelled", "skipped",
	// "timed_out" or "action_required" for a completed run.
	Conclusion string
	// Title and Summary are the run's output.
	Title, Summary string
}

// Status is a commit status to record.
type Status struct {
	// Context names the status, such as "ci/build".
	Context string
	// State is "error", "failure", "pending" or "success".
	State string
	// Description and TargetURL are shown beside it.
	Description, TargetURL string
}

// SetCheckRun records a check run on commit sha of owner/name, replacing an
// earlier run of the same name on that commit.
func (s *Server) SetCheckRun(owner, name, sha string, run CheckRun) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.st.Repos[owner+"/"+name]
	if rp == nil {
		return errNoRepo(owner, name)
	}
	s.setCheckRunLocked(rp, sha, run)
	return nil
}

func (s *Server) setCheckRunLocked(rp *repo, sha string, run CheckRun) *checkRun {
	now := s.now()
	if run.Status == "" {
		run.Status = "completed"
	}
	cr := &checkRun{ID: s.st.id(), Name: run.Name, HeadSHA: sha, Status: run.Status, Conclusion: run.Conclusion,
		Title: run.Title, Summary: run.Summary, StartedAt: now}
	if run.Status == "completed" {
		cr.CompletedAt = &now
	}
	runs := rp.CheckRuns[sha][:0:0]
	for _, old := range rp.CheckRuns[sha] {
		if old.Name != run.Name {
			runs = append(runs, old)
		}
	}
	rp.CheckRuns[sha] = append(runs, cr)
	return cr
}

// SetStatus records a commit status on sha of owner/name.
func (s *Server) SetStatus(owner, name, sha string, st Status) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.st.Repos[owner+"/"+name]
	if rp == nil {
		return errNoRepo(owner, name)
	}
	s.addStatusLocked(rp, sha, st, "sandbox")
	return nil
}

func (s *Server) addStatusLocked(rp *repo, sha string, st Status, creator string) *status {
	now := s.now()
	x := &status{ID: s.st.id(), State: st.State, Context: st.Context, Description: st.Description,
		TargetURL: st.TargetURL, Creator: creator, CreatedAt: now, UpdatedAt: now}
	if x.Context == "" {
		x.Context = "default"
	}
	rp.Statuses[sha] = append(rp.Statuses[sha], x)
	return x
}

// resolveSHA turns a ref or SHA of the request's repository into a commit SHA.
func (c *call) resolveSHA(ref string) (string, bool) {
	sha := ""
	c.gitRepo(func(r *git.Repository) {
		cm, err := resolveCommit(r, ref)
		if err != nil {
			c.error(http.StatusUnprocessableEntity, "No commit found for SHA: "+ref)
			return
		}
		sha = cm.Hash.String()
	})
	return sha, sha != ""
}

// ciApp is the App the simulated CI's check runs belong to.
var ciApp = AppIdentity{ID: 1, Slug: "cutover-sandbox-ci", Name: "Sandbox CI", Owner: "sandbox-ci"}

// appJSON renders a GitHub App as check runs show it; nil is the CI's.
func (c *call) appJSON(a *AppIdentity) map[string]any {
	if a == nil {
		a = &ciApp
	}
	created := ts(time.Unix(1700000000, 0))
	id, typ := c.s.userIDLocked(a.Owner)
	return map[string]any{
		"id": a.ID, "slug": a.Slug, "node_id": nodeID("A", a.ID), "name": a.Name,
		"owner": c.userJSON(a.Owner, id, typ), "description": nil,
		"external_url": c.web + "apps/" + a.Slug, "html_url": c.web + "apps/" + a.Slug,
		"created_at": created, "updated_at": created,
		"permissions": map[string]string{"checks": Write, "metadata": Read}, "events": []string{},
	}
}

// checkRunJSON renders a check run.
func (c *call) checkRunJSON(rp *repo, cr *checkRun) map[string]any {
	full := rp.Owner + "/" + rp.Name
	id := strconv.FormatInt(cr.ID, 10)
	return map[string]any{
		"id": cr.ID, "node_id": nodeID("CR", cr.ID), "head_sha": cr.HeadSHA, "external_id": "", "name": cr.Name,
		"status": cr.Status, "conclusion": nilIfEmpty(cr.Conclusion),
		"started_at": ts(cr.StartedAt), "completed_at": tsPtr(cr.CompletedAt),
		"url": c.api + "repos/" + full + "/check-runs/" + id, "html_url": c.web + full + "/runs/" + id,
		"details_url": nilIfEmpty(cr.DetailsURL),
		"output": map[string]any{"title": nilIfEmpty(cr.Title), "summary": nilIfEmpty(cr.Summary), "text": nil,
			"annotations_count": 0, "annotations_url": c.api + "repos/" + full + "/check-runs/" + id + "/annotations"},
		"check_suite":   map[string]any{"id": cr.ID},
		"app":           c.appJSON(cr.App),
		"pull_requests": []any{},
	}
}

// listCheckRuns serves GET /repos/{owner}/{repo}/commits/{ref}/check-runs.
func (c *call) listCheckRuns(ref string) {
	sha, ok := c.resolveSHA(ref)
	if !ok {
		return
	}
	q := c.r.URL.Query()
	name, st := q.Get("check_name"), q.Get("status")
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp := c.repoLocked()
	if rp == nil {
		return
	}
	var runs []*checkRun
	for _, cr := range rp.CheckRuns[sha] {
		if (name == "" || cr.Name == name) && (st == "" || cr.Status == st) {
			runs = append(runs, cr)
		}
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].ID > runs[j].ID })
	out := []any{}
	for _, cr := range paginate(c, runs) {
		out = append(out, c.checkRunJSON(rp, cr))
	}
	c.json(http.StatusOK, map[string]any{"total_count": len(runs), "check_runs": out})
}

// createCheckRun serves POST /repos/{owner}/{repo}/check-runs.
func (c *call) createCheckRun() {
	var body struct {
		Name       string `json:"name"`
		HeadSHA    string `json:"head_sha"`
		Status     string `json:"status"`
		Conclusion string `json:"conclusion"`
		Output     struct {
			Title   string `json:"title"`
			Summary string `json:"summary"`
		} `json:"output"`
	}
	if c.id.App == nil {
		// GitHub lets only Apps write check runs, whatever a token's scopes.
		c.error(http.StatusForbidden, "You must authenticate via a GitHub App.")
		return
	}
	if !c.decode(&body) {
		return
	}
	if body.Name == "" || !isSHA(body.HeadSHA) {
		c.invalid(map[string]any{"resource": "CheckRun", "field": "head_sha", "code": "invalid"})
		return
	}
	if body.Status == "" {
		body.Status = "queued"
		if body.Conclusion != "" {
			body.Status = "completed"
		}
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp := c.repoLocked()
	if rp == nil {
		return
	}
	cr := c.s.setCheckRunLocked(rp, body.HeadSHA, CheckRun{Name: body.Name, Status: body.Status,
		Conclusion: body.Conclusion, Title: body.Output.Title, Summary: body.Output.Summary})
	cr.App = c.id.App
	c.json(http.StatusCreated, c.checkRunJSON(rp, cr))
}

// statusJSON renders a commit status.
func (c *call) statusJSON(rp *repo, sha string, x *status) map[string]any {
	return map[string]any{
		"id": x.ID, "node_id": nodeID("SC", x.ID), "state": x.State, "context": x.Context,
		"description": nilIfEmpty(x.Description), "target_url": nilIfEmpty(x.TargetURL),
		"created_at": ts(x.CreatedAt), "updated_at": ts(x.UpdatedAt), "creator": c.user(x.Creator),
		"avatar_url": c.web + x.Creator + ".png",
		"url":        c.api + "repos/" + rp.Owner + "/" + rp.Name + "/statuses/" + sha,
	}
}

// combinedStatus serves GET /repos/{owner}/{repo}/commits/{ref}/status:
// the latest status per context and their combined state.
func (c *call) combinedStatus(ref string) {
	sha, ok := c.resolveSHA(ref)
	if !ok {
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp := c.repoLocked()
	if rp == nil {
		return
	}
	latest := map[string]*status{}
	for _, x := range rp.Statuses[sha] {
		latest[x.Context] = x
	}
	var list []*status
	for _, x := range latest {
		list = append(list, x)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	state := "pending"
	if len(list) > 0 {
		state = "success"
		for _, x := range list {
			switch x.State {
			case "failure", "error":
				state = "failure"
			case "pending":
				if state != "failure" {
					state = "pending"
				}
			}
		}
	}
	statuses := []any{}
	for _, x := range list {
		statuses = append(statuses, c.statusJSON(rp, sha, x))
	}
	c.json(http.StatusOK, map[string]any{
		"state": state, "statuses": statuses, "sha": sha, "total_count": len(list),
		"repository": c.repoJSON(rp),
		"commit_url": c.api + "repos/" + rp.Owner + "/" + rp.Name + "/commits/" + sha,
		"url":        c.api + "repos/" + rp.Owner + "/" + rp.Name + "/commits/" + sha + "/status",
	})
}

// listStatuses serves GET /repos/{owner}/{repo}/commits/{ref}/statuses, newest first.
func (c *call) listStatuses(ref string) {
	sha, ok := c.resolveSHA(ref)
	if !ok {
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp := c.repoLocked()
	if rp == nil {
		return
	}
	all := append([]*status(nil), rp.Statuses[sha]...)
	sort.Slice(all, func(i, j int) bool { return all[i].ID > all[j].ID })
	out := []any{}
	for _, x := range paginate(c, all) {
		out = append(out, c.statusJSON(rp, sha, x))
	}
	c.json(http.StatusOK, out)
}

// createStatus serves POST /repos/{owner}/{repo}/statuses/{sha}.
func (c *call) createStatus() {
	var body struct {
		State       string `json:"state"`
		Context     string `json:"context"`
		Description string `json:"description"`
		TargetURL   string `json:"target_url"`
	}
	if !c.decode(&body) {
		return
	}
	switch body.State {
	case "error", "failure", "pending", "success":
	default:
		c.invalid(map[string]any{"resource": "Status", "field": "state", "code": "custom",
			"message": "state is not included in the list"})
		return
	}
	sha := c.r.PathValue("sha")
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp := c.repoLocked()
	if rp == nil {
		return
	}
	x := c.s.addStatusLocked(rp, sha, Status{Context: body.Context, State: body.State,
		Description: body.Description, TargetURL: body.TargetURL}, c.id.Login)
	c.json(http.StatusCreated, c.statusJSON(rp, sha, x))
}
