package sweep_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/batch/sweep"
	"github.com/cutover/cutover/rewrite"
)

// TestActiveTokenFeedsGuard: sweep's drift check reads detection's Guarded
// field, so only the oidc playbook's exact guard for the campaign's flag is
// the kept rollback path; an inverted or partial guard is drift.
func TestActiveTokenFeedsGuard(t *testing.T) {
	const head = `on: push
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - uses: actions/setup-node@v6
        with:
          node-version: 24
          registry-url: https://npm-registry.invalid/
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: `
	drift := []string{".github/workflows/release.yml:14 (job publish)"}
	for _, tt := range []struct {
		name, value, flag string
		want              []string
	}{
		{"exact guard", `${{ vars.CUTOVER_NPM_OIDC != 'true' && secrets.NPM_TOKEN || '' }}`, "", nil},
		{"exact guard, campaign flag", `${{ vars.MY_FLAG != 'true' && secrets.NPM_TOKEN || '' }}`, "MY_FLAG", nil},
		{"guard on another variable", `${{ vars.MY_FLAG != 'true' && secrets.NPM_TOKEN || '' }}`, "", drift},
		{"inverted guard", `${{ vars.CUTOVER_NPM_OIDC == 'true' && secrets.NPM_TOKEN || '' }}`, "", drift},
		{"token fallback", `${{ vars.CUTOVER_NPM_OIDC != 'true' && secrets.NPM_TOKEN || secrets.NPM_TOKEN }}`, "", drift},
		{"partial guard", `${{ vars.CUTOVER_NPM_OIDC != 'true' && secrets.A || '' }}${{ secrets.NPM_TOKEN }}`, "", drift},
		{"flag only mentioned", `${{ secrets.NPM_TOKEN }} # vars.CUTOVER_NPM_OIDC`, "", drift},
		{"no guard", `${{ secrets.NPM_TOKEN }}`, "", drift},
	} {
		t.Run(tt.name, func(t *testing.T) {
			snap := rewrite.Snapshot{Repo: "acme/cut", Files: map[string][]byte{".github/workflows/release.yml": []byte(head + tt.value + "\n")}}
			res := rewrite.Detect(snap, rewrite.Options{Registry: "https://npm-registry.invalid/", FlagVar: tt.flag})
			if got := sweep.ActiveTokenFeeds(res); !slices.Equal(got, tt.want) {
				t.Errorf("ActiveTokenFeeds = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSweepDriftGuardShapesOnSandbox: sweep, run against the sandbox
// GitHub on a repository whose flag is on, reports drift for an inverted
// or partial guard pushed to the default branch (the token path is live
// although the flag says OIDC), and none for the oidc playbook's exact
// guard.
func TestSweepDriftGuardShapesOnSandbox(t *testing.T) {
	sw := newSweepWorld(t)
	const exact = "NODE_AUTH_TOKEN: ${{ vars.CUTOVER_NPM_OIDC != 'true' && secrets.NPM_TOKEN || '' }}"
	if !strings.Contains(sweepBridgedWorkflow, exact) {
		t.Fatal("the bridged workflow changed; update the test")
	}
	for _, tt := range []struct {
		name, replace, detail string
	}{
		{"inverted guard", "NODE_AUTH_TOKEN: ${{ vars.CUTOVER_NPM_OIDC == 'true' && secrets.NPM_TOKEN || '' }}", ".github/workflows/release.yml:19 (job publish)"},
		{"partial guard", "NODE_AUTH_TOKEN: ${{ vars.CUTOVER_NPM_OIDC != 'true' && secrets.NPM_TOKEN || '' }}${{ secrets.NPM_TOKEN }}", ".github/workflows/release.yml:19 (job publish)"},
		{"guard that falls back to the token", "NODE_AUTH_TOKEN: ${{ vars.CUTOVER_NPM_OIDC != 'true' && secrets.NPM_TOKEN || secrets.NPM_TOKEN }}", ".github/workflows/release.yml:19 (job publish)"},
		{"exact guard", exact, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wf := strings.Replace(sweepBridgedWorkflow, exact, tt.replace, 1)
			pushMain(t, sw, "acme/cut", map[string][]byte{".github/workflows/release.yml": []byte(wf)})
			res := sw.sweep(t, false)
			drift, ok := dueByKey(res.Reminders)["acme/cut drift:token-publish"]
			switch {
			case tt.detail == "" && ok:
				t.Errorf("drift reported for the exact guard: %+v", drift)
			case tt.detail != "" && (!ok || !slices.Equal(drift.Details, []string{tt.detail})):
				t.Errorf("drift = %+v (reported %v), want details [%s]", drift, ok, tt.detail)
			}
		})
	}
}
