// Package ledger is a campaign's durable state: one SQLite file (pure Go
// driver modernc.org/sqlite, WAL journal) holding the repositories and how
// they publish, their packages and trusted-publisher settings, the waves,
// the pull requests, the feature-flag state, canary verifications, npm
// tokens and their revocations, CI secrets, reminders, scheduler runs and
// an append-only event log.
//
// Every command of the campaign engine reads and writes the ledger, and the
// reports are built from a [Snapshot] of it. Each write method is one step
// of the engine and runs in its own transaction, so a crash leaves either
// the whole step or none of it.
//
// The schema is versioned: [Open] applies the missing migrations to an older
// ledger, each in one transaction, and refuses a ledger written by a newer
// cutover instead of misreading it.
//
// No token value ever reaches a row: every string and JSON document written
// through this package is checked by [CheckNoSecret], and a write carrying
// something shaped like an npm or GitHub token fails with [ErrSecretValue].
// npm tokens are recorded by the key npm uses to revoke them and by the
// short prefix npm displays, never by value. Free text that may quote a
// token (an error from a push, a command line from a workflow) goes through
// [Redact] first.
//
// A step that finished while the program is being stopped should still be
// recorded: pass a context that outlives the cancellation
// (context.WithoutCancel), since a cancelled context rolls the write back.
//
// The event log is append-only: there is no method to change or remove an
// event, and triggers in the schema abort any UPDATE or DELETE on it.
package ledger
