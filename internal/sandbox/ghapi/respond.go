package ghapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// docsURL is the documentation_url of generic errors.
const docsURL = "https://docs.github.com/rest"

// json writes v as the response with status.
func (c *call) json(status int, v any) {
	c.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if m, ok := v.(map[string]any); ok && status == http.StatusCreated {
		// GitHub points at what it created.
		if u, ok := m["url"].(string); ok && c.w.Header().Get("Location") == "" {
			c.w.Header().Set("Location", u)
		}
	}
	c.w.WriteHeader(status)
	enc := json.NewEncoder(c.w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// error writes GitHub's error body {"message", "documentation_url"}.
func (c *call) error(status int, msg string) {
	c.json(status, map[string]any{"message": msg, "documentation_url": docsURL, "status": strconv.Itoa(status)})
}

// notFound writes GitHub's 404.
func (c *call) notFound() { c.error(http.StatusNotFound, "Not Found") }

// invalid writes a 422 "Validation Failed" with one error object.
func (c *call) invalid(fields map[string]any) {
	c.json(http.StatusUnprocessableEntity, map[string]any{
		"message":           "Validation Failed",
		"errors":            []any{fields},
		"documentation_url": docsURL,
		"status":            "422",
	})
}

// unprocessable writes a 422 with a plain message, as the git endpoints do.
func (c *call) unprocessable(msg string) { c.error(http.StatusUnprocessableEntity, msg) }

// noContent writes 204.
func (c *call) noContent() { c.w.WriteHeader(http.StatusNoContent) }

// decode reads the JSON body into v; on failure it answers 400 and returns false.
func (c *call) decode(v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(c.w, c.r.Body, 32<<20))
	if err := dec.Decode(v); err != nil {
		c.error(http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

// ts formats a time as GitHub does.
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// tsPtr formats an optional time, or gives nil.
func tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

// page returns the slice of items the page and per_page query parameters
// ask for, and sets the Link header as GitHub does.
func paginate[T any](c *call, items []T) []T {
	q := c.r.URL.Query()
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	if perPage <= 0 {
		perPage = 30
	}
	perPage = min(perPage, 100)
	pageNo, _ := strconv.Atoi(q.Get("page"))
	if pageNo <= 0 {
		pageNo = 1
	}
	last := max(1, (len(items)+perPage-1)/perPage)
	var links []string
	link := func(n int, rel string) {
		u := *c.r.URL
		v := u.Query()
		v.Set("page", strconv.Itoa(n))
		v.Set("per_page", strconv.Itoa(perPage))
		u.RawQuery = v.Encode()
		links = append(links, fmt.Sprintf("<%s%s>; rel=%q", strings.TrimSuffix(c.api, "/"), (&url.URL{Path: requestPath(c), RawQuery: u.RawQuery}).String(), rel))
	}
	if pageNo < last {
		link(pageNo+1, "next")
		link(last, "last")
	}
	if pageNo > 1 {
		link(1, "first")
		link(min(pageNo-1, last), "prev")
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
	start := (pageNo - 1) * perPage
	if start >= len(items) {
		return []T{}
	}
	return items[start:min(start+perPage, len(items))]
}

// requestPath is the request's path below the API prefix.
func requestPath(c *call) string { return c.r.URL.Path }

// userJSON renders a user or organization as a simple user object.
func (c *call) userJSON(login string, id int64, typ string) map[string]any {
	if typ == "" {
		typ = "User"
	}
	u := c.api + "users/" + login
	return map[string]any{
		"login":               login,
		"id":                  id,
		"node_id":             nodeID("U", id),
		"type":                typ,
		"site_admin":          false,
		"url":                 u,
		"html_url":            c.web + login,
		"avatar_url":          c.web + login + ".png",
		"gravatar_id":         "",
		"events_url":          u + "/events{/privacy}",
		"followers_url":       u + "/followers",
		"following_url":       u + "/following{/other_user}",
		"gists_url":           u + "/gists{/gist_id}",
		"organizations_url":   u + "/orgs",
		"received_events_url": u + "/received_events",
		"repos_url":           u + "/repos",
		"starred_url":         u + "/starred{/owner}{/repo}",
		"subscriptions_url":   u + "/subscriptions",
		"user_view_type":      "public",
	}
}

// nodeID makes a GraphQL-like node id.
func nodeID(kind string, id int64) string {
	return kind + "_sandbox" + strconv.FormatInt(id, 36)
}
