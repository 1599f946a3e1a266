// Package templates embeds the text cutover writes into repositories and
// reports: workflow snippets inserted by rewrites, pull request texts,
// reminder issues and report pages. It holds data only.
package templates

import "embed"

// FS holds every template, by path (for example "workflow/npm-upgrade-step.yaml.tmpl").
//
//go:embed workflow pr report sandbox reminder lint
var FS embed.FS
