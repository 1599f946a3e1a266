package npm_test

import (
	"testing"

	"github.com/cutover/cutover/internal/npm"
)

func TestNpmrcToken(t *testing.T) {
	t.Parallel()
	const rc = `
; a comment
# another
//npm-registry.invalid/:_authToken=npm_root
//mirror.invalid:8443/npm/private/:_authToken = "npm_private"
//env.invalid/:_authToken=${NPM_LOGIN}
//basic.invalid/:_auth=dXNlcjpwYXNz
`
	env := map[string]string{"NPM_LOGIN": "npm_from_env"}
	tests := []struct {
		registry string
		want     string
		ok       bool
	}{
		{"https://npm-registry.invalid/", "npm_root", true},
		{"https://npm-registry.invalid", "npm_root", true},
		{"https://npm-registry.invalid/some/path/", "npm_root", true},
		{"https://mirror.invalid:8443/npm/private/", "npm_private", true},
		{"https://mirror.invalid:8443/npm/private/deeper", "npm_private", true},
		{"https://mirror.invalid:8443/npm/", "", false},
		{"https://mirror.invalid/npm/private/", "", false},
		{"https://env.invalid/", "npm_from_env", true},
		{"https://basic.invalid/", "", false},
		{"not a url", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.registry, func(t *testing.T) {
			t.Parallel()
			got, ok := npm.NpmrcToken([]byte(rc), tt.registry, func(k string) string { return env[k] })
			if string(got) != tt.want || ok != tt.ok {
				t.Errorf("NpmrcToken = %q, %v; want %q, %v", string(got), ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzNpmrcToken(f *testing.F) {
	f.Add([]byte("//h.invalid/:_authToken=${X}\n"), "https://h.invalid/a/b")
	f.Add([]byte("//h.invalid/p/:_authToken='q'"), "http://h.invalid/p/")
	f.Fuzz(func(t *testing.T, rc []byte, registry string) {
		_, _ = npm.NpmrcToken(rc, registry, func(string) string { return "v" })
	})
}
