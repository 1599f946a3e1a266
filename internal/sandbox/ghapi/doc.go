// Package ghapi is a stateful, in-memory emulator of the GitHub REST API for
// the sandbox: enough of it, with GitHub's paths, JSON shapes, status codes
// and error messages, that go-github v66 and other REST clients work against
// it unchanged, both at the root and under the Enterprise prefix /api/v3/.
//
// Git data (refs, commits, trees, blobs, contents, branches) is read straight
// from the bare repositories of a [githttp.Server] with go-git, so a push over
// HTTP is visible to the API at once and API ref writes are visible to git.
// Everything else (pull requests, issues, checks, statuses, Actions variables
// and secrets, environments) lives in memory and can be saved to and loaded
// from a folder as JSON.
//
// Tokens carry fine-grained permissions (see [Identity]); a missing or
// unknown token gets 401 "Bad credentials" and a missing permission 403
// "Resource not accessible by personal access token", as on GitHub.
// Rate limits follow GitHub's rules (x-ratelimit-* headers, a primary budget
// per identity, secondary limits on content creation) with configurable
// budgets and a time scale; faults (errors, connection resets, latency,
// stalls) can be injected per route, seeded and deterministic.
//
// References:
//   - https://docs.github.com/en/rest
//   - https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
//   - https://docs.github.com/en/rest/authentication/permissions-required-for-fine-grained-personal-access-tokens
package ghapi
