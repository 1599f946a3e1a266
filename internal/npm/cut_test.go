package npm_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/npm"
)

// TestErrorMessageTokenAcrossCut: the registry's error message is cut to
// 300 characters; a token straddling the cut is redacted, not half printed.
func TestErrorMessageTokenAcrossCut(t *testing.T) {
	t.Parallel()
	const tok = "npm_CUTPOINTleakTESTtoken0123456789abcd"
	for _, start := range []int{290, 296, 299, 300} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": strings.Repeat("x", start) + tok + " trailing"})
		}))
		c := &npm.Client{BaseURL: srv.URL + "/"}
		_, err := c.Packument(t.Context(), "widget")
		srv.Close()
		var e *npm.Error
		if !errors.As(err, &e) {
			t.Fatalf("start %d: %v", start, err)
		}
		if strings.Contains(err.Error(), tok[:8]) || strings.Contains(e.Message, tok[:8]) {
			t.Errorf("start %d: a part of the token is in %q", start, e.Message)
		}
	}
}
