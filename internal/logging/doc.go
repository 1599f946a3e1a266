// Package logging builds cutover's *slog.Logger: coloured text from
// github.com/lmittmann/tint on a terminal, JSON lines otherwise, always behind
// a handler that redacts token values from every part of every record.
//
// The Redactor that the handler uses is exported so that reports, errors and
// anything else that reaches a user can be redacted the same way.
package logging
