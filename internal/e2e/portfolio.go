// Package e2e holds cutover's end-to-end tests: testscript scenarios
// (testdata/script/*.txtar) that run the cutover command against a sandbox
// World, and a crash test that kills the real binary in the middle of a
// campaign and resumes it. Its only non-test code seeds sandbox portfolios
// from small templates, for these tests and for the benchmarks of other
// packages.
package e2e

import (
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// Registry is the npm registry URL the seeded workflows publish to; give it
// to cutover as NPM_CONFIG_REGISTRY. It never resolves.
const Registry = "https://npm-registry.invalid/"

// Shape is a repository template: how, if at all, the repository publishes.
type Shape string

// Shapes of seeded repositories.
const (
	// Single publishes one package with npm publish and a token.
	Single Shape = "single"
	// Monorepo is a pnpm workspace published by changesets/action with a token.
	Monorepo Shape = "monorepo"
	// Private is a private repository publishing a restricted scoped package.
	Private Shape = "private"
	// OIDC already publishes through trusted publishing.
	OIDC Shape = "oidc"
	// NonPublisher only runs CI.
	NonPublisher Shape = "none"
	// Broken publishes with a token and also holds a workflow that does not parse.
	Broken Shape = "broken"
	// SelfHosted publishes with a token from a self-hosted runner.
	SelfHosted Shape = "self-hosted"
)

// tokenWorkflow publishes with NODE_AUTH_TOKEN on a release, from runsOn.
func tokenWorkflow(node, runsOn string) string {
	return `name: release
on:
  release:
    types: [published]
jobs:
  publish:
    runs-on: ` + runsOn + `
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: ` + node + `
          registry-url: ` + Registry + `
      - run: npm ci
      - run: npm test
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
`
}

const oidcWorkflow = `name: release
on:
  release:
    types: [published]
permissions:
  id-token: write
  contents: read
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 24
          registry-url: ` + Registry + `
      - run: npm publish
`

const changesetsWorkflow = `name: release
on:
  push:
    branches: [main]
jobs:
  release:
    runs-on: ubuntu-latest
    permissions:
      contents: write
      pull-requests: write
    steps:
      - uses: actions/checkout@v4
      - uses: pnpm/action-setup@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 22
          registry-url: ` + Registry + `
      - run: pnpm install --frozen-lockfile
      - uses: changesets/action@v1
        with:
          publish: pnpm changeset publish
        env:
          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
`

const ciWorkflow = `name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 22
      - run: npm ci
      - run: npm test
`

// brokenWorkflow does not parse: a flow sequence that never closes.
const brokenWorkflow = `name: lint
on: [push
jobs:
  lint:
    runs-on: ubuntu-latest
`

// Files returns the first commit of a repository of the given shape whose
// packages are named after name (scoped to org where the shape asks for a
// scope). It panics on an unknown shape.
func Files(shape Shape, org, name string) map[string][]byte {
	node := []string{"20", "22", "24"}[len(name)%3]
	pkg := func(n string) string {
		return fmt.Sprintf(`{"name":%q,"version":"1.0.0","scripts":{"test":"true"}}`, n)
	}
	files := map[string]string{"README.md": "# " + name + "\n"}
	switch shape {
	case Single:
		files[".github/workflows/release.yml"] = tokenWorkflow(node, "ubuntu-latest")
		files["package.json"] = pkg(name)
	case Monorepo:
		files[".github/workflows/release.yml"] = changesetsWorkflow
		files["package.json"] = fmt.Sprintf(`{"name":%q,"private":true}`, name+"-root")
		files["pnpm-workspace.yaml"] = "packages:\n  - packages/*\n"
		for _, p := range []string{"core", "cli"} {
			files["packages/"+p+"/package.json"] = fmt.Sprintf(`{"name":"@%s/%s-%s","version":"1.0.0","publishConfig":{"access":"public"}}`, org, name, p)
		}
	case Private:
		files[".github/workflows/release.yml"] = tokenWorkflow(node, "ubuntu-latest")
		files["package.json"] = fmt.Sprintf(`{"name":"@%s/%s","version":"1.0.0","publishConfig":{"access":"restricted"}}`, org, name)
	case OIDC:
		files[".github/workflows/release.yml"] = oidcWorkflow
		files["package.json"] = pkg(name)
	case NonPublisher:
		files[".github/workflows/ci.yml"] = ciWorkflow
		files["package.json"] = fmt.Sprintf(`{"name":%q,"private":true}`, name)
	case Broken:
		files[".github/workflows/release.yml"] = tokenWorkflow(node, "ubuntu-latest")
		files[".github/workflows/lint.yml"] = brokenWorkflow
		files["package.json"] = pkg(name)
	case SelfHosted:
		files[".github/workflows/release.yml"] = tokenWorkflow(node, "[self-hosted, linux]")
		files["package.json"] = pkg(name)
	default:
		panic(fmt.Sprintf("e2e: unknown shape %q", shape))
	}
	out := make(map[string][]byte, len(files))
	for p, s := range files {
		out[p] = []byte(s)
	}
	return out
}

// Seed creates one repository per entry of repos (name → shape) in org.
func Seed(w *sandbox.World, org string, repos map[string]Shape) error {
	return SeedConcurrently(w, org, repos, 1)
}

// SeedConcurrently is Seed creating up to n repositories at once.
func SeedConcurrently(w *sandbox.World, org string, repos map[string]Shape, n int) error {
	var g errgroup.Group
	g.SetLimit(max(n, 1))
	for name, shape := range repos {
		g.Go(func() error {
			if err := w.CreateRepo(org, name, ghapi.RepoOptions{Files: Files(shape, org, name), Private: shape == Private}); err != nil {
				return fmt.Errorf("seed %s/%s: %w", org, name, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// Mix returns n repository names with shapes in a portfolio-like share:
// mostly single packages, then monorepos, private packages, repositories
// that already use OIDC or do not publish, and a few broken or self-hosted
// ones. The result is the same for the same n.
func Mix(n int) map[string]Shape {
	cycle := []Shape{Single, Single, Single, Monorepo, NonPublisher, Single, Private, Single, OIDC, Monorepo,
		Single, NonPublisher, Single, Single, Broken, Single, Private, Single, SelfHosted, Single}
	out := make(map[string]Shape, n)
	for i := range n {
		s := cycle[i%len(cycle)]
		out[fmt.Sprintf("%s-%04d", strings.ReplaceAll(string(s), "-", ""), i)] = s
	}
	return out
}

// Publishers returns n repository names that all publish with a token
// (single packages, monorepos and private packages), so a campaign changes
// every one of them.
func Publishers(n int) map[string]Shape {
	cycle := []Shape{Single, Single, Monorepo, Single, Private}
	out := make(map[string]Shape, n)
	for i := range n {
		s := cycle[i%len(cycle)]
		out[fmt.Sprintf("pkg-%04d", i)] = s
	}
	return out
}
