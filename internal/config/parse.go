package config

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Error is one problem in a configuration file.
type Error struct {
	// File is the file name given to Parse or Load.
	File string
	// Line is the 1-based line of the problem, or 0 when unknown.
	Line int
	// Msg says what is wrong and what was expected.
	Msg string
}

// Error formats the problem as: config "FILE": line N: message.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("config %q: line %d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("config %q: %s", e.File, e.Msg)
}

// Parse decodes data strictly, applies defaults and validates the result. name
// is used in errors. Every problem found is reported: the returned error joins
// one *Error per problem (use errors.As or Errors to get them), with its line
// where it is known. Only a syntax error stops at once, because the TOML
// parser cannot read past it.
//
// BurntSushi/toml stops decoding into a struct at the first value of the
// wrong type, so the file is decoded into a generic map first, every value is
// checked against the type of its field (with the library's own rules), the
// ill-typed ones are reported and dropped, and what remains is decoded into
// the Config.
func Parse(name string, data []byte) (*Config, error) {
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: name, Line: pe.Position.Line, Msg: pe.Message}
		}
		return nil, &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	idx := newLineIndex(data)
	var errs []*Error
	src := string(data)
	if tes := checkTypes(raw, reflect.TypeFor[Config](), nil, nil); len(tes) > 0 {
		for _, te := range tes {
			errs = append(errs, &Error{File: name, Line: idx.lineAt(te.key, te.arr, te.elem), Msg: strings.Join(te.key, ".") + ": " + te.msg})
		}
		var buf strings.Builder
		if err := toml.NewEncoder(&buf).Encode(raw); err != nil {
			return nil, &Error{File: name, Msg: err.Error()}
		}
		src = buf.String()
	}
	var c Config
	md, err := toml.Decode(src, &c)
	if err != nil {
		// checkTypes let a value through that the struct refuses: report
		// it as the library does.
		if m := decodeErrRE.FindStringSubmatch(err.Error()); m != nil {
			key := strings.Split(m[2], ".")
			return nil, &Error{File: name, Line: idx.line(key), Msg: m[2] + ": " + m[3]}
		}
		return nil, &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	for _, key := range unknownKeys(md.Undecoded()) {
		isTable := md.Type(key...) == "Hash"
		errs = append(errs, &Error{File: name, Line: idx.line(key), Msg: unknownKeyMsg(key, isTable)})
	}
	c.ApplyDefaults()
	for _, fe := range c.validate() {
		line := 0
		if fe.elem > 0 {
			line = idx.lineAt(fe.key, fe.arr, fe.elem-1)
		} else if md.IsDefined(fe.key...) {
			line = idx.line(fe.key)
		}
		errs = append(errs, &Error{File: name, Line: line, Msg: fmt.Sprintf("%s: %s", strings.Join(fe.key, "."), fe.msg)})
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
		joined := make([]error, len(errs))
		for i, e := range errs {
			joined[i] = e
		}
		return nil, errors.Join(joined...)
	}
	return &c, nil
}

// typeError is a value whose TOML type does not fit its field. arr and elem
// locate a key inside an array of tables: the first arr parts of key name
// the array, elem is the 0-based element; arr is 0 outside arrays.
type typeError struct {
	key       []string
	arr, elem int
	msg       string
}

// checkTypes checks every value of the table m against the struct type t,
// deletes the values that do not fit from m and returns one typeError for
// each. Keys without a field are left for the unknown-key check. at locates
// m inside an array of tables ({arr, elem}), nil outside one.
func checkTypes(m map[string]any, t reflect.Type, path []string, at []int) []typeError {
	var errs []typeError
	bad := func(key, msg string) {
		te := typeError{key: append(slices.Clone(path), key), msg: msg}
		if at != nil {
			te.arr, te.elem = at[0], at[1]
		}
		errs = append(errs, te)
		delete(m, key)
	}
	for _, key := range slices.Sorted(maps.Keys(m)) {
		f, ok := fieldByTOMLName(t, key)
		if !ok {
			continue
		}
		v := m[key]
		sub := append(slices.Clone(path), key)
		switch {
		case f.Type.Kind() == reflect.Struct:
			tbl, ok := v.(map[string]any)
			if !ok {
				bad(key, fmt.Sprintf("want a table ([%s]), got %s", strings.Join(sub, "."), tomlType(v)))
				continue
			}
			errs = append(errs, checkTypes(tbl, f.Type, sub, at)...)
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			tbls, ok := tables(v)
			if !ok {
				bad(key, fmt.Sprintf("want an array of tables ([[%s]]), got %s", strings.Join(sub, "."), tomlType(v)))
				continue
			}
			for i, tbl := range tbls {
				errs = append(errs, checkTypes(tbl, f.Type.Elem(), sub, []int{len(sub), i})...)
			}
		default:
			if err := fits(v, f.Type); err != nil {
				bad(key, err.Error())
			}
		}
	}
	return errs
}

// tables returns v as an array of tables: [[x]] tables, or an array
// (empty, or of inline tables) written as a value.
func tables(v any) ([]map[string]any, bool) {
	switch v := v.(type) {
	case []map[string]any:
		return v, true
	case []any:
		out := make([]map[string]any, len(v))
		for i, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, false
			}
			out[i] = m
		}
		return out, true
	}
	return nil, false
}

// fits decodes v alone into a value of type t, so the library's own rules
// decide (an integer fits a float, a string never fits an integer).
func fits(v any, t reflect.Type) error {
	var buf strings.Builder
	if err := toml.NewEncoder(&buf).Encode(map[string]any{"v": v}); err != nil {
		return err
	}
	dst := reflect.New(reflect.StructOf([]reflect.StructField{{Name: "V", Type: t, Tag: `toml:"v"`}}))
	if _, err := toml.Decode(buf.String(), dst.Interface()); err != nil {
		if m := decodeErrRE.FindStringSubmatch(err.Error()); m != nil {
			return errors.New(m[3])
		}
		return errors.New(strings.TrimPrefix(err.Error(), "toml: "))
	}
	return nil
}

// tomlType names the TOML type of a decoded value, for errors.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case map[string]any:
		return "a table"
	case []map[string]any, []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}

var decodeErrRE = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "([^"]*)"\): (.*)$`)

// Errors returns the individual problems in an error returned by Parse or
// Load, in order; an error that is not a joined list is returned alone.
func Errors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// unknownKeys keeps the outermost undecoded keys: an unknown table is
// reported once, not once more for each of its keys.
func unknownKeys(undecoded []toml.Key) []toml.Key {
	var out []toml.Key
	for _, k := range undecoded {
		if slices.ContainsFunc(out, func(p toml.Key) bool {
			return len(p) < len(k) && slices.Equal(p, k[:len(p)])
		}) {
			continue
		}
		out = append(out, k)
	}
	return out
}

func unknownKeyMsg(key toml.Key, isTable bool) string {
	parent, last := key[:len(key)-1], key[len(key)-1]
	valid := validKeys(parent)
	var msg string
	switch {
	case isTable && len(parent) == 0:
		msg = fmt.Sprintf("unknown table [%s]", last)
	case isTable:
		msg = fmt.Sprintf("unknown table %q in [%s]", last, strings.Join(parent, "."))
	case len(parent) == 0:
		msg = fmt.Sprintf("unknown key %q at the top level", last)
	default:
		msg = fmt.Sprintf("unknown key %q in [%s]", last, strings.Join(parent, "."))
	}
	if valid == nil {
		// The parent is not a table in the schema (a scalar given a sub-key).
		return msg
	}
	if elsewhere := findKey(last); elsewhere != "" && !isTable {
		msg += fmt.Sprintf(" (did you mean %q?)", elsewhere)
	} else if s := nearest(last, valid); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else {
		msg += fmt.Sprintf(" (want one of: %s)", strings.Join(valid, ", "))
	}
	return msg
}

// findKey returns the dotted path of the schema key named exactly name in
// any table, or "": "org" at the top level finds "github.org".
func findKey(name string) string {
	for _, k := range Keys() {
		if strings.HasSuffix(k, "."+name) {
			return k
		}
	}
	return ""
}

// Keys returns every key of the schema as a dotted path (such as
// "npm.registry"), in struct order. Tables themselves are not listed.
func Keys() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for f := range t.Fields() {
			name := tomlName(f)
			if name == "" {
				continue
			}
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type, prefix+name+".")
				continue
			}
			out = append(out, prefix+name)
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return out
}

// validKeys returns the keys of the table at path, or nil if path is not a table.
func validKeys(path []string) []string {
	t := reflect.TypeFor[Config]()
	for _, p := range path {
		f, ok := fieldByTOMLName(t, p)
		if !ok || f.Type.Kind() != reflect.Struct {
			return nil
		}
		t = f.Type
	}
	var keys []string
	for f := range t.Fields() {
		if n := tomlName(f); n != "" {
			keys = append(keys, n)
		}
	}
	return keys
}

func fieldByTOMLName(t reflect.Type, name string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if tomlName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func tomlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

// nearest returns the valid key closest to s, or "" if none is close enough
// to be a plausible typo.
func nearest(s string, valid []string) string {
	s = strings.ToLower(s)
	best, bestScore := "", -1
	for _, v := range valid {
		lv := strings.ToLower(v)
		d := levenshtein(s, lv)
		// Accept up to about half the longer word ("registy" finds
		// "registry", "colour" does not find "level"), or any key that
		// shares a word ("wave_size" finds "sizes").
		limit := max(len(s), len(lv))/2 + 1
		if d > limit && !shareWord(s, lv) {
			continue
		}
		if bestScore < 0 || d < bestScore {
			best, bestScore = v, d
		}
	}
	return best
}

// shareWord reports whether a and b have a word of three or more letters in
// common, ignoring a plural s: the words of "wave_size" and "sizes" meet.
func shareWord(a, b string) bool {
	split := func(s string) []string {
		var out []string
		for w := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == '_' || r == '-' }) {
			if w = strings.TrimSuffix(w, "s"); len(w) >= 3 {
				out = append(out, w)
			}
		}
		return out
	}
	wb := split(b)
	for _, w := range split(a) {
		if slices.Contains(wb, w) {
			return true
		}
	}
	return false
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
