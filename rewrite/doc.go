// Package rewrite holds cutover's pure functions over repository files.
//
// Detect classifies how a repository publishes to the npm registry from a
// Snapshot (file bytes by path): which workflows and jobs publish, with which
// tool, which credential feeds them (a stored token, a token with provenance,
// or OIDC trusted publishing), which packages they publish and what a trusted
// publisher configuration for each will need, plus findings (risks and
// blockers) with file and line.
//
// The package does no I/O: reading a checkout or an API snapshot is the
// caller's job, so the same code serves local scans and organisation-wide
// inventories. Rules follow npm's trusted-publishing documentation
// (https://docs.npmjs.com/trusted-publishers) and GitHub's workflow syntax
// (https://docs.github.com/actions/using-workflows/workflow-syntax-for-github-actions).
package rewrite
