package rewrite

import (
	"net/url"
	"path"
	"sort"
	"strings"
)

// MaxFileBytes is the largest file Detect reads when Options.MaxFileBytes
// is zero; larger files yield a finding.
const MaxFileBytes = 1 << 20

// Snapshot is the set of files of one repository that detection reads.
type Snapshot struct {
	// Repo is "owner/name" when known; it names the repository in trusted
	// publisher settings and in findings.
	Repo string
	// Files maps a slash-separated path relative to the repository root to
	// the file's bytes.
	Files map[string][]byte
	// Problems lists files the reader could not or would not read (too large,
	// a symlink leaving the repository, unreadable), keyed by path, with the
	// reason. Detect turns each into a finding.
	Problems map[string]string
}

// paths returns the snapshot's paths in sorted order.
func (s Snapshot) paths() []string {
	out := make([]string, 0, len(s.Files))
	for p := range s.Files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// manualDocNames are files whose text may document a manual publishing flow.
var manualDocNames = map[string]bool{
	"releasing.md": true, "release.md": true, "contributing.md": true,
	"publishing.md": true, "maintaining.md": true, "makefile": true,
	"justfile": true, "release.sh": true, "publish.sh": true,
}

// Relevant reports whether detection reads the file at path p. Readers use it
// to pick files from a checkout or a tree listing without fetching the rest.
func Relevant(p string) bool {
	p = strings.TrimPrefix(p, "./")
	if strings.Contains("/"+p+"/", "/node_modules/") || strings.HasPrefix(p, ".git/") {
		return false
	}
	base := path.Base(p)
	dir := path.Dir(p)
	switch {
	case isOtherCIPath(p):
		return true
	case dir == ".github/workflows" && (strings.HasSuffix(base, ".yml") || strings.HasSuffix(base, ".yaml")):
		return true
	case base == "action.yml" || base == "action.yaml":
		return true
	case base == "package.json", base == ".npmrc", base == ".yarnrc.yml", base == ".yarnrc",
		base == "pnpm-workspace.yaml", base == "lerna.json", base == "nx.json", base == "rush.json",
		base == ".releaserc", base == ".releaserc.json", base == ".releaserc.yml", base == ".releaserc.yaml",
		base == "release-please-config.json", base == ".release-it.json", base == "CODEOWNERS":
		return true
	case dir == ".changeset" && base == "config.json":
		return true
	}
	if manualDocNames[strings.ToLower(base)] && !strings.Contains(p, "/") {
		return true
	}
	if (dir == "scripts" || dir == "script" || dir == ".github") && manualDocNames[strings.ToLower(base)] {
		return true
	}
	return false
}

// NormalizeRegistry returns a registry URL with a lower-case scheme and host
// and exactly one trailing slash, or "" when s is not an absolute http(s) URL.
func NormalizeRegistry(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	p := strings.TrimRight(u.Path, "/") + "/"
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + p
}

// registryKey is the host and path part of a registry URL, as .npmrc auth
// lines write it ("//host/path/").
func registryKey(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "//") {
		s = "https:" + s
	}
	n := NormalizeRegistry(s)
	if n == "" {
		return ""
	}
	k := n[strings.Index(n, "//"):]
	// The scheme is ignored, so are both default ports.
	host, rest, _ := strings.Cut(k[2:], "/")
	host = strings.TrimSuffix(strings.TrimSuffix(host, ":443"), ":80")
	return "//" + host + "/" + rest
}

// sameRegistry reports whether two registry references name the same
// registry, ignoring scheme, default ports, case and trailing slashes.
func sameRegistry(a, b string) bool {
	ka, kb := registryKey(a), registryKey(b)
	return ka != "" && ka == kb
}
