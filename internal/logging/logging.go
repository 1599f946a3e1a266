package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/lmittmann/tint"
	"github.com/mattn/go-isatty"
)

// Format selects the log output.
type Format string

// The log formats.
const (
	// FormatAuto is text on a terminal and JSON lines otherwise.
	FormatAuto Format = "auto"
	// FormatText is human-readable text (github.com/lmittmann/tint).
	FormatText Format = "text"
	// FormatJSON is one JSON object per line.
	FormatJSON Format = "json"
)

// Options configures New. The zero value logs at info level, text on a
// terminal and JSON otherwise, redacting token patterns only.
type Options struct {
	// Level is the lowest level logged; nil means info.
	Level slog.Leveler
	// Format chooses the handler; empty means FormatAuto.
	Format Format
	// NoColor turns colours off; they are also off when w is not a terminal.
	NoColor bool
	// Redactor removes secrets from every record; nil redacts token patterns only.
	Redactor *Redactor
	// Terminal reports whether w is a terminal; nil uses IsTerminal.
	Terminal func(w io.Writer) bool
}

// New returns a logger writing to w, behind a redacting handler.
func New(w io.Writer, opts Options) *slog.Logger {
	isTerm := opts.Terminal
	if isTerm == nil {
		isTerm = IsTerminal
	}
	level := opts.Level
	if level == nil {
		level = slog.LevelInfo
	}
	format := opts.Format
	if format == "" || format == FormatAuto {
		format = FormatJSON
		if isTerm(w) {
			format = FormatText
		}
	}
	var h slog.Handler
	if format == FormatText {
		h = tint.NewTextHandler(w, &tint.Options{
			Level:      level,
			TimeFormat: time.TimeOnly,
			NoColor:    opts.NoColor || !isTerm(w),
		})
	} else {
		h = slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	}
	redactor := opts.Redactor
	if redactor == nil {
		redactor = &Redactor{}
	}
	return slog.New(NewRedactingHandler(h, redactor))
}

// ParseLevel parses debug, info, warn or error (any case).
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown log level %q; want debug, info, warn or error", s)
}

// ParseFormat parses auto, text or json.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatAuto, FormatText, FormatJSON:
		return f, nil
	case "":
		return FormatAuto, nil
	}
	return "", fmt.Errorf("unknown log format %q; want auto, text or json", s)
}

// IsTerminal reports whether w is an *os.File attached to a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
