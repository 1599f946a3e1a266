package config

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestResolveRegistry(t *testing.T) {
	t.Parallel()
	npmSays := func(v string, err error) func(context.Context) (string, error) {
		return func(context.Context) (string, error) { return v, err }
	}
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name       string
		cfg        string
		getenv     func(string) string
		npm        func(context.Context) (string, error)
		want       string
		wantSource Source
		wantErr    string
	}{
		{
			name: "config first", cfg: "https://npm-registry.invalid",
			getenv: env("NPM_CONFIG_REGISTRY", "https://env.invalid/"), npm: npmSays("https://npm.invalid/", nil),
			want: "https://npm-registry.invalid/", wantSource: SourceConfig,
		},
		{
			name: "upper-case env", getenv: env("NPM_CONFIG_REGISTRY", " https://npm-registry.invalid/path "),
			npm:  npmSays("https://npm.invalid/", nil),
			want: "https://npm-registry.invalid/path/", wantSource: SourceEnv,
		},
		{
			name: "lower-case env", getenv: env("npm_config_registry", "http://localhost:4873"),
			want: "http://localhost:4873/", wantSource: SourceEnv,
		},
		{
			name: "npm config", getenv: env(), npm: npmSays("https://npm-registry.invalid/\n", nil),
			want: "https://npm-registry.invalid/", wantSource: SourceNPM,
		},
		{
			name: "invalid config does not fall through", cfg: "npm-registry.invalid",
			getenv:  env("NPM_CONFIG_REGISTRY", "https://env.invalid/"),
			wantErr: `npm.registry in the config: "npm-registry.invalid" is not an absolute http(s) URL`,
		},
		{
			name: "invalid env", getenv: env("NPM_CONFIG_REGISTRY", "ftp://x.invalid"),
			wantErr: `environment variable NPM_CONFIG_REGISTRY: "ftp://x.invalid" is not an absolute http(s) URL`,
		},
		{
			name: "invalid npm output", getenv: env(), npm: npmSays("undefined-ish", nil),
			wantErr: `npm config get registry: "undefined-ish" is not an absolute http(s) URL`,
		},
		{
			name: "nothing anywhere", getenv: env(), npm: npmSays("", errors.New("exec: \"npm\": executable file not found in $PATH")),
			wantErr: "no npm registry URL: set registry in the [npm] table of the config, or the NPM_CONFIG_REGISTRY environment variable, or npm's own registry setting (npm config get registry: exec:",
		},
		{
			name: "npm prints undefined", getenv: env(), npm: npmSays("undefined", nil),
			wantErr: "npm config get registry printed no registry",
		},
		{
			name: "no npm func", getenv: nil, npm: nil,
			wantErr: "no npm registry URL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, src, err := ResolveRegistry(t.Context(), tt.cfg, tt.getenv, tt.npm)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || src != tt.wantSource {
				t.Errorf("got %q from %q, want %q from %q", got, src, tt.want, tt.wantSource)
			}
		})
	}
}

func TestResolveRegistryWrapsNPMError(t *testing.T) {
	t.Parallel()
	sentinel := errors.New("boom")
	_, _, err := ResolveRegistry(t.Context(), "", nil, func(context.Context) (string, error) { return "", sentinel })
	if !errors.Is(err, sentinel) {
		t.Errorf("error %v does not wrap the npm error", err)
	}
}

func TestNormalizeRegistry(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://npm-registry.invalid":            "https://npm-registry.invalid/",
		"https://npm-registry.invalid/":           "https://npm-registry.invalid/",
		"https://npm-registry.invalid/a/b":        "https://npm-registry.invalid/a/b/",
		"http://127.0.0.1:8080":                   "http://127.0.0.1:8080/",
		"https://npm-registry.invalid/%40scope/x": "https://npm-registry.invalid/%40scope/x/",
	} {
		got, err := NormalizeRegistry(in)
		if err != nil || got != want {
			t.Errorf("NormalizeRegistry(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "/relative", "npm-registry.invalid", "https://", "https://u:p@npm-registry.invalid/", "https://npm-registry.invalid/#x", "git://npm-registry.invalid/"} {
		if got, err := NormalizeRegistry(in); err == nil {
			t.Errorf("NormalizeRegistry(%q) = %q, want an error", in, got)
		}
	}
}
