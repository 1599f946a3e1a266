package sweep_test

const testRegistry = "https://npm-registry.invalid/"

// tokenWorkflow is a release workflow that publishes with NPM_TOKEN on the
// given Node.js version.
func tokenWorkflow(node string) string {
	return `name: release
on:
  release:
    types: [published]
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: ` + node + `
          registry-url: https://npm-registry.invalid/
      - run: npm ci
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
`
}
