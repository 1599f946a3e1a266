package github_test

import (
	"bytes"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// statuses records "status If-None-Match-sent" per request path.
type statuses struct {
	next http.RoundTripper
	mu   sync.Mutex
	got  []string
}

func (s *statuses) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if err == nil {
		cond := ""
		if req.Header.Get("If-None-Match") != "" {
			cond = " conditional"
		}
		s.mu.Lock()
		s.got = append(s.got, resp.Status[:3]+cond)
		s.mu.Unlock()
	}
	return resp, err
}

func (s *statuses) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.got
	s.got = nil
	return out
}

// TestConditionalRequests checks the conditional-request cache on the
// sandbox, which answers If-None-Match as GitHub does: a re-read is sent
// with the kept ETag and answered 304 from the cache, a change is never
// hidden, the kept ETags outlive the Forge when they are kept in a folder,
// a cached body is never shown to an identity the server did not confirm
// it for, and no token is written.
func TestConditionalRequests(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			w := startWorld(t, sandbox.Options{Limits: ghapi.Limits{Primary: 1 << 20}})
			mustCreate(t, w, "acme", "secret-plans", ghapi.RepoOptions{Private: true, Files: map[string][]byte{"a": []byte("a\n")}})
			w.API.AddToken("github_pat_OTHERorgTOKENvalueNEVERprinted04", ghapi.Identity{Login: "mallory",
				Owners: []string{"elsewhere"}, Permissions: ghapi.AllPermissions()})
			dir := filepath.Join(t.TempDir(), "etags")
			forgeFor := func(token string) (*github.Forge, *statuses) {
				st := &statuses{next: http.DefaultTransport}
				opts := m.opts(w)
				opts.ETagCacheDir, opts.Transport, opts.Token = dir, st, token
				opts.Limits = github.Limits{Disabled: true}
				opts.Getenv = func(string) string { return "" }
				f, err := github.New(t.Context(), opts)
				if err != nil {
					t.Fatal(err)
				}
				return f, st
			}
			names := func(f *github.Forge) []string {
				t.Helper()
				rs, err := f.Repos(t.Context(), "acme", forge.ListOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, r := range rs {
					out = append(out, r.FullName)
				}
				return out
			}
			expect := func(st *statuses, want ...string) {
				t.Helper()
				if got := st.take(); !slices.Equal(got, want) {
					t.Errorf("answers = %q, want %q", got, want)
				}
			}

			f, st := forgeFor(tokFull)
			first := names(f)
			expect(st, "200")
			if again := names(f); !slices.Equal(again, first) {
				t.Errorf("revalidated listing = %v, want %v", again, first)
			}
			expect(st, "304 conditional")
			if got := f.Stats().Revalidated; got != 1 {
				t.Errorf("Revalidated = %d, want 1", got)
			}

			// A change is seen at once: the ETag no longer matches.
			mustCreate(t, w, "acme", "newcomer", ghapi.RepoOptions{})
			if got := names(f); !slices.Contains(got, "acme/newcomer") {
				t.Errorf("listing after a new repository = %v", got)
			}
			expect(st, "200 conditional")

			// A new Forge (a new run) revalidates what the last one kept.
			f2, st2 := forgeFor(tokFull)
			if got := names(f2); !slices.Contains(got, "acme/secret-plans") || !slices.Contains(got, "acme/newcomer") {
				t.Errorf("listing from the kept body = %v", got)
			}
			expect(st2, "304 conditional")

			gc := f.Client().Git
			ref, _, err := gc.GetRef(t.Context(), "acme", "widget", "heads/main")
			if err != nil {
				t.Fatal(err)
			}
			expect(st, "200")
			commitOn(t, w, "acme", "widget", "main", "main", map[string][]byte{"NEW.md": []byte("new\n")})
			moved, _, err := gc.GetRef(t.Context(), "acme", "widget", "heads/main")
			if err != nil {
				t.Fatal(err)
			}
			expect(st, "200 conditional")
			if moved.GetObject().GetSHA() == ref.GetObject().GetSHA() {
				t.Errorf("the ref read after a push is the old one, %s", ref.GetObject().GetSHA())
			}
			if again, _, err := gc.GetRef(t.Context(), "acme", "widget", "heads/main"); err != nil || again.GetObject().GetSHA() != moved.GetObject().GetSHA() {
				t.Errorf("revalidated ref = %v, %v", again, err)
			}
			expect(st, "304 conditional")

			// Another identity sends the kept ETag but the server answers its
			// own view: the private repository is not shown to it.
			f3, st3 := forgeFor("github_pat_OTHERorgTOKENvalueNEVERprinted04")
			if got := names(f3); slices.Contains(got, "acme/secret-plans") || len(got) == 0 {
				t.Errorf("listing for a token of another owner = %v", got)
			}
			expect(st3, "200 conditional")

			// Nothing kept holds a token or a request header.
			files := 0
			err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				files++
				b, err := os.ReadFile(path)
				for _, secret := range []string{tokFull, "github_pat_OTHERorgTOKENvalueNEVERprinted04", "Authorization", "Bearer"} {
					if bytes.Contains(b, []byte(secret)) {
						t.Errorf("%s holds %q", path, secret)
					}
				}
				if info, _ := d.Info(); info != nil && info.Mode().Perm()&0o077 != 0 {
					t.Errorf("%s is readable by others: %v", path, info.Mode())
				}
				return err
			})
			if err != nil || files == 0 {
				t.Fatalf("cache folder: %d files, %v", files, err)
			}
		})
	}
}
