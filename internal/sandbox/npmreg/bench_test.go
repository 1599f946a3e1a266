package npmreg_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// BenchmarkPackumentGET measures packument requests per second on loopback
// for a package with 40 versions.
func BenchmarkPackumentGET(b *testing.B) {
	w := newWorld(b)
	wf := &npmreg.Workflow{Repository: "acme/widget", Path: ".github/workflows/release.yml"}
	for i := range 38 {
		must(b, w.reg.AddVersion("@acme/widget", npmreg.VersionSpec{Version: fmt.Sprintf("1.2.%d", i), OIDC: wf, Provenance: wf, Published: w.clk.Now().Add(time.Duration(i) * time.Minute)}))
	}
	client := w.srv.Client()
	url := w.base + "/@acme%2fwidget"
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func TestListings(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if got := w.reg.Packages(); len(got) != 3 || got[0] != "@acme/secret" {
		t.Errorf("Packages = %q", got)
	}
	if got := w.reg.Versions("@acme/widget"); len(got) != 2 || got[0] != "1.0.0" || got[1] != "1.1.0" {
		t.Errorf("Versions = %q", got)
	}
}
