package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	gh "github.com/cutover/cutover/internal/forge/github"
)

// githubApp returns the GitHub App of [github.app], or nil when the
// configuration signs in with a token. A relative private_key_file is
// read from the configuration file's folder. A key that cannot be read is
// a configuration error (exit code 2).
func (app *App) githubApp() (*gh.App, error) {
	c := app.Config.GitHub.App
	if !c.Enabled() {
		return nil, nil
	}
	var pem []byte
	switch {
	case c.PrivateKeyEnv != "":
		v := app.Getenv(c.PrivateKeyEnv)
		if strings.TrimSpace(v) == "" {
			return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("github.app.private_key_env: the environment variable %s holding the GitHub App's private key is not set", c.PrivateKeyEnv)}
		}
		pem = []byte(v)
	default:
		path := c.PrivateKeyFile
		if !filepath.IsAbs(path) && app.ConfigPath != "" {
			path = filepath.Join(filepath.Dir(app.ConfigPath), path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("github.app.private_key_file: could not read the GitHub App's private key: %w", err)}
		}
		pem = b
	}
	if !strings.Contains(string(pem), "PRIVATE KEY-----") {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("github.app: the GitHub App's private key is not a PEM private key (want the .pem file GitHub generated)")}
	}
	return &gh.App{ID: c.ID, InstallationID: c.InstallationID, Org: app.Config.GitHub.Org, PrivateKey: pem}, nil
}
