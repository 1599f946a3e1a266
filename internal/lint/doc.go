// Package lint is cutover's npm publishing policy check for CI: rules over
// what rewrite.Detect finds in a repository, reported as text, JSON or SARIF
// 2.1.0 for GitHub code scanning.
//
// The rules, each with a stable ID:
//   - token-publish: a job publishes to npm with a stored token where
//     trusted publishing (OIDC) is possible (https://docs.npmjs.com/trusted-publishers);
//   - token-exposed: an npm token is set on jobs or steps that do not publish;
//   - literal-token: an npm token value is committed to the repository;
//   - id-token-untrusted-trigger: id-token: write on a workflow that
//     pull_request_target, issue_comment or workflow_run can start;
//   - npm-latest: a job installs npm@latest (npm 12) instead of a pinned range;
//   - missing-environment: a publishing job has no GitHub environment
//     (only when the configuration requires one).
//
// Levels follow SARIF: error (a violation), warning and note. A token path
// kept behind the campaign's feature flag, and token publishing on
// self-hosted runners (where OIDC is not available), are notes.
package lint
