package ghapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// issueLocked finds issue (or pull request) {number} of the request's
// repository; s.mu must be held. It answers 404 itself when missing.
func (c *call) issueLocked() (*repo, *issue) {
	rp := c.repoLocked()
	if rp == nil {
		return nil, nil
	}
	n, err := strconv.Atoi(c.r.PathValue("number"))
	is := rp.Issues[n]
	if err != nil || is == nil {
		c.notFound()
		return nil, nil
	}
	return rp, is
}

// labelJSON renders a label of a repository.
func (c *call) labelJSON(rp *repo, name string) map[string]any {
	l := rp.Labels[name]
	if l == nil {
		l = &label{Name: name, Color: "ededed"}
	}
	return map[string]any{
		"id": l.ID, "node_id": nodeID("LA", l.ID), "url": c.api + "repos/" + rp.Owner + "/" + rp.Name + "/labels/" + name,
		"name": l.Name, "color": l.Color, "default": false, "description": nilIfEmpty(l.Description),
	}
}

// labelsJSON renders the labels of an issue.
func (c *call) labelsJSON(rp *repo, names []string) []any {
	out := []any{}
	for _, n := range names {
		out = append(out, c.labelJSON(rp, n))
	}
	return out
}

// usersJSON renders logins as user objects.
func (c *call) usersJSON(logins []string) []any {
	out := []any{}
	for _, l := range logins {
		out = append(out, c.user(l))
	}
	return out
}

// issueJSON renders an issue, or the issue side of a pull request.
func (c *call) issueJSON(rp *repo, is *issue) map[string]any {
	full := rp.Owner + "/" + rp.Name
	api := c.api + "repos/" + full + "/issues/" + strconv.Itoa(is.Number)
	var assignee any
	if len(is.Assignees) > 0 {
		assignee = c.user(is.Assignees[0])
	}
	m := map[string]any{
		"id": is.ID, "node_id": nodeID("I", is.ID), "number": is.Number, "title": is.Title, "body": nilIfEmpty(is.Body),
		"state": is.State, "state_reason": nilIfEmpty(is.StateReason), "locked": false,
		"user": c.user(is.User), "labels": c.labelsJSON(rp, is.Labels), "assignee": assignee,
		"assignees": c.usersJSON(is.Assignees), "comments": len(rp.Comments[is.Number]),
		"created_at": ts(is.CreatedAt), "updated_at": ts(is.UpdatedAt), "closed_at": tsPtr(is.ClosedAt),
		"url": api, "html_url": c.web + full + "/issues/" + strconv.Itoa(is.Number),
		"comments_url": api + "/comments", "labels_url": api + "/labels{/name}",
		"repository_url": c.api + "repos/" + full, "author_association": "MEMBER",
		"events_url": api + "/events", "milestone": nil, "active_lock_reason": nil,
	}
	if is.Pull != nil {
		pr := c.api + "repos/" + full + "/pulls/" + strconv.Itoa(is.Number)
		html := c.web + full + "/pull/" + strconv.Itoa(is.Number)
		m["pull_request"] = map[string]any{"url": pr, "html_url": html, "diff_url": html + ".diff",
			"patch_url": html + ".patch", "merged_at": tsPtr(is.Pull.MergedAt)}
		m["html_url"] = html
	}
	return m
}

// ensureLabelsLocked creates the labels a repository does not have yet.
func (c *call) ensureLabelsLocked(rp *repo, names []string) {
	for _, n := range names {
		if _, ok := rp.Labels[n]; !ok {
			rp.Labels[n] = &label{ID: c.s.st.id(), Name: n, Color: "ededed"}
		}
	}
}

// addUnique appends the items of add not in list yet.
func addUnique(list, add []string) []string {
	for _, a := range add {
		if a != "" && !slices.Contains(list, a) {
			list = append(list, a)
		}
	}
	return list
}

// createIssue serves POST /repos/{owner}/{repo}/issues.
func (c *call) createIssue() {
	var body struct {
		Title     *string  `json:"title"`
		Body      string   `json:"body"`
		Labels    []string `json:"labels"`
		Assignees []string `json:"assignees"`
		Assignee  string   `json:"assignee"`
	}
	if !c.decode(&body) {
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp := c.repoLocked()
	if rp == nil {
		return
	}
	if !rp.HasIssues {
		c.error(http.StatusGone, "Issues are disabled for this repo")
		return
	}
	if body.Title == nil || *body.Title == "" {
		c.invalid(map[string]any{"resource": "Issue", "field": "title", "code": "missing_field"})
		return
	}
	now := c.s.now()
	c.ensureLabelsLocked(rp, body.Labels)
	is := &issue{
		ID: c.s.st.id(), Number: rp.NextNumber, Title: *body.Title, Body: body.Body, State: "open",
		User: c.id.Login, Labels: addUnique(nil, body.Labels), Assignees: addUnique(nil, append(body.Assignees, body.Assignee)),
		CreatedAt: now, UpdatedAt: now,
	}
	rp.NextNumber++
	rp.Issues[is.Number] = is
	c.w.Header().Set("Location", c.api+"repos/"+rp.Owner+"/"+rp.Name+"/issues/"+strconv.Itoa(is.Number))
	c.json(http.StatusCreated, c.issueJSON(rp, is))
}

// getIssue serves GET /repos/{owner}/{repo}/issues/{number}.
func (c *call) getIssue() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if rp, is := c.issueLocked(); is != nil {
		c.json(http.StatusOK, c.issueJSON(rp, is))
	}
}

// listIssues serves GET /repos/{owner}/{repo}/issues, pull requests included as on GitHub.
func (c *call) listIssues() {
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var labels []string
	if l := q.Get("labels"); l != "" {
		labels = strings.Split(l, ",")
	}
	creator, assignee := q.Get("creator"), q.Get("assignee")
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp := c.repoLocked()
	if rp == nil {
		return
	}
	var list []*issue
	for _, is := range rp.Issues {
		if state != "all" && is.State != state {
			continue
		}
		if creator != "" && !strings.EqualFold(is.User, creator) {
			continue
		}
		if assignee == "none" && len(is.Assignees) > 0 || assignee != "" && assignee != "*" && assignee != "none" && !slices.Contains(is.Assignees, assignee) {
			continue
		}
		ok := true
		for _, l := range labels {
			if !slices.Contains(is.Labels, strings.TrimSpace(l)) {
				ok = false
			}
		}
		if ok {
			list = append(list, is)
		}
	}
	asc := q.Get("direction") == "asc"
	sort.Slice(list, func(i, j int) bool {
		if asc {
			return list[i].Number < list[j].Number
		}
		return list[i].Number > list[j].Number
	})
	out := []any{}
	for _, is := range paginate(c, list) {
		out = append(out, c.issueJSON(rp, is))
	}
	c.json(http.StatusOK, out)
}

// editIssue serves PATCH /repos/{owner}/{repo}/issues/{number}.
func (c *call) editIssue() {
	var body struct {
		Title       *string   `json:"title"`
		Body        *string   `json:"body"`
		State       *string   `json:"state"`
		StateReason *string   `json:"state_reason"`
		Labels      *[]string `json:"labels"`
		Assignees   *[]string `json:"assignees"`
	}
	if !c.decode(&body) {
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp, is := c.issueLocked()
	if is == nil {
		return
	}
	now := c.s.now()
	if body.Title != nil {
		is.Title = *body.Title
	}
	if body.Body != nil {
		is.Body = *body.Body
	}
	if body.Labels != nil {
		c.ensureLabelsLocked(rp, *body.Labels)
		is.Labels = addUnique(nil, *body.Labels)
	}
	if body.Assignees != nil {
		is.Assignees = addUnique(nil, *body.Assignees)
	}
	if body.State != nil {
		switch *body.State {
		case "closed":
			if is.State != "closed" {
				is.State, is.ClosedAt = "closed", &now
				is.StateReason = "completed"
			}
		case "open":
			is.State, is.ClosedAt, is.StateReason = "open", nil, "reopened"
		default:
			c.invalid(map[string]any{"resource": "Issue", "field": "state", "code": "invalid"})
			return
		}
	}
	if body.StateReason != nil && *body.StateReason != "" {
		is.StateReason = *body.StateReason
	}
	is.UpdatedAt = now
	c.json(http.StatusOK, c.issueJSON(rp, is))
}

// commentJSON renders an issue comment.
func (c *call) commentJSON(rp *repo, number int, cm *comment) map[string]any {
	full := rp.Owner + "/" + rp.Name
	return map[string]any{
		"id": cm.ID, "node_id": nodeID("IC", cm.ID), "body": cm.Body, "user": c.user(cm.User),
		"created_at": ts(cm.CreatedAt), "updated_at": ts(cm.UpdatedAt),
		"url":       c.api + "repos/" + full + "/issues/comments/" + strconv.FormatInt(cm.ID, 10),
		"html_url":  c.web + full + "/issues/" + strconv.Itoa(number) + "#issuecomment-" + strconv.FormatInt(cm.ID, 10),
		"issue_url": c.api + "repos/" + full + "/issues/" + strconv.Itoa(number), "author_association": "MEMBER",
	}
}

// createComment serves POST /repos/{owner}/{repo}/issues/{number}/comments.
func (c *call) createComment() {
	var body struct {
		Body *string `json:"body"`
	}
	if !c.decode(&body) {
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp, is := c.issueLocked()
	if is == nil {
		return
	}
	if body.Body == nil || *body.Body == "" {
		c.invalid(map[string]any{"resource": "IssueComment", "field": "body", "code": "missing_field"})
		return
	}
	now := c.s.now()
	cm := &comment{ID: c.s.st.id(), Body: *body.Body, User: c.id.Login, CreatedAt: now, UpdatedAt: now}
	rp.Comments[is.Number] = append(rp.Comments[is.Number], cm)
	is.UpdatedAt = now
	c.json(http.StatusCreated, c.commentJSON(rp, is.Number, cm))
}

// listComments serves GET /repos/{owner}/{repo}/issues/{number}/comments.
func (c *call) listComments() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp, is := c.issueLocked()
	if is == nil {
		return
	}
	out := []any{}
	for _, cm := range paginate(c, rp.Comments[is.Number]) {
		out = append(out, c.commentJSON(rp, is.Number, cm))
	}
	c.json(http.StatusOK, out)
}

// addLabels serves POST /repos/{owner}/{repo}/issues/{number}/labels; the
// body is an array of names or {"labels": [...]}.
func (c *call) addLabels() {
	var raw json.RawMessage
	if !c.decode(&raw) {
		return
	}
	var names []string
	if err := json.Unmarshal(raw, &names); err != nil {
		var obj struct {
			Labels []string `json:"labels"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			c.invalid(map[string]any{"resource": "Label", "field": "labels", "code": "invalid"})
			return
		}
		names = obj.Labels
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp, is := c.issueLocked()
	if is == nil {
		return
	}
	c.ensureLabelsLocked(rp, names)
	is.Labels = addUnique(is.Labels, names)
	is.UpdatedAt = c.s.now()
	c.json(http.StatusOK, c.labelsJSON(rp, is.Labels))
}

// addAssignees serves POST /repos/{owner}/{repo}/issues/{number}/assignees.
func (c *call) addAssignees() {
	var body struct {
		Assignees []string `json:"assignees"`
	}
	if !c.decode(&body) {
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp, is := c.issueLocked()
	if is == nil {
		return
	}
	is.Assignees = addUnique(is.Assignees, body.Assignees)
	is.UpdatedAt = c.s.now()
	c.json(http.StatusCreated, c.issueJSON(rp, is))
}
