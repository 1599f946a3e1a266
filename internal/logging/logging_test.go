package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// Tokens in the shapes the redactor must catch. None of them is real.
var (
	npmToken    = "npm_" + strings.Repeat("A1b2C3d4E5", 3) + "f6G7h8" // npm_ + 36
	npmShort    = "npm_" + strings.Repeat("x", 20)
	ghpToken    = "ghp_" + strings.Repeat("Z9y8X7w6V5", 4)
	ghsToken    = "ghs_" + strings.Repeat("q", 36)
	ghoToken    = "gho_" + strings.Repeat("o", 24)
	ghuToken    = "ghu_" + strings.Repeat("u", 24)
	ghrToken    = "ghr_" + strings.Repeat("r", 24)
	patToken    = "github_pat_" + strings.Repeat("11ABCDEFG_", 5)
	envSecret   = "s3cr3t-value-from-the-env"
	allTokens   = []string{npmToken, npmShort, ghpToken, ghsToken, ghoToken, ghuToken, ghrToken, patToken, envSecret}
	shortSecret = "short"
)

type stringer struct{ s string }

func (s stringer) String() string { return "stringer(" + s.s + ")" }

type tokenErr struct{ tok string }

func (e *tokenErr) Error() string { return "auth failed with " + e.tok }

type creds struct {
	User  string
	Token string
}

type valuer struct{ tok string }

func (v valuer) LogValue() slog.Value { return slog.StringValue("valuer " + v.tok) }

func TestRedactor(t *testing.T) {
	t.Parallel()
	r := NewRedactor(envSecret, shortSecret, "", "  ")
	for _, tok := range allTokens {
		in := "before " + tok + " after"
		if got, want := r.Redact(in), "before [REDACTED] after"; got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	for _, keep := range []string{
		"npm_config_registry", "npm_package_version", "NPM_TOKEN", "ghp_short",
		"github_pat_short", "a short value", "shortcake", "",
	} {
		if got := r.Redact(keep); got != keep {
			t.Errorf("Redact(%q) = %q, want it unchanged", keep, got)
		}
	}
	var nilR *Redactor
	if got := nilR.Redact("x " + npmToken); got != "x [REDACTED]" {
		t.Errorf("nil Redactor: %q", got)
	}
	if got := nilR.Redact("x " + envSecret); got != "x "+envSecret {
		t.Errorf("nil Redactor redacted a value it was not given: %q", got)
	}
	overlap := NewRedactor("abcdefgh", "abcdefgh-ijkl")
	if got := overlap.Redact("abcdefgh-ijkl"); got != Redacted {
		t.Errorf("longest value first: got %q", got)
	}
	env := NewEnvRedactor(func(k string) string { return map[string]string{"NPM_TOKEN": envSecret}[k] }, "NPM_TOKEN", "UNSET")
	if got := env.Redact(envSecret); got != Redacted {
		t.Errorf("NewEnvRedactor: got %q", got)
	}
}

// TestNoTokenReachesOutput logs every kind of attribute holding every token
// shape through each handler and checks that none gets through.
func TestNoTokenReachesOutput(t *testing.T) {
	t.Parallel()
	formats := []struct {
		name string
		opts Options
	}{
		{"json", Options{Format: FormatJSON}},
		{"text", Options{Format: FormatText, NoColor: true}},
		{"text colour", Options{Format: FormatText, Terminal: func(io.Writer) bool { return true }}},
		{"auto", Options{}},
	}
	for _, f := range formats {
		for _, tok := range allTokens {
			t.Run(f.name+"/"+tok[:6], func(t *testing.T) {
				t.Parallel()
				var buf bytes.Buffer
				opts := f.opts
				opts.Level = slog.LevelDebug
				opts.Redactor = NewRedactor(envSecret)
				log := New(&buf, opts)

				log.Info("message "+tok, "plain", tok)
				log.Warn("kinds",
					"error", &tokenErr{tok},
					"wrapped", fmt.Errorf("publish: %w", errors.New("token "+tok)),
					"stringer", stringer{tok},
					"stringer_ptr", &stringer{tok},
					"slice", []string{"a", tok},
					"any_slice", []any{1, tok},
					"map", map[string]string{"k": tok},
					"struct", creds{User: "u", Token: tok},
					"struct_ptr", &creds{User: "u", Token: tok},
					"bytes", []byte(tok),
					"raw_json", json.RawMessage(`"`+tok+`"`),
					"valuer", valuer{tok},
					slog.Group("grp", "inner", tok, slog.Group("deeper", "x", tok, "err", &tokenErr{tok})),
					tok, "as a key",
				)
				log.With("with", tok, "with_err", &tokenErr{tok}).
					WithGroup("group_"+tok).
					With(slog.Group("g2", "v", stringer{tok})).
					Error("with "+tok, "last", tok)
				log.LogAttrs(t.Context(), slog.LevelDebug, tok, slog.Any("any", tok), slog.String("s", tok))

				out := buf.String()
				if strings.Contains(out, tok) {
					t.Errorf("token reached the output:\n%s", out)
				}
				for _, part := range []string{tok[:len(tok)-4], tok[4:]} {
					if strings.Contains(out, part) {
						t.Errorf("part of the token %q reached the output:\n%s", part, out)
					}
				}
				if n := strings.Count(out, Redacted); n < 25 {
					t.Errorf("want at least 25 redactions, got %d:\n%s", n, out)
				}
			})
		}
	}
}

func TestCleanValuesKeepTheirShape(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := New(&buf, Options{Format: FormatJSON, Redactor: NewRedactor(envSecret)})
	log.Info("clean", "n", 3, "list", []string{"a", "b"}, "ok", true, "err", errors.New("plain"), "short", shortSecret)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, buf.String())
	}
	if _, ok := rec["list"].([]any); !ok {
		t.Errorf("a clean slice should stay a JSON array, got %#v", rec["list"])
	}
	if rec["n"] != float64(3) || rec["ok"] != true || rec["err"] != "plain" || rec["short"] != shortSecret {
		t.Errorf("values changed: %v", rec)
	}
}

func TestLevelAndFormat(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := New(&buf, Options{Level: slog.LevelWarn}) // auto on a buffer is JSON
	log.Info("hidden")
	log.Warn("shown")
	out := buf.String()
	if strings.Contains(out, "hidden") || !strings.Contains(out, `"msg":"shown"`) {
		t.Errorf("want only the warning, as JSON; got %q", out)
	}

	buf.Reset()
	New(&buf, Options{Format: FormatText, NoColor: true}).Info("hello", "k", "v")
	if out := buf.String(); !strings.Contains(out, "INF hello k=v") || strings.Contains(out, "\x1b[") {
		t.Errorf("text without colour: %q", out)
	}

	buf.Reset()
	New(&buf, Options{Format: FormatText}).Info("hello")
	if strings.Contains(buf.String(), "\x1b[") {
		t.Errorf("colours written to a non-terminal: %q", buf.String())
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		if got, err := ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseLevel("loud"); err == nil || !strings.Contains(err.Error(), `"loud"`) {
		t.Errorf("ParseLevel(loud) = %v", err)
	}
	for in, want := range map[string]Format{"auto": FormatAuto, "": FormatAuto, "TEXT": FormatText, "json": FormatJSON} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml): no error")
	}
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is not a terminal")
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("token " + npmToken)
	f.Add(patToken + envSecret)
	r := NewRedactor(envSecret)
	f.Fuzz(func(t *testing.T, s string) {
		out := r.Redact(s)
		if strings.Contains(out, envSecret) || tokenRE.MatchString(out) {
			t.Errorf("Redact(%q) = %q still holds a secret", s, out)
		}
		if r.Redact(out) != out {
			t.Errorf("Redact is not idempotent on %q", s)
		}
	})
}
