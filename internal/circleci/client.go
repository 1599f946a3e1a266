// Package circleci is a small client of CircleCI's API v2: the project
// environment variables cutover sets to switch a CircleCI pipeline between
// the token and the OIDC path.
package circleci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is CircleCI's API v2.
const DefaultBaseURL = "https://circleci.com/api/v2/"

// Token is a CircleCI personal API token; it prints as [redacted].
type Token string

// String hides the value.
func (Token) String() string { return "[redacted]" }

// GoString hides the value.
func (Token) GoString() string { return "[redacted]" }

// Client calls CircleCI's API with a personal API token.
type Client struct {
	// BaseURL ends in "/"; empty means DefaultBaseURL.
	BaseURL string
	// Token is sent as Circle-Token.
	Token Token
	// HTTP is the client; nil means one with a 30-second timeout.
	HTTP *http.Client
}

// Error is a refused API call: the status and CircleCI's message, never the token.
type Error struct {
	Status  int
	Message string
	Slug    string
}

func (e *Error) Error() string {
	hint := ""
	switch e.Status {
	case http.StatusUnauthorized:
		hint = " (the CircleCI API token is missing, wrong or revoked)"
	case http.StatusForbidden:
		hint = " (the token's user cannot change this project's settings)"
	case http.StatusNotFound:
		hint = " (no such CircleCI project, or the token's user cannot see it: follow the project in CircleCI)"
	}
	return fmt.Sprintf("CircleCI project %s: HTTP %d: %s%s", e.Slug, e.Status, e.Message, hint)
}

// ProjectSlug is the slug of a GitHub repository ("owner/name") on
// CircleCI: "gh/owner/name".
func ProjectSlug(repo string) string { return "gh/" + repo }

// SettingsURL is the web page of a GitHub repository's project environment
// variables on CircleCI.
func SettingsURL(repo string) string {
	return "https://app.circleci.com/settings/project/github/" + repo + "/environment-variables"
}

// SetProjectVar sets the environment variable name of project slug
// ("gh/owner/name") to value: POST /project/{slug}/envvar.
func (c *Client) SetProjectVar(ctx context.Context, slug, name, value string) error {
	body, _ := json.Marshal(map[string]string{"name": name, "value": value})
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	var esc []string
	for _, s := range strings.Split(slug, "/") {
		esc = append(esc, url.PathEscape(s))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"project/"+strings.Join(esc, "/")+"/envvar", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Circle-Token", string(c.Token))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("CircleCI project %s: %w", slug, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	var m struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(b, &m)
	if m.Message == "" {
		m.Message = http.StatusText(resp.StatusCode)
	}
	if c.Token != "" {
		m.Message = strings.ReplaceAll(m.Message, string(c.Token), "[redacted]")
	}
	return &Error{Status: resp.StatusCode, Message: m.Message, Slug: slug}
}
