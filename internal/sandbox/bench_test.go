package sandbox_test

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// BenchmarkAPIRequests measures the requests per second the emulator serves
// on loopback, from parallel clients, with rate limits off.
func BenchmarkAPIRequests(b *testing.B) {
	w := startWorld(b, sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	paths := []struct{ name, path string }{
		{"repo", "api/v3/repos/acme/widget"},
		{"contents", "api/v3/repos/acme/widget/contents/package.json?ref=main"},
		{"tree", "api/v3/repos/acme/widget/git/trees/main?recursive=1"},
	}
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			url := w.URL + p.path
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", url, nil)
					req.Header.Set("Authorization", "Bearer "+token)
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkClonePush measures shallow in-memory clone + commit + push of a
// new branch over smart HTTP, per second.
func BenchmarkClonePush(b *testing.B) {
	w := startWorld(b, sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	cloneURL := w.GitURL + "acme/widget.git"
	var n atomic.Int64
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if err := clonePush(b, cloneURL, fmt.Sprintf("bench/%d", n.Add(1))); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "clone+push/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := clonePush(b, cloneURL, fmt.Sprintf("bench/%d", n.Add(1))); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "clone+push/s")
	})
}
