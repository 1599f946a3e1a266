package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"

	"github.com/bradleyfalzon/ghinstallation/v2"

	"github.com/cutover/cutover/internal/logging"
)

// cutMessage is how much of gh's complaint or GitHub's answer an error
// keeps. tokenShapes redacts before the cut, so a token straddling it is
// never printed in part.
const cutMessage = 200

var tokenShapes = new(logging.Redactor)

// App identifies a GitHub App installation to act as.
type App struct {
	// ID is the App's numeric id.
	ID int64
	// InstallationID is the installation on the organisation; zero means
	// ask GitHub for the App's installation on Org.
	InstallationID int64
	// Org is the organisation whose installation is used when
	// InstallationID is zero.
	Org string
	// PrivateKey is the App's PEM-encoded private key.
	PrivateKey []byte
}

// credential holds a token. It is only ever reached through a pointer, so
// that printing a Forge or its options shows an address, never the value.
type credential struct {
	token string
}

// String hides the token.
func (*credential) String() string { return "[redacted]" }

// GoString hides the token.
func (*credential) GoString() string { return "[redacted]" }

// ErrNoToken is returned when no token is configured or found.
var ErrNoToken = errors.New("no GitHub token: set GITHUB_TOKEN or GH_TOKEN, log in with \"gh auth login\", or configure a GitHub App")

// ResolveToken finds a token the way gh does: GITHUB_TOKEN, then GH_TOKEN
// (for GitHub Enterprise Server, GH_ENTERPRISE_TOKEN and
// GITHUB_ENTERPRISE_TOKEN first), then "gh auth token" when gh is installed.
// host is the server's host name; empty means github.com. getenv nil means
// no environment. The token itself never appears in an error.
func ResolveToken(ctx context.Context, host string, getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	names := []string{"GITHUB_TOKEN", "GH_TOKEN"}
	enterprise := host != "" && host != "github.com" && host != "api.github.com"
	if enterprise {
		names = append([]string{"GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"}, names...)
	}
	for _, n := range names {
		if v := strings.TrimSpace(getenv(n)); v != "" {
			return v, nil
		}
	}
	gh, err := exec.LookPath("gh")
	if err != nil {
		return "", ErrNoToken
	}
	args := []string{"auth", "token"}
	if enterprise {
		args = append(args, "--hostname", host)
	}
	cmd := exec.CommandContext(ctx, gh, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := tokenShapes.RedactCut(strings.TrimSpace(stderr.String()), cutMessage)
		return "", fmt.Errorf("%w (gh auth token failed: %v: %q)", ErrNoToken, err, msg)
	}
	tok := strings.TrimSpace(stdout.String())
	if tok == "" {
		return "", ErrNoToken
	}
	return tok, nil
}

// hostOf returns the host of a base URL, or "" for GitHub.com.
func hostOf(base string) string {
	if base == "" {
		return ""
	}
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// findInstallation asks GitHub, as the App itself (a JWT), for its
// installation on app.Org.
func findInstallation(ctx context.Context, atr *ghinstallation.AppsTransport, app *App) (int64, error) {
	if app.Org == "" {
		return 0, fmt.Errorf("the GitHub App %d has no installation id and no organisation to find it on: set installation_id in [github.app] or the organisation", app.ID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, atr.BaseURL+"/orgs/"+url.PathEscape(app.Org)+"/installation", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := (&http.Client{Transport: atr}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("could not find the GitHub App %d's installation on %q: %w", app.ID, app.Org, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return 0, fmt.Errorf("the GitHub App %d is not installed on %q: install it on the organisation, or set installation_id in [github.app]", app.ID, app.Org)
	case resp.StatusCode == http.StatusUnauthorized:
		return 0, fmt.Errorf("GitHub refused the GitHub App %d's JWT (%s): check the App id and its private key", app.ID, messageOf(body))
	case resp.StatusCode != http.StatusOK:
		return 0, fmt.Errorf("could not find the GitHub App %d's installation on %q: %s: %s", app.ID, app.Org, resp.Status, messageOf(body))
	}
	var inst struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(body, &inst); err != nil || inst.ID == 0 {
		return 0, fmt.Errorf("could not read the GitHub App %d's installation on %q: %q", app.ID, app.Org, oneLineOf(body))
	}
	return inst.ID, nil
}

// messageOf returns the message of a GitHub error body, or the body cut short.
func messageOf(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return e.Message
	}
	return oneLineOf(body)
}

func oneLineOf(body []byte) string {
	return tokenShapes.RedactCut(strings.Join(strings.Fields(string(body)), " "), cutMessage)
}
