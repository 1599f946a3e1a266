package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// Field is one key and scalar value of a YAML mapping, with the nodes that
// hold them so rewrites can find their byte positions.
type Field struct {
	Key   string
	Value string
	Line  int
	KNode *yaml.Node
	VNode *yaml.Node
}

// Permissions is a permissions block at workflow or job level.
type Permissions struct {
	// Set is true when the block is present (a present block replaces the
	// defaults, and a job-level block replaces the workflow-level one).
	Set bool
	// All is "read-all" or "write-all" when the block is that scalar.
	All string
	// Scopes maps a scope (contents, id-token, …) to read, write or none.
	Scopes map[string]string
	Line   int
	KNode  *yaml.Node
	VNode  *yaml.Node
}

// IDTokenWrite reports whether the block grants id-token: write.
func (p Permissions) IDTokenWrite() bool {
	return p.All == "write-all" || p.Scopes["id-token"] == "write"
}

// Workflow is the parsed shape of one GitHub Actions workflow file.
type Workflow struct {
	Path        string
	Root        *yaml.Node
	Name        string
	Triggers    []string
	Permissions Permissions
	Env         []Field
	EnvNode     *yaml.Node
	Jobs        []*Job
	// CRLF is true when the file uses CRLF line endings.
	CRLF bool
	// Anchors is true when the file defines YAML anchors (at any depth).
	Anchors bool

	jobIndex map[string]*Job // by ID, built by jobByID for large workflows
}

// Job is one job of a workflow.
type Job struct {
	ID          string
	Line        int
	KNode       *yaml.Node
	Node        *yaml.Node
	Name        string
	RunsOn      []string
	Permissions Permissions
	Env         []Field
	EnvNode     *yaml.Node
	Environment string
	If          string
	// Uses is set when the job calls a reusable workflow.
	Uses           string
	With           []Field
	Secrets        []Field
	SecretsInherit bool
	Steps          []*Step
	StepsNode      *yaml.Node
	// Matrix holds a simple matrix's values by key (node-version and the like).
	Matrix map[string][]string
}

// Step is one step of a job.
type Step struct {
	Index   int
	Line    int
	Node    *yaml.Node
	ID      string
	Name    string
	Uses    string
	If      string
	With    []Field
	WithMap *yaml.Node
	Env     []Field
	EnvNode *yaml.Node
	Run     string
	RunLine int
	RunNode *yaml.Node
}

// lookup finds a value in a field list by key; fold makes the match
// case-insensitive.
func lookup(fs []Field, key string, fold bool) (Field, bool) {
	for _, f := range fs {
		if f.Key == key || (fold && strings.EqualFold(f.Key, key)) {
			return f, true
		}
	}
	return Field{}, false
}

// aliasBudget bounds how many alias dereferences a walk may follow, which
// defuses "billion laughs" documents.
const aliasBudget = 10000

// errAliasBudget is returned when a document expands too many aliases.
var errAliasBudget = errors.New("too many YAML alias expansions (possible alias bomb)")

type walker struct{ aliases int }

func (w *walker) deref(n *yaml.Node) (*yaml.Node, error) {
	for n != nil && n.Kind == yaml.AliasNode {
		w.aliases++
		if w.aliases > aliasBudget {
			return nil, errAliasBudget
		}
		n = n.Alias
	}
	return n, nil
}

// mapGet returns the key and value nodes of key in mapping m.
func (w *walker) mapGet(m *yaml.Node, key string) (*yaml.Node, *yaml.Node, error) {
	m, err := w.deref(m)
	if err != nil || m == nil || m.Kind != yaml.MappingNode {
		return nil, nil, err
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v, err := w.deref(m.Content[i+1])
			return m.Content[i], v, err
		}
	}
	return nil, nil, nil
}

// pairs returns the key/value pairs of a mapping, aliases resolved.
func (w *walker) pairs(m *yaml.Node) ([][2]*yaml.Node, error) {
	m, err := w.deref(m)
	if err != nil || m == nil || m.Kind != yaml.MappingNode {
		return nil, err
	}
	out := make([][2]*yaml.Node, 0, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		v, err := w.deref(m.Content[i+1])
		if err != nil {
			return nil, err
		}
		out = append(out, [2]*yaml.Node{m.Content[i], v})
	}
	return out, nil
}

// scalar returns a scalar node's value, or "" for other kinds.
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// fields reads a mapping of scalars (env, with, secrets).
func (w *walker) fields(m *yaml.Node) ([]Field, error) {
	ps, err := w.pairs(m)
	if err != nil {
		return nil, err
	}
	out := make([]Field, 0, len(ps))
	for _, p := range ps {
		out = append(out, Field{Key: p[0].Value, Value: scalar(p[1]), Line: p[0].Line, KNode: p[0], VNode: p[1]})
	}
	return out, nil
}

func (w *walker) permissions(k, v *yaml.Node) (Permissions, error) {
	p := Permissions{KNode: k, VNode: v}
	if k == nil {
		return p, nil
	}
	p.Set, p.Line = true, k.Line
	p.Scopes = map[string]string{}
	switch v.Kind {
	case yaml.ScalarNode:
		p.All = v.Value
	case yaml.MappingNode:
		fs, err := w.fields(v)
		if err != nil {
			return p, err
		}
		for _, f := range fs {
			p.Scopes[f.Key] = f.Value
		}
	}
	return p, nil
}

// ParseWorkflow parses a workflow file. The error names the path; it is
// returned for YAML that does not parse or whose top level is not a mapping.
func ParseWorkflow(p string, data []byte) (*Workflow, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: does not parse as YAML: %w", p, err)
	}
	wf := &Workflow{Path: p, CRLF: bytes.Contains(data, []byte("\r\n"))}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty workflow", p)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: line %d: top level is not a mapping", p, root.Line)
	}
	wf.Root = root
	wf.Anchors = hasAnchor(root)
	// Without an anchor there is no alias to expand.
	if wf.Anchors && expandedSize(root, map[*yaml.Node]int{}, maxExpandedNodes) > maxExpandedNodes {
		return nil, fmt.Errorf("%s: %w", p, errAliasBudget)
	}
	w := &walker{}
	if err := w.workflow(wf); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return wf, nil
}

// maxExpandedNodes bounds the size of a document with its aliases expanded;
// real workflows stay far below it, "billion laughs" documents do not.
const maxExpandedNodes = 1 << 20

// expandedSize counts the nodes of n with every alias expanded, stopping
// once the count passes limit. Sizes of anchored nodes (the only ones an
// alias can name) are remembered, so the walk is linear in the document; an
// alias to a node that contains it counts as over the limit.
func expandedSize(n *yaml.Node, memo map[*yaml.Node]int, limit int) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.AliasNode {
		return expandedSize(n.Alias, memo, limit)
	}
	if n.Anchor != "" {
		if s, ok := memo[n]; ok {
			if s < 0 {
				return limit + 1
			}
			return s
		}
		memo[n] = -1
	}
	size := 1
	for _, c := range n.Content {
		if size += expandedSize(c, memo, limit); size > limit {
			size = limit + 1
			break
		}
	}
	if n.Anchor != "" {
		memo[n] = size
	}
	return size
}

// hasAnchor reports whether any node under n, at any depth, defines an
// anchor (an alias needs one, so without it there is no alias either).
func hasAnchor(n *yaml.Node) bool {
	stack := []*yaml.Node{n}
	for len(stack) > 0 {
		n, stack = stack[len(stack)-1], stack[:len(stack)-1]
		if n == nil {
			continue
		}
		if n.Anchor != "" || n.Kind == yaml.AliasNode {
			return true
		}
		stack = append(stack, n.Content...)
	}
	return false
}

func (w *walker) workflow(wf *Workflow) error {
	root := wf.Root
	_, name, err := w.mapGet(root, "name")
	if err != nil {
		return err
	}
	wf.Name = scalar(name)
	// "on" may be written on, "on" or 'on'; YAML 1.1 readers turn a bare on
	// into true, yaml.v3 keeps the text.
	_, on, err := w.mapGet(root, "on")
	if err != nil {
		return err
	}
	if on == nil {
		_, on, err = w.mapGet(root, "true")
		if err != nil {
			return err
		}
	}
	switch {
	case on == nil:
	case on.Kind == yaml.ScalarNode:
		wf.Triggers = []string{on.Value}
	case on.Kind == yaml.SequenceNode:
		for _, c := range on.Content {
			wf.Triggers = append(wf.Triggers, scalar(c))
		}
	case on.Kind == yaml.MappingNode:
		ps, err := w.pairs(on)
		if err != nil {
			return err
		}
		for _, p := range ps {
			wf.Triggers = append(wf.Triggers, p[0].Value)
		}
	}
	pk, pv, err := w.mapGet(root, "permissions")
	if err != nil {
		return err
	}
	if wf.Permissions, err = w.permissions(pk, pv); err != nil {
		return err
	}
	_, env, err := w.mapGet(root, "env")
	if err != nil {
		return err
	}
	wf.EnvNode = env
	if wf.Env, err = w.fields(env); err != nil {
		return err
	}
	_, jobs, err := w.mapGet(root, "jobs")
	if err != nil {
		return err
	}
	jps, err := w.pairs(jobs)
	if err != nil {
		return err
	}
	for _, jp := range jps {
		j, err := w.job(jp[0], jp[1])
		if err != nil {
			return err
		}
		wf.Jobs = append(wf.Jobs, j)
	}
	return nil
}

func (w *walker) job(k, v *yaml.Node) (*Job, error) {
	j := &Job{ID: k.Value, Line: k.Line, KNode: k, Node: v}
	if v == nil || v.Kind != yaml.MappingNode {
		return j, nil
	}
	ps, err := w.pairs(v)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		key, val := p[0], p[1]
		switch key.Value {
		case "name":
			j.Name = scalar(val)
		case "if":
			j.If = scalar(val)
		case "uses":
			j.Uses = scalar(val)
		case "runs-on":
			j.RunsOn, err = w.runsOn(val)
		case "permissions":
			j.Permissions, err = w.permissions(key, val)
		case "env":
			j.EnvNode = val
			j.Env, err = w.fields(val)
		case "with":
			j.With, err = w.fields(val)
		case "secrets":
			if scalar(val) == "inherit" {
				j.SecretsInherit = true
			} else {
				j.Secrets, err = w.fields(val)
			}
		case "environment":
			if val.Kind == yaml.MappingNode {
				var nv *yaml.Node
				_, nv, err = w.mapGet(val, "name")
				j.Environment = scalar(nv)
			} else {
				j.Environment = scalar(val)
			}
		case "strategy":
			j.Matrix, err = w.matrix(val)
		case "steps":
			j.StepsNode = val
			if val.Kind == yaml.SequenceNode {
				for i, s := range val.Content {
					s, err = w.deref(s)
					if err != nil {
						return nil, err
					}
					st, err := w.step(i, s)
					if err != nil {
						return nil, err
					}
					j.Steps = append(j.Steps, st)
				}
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return j, nil
}

func (w *walker) runsOn(v *yaml.Node) ([]string, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		return []string{v.Value}, nil
	case yaml.SequenceNode:
		var out []string
		for _, c := range v.Content {
			c, err := w.deref(c)
			if err != nil {
				return nil, err
			}
			out = append(out, scalar(c))
		}
		return out, nil
	case yaml.MappingNode:
		fs, err := w.fields(v)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, f := range fs {
			out = append(out, f.Key+":"+f.Value)
		}
		return out, nil
	}
	return nil, nil
}

func (w *walker) matrix(v *yaml.Node) (map[string][]string, error) {
	_, m, err := w.mapGet(v, "matrix")
	if err != nil || m == nil {
		return nil, err
	}
	ps, err := w.pairs(m)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, p := range ps {
		if p[1].Kind != yaml.SequenceNode {
			continue
		}
		for _, c := range p[1].Content {
			if c.Kind == yaml.ScalarNode {
				out[p[0].Value] = append(out[p[0].Value], c.Value)
			}
		}
	}
	return out, nil
}

func (w *walker) step(i int, v *yaml.Node) (*Step, error) {
	s := &Step{Index: i, Line: v.Line, Node: v}
	ps, err := w.pairs(v)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		key, val := p[0], p[1]
		switch key.Value {
		case "id":
			s.ID = scalar(val)
		case "name":
			s.Name = scalar(val)
		case "uses":
			s.Uses = scalar(val)
		case "if":
			s.If = scalar(val)
		case "run":
			s.Run, s.RunLine, s.RunNode = scalar(val), val.Line, val
		case "with":
			s.WithMap = val
			s.With, err = w.fields(val)
		case "env":
			s.EnvNode = val
			s.Env, err = w.fields(val)
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// actionName returns the "owner/repo[/path]" part of a uses: value, lower
// case, without the @ref.
func actionName(uses string) string {
	name, _, _ := strings.Cut(uses, "@")
	return strings.ToLower(name)
}

// actionRef returns the ref after @ in a uses: value.
func actionRef(uses string) string {
	_, ref, _ := strings.Cut(uses, "@")
	return ref
}

// isLocalWorkflowCall reports whether uses names a reusable workflow in the
// same repository, and returns its path.
func isLocalWorkflowCall(uses string) (string, bool) {
	if !strings.HasPrefix(uses, "./.github/workflows/") {
		return "", false
	}
	return path.Clean(strings.TrimPrefix(uses, "./")), true
}
