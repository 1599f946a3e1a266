// Package interrupt carries a command's first interrupt into the steps it
// lets finish.
//
// The campaign engine runs each repository's step under a context that the
// interrupt does not cancel, so that a step already writing (a push, a pull
// request, a ledger transaction) finishes whole. That context carries the
// interrupt instead ([With]): every wait that only passes time — GitHub's
// pacing, a rate-limit pause, a retry's backoff, an npm client's retry —
// waits through [Sleep] or a context from [Waits], and ends at the
// interrupt with an error that [errors.Is] reports as [ErrInterrupted]. The
// step then stops where it stands, between two requests, and is recorded
// as interrupted, not failed.
package interrupt
