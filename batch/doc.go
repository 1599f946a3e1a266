// Package batch is cutover's campaign engine: it inventories a portfolio
// through a forge, plans waves (canaries first), applies rewrites as pull
// requests in a bounded worker pool, gates each wave on the one before,
// flips the feature-flag variable for rollout and rollback, and records
// every step in the ledger so a campaign can stop at any moment and resume
// without duplicating work.
package batch
