package sweep_test

import (
	"slices"
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
