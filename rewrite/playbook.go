package rewrite

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"github.com/cutover/cutover/templates"
	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"
)

// Playbook names a set of rewrites.
type Playbook string

// Playbooks.
const (
	// PlaybookOIDC makes both paths available behind the flag variable.
	PlaybookOIDC Playbook = "oidc"
	// PlaybookCleanup removes the token path and the flag once verified.
	PlaybookCleanup Playbook = "cleanup"
	// PlaybookTokenBridge confines tokens to publish steps where OIDC cannot be used.
	PlaybookTokenBridge Playbook = "token-bridge"
)

// DefaultFlagVar is the repository Actions variable that selects the OIDC path.
const DefaultFlagVar = "CUTOVER_NPM_OIDC"

// DefaultNPMVersion is the npm range installed for trusted publishing
// (never "latest", which is npm 12).
const DefaultNPMVersion = "^11.5.1"

// RewriteOptions configure Rewrite. The zero value runs the oidc playbook
// with the default flag variable.
type RewriteOptions struct {
	// Playbook to run; empty means oidc.
	Playbook Playbook
	// FlagVar is the repository variable name; empty means DefaultFlagVar.
	FlagVar string
	// Registry is the npm registry URL (see Options.Registry).
	Registry string
	// NPMVersion is the npm version range to install; empty means DefaultNPMVersion.
	NPMVersion string
	// Stage switches token-bridge publishes to npm stage publish.
	Stage bool
	// PublicRepo adds provenance in token-bridge (public repositories only).
	PublicRepo bool
	// MaxFileBytes is the largest file detection reads (Options.MaxFileBytes);
	// a rewrite whose output would be larger is refused, since cutover
	// could not read its own result back. Zero means MaxFileBytes.
	MaxFileBytes int64
	// Validate checks a rewritten file; nil means Lint (parse + actionlint).
	// It is called for several files at once.
	Validate func(path string, before, after []byte) error
}

// Status is the outcome for one file.
type Status string

// Statuses.
const (
	StatusRewritten Status = "rewritten"
	StatusUnchanged Status = "unchanged"
	StatusManual    Status = "manual"
)

// FileResult is what a playbook did to one file.
type FileResult struct {
	Path   string `json:"path"`
	Status Status `json:"status"`
	Edits  []Edit `json:"edits,omitempty"`
	// Reasons say why a file needs manual work (status manual), with lines.
	Reasons []string `json:"reasons,omitempty"`
	// ManualSteps are follow-ups outside the file (dependency bumps, runner
	// changes) that the rewrite could not do safely.
	ManualSteps []string `json:"manual_steps,omitempty"`
	Before      []byte   `json:"-"`
	After       []byte   `json:"-"`
}

// RewriteResult is the outcome for one repository.
type RewriteResult struct {
	Repo     string       `json:"repo"`
	Playbook Playbook     `json:"playbook"`
	FlagVar  string       `json:"flag_var"`
	Files    []FileResult `json:"files"`
	Detect   *Result      `json:"-"`
}

// Changed reports whether any file was rewritten.
func (r *RewriteResult) Changed() bool {
	for _, f := range r.Files {
		if f.Status == StatusRewritten {
			return true
		}
	}
	return false
}

var flagVarRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidFlagVar checks a repository variable name the way GitHub does.
func ValidFlagVar(name string) error {
	if !flagVarRe.MatchString(name) || strings.HasPrefix(strings.ToUpper(name), "GITHUB_") {
		return fmt.Errorf("invalid flag variable name %q: use letters, digits and underscores, not starting with a digit or GITHUB_", name)
	}
	return nil
}

// Rewrite runs a playbook over the workflows of a repository snapshot. Only
// invalid options are errors; per-file problems are FileResults.
func Rewrite(snap Snapshot, opts RewriteOptions) (*RewriteResult, error) {
	if opts.Playbook == "" {
		opts.Playbook = PlaybookOIDC
	}
	if opts.FlagVar == "" {
		opts.FlagVar = DefaultFlagVar
	}
	if opts.NPMVersion == "" {
		opts.NPMVersion = DefaultNPMVersion
	}
	if err := ValidFlagVar(opts.FlagVar); err != nil {
		return nil, err
	}
	if _, ok := parseVersion(opts.NPMVersion); !ok || !regexp.MustCompile(`^[\^~]?\d+(\.\d+){0,2}$`).MatchString(opts.NPMVersion) {
		return nil, fmt.Errorf("invalid npm version %q: give a version or range like ^11.5.1", opts.NPMVersion)
	}
	if opts.Validate == nil {
		opts.Validate = Lint
	}
	switch opts.Playbook {
	case PlaybookOIDC, PlaybookCleanup, PlaybookTokenBridge:
	default:
		return nil, fmt.Errorf("unknown playbook %q: use oidc, cleanup or token-bridge", opts.Playbook)
	}
	det, parsed, ciJobs := detect(snap, Options{Registry: opts.Registry, FlagVar: opts.FlagVar, MaxFileBytes: opts.MaxFileBytes})
	r := &rewriter{opts: opts, det: det, parsed: parsed, snap: snap, docs: map[string]*fileWork{}, done: map[string]bool{}, ciJobs: ciJobs, ciDocs: map[string]*ciWork{}}
	switch opts.Playbook {
	case PlaybookOIDC:
		r.oidc()
	case PlaybookCleanup:
		r.cleanup()
	case PlaybookTokenBridge:
		r.bridge()
	}
	r.otherCI()
	return r.finish(), nil
}

// fileWork is the pending work on one workflow file.
type fileWork struct {
	path   string
	wf     *Workflow
	d      *doc
	t      *tree
	manual []string
	steps  []string
	seen   map[string]bool // steps, for dedup
	dels   []pendingDelete
	// envAdds are variables to set on steps, in envOrder.
	envAdds  map[*Step][]envAdd
	envOrder []*Step
}

// unit is the file's indentation step: the indentation of the first key
// nested under a top-level key, two spaces when there is none.
func (fw *fileWork) unit() string {
	root := fw.wf.Root
	for i := 1; i < len(root.Content); i += 2 {
		if v := root.Content[i]; v.Kind == yaml.MappingNode && len(v.Content) > 0 && v.Style&yaml.FlowStyle == 0 {
			if n := v.Content[0].Column - root.Content[i-1].Column; n > 0 {
				return strings.Repeat(" ", n)
			}
		}
	}
	return "  "
}

type rewriter struct {
	opts   RewriteOptions
	det    *Result
	parsed map[string]*Workflow
	snap   Snapshot
	docs   map[string]*fileWork
	done   map[string]bool
	ciJobs []*ciJob
	ciDocs map[string]*ciWork
	// rendered remembers template output by template and data: a workflow
	// of thousands of jobs renders the same few blocks again and again.
	rendered map[string]string
}

// render executes a template of the templates package once per key: the
// caller's key must determine what data returns, which is called only on a
// miss (a workflow of thousands of jobs asks for the same few blocks).
func (r *rewriter) render(name, key string, data func() map[string]any) (string, error) {
	key = name + "\x00" + key
	if out, ok := r.rendered[key]; ok {
		return out, nil
	}
	out, err := templates.Render(name, data())
	if err != nil {
		return "", err
	}
	if r.rendered == nil {
		r.rendered = map[string]string{}
	}
	r.rendered[key] = out
	return out, nil
}

func (r *rewriter) file(p string) *fileWork {
	if fw, ok := r.docs[p]; ok {
		return fw
	}
	wf := r.parsed[p]
	if wf == nil {
		return nil
	}
	d := newDoc(r.snap.Files[p])
	fw := &fileWork{path: p, wf: wf, d: d, t: newTree(d, wf.Root)}
	r.docs[p] = fw
	if n, ok := oddLineBreak(d.src); ok {
		// YAML counts these as line breaks and cutover's line index does
		// not, so positions from the tree would be off.
		fw.manualf(n, "the file has a line break other than LF or CRLF (a lone CR, NEL, LS or PS); edit it by hand")
	}
	if k := duplicateKey(wf.Root, 0); k != nil {
		fw.manualf(k.Line, "key %q is defined twice in its mapping, which GitHub rejects; fix the file first", k.Value)
	}
	return fw
}

func (fw *fileWork) manualf(line int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if line > 0 {
		msg = fmt.Sprintf("line %d: %s", line, msg)
	}
	// A set, not a scan of fw.manual: a file of thousands of jobs can
	// collect thousands of reasons.
	key := "manual\x00" + msg
	if fw.seen[key] {
		return
	}
	if fw.seen == nil {
		fw.seen = map[string]bool{}
	}
	fw.seen[key] = true
	fw.manual = append(fw.manual, msg)
}

func (fw *fileWork) stepf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if fw.seen[msg] {
		return
	}
	if fw.seen == nil {
		fw.seen = map[string]bool{}
	}
	fw.seen[msg] = true
	fw.steps = append(fw.steps, msg)
}

// duplicateKey returns the second occurrence of a key defined twice in
// one mapping, if any.
func duplicateKey(n *yaml.Node, depth int) *yaml.Node {
	if n == nil || depth > 200 {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		if k := duplicateIn(n.Content); k != nil {
			return k
		}
	}
	for _, c := range n.Content {
		if k := duplicateKey(c, depth+1); k != nil {
			return k
		}
	}
	return nil
}

// duplicateIn returns the second occurrence of a scalar key among the
// key/value pairs of a mapping's content. Most mappings are small: they are
// compared pairwise, larger ones through a set.
func duplicateIn(content []*yaml.Node) *yaml.Node {
	if len(content) <= 32 {
		for i := 0; i+1 < len(content); i += 2 {
			k := content[i]
			if k.Kind != yaml.ScalarNode {
				continue
			}
			for j := 0; j < i; j += 2 {
				if p := content[j]; p.Kind == yaml.ScalarNode && p.Value == k.Value {
					return k
				}
			}
		}
		return nil
	}
	seen := make(map[string]bool, len(content)/2)
	for i := 0; i+1 < len(content); i += 2 {
		k := content[i]
		if k.Kind == yaml.ScalarNode {
			if seen[k.Value] {
				return k
			}
			seen[k.Value] = true
		}
	}
	return nil
}

// oddLineBreak finds the first line that holds a lone CR, NEL, LS or PS.
func oddLineBreak(src []byte) (int, bool) {
	line := 1
	for i := 0; i < len(src); i++ {
		switch {
		case src[i] == '\n':
			line++
		case src[i] == '\r' && (i+1 == len(src) || src[i+1] != '\n'),
			src[i] == 0xC2 && i+1 < len(src) && src[i+1] == 0x85,
			src[i] == 0xE2 && i+2 < len(src) && src[i+1] == 0x80 && (src[i+2] == 0xA8 || src[i+2] == 0xA9):
			return line, true
		}
	}
	return 0, false
}

// once reports whether key is new, marking it done.
func (r *rewriter) once(key string) bool {
	if r.done[key] {
		return false
	}
	r.done[key] = true
	return true
}

// finish applies, validates and reports every file in path order; workflow
// files with no work are reported unchanged. Validation, the costly part,
// runs for several files at once, after the parse trees are let go.
func (r *rewriter) finish() *RewriteResult {
	res := &RewriteResult{Repo: r.det.Repo, Playbook: r.opts.Playbook, FlagVar: r.opts.FlagVar, Detect: r.det}
	var paths []string
	for _, p := range r.snap.paths() {
		if isWorkflowPath(p) || isOtherCIPath(p) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	ciOut := r.applyCI()
	type pending struct {
		i        int // index in res.Files
		out      []byte
		err      error
		describe func() []Edit
	}
	var todo []*pending
	for _, p := range paths {
		if isOtherCIPath(p) {
			res.Files = append(res.Files, r.finishCI(p, ciOut))
			continue
		}
		src := r.snap.Files[p]
		fr := FileResult{Path: p, Status: StatusUnchanged, Before: src, After: src}
		fw := r.docs[p]
		if fw == nil {
			if r.parsed[p] == nil {
				fr.Reasons = append(fr.Reasons, "not read: see the scan findings for this file")
			}
			res.Files = append(res.Files, fr)
			continue
		}
		r.flushDeletes(fw)
		r.flushStepEnv(fw)
		fr.ManualSteps = fw.steps
		if len(fw.manual) > 0 {
			fr.Status, fr.Reasons = StatusManual, fw.manual
			res.Files = append(res.Files, fr)
			continue
		}
		if len(fw.d.edits) == 0 {
			res.Files = append(res.Files, fr)
			continue
		}
		out, err := fw.d.apply()
		if max := fileLimit(r.opts.MaxFileBytes); err == nil && int64(len(out)) > max {
			// The next scan, lint or sweep would not read the file: the
			// flag's guard could then neither be checked nor cleaned up.
			err = fmt.Errorf("the rewritten file would be %d bytes, over the %d-byte limit cutover reads (scan.max_file_bytes); raise the limit or split the workflow", len(out), max)
		}
		todo = append(todo, &pending{i: len(res.Files), out: out, err: err, describe: fw.d.described})
		res.Files = append(res.Files, fr)
	}
	// The parse trees of the input are no longer needed: on a large file
	// they are tens of megabytes the validation would otherwise carry.
	r.parsed, r.docs = nil, nil
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, w := range todo {
		if w.err != nil {
			continue
		}
		fr := res.Files[w.i]
		g.Go(func() error {
			w.err = recovered(func() error { return r.opts.Validate(fr.Path, fr.Before, w.out) })
			return nil
		})
	}
	_ = g.Wait()
	for _, w := range todo {
		fr := &res.Files[w.i]
		switch {
		case w.err != nil:
			fr.Status, fr.Reasons = StatusManual, []string{"rewrite rejected, file left untouched: " + w.err.Error()}
		case !bytes.Equal(w.out, fr.Before):
			fr.Status, fr.After, fr.Edits = StatusRewritten, w.out, w.describe()
		}
	}
	return res
}

// recovered runs fn and turns a panic into an error: validation runs on
// goroutines of its own, where a panic (in actionlint, say) would end the
// whole process instead of failing one file of one repository.
func recovered(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("internal error: validation panicked: %v", v)
		}
	}()
	return fn()
}

// eachTokenJob calls fn for every pipeline that has token feeds, with its
// file and job.
func (r *rewriter) eachTokenJob(fn func(fw *fileWork, j *Job, p Pipeline)) {
	for _, p := range r.det.Pipelines {
		if len(p.Feeds) == 0 {
			continue
		}
		fw := r.file(p.Workflow)
		if fw == nil {
			continue
		}
		if j := jobByID(fw.wf, p.Job); j != nil {
			fn(fw, j, p)
		}
	}
}

// jobByID finds a job of a workflow.
func jobByID(wf *Workflow, id string) *Job {
	if len(wf.Jobs) < 16 {
		for _, j := range wf.Jobs {
			if j.ID == id {
				return j
			}
		}
		return nil
	}
	if wf.jobIndex == nil {
		wf.jobIndex = make(map[string]*Job, len(wf.Jobs))
		for _, j := range wf.Jobs {
			if _, dup := wf.jobIndex[j.ID]; !dup {
				wf.jobIndex[j.ID] = j
			}
		}
	}
	return wf.jobIndex[id]
}

// splitRef splits "path#job".
func splitRef(ref string) (string, string) {
	p, j, _ := strings.Cut(ref, "#")
	return p, j
}

var _ = path.Base
