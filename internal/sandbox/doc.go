// Package sandbox starts a loopback world for rehearsing campaigns: a GitHub
// REST emulator ([ghapi]), a smart-HTTP git server ([githttp]) that shares
// its bare repositories and tokens, and an npm registry emulator ([npmreg])
// served under /npm/, on one loopback listener or two. Real clients
// (go-github, go-git, git, npm clients) use it unchanged.
//
// On top of them the World simulates what GitHub Actions would do:
//   - a CI ([CI]) that sets the check run of every pull request head,
//     failing heads whose workflows do not parse or have actionlint errors,
//     and repositories marked as failing;
//   - a release ([World.Release], also POST /_sandbox/repos/{owner}/{repo}/release)
//     that runs a repository's publish job in a model: the flag variable,
//     the secrets, id-token: write, the npm version and the trusted
//     publisher decide between the OIDC path and the token path, and a
//     canary version is published the way npm would, or fails the way npm
//     fails.
//
// [Generate] makes a deterministic portfolio of repositories with the
// variety real organisations have, and [World.Seed] creates it, files
// rendered from the templates under templates/sandbox.
package sandbox
