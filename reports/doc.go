// Package reports turns a ledger snapshot into a campaign report: a
// versioned JSON document, a self-contained HTML page and a short Markdown
// summary. It is pure: [Build] takes a [ledger.Snapshot] and [Meta] and
// returns the [Report] model; [JSON], [HTML] and [Markdown] render it to
// bytes. Nothing here reads files, the network or the clock.
//
// The report answers at a glance how far along a campaign is (repositories
// per state, per wave and over time), what is blocked and why (failures
// grouped by reason, with hints), which npm tokens are gone and which
// canary releases are proven. Each repository gets a cutover card: its
// packages and owner, its path (OIDC or token bridge), the token that
// remains (secret names and where workflows read them, expiry and 2FA
// bypass when known), its pull request, flag, trusted-publisher settings,
// canaries, revocations, a checklist, findings and manual steps.
//
// The JSON document is the contract: "schema" is [Schema]
// ("cutover.report/v1") and schema/report.v1.json (JSON Schema draft
// 2020-12) describes it; changes are additive within a version.
//
// No token value ever reaches a report. Tokens are known by the key npm
// revokes them by (whole: it is an identifier, not a secret) and the prefix
// npm displays, shortened; every string
// taken from the ledger passes through Meta.Redactor (the token patterns of
// [logging.Redactor] at least) while the model is built, again over the
// whole model, and once more over each rendered output.
//
// The HTML page makes no request: its CSS, SVG charts and script are inline
// and its Content-Security-Policy allows exactly those (by hash) and
// nothing else. html/template escapes all text from repositories; links
// are kept only when they are http or https addresses. The report's data
// is embedded once, compactly, as JSON that never runs (htmldata.go); the
// script draws the long tables a page at a time from it, sorts and filters
// them, and draws the card a link opens, so that 10,000 repositories stay
// a page of a few megabytes. Without JavaScript the page shows the
// summary, the counts per wave and state, the legend, the waves, the
// failures, and the first rows of each table with their cards. Templates
// live in the templates package under report/.
//
// States, from first to last: not-publishing, inventoried, planned,
// pr-open, merged, flag-on, verified, bridged (token-bridge path merged),
// done (OIDC verified, no token or token secret left), and blocked (the
// last step failed, the pull request was closed unmerged, or the last
// canary verification failed).
package reports
