package ghapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

// bufferedWriter holds a GET's response until the handler is done, so that
// it can be given an ETag or turned into a 304.
type bufferedWriter struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.h }

func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// conditional makes c write into a buffer; the returned function sends the
// response as GitHub does: a 200 carries an ETag (the handler's, or a weak
// one over the body), and a request whose If-None-Match names it gets 304
// with no body, which does not count against the primary rate limit.
func (c *call) conditional() (finish func()) {
	w := c.w
	buf := &bufferedWriter{h: w.Header()}
	c.w = buf
	return func() {
		status := buf.status
		if status == 0 {
			status = http.StatusOK
		}
		h := w.Header()
		etag := h.Get("ETag")
		if status == http.StatusOK && etag == "" {
			sum := sha256.Sum256(buf.body.Bytes())
			etag = `W/"` + hex.EncodeToString(sum[:20]) + `"`
			h.Set("ETag", etag)
		}
		if status == http.StatusOK || status == http.StatusNotModified {
			h.Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
		}
		if status == http.StatusNotModified || (status == http.StatusOK && etagMatches(c.r.Header.Get("If-None-Match"), etag)) {
			if c.counted {
				c.s.limiter.refund(c)
			}
			h.Del("Content-Type")
			h.Del("Content-Length")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.Itoa(buf.body.Len()))
		w.WriteHeader(status)
		_, _ = w.Write(buf.body.Bytes())
	}
}

// etagMatches reports whether an If-None-Match header names etag; weak and
// strong forms of one tag match, as RFC 9110's weak comparison says.
func etagMatches(header, etag string) bool {
	if header == "" || etag == "" {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == want {
			return true
		}
	}
	return false
}
