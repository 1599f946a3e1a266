package npm

import (
	"bufio"
	"bytes"
	"net/url"
	"os"
	"strings"
)

// NpmrcToken returns the auth token an .npmrc file holds for the registry
// (the user's `npm login` session or a token written there), the way the npm
// CLI finds it: the key "//host[:port]/path/:_authToken", trying the
// registry's path and then each parent path. ${VAR} references are expanded
// with getenv. Basic-auth entries (_auth, _password) are ignored: the
// registry's management endpoints refuse them.
func NpmrcToken(npmrc []byte, registryURL string, getenv func(string) string) (Secret, bool) {
	u, err := url.Parse(registryURL)
	if err != nil || u.Host == "" {
		return "", false
	}
	entries := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(npmrc))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		entries[strings.TrimSpace(k)] = unquote(strings.TrimSpace(v))
	}
	p := strings.TrimSuffix(u.Path, "/")
	for {
		key := "//" + u.Host + p + "/:_authToken"
		if v, ok := entries[key]; ok {
			v = os.Expand(v, func(name string) string {
				if getenv == nil {
					return ""
				}
				return getenv(strings.TrimSuffix(name, "?"))
			})
			return Secret(v), v != ""
		}
		if p == "" {
			return "", false
		}
		p = p[:strings.LastIndexByte(p, '/')]
	}
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
