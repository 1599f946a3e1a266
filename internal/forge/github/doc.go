// Package github implements [forge.Forge] for GitHub.com and GitHub
// Enterprise Server with go-github v66 and go-git v5.
//
// One [Forge] is one identity (a token or a GitHub App installation) and
// holds the one limiter every request of that identity goes through:
//   - reads: at most Limits.Reads in flight (8), retried with jittered
//     backoff after a server error or a broken connection;
//   - writes (POST, PATCH, PUT, DELETE): one at a time, each starting at
//     least Limits.WriteInterval (1 s) after the one before, never retried
//     blindly: after an unclear failure a lookup decides whether the write
//     happened;
//   - content creation (POST of pull requests, issues, comments, reviews;
//     labels, assignees and review requests are writes, not content): two
//     sliding windows, at most Limits.Margin (95%) of ContentPerMinute (80)
//     in any 60 s and of ContentPerHour (500) in any hour; a request goes
//     as soon as both windows and the write spacing let it, and other
//     writes go while it waits;
//   - a secondary-limit answer (403 or 429) pauses writes (and reads, when
//     a read was refused) for exactly its retry-after, or 60 s doubling on
//     repeats when it gives none, then the windows stay three quarters of
//     what they were for the rest of the run;
//   - a spent primary budget (x-ratelimit-remaining 0) stops every request
//     until x-ratelimit-reset.
//
// [Forge.Pace] reports which of these requests wait for now.
//
// Snapshot reads files without cloning (one tree call, then blobs, cached
// on disk by SHA); Push clones one branch at depth 1 into memory, commits
// and pushes, replacing a campaign branch only when it is still where
// cutover last pushed it; EnsurePR and EnsureIssue look before they create,
// so a retry never opens a second pull request or issue.
//
// Reads a re-run repeats (listing pages, repositories, refs, trees,
// contents) are sent with If-None-Match and the ETag kept from the last
// read (Options.ETagCacheDir, or memory); a 304, which GitHub does not
// count against the primary limit, is answered with the kept body. See
// etag.go.
//
// References:
//   - https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
//   - https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api
//   - https://docs.github.com/en/rest/git/trees#get-a-tree
//   - https://docs.github.com/en/rest/authentication/permissions-required-for-fine-grained-personal-access-tokens
//   - https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/authenticating-as-a-github-app-installation
package github
