package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Source says where a resolved registry URL came from.
type Source string

// The places ResolveRegistry looks, in order.
const (
	// SourceConfig is the [npm] registry key of the config file.
	SourceConfig Source = "config"
	// SourceEnv is the NPM_CONFIG_REGISTRY (or npm_config_registry) environment variable.
	SourceEnv Source = "env"
	// SourceNPM is the output of "npm config get registry".
	SourceNPM Source = "npm config"
)

// ResolveRegistry returns the npm registry URL, normalised to end in a slash,
// and where it came from: cfgValue if not empty, else NPM_CONFIG_REGISTRY or
// npm_config_registry from getenv, else the result of npmConfigGet (which may
// be nil to skip that step; NPMConfigGet is the real one). A value that is
// found but invalid is an error; it does not fall through to the next source.
func ResolveRegistry(ctx context.Context, cfgValue string, getenv func(string) string, npmConfigGet func(ctx context.Context) (string, error)) (string, Source, error) {
	if v := strings.TrimSpace(cfgValue); v != "" {
		u, err := NormalizeRegistry(v)
		if err != nil {
			return "", SourceConfig, fmt.Errorf("npm.registry in the config: %w", err)
		}
		return u, SourceConfig, nil
	}
	if getenv != nil {
		for _, name := range []string{"NPM_CONFIG_REGISTRY", "npm_config_registry"} {
			if v := strings.TrimSpace(getenv(name)); v != "" {
				u, err := NormalizeRegistry(v)
				if err != nil {
					return "", SourceEnv, fmt.Errorf("environment variable %s: %w", name, err)
				}
				return u, SourceEnv, nil
			}
		}
	}
	var npmErr error
	if npmConfigGet != nil {
		v, err := npmConfigGet(ctx)
		v = strings.TrimSpace(v)
		switch {
		case err != nil:
			npmErr = err
		case v == "" || v == "undefined" || v == "null":
			npmErr = errors.New("npm config get registry printed no registry")
		default:
			u, err := NormalizeRegistry(v)
			if err != nil {
				return "", SourceNPM, fmt.Errorf("npm config get registry: %w", err)
			}
			return u, SourceNPM, nil
		}
	} else {
		npmErr = errors.New("not consulted")
	}
	return "", "", fmt.Errorf("no npm registry URL: set registry in the [npm] table of the config, "+
		"or the NPM_CONFIG_REGISTRY environment variable, or npm's own registry setting (npm config get registry: %w)", npmErr)
}

// NormalizeRegistry checks that raw is an absolute http(s) URL without
// credentials, query or fragment, and returns it with a trailing slash.
func NormalizeRegistry(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if err := checkHTTPURL(raw); err != nil {
		return "", err
	}
	u, _ := url.Parse(raw)
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q must not have a query or fragment", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u.String(), nil
}

// NPMConfigGet runs "npm config get registry" with a 30 second timeout and
// returns what it prints. It is the default npmConfigGet of ResolveRegistry.
//
// npm reads a project .npmrc from the directory it runs in (or the nearest
// one above holding package.json or node_modules), so a scanned checkout
// could choose the registry cutover judges publishes against. npm therefore
// runs in a fresh empty directory marked as a project root (an empty
// package.json), where only the user's and the global npm config (and npm's
// environment variables) apply.
func NPMConfigGet(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	dir, err := os.MkdirTemp("", "cutover-npm-config-")
	if err != nil {
		return "", fmt.Errorf("running npm: neutral directory: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte("{}\n"), 0o600); err != nil {
		return "", fmt.Errorf("running npm: neutral directory: %w", err)
	}
	cmd := exec.CommandContext(ctx, "npm", "config", "get", "registry")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			first, _, _ := strings.Cut(msg, "\n")
			return "", fmt.Errorf("running npm: %w: %s", err, first)
		}
		return "", fmt.Errorf("running npm: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
