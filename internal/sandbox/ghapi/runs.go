package ghapi

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// WorkflowRun is a workflow run the sandbox records, for example the
// simulated release of a repository.
type WorkflowRun struct {
	// Workflow is the workflow file's path, ".github/workflows/release.yml".
	Workflow string
	// Event triggered the run; empty means "workflow_dispatch".
	Event string
	// Branch and HeadSHA are what the run ran on.
	Branch, HeadSHA string
	// Conclusion is success or failure (the run is completed).
	Conclusion string
}

// workflowRun is a recorded run.
type workflowRun struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Path       string    `json:"path"`
	Event      string    `json:"event"`
	Branch     string    `json:"branch"`
	HeadSHA    string    `json:"head_sha"`
	Status     string    `json:"status"`
	Conclusion string    `json:"conclusion"`
	CreatedAt  time.Time `json:"created_at"`
}

// RecordRun records a completed workflow run on owner/name.
func (s *Server) RecordRun(owner, name string, run WorkflowRun) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.st.Repos[owner+"/"+name]
	if rp == nil {
		return errNoRepo(owner, name)
	}
	ev := run.Event
	if ev == "" {
		ev = "workflow_dispatch"
	}
	base := run.Workflow[strings.LastIndex(run.Workflow, "/")+1:]
	rp.Runs = append(rp.Runs, &workflowRun{ID: s.st.id(), Name: strings.TrimSuffix(strings.TrimSuffix(base, ".yml"), ".yaml"), Path: run.Workflow,
		Event: ev, Branch: run.Branch, HeadSHA: run.HeadSHA, Status: "completed", Conclusion: run.Conclusion, CreatedAt: s.now()})
	return nil
}

// listRuns serves GET /repos/{owner}/{repo}/actions/runs with the
// created (">=DATE"), branch, event, status and head_sha filters.
func (c *call) listRuns() {
	q := c.r.URL.Query()
	var since time.Time
	if cr := q.Get("created"); cr != "" {
		t, err := time.Parse(time.RFC3339, strings.TrimPrefix(cr, ">="))
		if !strings.HasPrefix(cr, ">=") || err != nil {
			c.invalid(map[string]any{"resource": "WorkflowRun", "field": "created", "code": "invalid"})
			return
		}
		since = t
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp := c.repoLocked()
	if rp == nil {
		return
	}
	var runs []*workflowRun
	for _, r := range rp.Runs {
		if r.CreatedAt.Before(since) ||
			(q.Get("branch") != "" && r.Branch != q.Get("branch")) || (q.Get("event") != "" && r.Event != q.Get("event")) ||
			(q.Get("status") != "" && r.Status != q.Get("status") && r.Conclusion != q.Get("status")) ||
			(q.Get("head_sha") != "" && r.HeadSHA != q.Get("head_sha")) {
			continue
		}
		runs = append(runs, r)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].ID > runs[j].ID })
	full := rp.Owner + "/" + rp.Name
	out := []any{}
	for _, r := range paginate(c, runs) {
		id := strconv.FormatInt(r.ID, 10)
		out = append(out, map[string]any{
			"id": r.ID, "node_id": nodeID("WFR", r.ID), "name": r.Name, "path": r.Path, "display_title": r.Name,
			"event": r.Event, "head_branch": r.Branch, "head_sha": r.HeadSHA, "status": r.Status, "conclusion": nilIfEmpty(r.Conclusion),
			"run_number": r.ID, "run_attempt": 1, "created_at": ts(r.CreatedAt), "updated_at": ts(r.CreatedAt), "run_started_at": ts(r.CreatedAt),
			"url": c.api + "repos/" + full + "/actions/runs/" + id, "html_url": c.web + full + "/actions/runs/" + id,
		})
	}
	c.json(http.StatusOK, map[string]any{"total_count": len(runs), "workflow_runs": out})
}
