package batch_test

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/ledger"
)

// TestSelect holds the selection's rules against an inventory: names are
// checked and compared without case, --skip-repo and --topic narrow, and
// an unknown name is an *UnknownRepoError naming it.
func TestSelect(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	led, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "cutover.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	for name, topics := range map[string][]string{
		"acme/pay-api": {"payments", "api"}, "acme/pay-ui": {"Payments"}, "acme/docs": nil, "acme/Widget": {"ui"},
	} {
		if err := led.UpsertRepo(ctx, ledger.Repo{FullName: name, Topics: topics}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := led.Repo(ctx, "acme/pay-api")
	if err != nil || !slices.Equal(got.Topics, []string{"payments", "api"}) {
		t.Fatalf("topics in the ledger: %+v %v", got.Topics, err)
	}
	e := &batch.Engine{Ledger: led}
	all := []string{"acme/Widget", "acme/docs", "acme/pay-api", "acme/pay-ui"}
	for _, tt := range []struct {
		name    string
		sel     batch.Selection
		want    []string
		unknown []string
	}{
		{name: "nothing narrows", want: all},
		{name: "named, any case", sel: batch.Selection{Repos: []string{"ACME/widget", "acme/docs"}}, want: []string{"acme/Widget", "acme/docs"}},
		{name: "skip", sel: batch.Selection{Skip: []string{"acme/docs", "acme/widget"}}, want: []string{"acme/pay-api", "acme/pay-ui"}},
		{name: "topic, any case", sel: batch.Selection{Topics: []string{"PAYMENTS"}}, want: []string{"acme/pay-api", "acme/pay-ui"}},
		{name: "any of the topics", sel: batch.Selection{Topics: []string{"api", "ui"}}, want: []string{"acme/Widget", "acme/pay-api"}},
		{name: "topic minus skip", sel: batch.Selection{Topics: []string{"payments"}, Skip: []string{"acme/pay-ui"}}, want: []string{"acme/pay-api"}},
		{name: "named and topic", sel: batch.Selection{Repos: []string{"acme/docs", "acme/pay-ui"}, Topics: []string{"payments"}}, want: []string{"acme/pay-ui"}},
		{name: "unknown named", sel: batch.Selection{Repos: []string{"acme/docs", "acme/nope", "other/x"}}, unknown: []string{"acme/nope", "other/x"}},
		{name: "unknown skipped", sel: batch.Selection{Skip: []string{"acme/dcos"}}, unknown: []string{"acme/dcos"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Select(ctx, all, tt.sel)
			var ue *batch.UnknownRepoError
			if tt.unknown != nil {
				if !errors.As(err, &ue) || !slices.Equal(ue.Names, tt.unknown) || !strings.Contains(err.Error(), strings.Join(tt.unknown, ", ")) {
					t.Fatalf("error %v, want the unknown %q named", err, tt.unknown)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %q (%v), want %q", got, err, tt.want)
			}
		})
	}

	// apply --wave N --repo R: R must be a member of the wave.
	if err := led.SetWaves(ctx, []ledger.Wave{{Number: 0, Name: "canary", State: ledger.WavePlanned, Members: []string{"acme/docs"}}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.Apply(ctx, batch.ApplyOptions{Wave: 0, Select: batch.Selection{Repos: []string{"acme/pay-api"}}})
	if err == nil || !strings.Contains(err.Error(), "acme/pay-api is not in wave 0") {
		t.Errorf("apply of a repository outside the wave: %v", err)
	}
	_, err = e.Apply(ctx, batch.ApplyOptions{Wave: 0, Select: batch.Selection{Skip: []string{"acme/docs"}}})
	if err == nil || !strings.Contains(err.Error(), "no repositories of wave 0 left") {
		t.Errorf("apply with every member skipped: %v", err)
	}
}
