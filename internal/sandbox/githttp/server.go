package githttp

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
)

// Access is what one token may do over git on one repository.
type Access struct {
	// Login is the user the request acts as; git sees it as REMOTE_USER.
	Login string
	// Read allows clone and fetch.
	Read bool
	// Write allows push.
	Write bool
	// Workflows allows a push to create, update or delete files under .github/workflows/.
	Workflows bool
}

// Options configure a Server. Only Root is required.
type Options struct {
	// Root is the folder that holds one bare repository per sandbox repository, as owner/name.git.
	Root string
	// Auth resolves a token for a repository; false means the token is
	// unknown (401). The token is "" for an anonymous request: Read then
	// lets it clone. Access with neither Read nor Write answers 404.
	// Nil allows every request, workflows included.
	Auth func(token, owner, repo string) (Access, bool)
	// OnPush is called after every push that git accepted, before the response ends.
	OnPush func(owner, repo string)
	// GitPath is the git binary; empty means "git" looked up on PATH.
	GitPath string
}

// Server serves git smart HTTP for the bare repositories under a root folder.
// It is an [http.Handler] for paths like /owner/name.git/info/refs.
type Server struct {
	opts Options
	git  string

	mu    sync.Mutex
	repos map[string]*repoEntry // by "owner/name"
}

// repoEntry caches an opened go-git repository; go-git loads pack indexes
// once, so the cache is dropped whenever git itself may have written objects.
type repoEntry struct {
	mu   sync.Mutex
	repo *git.Repository
}

// New returns a Server for opts, creating the root folder when needed.
func New(opts Options) (*Server, error) {
	if opts.Root == "" {
		return nil, errors.New("git root folder is empty")
	}
	bin := opts.GitPath
	if bin == "" {
		bin = "git"
	}
	gitPath, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("could not find the git binary %q: %w", bin, err)
	}
	if err := os.MkdirAll(opts.Root, 0o755); err != nil {
		return nil, fmt.Errorf("could not create the git root %q: %w", opts.Root, err)
	}
	return &Server{opts: opts, git: gitPath, repos: map[string]*repoEntry{}}, nil
}

// Root returns the folder that holds the bare repositories.
func (s *Server) Root() string { return s.opts.Root }

// GitPath returns the git binary the server runs.
func (s *Server) GitPath() string { return s.git }

// gitPathRE matches the smart-HTTP paths: /owner/name(.git)/service.
var gitPathRE = regexp.MustCompile(`^/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/(info/refs|git-upload-pack|git-receive-pack)$`)

// IsGitPath reports whether an URL path is a git smart-HTTP request, such as
// /owner/name.git/info/refs.
func IsGitPath(path string) bool { return gitPathRE.MatchString(path) }

// ServeHTTP serves one smart-HTTP request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := gitPathRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	owner, name, service := m[1], m[2], m[3]
	push := service == "git-receive-pack" || (service == "info/refs" && r.URL.Query().Get("service") == "git-receive-pack")

	access := Access{Login: "sandbox", Read: true, Write: true, Workflows: true}
	if s.opts.Auth != nil {
		token := basicToken(r)
		if token == "" {
			// Anyone may clone a public repository; everything else asks
			// for credentials, as GitHub does (a private repository's
			// existence is not disclosed).
			a, ok := s.opts.Auth("", owner, name)
			if push || !ok || !a.Read || !s.Exists(owner, name) {
				w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
		}
		a, ok := s.opts.Auth(token, owner, name)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
			http.Error(w, "Invalid username or token. Password authentication is not supported for Git operations.", http.StatusUnauthorized)
			return
		}
		access = a
	}
	if !s.Exists(owner, name) || (!access.Read && !access.Write) {
		http.Error(w, "Repository not found.", http.StatusNotFound)
		return
	}
	if (push && !access.Write) || (!push && !access.Read) {
		http.Error(w, fmt.Sprintf("Permission to %s/%s.git denied to %s.", owner, name, access.Login), http.StatusForbidden)
		return
	}

	env := []string{
		"GIT_PROJECT_ROOT=" + s.opts.Root,
		"GIT_HTTP_EXPORT_ALL=1",
		"REMOTE_USER=" + access.Login,
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + owner + "/" + name + ".git/" + service
	r2.URL.RawPath = ""
	h := &cgi.Handler{Path: s.git, Args: []string{"http-backend"}, Env: env}

	if service != "git-receive-pack" {
		h.ServeHTTP(w, r2)
		return
	}
	if access.Workflows {
		h.ServeHTTP(w, r2)
	} else {
		s.serveGuardedPush(w, r2, h)
	}
	s.Invalidate(owner, name)
	if s.opts.OnPush != nil {
		s.opts.OnPush(owner, name)
	}
}

// basicToken returns the token of a basic-auth header: the password, or the
// user name when the password is empty (GitHub accepts both).
func basicToken(r *http.Request) string {
	u, p, ok := r.BasicAuth()
	if !ok {
		return ""
	}
	if p == "" {
		return u
	}
	return p
}

// serveGuardedPush runs receive-pack with the workflow guard on and puts the
// hook's reason into the push report, as GitHub does, instead of git's
// generic "pre-receive hook declined".
func (s *Server) serveGuardedPush(w http.ResponseWriter, r *http.Request, h *cgi.Handler) {
	f, err := os.CreateTemp("", "cutover-push-*")
	if err != nil {
		http.Error(w, "could not create a temporary file", http.StatusInternalServerError)
		return
	}
	reasonsFile := f.Name()
	f.Close()
	defer os.Remove(reasonsFile)

	guarded := *h
	guarded.Env = append(append([]string(nil), h.Env...),
		"CUTOVER_SANDBOX_NO_WORKFLOW=1",
		"CUTOVER_SANDBOX_REJECT_FILE="+reasonsFile)
	buf := newBufferedWriter()
	guarded.ServeHTTP(buf, r)

	body := buf.body.Bytes()
	if data, err := os.ReadFile(reasonsFile); err == nil && len(data) > 0 {
		body = rewriteReport(body, parseReasons(data))
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.WriteHeader(buf.status)
	_, _ = w.Write(body)
}

// parseReasons reads the hook's "<ref> <reason>" lines.
func parseReasons(data []byte) map[string]string {
	reasons := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		ref, reason, ok := strings.Cut(line, " ")
		if ok {
			reasons[ref] = reason
		}
	}
	return reasons
}

// repoDir is the bare repository folder of owner/name.
func (s *Server) repoDir(owner, name string) string {
	return filepath.Join(s.opts.Root, owner, name+".git")
}
