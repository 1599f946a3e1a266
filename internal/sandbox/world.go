package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/githttp"
)

// Options configure a World. The zero value serves both the API and git on
// one listener at 127.0.0.1 on a free port, with repositories in a temporary
// folder removed by Close, and GitHub's rate limits in real time.
type Options struct {
	// Addr is the listen address of the API (and of git, unless GitAddr is set).
	Addr string
	// GitAddr, when set, puts git on a listener of its own.
	GitAddr string
	// Dir holds the bare repositories (under git/) and snapshots; empty means
	// a temporary folder that Close removes.
	Dir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TimeScale is how many emulated seconds pass per second of Now; zero means 1.
	TimeScale float64
	// Limits are the API's rate limits; zero means GitHub's.
	Limits ghapi.Limits
	// Faults are injected into the API; zero means none.
	Faults ghapi.Faults
	// TreeLimit is where recursive trees are truncated; zero means 100,000 entries.
	TreeLimit int
	// CI decides pull request checks; nil means every head succeeds.
	CI ghapi.CIFunc
	// GitPath is the git binary; empty means git on PATH.
	GitPath string
}

// World is a running loopback GitHub: API and git over HTTP.
type World struct {
	// API is the REST emulator: create repositories, register tokens, set
	// checks, limits and faults through it.
	API *ghapi.Server
	// Git is the smart-HTTP git server holding the bare repositories.
	Git *githttp.Server
	// URL is the API's base URL, ending in "/"; the API is also served under URL+"api/v3/".
	URL string
	// GitURL is the base URL of clone URLs, ending in "/": GitURL+"owner/name.git".
	GitURL string
	// Dir is the folder holding the world's data.
	Dir string

	servers   []*http.Server
	tempDir   bool
	done      chan error
	closeOnce sync.Once
	closeErr  error
	stop      chan struct{}
}

// Start starts a World; it runs until Close or until ctx is done.
func Start(ctx context.Context, opts Options) (*World, error) {
	w := &World{Dir: opts.Dir, done: make(chan error, 2), stop: make(chan struct{})}
	if w.Dir == "" {
		d, err := os.MkdirTemp("", "cutover-sandbox-*")
		if err != nil {
			return nil, fmt.Errorf("could not create the sandbox folder: %w", err)
		}
		w.Dir, w.tempDir = d, true
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var lc net.ListenConfig
	apiLn, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		w.cleanup()
		return nil, fmt.Errorf("could not listen on %q: %w", addr, err)
	}
	gitLn := apiLn
	if opts.GitAddr != "" {
		gitLn, err = lc.Listen(ctx, "tcp", opts.GitAddr)
		if err != nil {
			apiLn.Close()
			w.cleanup()
			return nil, fmt.Errorf("could not listen on %q: %w", opts.GitAddr, err)
		}
	}
	w.URL = "http://" + apiLn.Addr().String() + "/"
	w.GitURL = "http://" + gitLn.Addr().String() + "/"

	var api *ghapi.Server
	w.Git, err = githttp.New(githttp.Options{
		Root:    w.Dir + "/git",
		GitPath: opts.GitPath,
		Auth: func(token, owner, repo string) (githttp.Access, bool) {
			return api.GitAccess(token, owner, repo)
		},
		OnPush: func(owner, repo string) { api.SyncRepo(owner, repo) },
	})
	if err == nil {
		api, err = ghapi.New(ghapi.Options{
			Git: w.Git, Now: opts.Now, TimeScale: opts.TimeScale, Limits: opts.Limits, Faults: opts.Faults,
			TreeLimit: opts.TreeLimit, CI: opts.CI, GitURL: w.GitURL, WebURL: w.GitURL,
		})
	}
	if err != nil {
		apiLn.Close()
		if gitLn != apiLn {
			gitLn.Close()
		}
		w.cleanup()
		return nil, err
	}
	w.API = api

	if gitLn == apiLn {
		w.serve(apiLn, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if githttp.IsGitPath(r.URL.Path) {
				w.Git.ServeHTTP(rw, r)
				return
			}
			w.API.ServeHTTP(rw, r)
		}))
	} else {
		w.serve(apiLn, w.API)
		w.serve(gitLn, w.Git)
	}
	go func() {
		select {
		case <-ctx.Done():
			w.shutdown()
		case <-w.stop:
		}
	}()
	return w, nil
}

func (w *World) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	w.servers = append(w.servers, srv)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		w.done <- err
	}()
}

func (w *World) shutdown() {
	for _, s := range w.servers {
		_ = s.Close()
	}
}

// Close stops the servers and removes the world's folder when it was temporary.
func (w *World) Close() error {
	w.closeOnce.Do(func() {
		close(w.stop)
		w.shutdown()
		for range w.servers {
			w.closeErr = errors.Join(w.closeErr, <-w.done)
		}
		w.cleanup()
	})
	return w.closeErr
}

func (w *World) cleanup() {
	if w.tempDir {
		_ = os.RemoveAll(w.Dir)
	}
}
