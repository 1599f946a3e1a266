// Package githttp serves real git over smart HTTP for the sandbox: one bare
// repository per sandbox repository under a root folder, served by the
// system's `git http-backend` behind [net/http/cgi].
//
// Clients authenticate the way they do on GitHub: HTTP basic auth with any
// user name and a token as the password. A push that creates or updates a
// file under `.github/workflows/` is refused, with GitHub's message, when the
// token lacks the workflows permission; a git pre-receive hook installed in
// every bare repository does the check.
//
// See https://git-scm.com/docs/git-http-backend and
// https://docs.github.com/en/apps/creating-github-apps/registering-a-github-app/choosing-permissions-for-a-github-app#choosing-permissions-for-git-access
package githttp
