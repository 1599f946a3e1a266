package rewrite

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// tree answers position questions about a parsed YAML document.
type tree struct {
	d      *doc
	root   *yaml.Node
	parent map[*yaml.Node]*yaml.Node
}

func newTree(d *doc, root *yaml.Node) *tree {
	// Sized up front: a 1 MiB workflow has a few hundred thousand nodes.
	t := &tree{d: d, root: root, parent: make(map[*yaml.Node]*yaml.Node, countNodes(root, 0))}
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if depth > 200 {
			return
		}
		for _, c := range n.Content {
			if _, seen := t.parent[c]; seen {
				continue
			}
			t.parent[c] = n
			walk(c, depth+1)
		}
	}
	walk(root, 0)
	return t
}

// countNodes counts the nodes under n (aliases not followed).
func countNodes(n *yaml.Node, depth int) int {
	if depth > 200 {
		return 0
	}
	c := len(n.Content)
	for _, k := range n.Content {
		if k.Kind != yaml.AliasNode {
			c += countNodes(k, depth+1)
		}
	}
	return c
}

// lastLine is the last line a node's own text occupies.
func lastLine(n *yaml.Node, depth int) int {
	if n == nil || depth > 200 {
		return 0
	}
	end := n.Line
	if n.Kind == yaml.ScalarNode && (n.Style&(yaml.LiteralStyle|yaml.FoldedStyle)) != 0 {
		end = n.Line + strings.Count(strings.TrimRight(n.Value, "\n"), "\n") + 1
	} else if n.Kind == yaml.ScalarNode {
		end = n.Line + strings.Count(n.Value, "\n")
	}
	for _, c := range n.Content {
		if c.Kind == yaml.AliasNode {
			continue
		}
		if l := lastLine(c, depth+1); l > end {
			end = l
		}
	}
	return end
}

// entryEnd returns the last line of content of the mapping entry (or
// sequence item) whose first node is n.
func (t *tree) entryEnd(n *yaml.Node) int {
	p := t.parent[n]
	if p == nil || p == t.root && p.Kind != yaml.MappingNode && p.Kind != yaml.SequenceNode {
		return t.d.contentEnd(n.Line, t.d.numLines()+1)
	}
	step := 1
	var value *yaml.Node
	if p.Kind == yaml.MappingNode {
		step = 2
	}
	for i, c := range p.Content {
		if c != n {
			continue
		}
		if p.Kind == yaml.MappingNode && i+1 < len(p.Content) {
			value = p.Content[i+1]
		} else {
			value = n
		}
		var end int
		if i+step < len(p.Content) {
			next := p.Content[i+step].Line
			if p.Kind == yaml.SequenceNode && p.Style&yaml.FlowStyle == 0 {
				next = t.itemLine(p.Content[i+step], n.Line)
			}
			end = t.d.contentEnd(n.Line, next)
		} else {
			end = t.containerEnd(p)
			end = t.d.contentEnd(n.Line, end+1)
		}
		if l := lastLine(value, 0); l > end {
			end = l
		}
		return end
	}
	return n.Line
}

// itemLine returns the line of the "-" that starts sequence item n, after
// line prev: n's own line, unless the dash stands alone above it ("-", or
// "- # comment", with the value on the next line), where the line belongs
// to n and not to the item before.
func (t *tree) itemLine(n *yaml.Node, prev int) int {
	if line := t.d.line(n.Line); strings.Contains(line[:min(t.d.byteCol(n.Line, n.Column), len(line))], "-") {
		return n.Line
	}
	for m := n.Line - 1; m > prev; m-- {
		if t.d.blankOrComment(m) {
			continue
		}
		if dashOnly(t.d.line(m)) {
			return m
		}
		break
	}
	return n.Line
}

// dashOnly reports whether a line holds only block sequence indicators
// ("-", "- -"), perhaps with a comment after them.
func dashOnly(line string) bool {
	s := strings.TrimSpace(line)
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "\t#"); i >= 0 {
		s = s[:i]
	}
	return strings.HasPrefix(s, "-") && strings.Trim(s, "- \t") == ""
}

// containerEnd returns the last line of a mapping or sequence node.
func (t *tree) containerEnd(c *yaml.Node) int {
	if c == t.root {
		return t.d.numLines()
	}
	p := t.parent[c]
	if p == nil {
		return t.d.numLines()
	}
	if p.Kind == yaml.DocumentNode {
		return t.d.numLines()
	}
	if p.Kind == yaml.MappingNode {
		for i := 1; i < len(p.Content); i += 2 {
			if p.Content[i] == c {
				return t.entryEnd(p.Content[i-1])
			}
		}
	}
	return t.entryEnd(c)
}

// hasAnchorOrAlias reports whether a subtree uses YAML anchors or aliases.
func hasAnchorOrAlias(n *yaml.Node, depth int) bool {
	if n == nil || depth > 200 {
		return false
	}
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return true
	}
	for _, c := range n.Content {
		if hasAnchorOrAlias(c, depth+1) {
			return true
		}
	}
	return false
}

// firstAnchorOrAlias returns the first node of a subtree, in document
// order, that defines a YAML anchor or is an alias.
func firstAnchorOrAlias(n *yaml.Node, depth int) *yaml.Node {
	if n == nil || depth > 200 {
		return nil
	}
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return n
	}
	for _, c := range n.Content {
		if a := firstAnchorOrAlias(c, depth+1); a != nil {
			return a
		}
	}
	return nil
}

// keyNode returns the key node of key in mapping m.
func keyNode(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}
