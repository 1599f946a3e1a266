package github

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Conditional requests. GitHub answers a GET whose If-None-Match names the
// ETag of the current representation with 304 Not Modified, and a 304 does
// not count against the primary rate limit. etagTransport keeps the ETag and
// body of the GETs a re-run reads again (the organisation's repository
// listing pages, a repository, refs, trees, contents), sends If-None-Match
// when it holds one, and turns a 304 back into the 200 the caller expects,
// with the kept body. No maintained Go library fits: gregjones/httpcache is
// archived and, as an RFC 9111 cache, serves responses GitHub marks
// max-age=60 without asking, which would hide a ref moved by a push a second
// earlier; bored-engineer/github-conditional-http-transport is not on the
// module proxy.
//
// What is kept is the request's URL and Accept header, the response's
// ETag, Content-Type, Link and Last-Modified, and its body: never a request
// header, so never a token. A body is only served after the server has
// confirmed, for this request and its identity, that the representation
// still has the kept ETag (GitHub's ETags vary with Authorization), so
// entries need no identity in their key.

// conditionalPath matches the API paths whose GETs are revalidated: the
// repository listings and the reads Snapshot, Repo and ref lookups make.
var conditionalPath = regexp.MustCompile(`(^|/)(orgs/[^/]+/repos|users/[^/]+/repos|installation/repositories|repos/[^/]+/[^/]+|repos/[^/]+/[^/]+/(git/(ref|refs|trees)/.+|contents(/.*)?|branches/.+))$`)

// keptHeaders are the response headers a revalidated response takes from
// the kept one; the 304's own headers (rate limits, ETag) come on top.
var keptHeaders = []string{"Content-Type", "Link", "Last-Modified"}

// maxMemoryCache bounds the bodies an in-memory cache holds.
const maxMemoryCache = 64 << 20

// etagEntry is one kept response.
type etagEntry struct {
	// Key is the method, URL and Accept header of the request.
	Key    string              `json:"key"`
	ETag   string              `json:"etag"`
	Header map[string][]string `json:"header,omitempty"`
	Body   []byte              `json:"body"`
}

// etagCache holds entries in memory (dir empty) or in dir, one file each.
type etagCache struct {
	dir string

	mu    sync.Mutex
	mem   map[string]*etagEntry
	bytes int
}

func newETagCache(dir string) (*etagCache, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("could not create the conditional-request cache %q: %w", dir, err)
		}
	}
	return &etagCache{dir: dir, mem: map[string]*etagEntry{}}, nil
}

func (c *etagCache) file(key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(c.dir, h[:2], h[2:]+".json")
}

func (c *etagCache) get(key string) *etagEntry {
	if c.dir == "" {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.mem[key]
	}
	data, err := os.ReadFile(c.file(key))
	if err != nil {
		return nil
	}
	var e etagEntry
	if json.Unmarshal(data, &e) != nil || e.Key != key || e.ETag == "" {
		return nil
	}
	return &e
}

// put keeps e; failures only cost a later full read.
func (c *etagCache) put(e *etagEntry) {
	if c.dir == "" {
		c.mu.Lock()
		defer c.mu.Unlock()
		if old := c.mem[e.Key]; old != nil {
			c.bytes -= len(old.Body)
		}
		if c.bytes+len(e.Body) > maxMemoryCache {
			delete(c.mem, e.Key)
			return
		}
		c.mem[e.Key] = e
		c.bytes += len(e.Body)
		return
	}
	data, err := json.Marshal(e)
	if err != nil {
		return
	}
	writeFileAtomic(c.file(e.Key), data, 0o700)
}

func (c *etagCache) drop(key string) {
	if c.dir == "" {
		c.mu.Lock()
		defer c.mu.Unlock()
		if old := c.mem[key]; old != nil {
			c.bytes -= len(old.Body)
			delete(c.mem, key)
		}
		return
	}
	os.Remove(c.file(key))
}

// etagTransport revalidates the GETs conditionalPath names through cache.
type etagTransport struct {
	next  http.RoundTripper
	cache *etagCache
	stats *counters
}

// cacheKey returns the key of a request, or "" when it is not revalidated:
// not a GET, not a listed path, already conditional (GetCommitSHA1 sends its
// own If-None-Match), or with credentials in its URL.
func cacheKey(req *http.Request) string {
	if req.Method != http.MethodGet || req.Header.Get("If-None-Match") != "" || req.URL.User != nil ||
		!conditionalPath.MatchString(req.URL.Path) {
		return ""
	}
	for k := range req.URL.Query() {
		if k := strings.ToLower(k); strings.Contains(k, "token") || strings.Contains(k, "secret") {
			return ""
		}
	}
	return "GET " + req.URL.String() + " " + req.Header.Get("Accept")
}

// RoundTrip implements http.RoundTripper.
func (t *etagTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	key := cacheKey(req)
	if key == "" {
		return t.next.RoundTrip(req)
	}
	kept := t.cache.get(key)
	out := req
	if kept != nil {
		out = req.Clone(req.Context())
		out.Header.Set("If-None-Match", kept.ETag)
	}
	resp, err := t.next.RoundTrip(out)
	if err != nil {
		return resp, err
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && kept != nil:
		drain(resp)
		t.stats.revalidated.Add(1)
		h := http.Header{}
		for k, v := range kept.Header {
			h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
		}
		for k, v := range resp.Header {
			if k == "Content-Length" || k == "Content-Type" {
				continue
			}
			h[k] = v
		}
		if h.Get("ETag") == "" {
			h.Set("ETag", kept.ETag)
		}
		h.Set("Content-Length", strconv.Itoa(len(kept.Body)))
		r := *resp
		r.StatusCode, r.Status = http.StatusOK, "200 OK"
		r.Header, r.ContentLength = h, int64(len(kept.Body))
		r.Body = io.NopCloser(bytes.NewReader(kept.Body))
		r.Request = req
		return &r, nil
	case resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") != "":
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		e := &etagEntry{Key: key, ETag: resp.Header.Get("ETag"), Header: map[string][]string{}, Body: body}
		for _, k := range keptHeaders {
			if v := resp.Header.Values(k); len(v) > 0 {
				e.Header[k] = v
			}
		}
		t.cache.put(e)
	case kept != nil && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone):
		t.cache.drop(key)
	}
	return resp, nil
}
