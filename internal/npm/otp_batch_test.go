package npm_test

import (
	"context"
	"sync"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/internal/npm"
)

// TestConcurrentChallengesShareOneApproval checks that requests challenged
// at the same time ask for one web login, not one each: the second waits
// for the first and takes its approved OTP.
func TestConcurrentChallengesShareOneApproval(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var mu sync.Mutex
	opened := 0
	web := npm.WebOTP{Open: func(_ context.Context, u string) error {
		mu.Lock()
		opened++
		mu.Unlock()
		return w.reg.ApproveAuthURL(u)
	}}
	c := w.client(bobToken, web)
	g, ctx := errgroup.WithContext(t.Context())
	for range 4 {
		for _, pkg := range []string{"@acme/widget", "@acme/gadget", "solo", "@acme/internal"} {
			g.Go(func() error {
				_, err := c.TrustList(ctx, pkg)
				return err
			})
		}
	}
	must(t, g.Wait())
	if opened != 1 {
		t.Errorf("%d web logins for 16 concurrent requests, want 1", opened)
	}
}
