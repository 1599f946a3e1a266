package npm_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cutover/cutover/internal/logging"
	"github.com/cutover/cutover/internal/npm"
)

// TestErrorMessageSecretAcrossCut: the registry's error message is cut to
// 300 characters; a token, or the value of a configured secret, straddling
// the cut is redacted, not half printed.
func TestErrorMessageSecretAcrossCut(t *testing.T) {
	t.Parallel()
	const (
		tok    = "npm_CUTPOINTleakTESTtoken0123456789abcd"
		secret = "Sl4ck-hook-CUTPOINT-value-0123456789" // a [secrets] env value: no token shape
	)
	var message atomic.Pointer[string]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": *message.Load()})
	}))
	defer srv.Close()
	c := &npm.Client{BaseURL: srv.URL + "/", Redactor: logging.NewRedactor(secret)}
	for _, value := range []string{tok, secret} {
		for start := 300 - len(value) + 1; start <= 300; start++ {
			message.Store(new(strings.Repeat("x", start) + value + " trailing"))
			_, err := c.Packument(t.Context(), "widget")
			var e *npm.Error
			if !errors.As(err, &e) {
				t.Fatalf("start %d: %v", start, err)
			}
			if strings.Contains(err.Error(), value[:8]) || strings.Contains(e.Message, value[:8]) {
				t.Fatalf("start %d: a part of %q is in %q", start, value[:8], e.Message)
			}
		}
	}
}
