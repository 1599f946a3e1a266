// Package templates embeds the text cutover writes into repositories and
// reports: workflow snippets inserted by rewrites, pull request texts,
// reminder issues and report pages, and renders the plain-text ones.
package templates

import (
	"embed"
	"path"
	"strings"
	"sync"
	"text/template"
)

// FS holds every template, by path (for example "workflow/npm-upgrade-step.yaml.tmpl").
//
//go:embed workflow pr report sandbox reminder lint
var FS embed.FS

// parsed caches each text template by path: a campaign renders the same
// few templates for every repository.
var parsed sync.Map // path → *template.Template

// Render executes the text/template at name in FS with data. HTML pages
// are rendered by the reports package with html/template instead.
func Render(name string, data any) (string, error) {
	t, ok := parsed.Load(name)
	if !ok {
		nt, err := template.New(path.Base(name)).ParseFS(FS, name)
		if err != nil {
			return "", err
		}
		t, _ = parsed.LoadOrStore(name, nt)
	}
	var b strings.Builder
	if err := t.(*template.Template).Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}
