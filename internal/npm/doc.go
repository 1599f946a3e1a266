// Package npm is cutover's client for an npm registry and the pure checks it
// runs on what the registry answers.
//
// [Client] reads packuments, version documents, dist-tags, visibility and
// attestations; manages trusted-publisher configurations and access tokens;
// and answers the registry's two-factor challenges through an [OTPSource]: a
// static --otp value ([StaticOTP]), a terminal prompt ([PromptOTP]) or the web
// flow ([WebOTP], which opens authUrl and polls doneUrl). An approved OTP is
// reused for the registry's five-minute window, so one approval covers a batch.
// Requests are retried with jittered backoff on 5xx and 429 (honouring
// Retry-After), never on other 4xx. Failures are [*Error] values that wrap
// [ErrUnauthorized], [ErrForbidden], [ErrNotFound], [ErrOTPRequired],
// [ErrConflict], [ErrRateLimited] or [ErrServer].
//
// The registry URL always comes from configuration; the package has no default.
// The token is a [Secret]: it is sent only to the registry's own origin and
// never appears in a log line, an error or formatted output.
//
// [Verify] checks a canary release from its packument and provenance
// statements: it exists, was published through trusted publishing
// (_npmUser.trustedPublisher), carries SLSA v1 provenance naming the expected
// repository and workflow, its dist-tag points at it, "latest" did not move to
// a prerelease, and it is no weaker than earlier versions (pnpm's
// trust-downgrade rule: trusted publisher > provenance > none).
//
// Upstream references: npm docs "trusted-publishers", "generating-provenance-statements",
// "about-access-tokens" and "cli/v11/commands/npm-trust"; pnpm's trustPolicy
// "no-downgrade" setting.
package npm
