// Package npmreg is an in-memory npm registry emulator for the sandbox.
//
// It serves, as an [http.Handler], the registry endpoints cutover and the npm
// CLI use: packuments and version documents (with _npmUser.trustedPublisher and
// dist.attestations the way the public registry fills them), dist-tags,
// visibility, trusted-publisher configurations, the token list, whoami, the
// OIDC token exchange with npm's matching rules for GitHub Actions
// (audience, repository, workflow file, environment, runner), GitLab CI/CD
// (project path, CI file, environment, runner) and CircleCI (organization,
// project and pipeline definition IDs, VCS origin, contexts), attestations, publish, ping, the
// access lists of organisations, users and packages, and /-/npm/v1/keys with
// the ECDSA P-256 key that signs every version's dist.signatures.
// Writes are guarded by two-factor authentication: a fixed test OTP, a TOTP
// secret, or the web flow (authUrl and doneUrl) with its five-minute window.
//
// State is seeded through Go methods ([Registry.AddUser], [Registry.AddToken],
// [Registry.AddPackage], [Registry.AddVersion], [Registry.SetTrust]); identifiers
// come from a seeded generator and time from an injected clock, so a run is
// deterministic. [Registry.MintIDToken] makes the CI ID tokens a GitHub Actions,
// GitLab or CircleCI job would receive, [Registry.Approve] approves a pending web login, and
// [Registry.PublishCanary] publishes the way the npm CLI does in a release job.
//
// The registry URL is always the emulator's own loopback address; serve it
// at the root of a port of its own (Options.Prefix "", or [Registry.Handler])
// for the npm CLI, which builds the OIDC exchange URL from the registry's
// origin. No real registry is ever contacted. The behaviour
// it models is described in npm's docs "trusted-publishers",
// "about-access-tokens" and "cli/v11/commands/npm-trust", and in the npm CLI's
// lib/utils/oidc.js and npm-registry-fetch.
package npmreg
