package ghapi

import (
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Faults configure injected failures. Draws come from one seeded source in
// request order, so a sequential run sees the same faults every time.
type Faults struct {
	// Seed seeds the random source.
	Seed uint64
	// Rules apply in order; every matching rule takes its own draw.
	Rules []FaultRule
}

// FaultRule injects failures into the routes it matches.
type FaultRule struct {
	// Route is a route pattern as registered, such as
	// "POST /repos/{owner}/{repo}/pulls"; a trailing "*" matches by prefix,
	// and "" or "*" matches every route.
	Route string
	// ErrorRate is the chance of answering Status instead of serving.
	ErrorRate float64
	// Status is the error status; zero means 502.
	Status int
	// ResetRate is the chance of closing the connection without an answer.
	ResetRate float64
	// StallRate is the chance of hanging until the request's context ends.
	StallRate float64
	// Latency is added to every matching request.
	Latency time.Duration
}

// matches reports whether the rule applies to a route pattern.
func (f FaultRule) matches(pattern string) bool {
	switch {
	case f.Route == "" || f.Route == "*":
		return true
	case strings.HasSuffix(f.Route, "*"):
		return strings.HasPrefix(pattern, strings.TrimSuffix(f.Route, "*"))
	}
	return f.Route == pattern
}

type faultInjector struct {
	mu    sync.Mutex
	rules []FaultRule
	rng   *rand.Rand
}

func newFaultInjector(f Faults) *faultInjector {
	fi := &faultInjector{}
	fi.reset(f)
	return fi
}

func (fi *faultInjector) reset(f Faults) {
	fi.mu.Lock()
	fi.rules = append([]FaultRule(nil), f.Rules...)
	fi.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	fi.mu.Unlock()
}

// fault kinds a draw can give.
const (
	faultNone = iota
	faultError
	faultReset
	faultStall
)

// apply injects the faults of pattern; it returns false when it answered
// (or dropped) the request itself.
func (fi *faultInjector) apply(pattern string, w http.ResponseWriter, r *http.Request) bool {
	fi.mu.Lock()
	if len(fi.rules) == 0 {
		fi.mu.Unlock()
		return true
	}
	var latency time.Duration
	kind, status := faultNone, 0
	for _, rule := range fi.rules {
		if !rule.matches(pattern) {
			continue
		}
		latency += rule.Latency
		u := fi.rng.Float64()
		if kind != faultNone {
			continue
		}
		switch {
		case u < rule.ResetRate:
			kind = faultReset
		case u < rule.ResetRate+rule.StallRate:
			kind = faultStall
		case u < rule.ResetRate+rule.StallRate+rule.ErrorRate:
			kind, status = faultError, rule.Status
		}
	}
	fi.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return false
		}
	}
	switch kind {
	case faultReset:
		resetConnection(w)
		return false
	case faultStall:
		<-r.Context().Done()
		return false
	case faultError:
		if status == 0 {
			status = http.StatusBadGateway
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"message":"Server Error (injected by the sandbox)"}` + "\n"))
		return false
	}
	return true
}

// resetConnection drops the client's connection with a TCP reset.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
