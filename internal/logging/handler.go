package logging

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
)

// redactHandler rewrites every record before its inner handler sees it: the
// message, attribute keys and values (strings, errors, fmt.Stringers and any
// other value as rendered by fmt or encoding/json), groups, and the
// attributes and group names added with WithAttrs and WithGroup.
type redactHandler struct {
	inner slog.Handler
	r     *Redactor
}

// NewRedactingHandler wraps inner so that nothing r would redact reaches it.
func NewRedactingHandler(inner slog.Handler, r *Redactor) slog.Handler {
	return &redactHandler{inner: inner, r: r}
}

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.Redact(rec.Message), rec.PC)
	attrs := make([]slog.Attr, 0, rec.NumAttrs())
	rec.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, h.attr(a))
		return true
	})
	out.AddAttrs(attrs...)
	return h.inner.Handle(ctx, out)
}

func (h *redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.attr(a)
	}
	return &redactHandler{inner: h.inner.WithAttrs(red), r: h.r}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{inner: h.inner.WithGroup(h.r.Redact(name)), r: h.r}
}

func (h *redactHandler) attr(a slog.Attr) slog.Attr {
	a.Key = h.r.Redact(a.Key)
	a.Value = h.value(a.Value.Resolve())
	return a
}

func (h *redactHandler) value(v slog.Value) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(h.r.Redact(v.String()))
	case slog.KindGroup:
		group := v.Group()
		red := make([]slog.Attr, len(group))
		for i, a := range group {
			red[i] = h.attr(a)
		}
		return slog.GroupValue(red...)
	case slog.KindAny:
		return h.anyValue(v)
	default: // numbers, bools, times and durations cannot hold a token
		return v
	}
}

// anyValue keeps a value as it is unless one of the ways a handler could
// render it holds a secret; then it becomes the redacted string form.
func (h *redactHandler) anyValue(v slog.Value) slog.Value {
	x := v.Any()
	var primary string
	renders := make([]string, 0, 3)
	switch t := x.(type) {
	case nil:
		return v
	case []byte:
		return slog.StringValue(h.r.Redact(string(t)))
	case error:
		primary = safeString(t.Error)
	case fmt.Stringer:
		primary = safeString(t.String)
	default:
		primary = fmt.Sprintf("%+v", x)
	}
	renders = append(renders, primary, fmt.Sprintf("%+v", x))
	if b, err := json.Marshal(x); err == nil {
		renders = append(renders, string(b))
	}
	for _, s := range renders {
		if h.r.Contains(s) {
			return slog.StringValue(h.r.Redact(primary))
		}
	}
	return v
}

// safeString calls f, turning a panic (say, Error on a nil pointer) into text.
func safeString(f func() string) (s string) {
	defer func() {
		if p := recover(); p != nil {
			s = fmt.Sprintf("!PANIC(%v)", p)
		}
	}()
	return f()
}
