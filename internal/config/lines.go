package config

import (
	"slices"
	"strings"
)

// lineIndex finds the line of a key in TOML text. BurntSushi/toml does not
// expose key positions, so the text is scanned: table headers set the current
// table, and "key = value" lines (bare, quoted or dotted keys) are matched
// against the wanted path.
type lineIndex struct {
	entries []lineEntry
}

type lineEntry struct {
	line int
	path []string
	// arr is how many leading parts of path name the array of tables
	// ([[x.y]]) the entry is in, 0 outside one; elem is the element, from 0.
	arr, elem int
}

func newLineIndex(data []byte) *lineIndex {
	idx := &lineIndex{}
	var table []string
	arr, elem := 0, 0
	elems := map[string]int{} // elements seen of each array of tables
	inMulti := ""             // the delimiter of an open multi-line string
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if inMulti != "" {
			if strings.Count(line, inMulti)%2 == 1 {
				inMulti = ""
			}
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			inner := strings.TrimPrefix(line, "[[")
			inner = strings.TrimPrefix(inner, "[")
			if keys, rest, ok := parseKey(inner); ok && strings.HasPrefix(strings.TrimSpace(rest), "]") {
				table = keys
				switch {
				case strings.HasPrefix(line, "[["):
					k := strings.Join(keys, "\x00")
					arr, elem = len(keys), elems[k]
					elems[k]++
				case arr > 0 && len(keys) > arr:
					// a sub-table of the current element: stays in it
				default:
					arr, elem = 0, 0
				}
				idx.entries = append(idx.entries, lineEntry{line: i + 1, path: keys, arr: arr, elem: elem})
			}
			continue
		}
		keys, rest, ok := parseKey(line)
		if !ok || !strings.HasPrefix(strings.TrimSpace(rest), "=") {
			continue
		}
		idx.entries = append(idx.entries, lineEntry{line: i + 1, path: append(slices.Clone(table), keys...), arr: arr, elem: elem})
		for _, d := range []string{`"""`, `'''`} {
			if strings.Count(rest, d)%2 == 1 {
				inMulti = d
				break
			}
		}
	}
	return idx
}

// line returns the line where key is defined: an exact match first, else the
// longest defined prefix (a key inside an inline table), else 0.
func (idx *lineIndex) line(key []string) int {
	best, bestLen := 0, 0
	for _, e := range idx.entries {
		if slices.Equal(e.path, key) {
			return e.line
		}
		if len(e.path) > bestLen && len(e.path) < len(key) && slices.Equal(e.path, key[:len(e.path)]) {
			best, bestLen = e.line, len(e.path)
		}
	}
	return best
}

// lineAt is line for a key inside element elem (from 0) of the array of
// tables named by the first arr parts of key: the key's line in that
// element, else the element's header line. arr 0 is line.
func (idx *lineIndex) lineAt(key []string, arr, elem int) int {
	if arr == 0 || arr > len(key) {
		return idx.line(key)
	}
	header := 0
	for _, e := range idx.entries {
		if e.arr != arr || e.elem != elem || !slices.Equal(e.path[:min(arr, len(e.path))], key[:arr]) {
			continue
		}
		if slices.Equal(e.path, key) {
			return e.line
		}
		if header == 0 && len(e.path) == arr {
			header = e.line
		}
	}
	if header == 0 {
		return idx.line(key)
	}
	return header
}

// parseKey reads a dotted key (bare or quoted parts) from the start of s and
// returns its parts and the rest of s.
func parseKey(s string) ([]string, string, bool) {
	var parts []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return nil, "", false
		}
		switch s[0] {
		case '"', '\'':
			end := strings.IndexByte(s[1:], s[0])
			if end < 0 {
				return nil, "", false
			}
			part := s[1 : end+1]
			if s[0] == '"' {
				part = strings.ReplaceAll(part, `\"`, `"`)
			}
			parts = append(parts, part)
			s = s[end+2:]
		default:
			n := 0
			for n < len(s) && isBareKeyChar(s[n]) {
				n++
			}
			if n == 0 {
				return nil, "", false
			}
			parts = append(parts, s[:n])
			s = s[n:]
		}
		s = strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(s, ".") {
			return parts, s, true
		}
		s = s[1:]
	}
}

func isBareKeyChar(c byte) bool {
	return c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
