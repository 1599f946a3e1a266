package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/logging"
)

// seeded is a snapshot whose every string holds a fake secret, and the
// secrets.
type seeded struct {
	snap    *ledger.Snapshot
	secrets []string
	// literals are secrets of no known shape, redacted by value.
	literals []string
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// seededSnapshot deep-copies snap and puts a fake secret into every string
// field: npm tokens (npm_ and 36 letters or digits), GitHub tokens (ghp_,
// ghs_, github_pat_) and literal values, alone or inside text, where a
// careless report would print them.
func seededSnapshot(t testing.TB, base *ledger.Snapshot) *seeded {
	t.Helper()
	b, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	var snap ledger.Snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) string {
		var sb strings.Builder
		for range n {
			sb.WriteByte(alnum[rng.IntN(len(alnum))])
		}
		return sb.String()
	}
	s := &seeded{snap: &snap}
	i := 0
	next := func() string {
		i++
		var v string
		switch i % 5 {
		case 0:
			v = "npm_" + rnd(36)
		case 1:
			v = "ghp_" + rnd(36)
		case 2:
			v = "github_pat_" + rnd(22) + "_" + rnd(59)
		case 3:
			v = "ghs_" + rnd(36)
		case 4:
			v = fmt.Sprintf("literal-secret-%s", rnd(24))
			s.literals = append(s.literals, v)
		}
		s.secrets = append(s.secrets, v)
		switch i % 3 {
		case 0:
			return v
		case 1:
			return "token " + v + " leaked"
		}
		return "https://forge.invalid/x?t=" + v
	}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			walk(v.Elem())
		case reflect.Struct:
			for f := range v.NumField() {
				if v.Type().Field(f).IsExported() {
					walk(v.Field(f))
				}
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Uint8 { // json.RawMessage
				v.SetBytes([]byte(fmt.Sprintf(`{"token":%q}`, next())))
				return
			}
			if v.Len() == 0 {
				v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			}
			for j := range v.Len() {
				walk(v.Index(j))
			}
		case reflect.String:
			v.SetString(next())
		}
	}
	walk(reflect.ValueOf(&snap).Elem())
	return s
}

// TestNoTokenValues seeds every string of a snapshot with fake secrets and
// checks that no output holds any of them, nor a 12-character piece of one.
func TestNoTokenValues(t *testing.T) {
	t.Parallel()
	for name, base := range map[string]*ledger.Snapshot{"fixture": loadSnapshot(t), "synthetic": synth(40)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := seededSnapshot(t, base)
			meta := fixtureMeta()
			meta.Redactor = logging.NewRedactor(s.literals...)
			meta.Campaign = "campaign " + s.secrets[0]
			r := Build(s.snap, meta)
			outs := map[string][]byte{}
			var err error
			if outs["json"], err = JSON(r); err != nil {
				t.Fatal(err)
			}
			if outs["html"], err = HTML(r); err != nil {
				t.Fatal(err)
			}
			if outs["md"], err = Markdown(r); err != nil {
				t.Fatal(err)
			}
			// Every 12-byte piece of every secret, to find even a part of one.
			pieces := map[string]string{}
			for _, sec := range s.secrets {
				for k := 0; k+12 <= len(sec); k++ {
					pieces[sec[k:k+12]] = sec
				}
			}
			for format, out := range outs {
				if !bytes.Contains(out, []byte(logging.Redacted)) {
					t.Errorf("%s: nothing was redacted; is the seeding working?", format)
				}
				for k := 0; k+12 <= len(out); k++ {
					if sec, ok := pieces[string(out[k:k+12])]; ok {
						t.Errorf("%s holds %q, a piece of the secret %q", format, out[k:k+12], sec)
						break
					}
				}
			}
		})
	}
}
