package classdoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/rewrite"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-golden +now):\n%s", path, d)
	}
}

// fields lists every JSON field of the document as "path type", walking
// the nested structs, lists and pointers.
func fields(t *testing.T, typ reflect.Type, prefix string, out *[]string) {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct {
		return
	}
	if typ.PkgPath() != reflect.TypeFor[Doc]().PkgPath() {
		t.Errorf("%s is a %s: the document holds only its own types, never another package's structs", prefix, typ)
		return
	}
	for f := range typ.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			t.Errorf("%s.%s has no JSON name: every stored field names itself", typ.Name(), f.Name)
			name = f.Name
		}
		p := prefix + "." + name
		kind := f.Type.String()
		if f.Type.PkgPath() != "" && f.Type.PkgPath() != typ.PkgPath() {
			// A named type of another package (rewrite.Credential) is
			// stored as its underlying kind.
			kind = f.Type.Kind().String() + " (" + f.Type.String() + ")"
		}
		*out = append(*out, p+" "+kind+" `json:\""+tag+"\"`")
		fields(t, f.Type, p, out)
	}
}

// TestFieldNamesFrozen holds the stored document's JSON field names, types
// and options to testdata/fields-v1.golden. Renaming a field (in the
// document, or in rewrite.Result, which the document does not embed) must
// not change what a ledger stores: a change here is a new Version and a
// ledger migration, not an edit of this golden file.
func TestFieldNamesFrozen(t *testing.T) {
	t.Parallel()
	var out []string
	fields(t, reflect.TypeFor[Doc](), "", &out)
	golden(t, "fields-v1.golden", []byte(strings.Join(out, "\n")+"\n"))
}

// TestFieldNamesFrozenCatchesARename shows the frozen-names test at work:
// the walk of a copy of the document with one JSON name changed differs
// from the golden file.
func TestFieldNamesFrozenCatchesARename(t *testing.T) {
	t.Parallel()
	type renamed struct {
		Version       int                `json:"version"`
		Publishes     bool               `json:"publishes"`
		Credential    rewrite.Credential `json:"credential"`
		WorkspaceKind string             `json:"workspace_kind,omitempty"`
		Pipelines     []Pipeline         `json:"jobs"` // was "pipelines"
		Packages      []Package          `json:"packages"`
		Trust         []TrustNeed        `json:"trust"`
		Findings      []Finding          `json:"findings"`
	}
	var got, want []string
	fields(t, reflect.TypeFor[renamed](), "", &got)
	fields(t, reflect.TypeFor[Doc](), "", &want)
	if slices.Equal(got, want) {
		t.Fatal("renaming pipelines to jobs went unnoticed")
	}
	if !slices.Contains(got, ".jobs []classdoc.Pipeline `json:\"jobs\"`") {
		t.Errorf("walk of the renamed document: %q", got)
	}
}

// sample is a document with every field set.
func sample() *Doc {
	return &Doc{
		Version: Version, Publishes: true, Credential: rewrite.CredToken, WorkspaceKind: "pnpm",
		Pipelines: []Pipeline{{
			File: ".github/workflows/release.yml", Job: "publish", Line: 9, Provider: "", Tools: []string{"pnpm"},
			Credential: rewrite.CredToken, Environment: "npm", SelfHosted: true, Confidence: "inferred",
			Proxy: "https://npm-proxy.corp.invalid/", ProxyScopes: []string{"@acme"},
			TokenFeeds: []TokenFeed{{Kind: "env", Name: "NODE_AUTH_TOKEN", Secret: "NPM_TOKEN",
				File: ".github/workflows/release.yml", Line: 22, Guarded: true}},
		}, {
			File: ".circleci/config.yml", Job: "publish", Line: 3, Provider: "circleci", Tools: []string{"npm"},
			Credential: rewrite.CredOIDC, TokenFeeds: []TokenFeed{},
		}},
		Packages: []Package{{Name: "@acme/a", Dir: "packages/a", Access: "public", Publishable: true},
			{Name: "root", Dir: ".", Private: true}},
		Trust: []TrustNeed{{Package: "@acme/a", Repository: "acme/mono", Workflow: "release.yml", Environment: "npm"},
			{Package: "@acme/c", Repository: "acme/mono", Workflow: ".circleci/config.yml", Provider: "circleci",
				CircleCI: &CircleCI{OrgID: "o-1", ProjectID: "p-1", PipelineDefinitionID: "d-1", VCSOrigin: "github.com/acme/mono",
					ContextIDs: []string{"c-1"}}, Needed: []string{"pipeline_definition_id"}}},
		Findings: []Finding{{Severity: rewrite.SevWarning, Code: "self-hosted", File: ".github/workflows/release.yml",
			Line: 10, Message: "runs on a self-hosted runner"}},
	}
}

// TestDocumentGolden holds the stored bytes of a full document, and reads
// them back.
func TestDocumentGolden(t *testing.T) {
	t.Parallel()
	b, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	golden(t, "doc-v1.golden.json", pretty.Bytes())
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(sample(), back); d != "" {
		t.Errorf("decoded document (-want +got):\n%s", d)
	}
}

func TestDecodeVersions(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, data string
		err        error
		text       string
	}{
		{"version 1", `{"version":1,"publishes":true,"credential":"oidc","pipelines":[],"packages":[],"trust":[],"findings":[]}`, nil, ""},
		{"newer", `{"version":2,"publishes":true,"somethingnew":{}}`, ErrNewer, "classification document version 2, this cutover reads up to 1: ledger written by a newer cutover; upgrade cutover"},
		{"much newer", `{"version":99}`, ErrNewer, "version 99"},
		{"no version", `{"repo":"acme/a","publishes":true,"credential":"token"}`, ErrNotDocument, "no version"},
		{"version 0", `{"version":0}`, ErrNotDocument, "no version"},
		{"not JSON", `{"version":1,`, nil, "classification document: unexpected end of JSON input"},
		{"wrong type", `{"version":1,"pipelines":7}`, nil, "classification document version 1: json: cannot unmarshal number"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := Decode([]byte(tt.data))
			if tt.text == "" {
				if err != nil || d == nil || d.Version != 1 {
					t.Fatalf("Decode = %+v, %v", d, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Decode error %v, want one containing %q", err, tt.text)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("Decode error %v is not %v", err, tt.err)
			}
		})
	}
}

// TestFromSchema4 converts rewrite.Result JSON as schema 4 stored it.
func TestFromSchema4(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, data string
		want       *Doc
		err        string
	}{
		{
			name: "result",
			data: `{"repo":"acme/a","publishes":true,"credential":"token","pipelines":[{"workflow":".github/workflows/r.yml","job":"p","job_line":4,` +
				`"trusted_workflow":["r.yml"],"tools":["npm"],"steps":[{"line":9,"step":1,"tool":"npm"}],` +
				`"feeds":[{"kind":"env","name":"NODE_AUTH_TOKEN","secret":"NPM_TOKEN","level":"step","file":".github/workflows/r.yml","line":10,"step":1,"guarded":true}],` +
				`"id_token_write":false,"provenance":false,"credential":"token","npm_ready":"no","self_hosted":true}],` +
				`"packages":[{"name":"a","dir":".","version":"1.0.0","publishable":true}],"trust":[{"package":"a","repository":"acme/a","workflow":"r.yml"}],` +
				`"findings":[{"severity":"warning","code":"self-hosted","message":"m"}],"workflows":1}`,
			want: &Doc{Version: 1, Publishes: true, Credential: rewrite.CredToken,
				Pipelines: []Pipeline{{File: ".github/workflows/r.yml", Job: "p", Line: 4, Tools: []string{"npm"},
					Credential: rewrite.CredToken, SelfHosted: true,
					TokenFeeds: []TokenFeed{{Kind: "env", Name: "NODE_AUTH_TOKEN", Secret: "NPM_TOKEN", File: ".github/workflows/r.yml", Line: 10, Guarded: true}}}},
				Packages: []Package{{Name: "a", Dir: ".", Publishable: true}},
				Trust:    []TrustNeed{{Package: "a", Repository: "acme/a", Workflow: "r.yml"}},
				Findings: []Finding{{Severity: rewrite.SevWarning, Code: "self-hosted", Message: "m"}}},
		},
		{
			name: "nothing found",
			data: `{"repo":"acme/b","publishes":false,"credential":"none","pipelines":[],"packages":null,"findings":[],"workflows":0}`,
			want: &Doc{Version: 1, Credential: rewrite.CredNone, Pipelines: []Pipeline{}, Packages: []Package{}, Trust: []TrustNeed{}, Findings: []Finding{}},
		},
		{name: "already a document", data: `{"version":1,"publishes":false,"credential":"none","pipelines":[],"packages":[],"trust":[],"findings":[]}`,
			want: &Doc{Version: 1, Credential: rewrite.CredNone, Pipelines: []Pipeline{}, Packages: []Package{}, Trust: []TrustNeed{}, Findings: []Finding{}}},
		{name: "newer document", data: `{"version":3}`, err: "ledger written by a newer cutover"},
		{name: "not an object", data: `[1,2]`, err: "not a JSON object"},
		{name: "empty", data: ` `, err: "not a JSON object"},
		{name: "bad JSON", data: `{"publishes":true,`, err: "unexpected end of JSON input"},
		{name: "wrong type", data: `{"publishes":true,"credential":"token","pipelines":7}`, err: "cannot unmarshal number"},
		{name: "not a result", data: `{"hello":"world"}`, err: `no "publishes" or "credential"`},
		{name: "pipeline without job", data: `{"publishes":true,"credential":"token","pipelines":[{"workflow":"w.yml"}]}`, err: "pipeline 0 has no workflow or job"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := FromSchema4([]byte(tt.data))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("FromSchema4 = %+v, %v; want an error containing %q", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("document (-want +got):\n%s", d)
			}
		})
	}
}

// TestCredentialValues holds the credential and severity names the
// document stores: they are rewrite's constants, so renaming one there
// would change stored data.
func TestCredentialValues(t *testing.T) {
	t.Parallel()
	got := []string{string(rewrite.CredToken), string(rewrite.CredTokenProvenance), string(rewrite.CredOIDC), string(rewrite.CredNone),
		string(rewrite.SevError), string(rewrite.SevWarning), string(rewrite.SevNote)}
	want := []string{"token", "token+provenance", "oidc", "none", "error", "warning", "note"}
	if !slices.Equal(got, want) {
		t.Errorf("stored names %q, want %q: a new name needs a new document version and a migration", got, want)
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := Encode(sample())
	f.Add(b)
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"publishes":true,"credential":"token","pipelines":[{"workflow":"w","job":"j","feeds":[{}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode(data)
		if err == nil {
			if d == nil || d.Version < 1 || d.Version > Version {
				t.Fatalf("Decode accepted version %+v", d)
			}
			again, err := Encode(d)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Decode(again); err != nil {
				t.Fatalf("a decoded document does not decode again: %v", err)
			}
		}
		if d4, err := FromSchema4(data); err == nil {
			if _, err := Encode(d4); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestProxyFor answers as rewrite.Pipeline.ProxyFor and Result.ProxyFor,
// which detection and the campaign's readers must agree on.
func TestProxyFor(t *testing.T) {
	t.Parallel()
	const proxy = "https://npm-proxy.corp.invalid/"
	pipelines := []rewrite.Pipeline{
		{Workflow: "a.yml", Job: "a"},
		{Workflow: "b.yml", Job: "b", Proxy: proxy},
		{Workflow: "c.yml", Job: "c", Proxy: proxy, ProxyScopes: []string{"@acme"}},
	}
	for _, p := range pipelines {
		for _, pkg := range []string{"", "plain", "@acme/x", "@ACME/x", "@other/x", "@acme", "acme/x"} {
			res := &rewrite.Result{Pipelines: []rewrite.Pipeline{p}}
			doc := FromResult(res)
			if got, want := doc.Pipelines[0].ProxyFor(pkg), p.ProxyFor(pkg); got != want {
				t.Errorf("%s ProxyFor(%q) = %v, rewrite says %v", p.Job, pkg, got, want)
			}
			if got, want := doc.ProxyFor(pkg), res.ProxyFor(pkg); got != want {
				t.Errorf("%s Doc.ProxyFor(%q) = %q, rewrite says %q", p.Job, pkg, got, want)
			}
		}
	}
	if (*Doc)(nil).ProxyFor("x") != "" {
		t.Error("no document has no proxy")
	}
}
