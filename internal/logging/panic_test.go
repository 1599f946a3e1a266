package logging

import (
	"strings"
	"testing"
)

func panicky(m map[string]int) {
	var p *struct{ n int }
	if m == nil {
		p.n = 1 // a nil dereference, as a bug would
	}
}

func TestPanicSite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"runtime fault", func() { panicky(nil) }},
		{"panic call", func() { panic("boom") }},
	} {
		var site string
		func() {
			defer func() {
				if recover() != nil {
					site = PanicSite()
				}
			}()
			tc.fn()
		}()
		if !strings.HasPrefix(site, "logging/panic_test.go:") {
			t.Errorf("%s: site %q, want the test's own frame", tc.name, site)
		}
		if tc.name == "runtime fault" && !strings.Contains(site, "logging.panicky") {
			t.Errorf("%s: site %q, want panicky", tc.name, site)
		}
	}
}
