package lint

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cutover/cutover/rewrite"
)

const gitlabToken = `release:
  image: node:24.11
  script:
    - npm ci
    - echo "//npm-registry.invalid/:_authToken=${NPM_TOKEN}" > .npmrc
    - npm publish
`

const circleToken = `version: 2.1
jobs:
  publish:
    docker:
      - image: cimg/node:24.11
    steps:
      - checkout
      - run: echo "//npm-registry.invalid/:_authToken=$NPM_TOKEN" > ~/.npmrc
      - run: npm publish
workflows:
  main:
    jobs:
      - publish:
          context: npm
`

// TestCheckOtherCI: token publishing from GitLab CI/CD and CircleCI is an
// error with a provider-specific fix; after the oidc playbook the token path
// is the kept rollback (a note); after cleanup nothing is left.
func TestCheckOtherCI(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path, src, fix string
	}{
		{rewrite.GitLabCIPath, gitlabToken, "id_tokens: NPM_ID_TOKEN"},
		{rewrite.CircleCIConfig, circleToken, "circleci run oidc get"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			snap := rewrite.Snapshot{Repo: "acme/widget", Files: map[string][]byte{tc.path: []byte(tc.src), "package.json": []byte(`{"name":"widget","version":"1.0.0"}`)}}
			opts := Options{Registry: testRegistry, FlagVar: rewrite.DefaultFlagVar}
			got := Check(snap, opts)
			if n := Violations(got, LevelError); n != 1 || !strings.Contains(got[len(got)-1].Message+fmt.Sprint(got), tc.fix) {
				t.Fatalf("token publishing: want one error naming %q, got %+v", tc.fix, got)
			}
			for _, pb := range []rewrite.Playbook{rewrite.PlaybookOIDC, rewrite.PlaybookCleanup} {
				res, err := rewrite.Rewrite(snap, rewrite.RewriteOptions{Playbook: pb, Registry: testRegistry})
				if err != nil {
					t.Fatal(err)
				}
				changed := false
				for _, f := range res.Files {
					if f.Status == rewrite.StatusRewritten {
						snap.Files[f.Path], changed = f.After, true
					}
				}
				if !changed {
					t.Fatalf("%s did not rewrite %s: %+v", pb, tc.path, res.Files)
				}
				got = Check(snap, opts)
				if n := Violations(got, LevelError); n != 0 {
					t.Errorf("after %s: want no error, got %+v", pb, got)
				}
			}
		})
	}
}
