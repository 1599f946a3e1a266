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
// revokes them by and the prefix npm displays, both shortened; every string
// taken from the ledger passes through Meta.Redactor (the token patterns of
// [logging.Redactor] at least) while the model is built, again over the
// whole model, and once more over each rendered output.
//
// The HTML page makes no request: its CSS, SVG charts and script are inline
// and its Content-Security-Policy allows exactly those (by hash) and
// nothing else. html/template escapes all text from repositories; links
// are kept only when they are http or https addresses. The page reads
// without JavaScript; the script adds sorting and filtering, opens the card
// a link points at, and opens all cards for printing. Templates live in
// the templates package under report/.
//
// States, from first to last: not-publishing, inventoried, planned,
// pr-open, merged, flag-on, verified, bridged (token-bridge path merged),
// done (OIDC verified, no token or token secret left), and blocked (the
// last step failed, the pull request was closed unmerged, or the last
// canary verification failed).
package reports
