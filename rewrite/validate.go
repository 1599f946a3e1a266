package rewrite

import (
	"fmt"
	"io"
	"strings"

	"github.com/rhysd/actionlint"
)

// Lint validates a rewritten workflow: it must parse, and actionlint
// (https://github.com/rhysd/actionlint) must report no error that the
// original did not already have. Shellcheck and pyflakes are not run.
func Lint(p string, before, after []byte) error {
	// cutover's parse and actionlint's are independent: run them side by
	// side (on a 1 MiB workflow each takes a good part of a second).
	parsed := make(chan error, 1)
	go func() {
		parsed <- recovered(func() error {
			_, err := ParseWorkflow(p, after)
			return err
		})
	}()
	now, err := lint(p, after)
	if perr := <-parsed; perr != nil {
		return fmt.Errorf("rewritten file does not parse: %w", perr)
	}
	if err != nil || len(now) == 0 {
		return err
	}
	// Only errors the original did not have count: lint it only now.
	old, err := lintMessages(p, before)
	if err != nil {
		return err
	}
	for _, e := range now {
		if old[e.key] > 0 {
			old[e.key]--
			continue
		}
		return fmt.Errorf("actionlint: line %d: %s [%s]", e.line, e.msg, e.kind)
	}
	return nil
}

type lintError struct {
	key, msg, kind string
	line           int
}

// lintMessages runs actionlint in-process and returns its errors in order
// plus, through the returned map, a count per message for comparison.
func lintMessages(p string, src []byte) (map[string]int, error) {
	errs, err := lint(p, src)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, e := range errs {
		counts[e.key]++
	}
	return counts, nil
}

func lint(p string, src []byte) ([]lintError, error) {
	// Oneline: errors are not pretty-printed with source snippets (the
	// output is discarded; on large files the snippets cost seconds).
	l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{Oneline: true})
	if err != nil {
		return nil, fmt.Errorf("actionlint: %w", err)
	}
	// A path under a root that does not exist keeps actionlint from reading
	// the local file system for a project configuration.
	errs, err := l.Lint("/nonexistent-cutover-root/"+strings.TrimPrefix(p, "/"), src, nil)
	if err != nil {
		return nil, fmt.Errorf("actionlint: %w", err)
	}
	out := make([]lintError, 0, len(errs))
	for _, e := range errs {
		out = append(out, lintError{key: e.Kind + "\x00" + e.Message, msg: e.Message, kind: e.Kind, line: e.Line})
	}
	return out, nil
}

// LintWorkflow reports the actionlint errors of one workflow file as
// "line N: message [kind]" strings; an empty list means it is clean.
func LintWorkflow(p string, src []byte) ([]string, error) {
	errs, err := lint(p, src)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, fmt.Sprintf("line %d: %s [%s]", e.line, e.msg, e.kind))
	}
	return out, nil
}
