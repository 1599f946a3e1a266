package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
)

// App identifies a GitHub App installation to act as.
type App struct {
	// ID is the App's numeric id.
	ID int64
	// InstallationID is the installation on the organisation.
	InstallationID int64
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
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 200 {
			msg = msg[:200]
		}
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
