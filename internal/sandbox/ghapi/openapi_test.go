package ghapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/githttp"
)

// GitHub's REST description, loaded once per test binary: it is 13 MB and
// takes seconds to load under -race.
var (
	specOnce sync.Once
	spec     *apiSpec
	specErr  error
)

// apiSpec is the loaded description with its operations indexed.
type apiSpec struct {
	doc *openapi3.T
	ops []specOp
}

// specOp is one operation: method and path template.
type specOp struct {
	method, path string
	segs         []string
	item         *openapi3.PathItem
	op           *openapi3.Operation
}

// key names the operation as "GET /repos/{owner}/{repo}".
func (o *specOp) key() string { return o.method + " " + o.path }

// specPath is where the description lives: ../shared/github-openapi
// relative to the module root.
func specPath(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "github-openapi", "api.github.com.json")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// loadSpec returns the description of the operations behind routes (the
// emulator's), skipping the test when the file is missing, or failing it
// when CI is set. Only those operations and the components they reach are
// loaded: the whole description takes kin-openapi half a minute.
func loadSpec(t testing.TB, routes []string) *apiSpec {
	t.Helper()
	path := specPath(t)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("GitHub's API description is missing (CI is set): %v", err)
		}
		t.Skipf("GitHub's API description is missing: %v", err)
	}
	specOnce.Do(func() {
		start := time.Now()
		data, err := os.ReadFile(path)
		if err != nil {
			specErr = err
			return
		}
		data, err = pruneSpec(data, targetsOf(routes))
		if err != nil {
			specErr = fmt.Errorf("%s: %w", path, err)
			return
		}
		doc, err := openapi3.NewLoader().LoadFromData(data)
		if err != nil {
			specErr = fmt.Errorf("load %s: %w", path, err)
			return
		}
		s := &apiSpec{doc: doc}
		for p, item := range doc.Paths.Map() {
			for m, op := range item.Operations() {
				s.ops = append(s.ops, specOp{method: m, path: p, segs: strings.Split(strings.Trim(p, "/"), "/"), item: item, op: op})
			}
		}
		spec = s
		t.Logf("loaded %d operations of GitHub's API description in %v", len(s.ops), time.Since(start).Round(time.Millisecond))
	})
	if specErr != nil {
		t.Fatal(specErr)
	}
	return spec
}

// normTemplate writes a path template with its parameters unnamed.
func normTemplate(p string) string {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, seg := range segs {
		if _, ok := isParam(seg); ok {
			segs[i] = "{}"
		}
	}
	return "/" + strings.Join(segs, "/")
}

// pruneSpec keeps the paths holding the wanted operations ("GET /x/{y}",
// parameter names ignored) and the components they reach through $ref.
func pruneSpec(data []byte, wanted []string) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, w := range wanted {
		_, p, _ := strings.Cut(w, " ")
		want[normTemplate(p)] = true
	}
	paths, _ := doc["paths"].(map[string]any)
	kept := map[string]any{}
	for p, item := range paths {
		if want[normTemplate(p)] {
			kept[p] = item
		}
	}
	comps, _ := doc["components"].(map[string]any)
	out := map[string]map[string]any{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
				if len(parts) == 2 {
					if out[parts[0]] == nil {
						out[parts[0]] = map[string]any{}
					}
					if _, seen := out[parts[0]][parts[1]]; !seen {
						sec, _ := comps[parts[0]].(map[string]any)
						out[parts[0]][parts[1]] = sec[parts[1]]
						walk(sec[parts[1]])
					}
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(kept)
	walk(map[string]any{"$ref": "#/components/schemas/basic-error"})
	doc["paths"] = kept
	doc["components"] = out
	delete(doc, "webhooks")
	return json.Marshal(doc)
}

// targetsOf maps the emulator's routes to the operations of the
// description they serve, as "METHOD /template".
func targetsOf(routes []string) []string {
	var out []string
	for _, r := range routes {
		switch {
		case aliases[r] != "":
			out = append(out, aliases[r])
		case subtrees[r] != nil:
			out = append(out, subtrees[r]...)
		default:
			out = append(out, r)
		}
	}
	return out
}

// isParam reports whether a template segment is a parameter, and its name.
func isParam(seg string) (string, bool) {
	if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
		return strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}"), true
	}
	return "", false
}

// match finds the operation serving method and path (below the API root).
// A parameter takes one segment or more (git refs, branch names and file
// paths hold slashes); the template with the most literal segments wins.
// Routes the description lists under another template (see aliases) are
// matched through the emulator's own pattern.
func (s *apiSpec) match(method, path string) (*specOp, map[string]string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	// The alias with the most literal segments first.
	froms := slices.Collect(maps.Keys(aliases))
	slices.SortFunc(froms, func(a, b string) int { return literals(b) - literals(a) })
	for _, from := range froms {
		to := aliases[from]
		m, p, _ := strings.Cut(from, " ")
		if m != method {
			continue
		}
		if _, ok := matchSegs(strings.Split(strings.Trim(p, "/"), "/"), segs); ok {
			tm, tp, _ := strings.Cut(to, " ")
			o := s.byTemplate(tm, tp)
			if o == nil {
				return nil, nil
			}
			params := map[string]string{}
			for _, seg := range o.segs {
				if name, ok := isParam(seg); ok {
					params[name] = "x"
				}
			}
			return o, params
		}
	}
	var best *specOp
	var bestParams map[string]string
	bestScore := -1
	for i := range s.ops {
		o := &s.ops[i]
		if o.method != method {
			continue
		}
		params, ok := matchSegs(o.segs, segs)
		if !ok {
			continue
		}
		if score := literals(o.path); score > bestScore {
			best, bestParams, bestScore = o, params, score
		}
	}
	return best, bestParams
}

// literals counts the literal segments of a path template.
func literals(tmpl string) int {
	n := 0
	for _, seg := range strings.Split(tmpl, "/") {
		if _, p := isParam(seg); !p && seg != "" {
			n++
		}
	}
	return n
}

// matchSegs matches path segments against template segments, a parameter
// taking one segment or more.
func matchSegs(tmpl, segs []string) (map[string]string, bool) {
	if len(tmpl) == 0 {
		return map[string]string{}, len(segs) == 0
	}
	if len(segs) == 0 {
		return nil, false
	}
	name, param := isParam(tmpl[0])
	if !param {
		if tmpl[0] != segs[0] {
			return nil, false
		}
		return matchSegs(tmpl[1:], segs[1:])
	}
	name = strings.TrimSuffix(name, "...")
	for n := 1; n <= len(segs)-(len(tmpl)-1); n++ {
		if params, ok := matchSegs(tmpl[1:], segs[n:]); ok {
			params[name] = strings.Join(segs[:n], "/")
			return params, true
		}
	}
	return nil, false
}

// byTemplate finds the operation whose template equals pattern once
// parameter names are ignored.
func (s *apiSpec) byTemplate(method, pattern string) *specOp {
	want := normTemplate(pattern)
	for i := range s.ops {
		if s.ops[i].method == method && normTemplate(s.ops[i].path) == want {
			return &s.ops[i]
		}
	}
	return nil
}

// exchange is one recorded API request and its response.
type exchange struct {
	method, path, query string
	reqHeader           http.Header
	status              int
	header              http.Header
	body                []byte
}

// recorder keeps every API exchange a fixture serves.
type recorder struct {
	mu   sync.Mutex
	list []exchange
}

// captureWriter copies a response as it is written.
type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *captureWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *captureWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

// wrap records the API exchanges that pass through h (not git's).
func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if githttp.IsGitPath(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		cw := &captureWriter{ResponseWriter: w}
		h.ServeHTTP(cw, r)
		if cw.status == 0 {
			cw.status = http.StatusOK
		}
		rec.mu.Lock()
		rec.list = append(rec.list, exchange{
			method: r.Method, path: strings.TrimPrefix(r.URL.Path, "/api/v3"), query: r.URL.RawQuery,
			reqHeader: r.Header.Clone(), status: cw.status, header: w.Header().Clone(), body: cw.body.Bytes(),
		})
		rec.mu.Unlock()
	})
}

// exchanges returns what was recorded so far.
func (rec *recorder) exchanges() []exchange {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.list)
}

// aliases map emulator routes that GitHub's description does not list
// under their own template to the operation that describes the same
// resource. Each needs a reason.
var aliases = map[string]string{
	// GitHub answers the root directory listing at /contents; the
	// description only lists /contents/{path}, whose schema covers it.
	"GET /repos/{owner}/{repo}/contents": "GET /repos/{owner}/{repo}/contents/{path}",
	// The legacy environment-secret paths under /repositories/{id}, which
	// go-github v66 calls, are still served by GitHub but no longer in the
	// description; they answer what the /repos/{owner}/{repo} paths answer.
	"GET /repositories/{id}/environments/{env}/secrets":            "GET /repos/{owner}/{repo}/environments/{environment_name}/secrets",
	"GET /repositories/{id}/environments/{env}/secrets/public-key": "GET /repos/{owner}/{repo}/environments/{environment_name}/secrets/public-key",
	"GET /repositories/{id}/environments/{env}/secrets/{name}":     "GET /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}",
	"PUT /repositories/{id}/environments/{env}/secrets/{name}":     "PUT /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}",
	"DELETE /repositories/{id}/environments/{env}/secrets/{name}":  "DELETE /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}",
}

// subtrees lists the operations behind emulator routes that serve several
// of GitHub's operations under one wildcard.
var subtrees = map[string][]string{
	"GET /repos/{owner}/{repo}/commits/{rest...}": {
		"GET /repos/{owner}/{repo}/commits/{ref}",
		"GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
		"GET /repos/{owner}/{repo}/commits/{ref}/status",
		"GET /repos/{owner}/{repo}/commits/{ref}/statuses",
	},
}

// servedOps maps the emulator's routes to the operations of the description.
func servedOps(t *testing.T, s *apiSpec, routes []string) []*specOp {
	t.Helper()
	var out []*specOp
	for _, target := range targetsOf(routes) {
		method, pattern, _ := strings.Cut(target, " ")
		o := s.byTemplate(method, pattern)
		if o == nil {
			t.Errorf("the emulator serves %s, which GitHub's description does not list", target)
			continue
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// nonJSONMedia reports whether a request asked for a media type GitHub's
// description has no schema for (raw blobs and files, a commit's bare SHA):
// those bodies are not JSON and are checked by the tests of the clients.
func nonJSONMedia(h http.Header) bool {
	a := h.Get("Accept")
	return strings.Contains(a, ".raw") || strings.Contains(a, ".sha") || strings.Contains(a, ".diff") || strings.Contains(a, ".patch")
}

// validate checks one exchange against its operation; it returns the
// operation and the problems found.
func (s *apiSpec) validate(ctx context.Context, x exchange) (*specOp, []string) {
	o, params := s.match(x.method, x.path)
	if o == nil {
		return nil, []string{"no operation in GitHub's description serves " + x.method + " " + x.path}
	}
	var problems []string
	addf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	// Headers clients rely on.
	if x.status != http.StatusUnauthorized && x.reqHeader.Get("Authorization") != "" && !(x.method == http.MethodGet && x.path == "/rate_limit") {
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used", "X-RateLimit-Resource"} {
			if x.header.Get(h) == "" {
				addf("%s missing", h)
			}
		}
	}
	if x.method == http.MethodGet && x.status == http.StatusOK && x.header.Get("ETag") == "" {
		addf("ETag missing on a GET")
	}
	var resp *openapi3.Response
	if ref := o.op.Responses.Status(x.status); ref != nil {
		resp = ref.Value
	}
	if resp != nil && x.status == http.StatusCreated && resp.Headers["Location"] != nil && x.header.Get("Location") == "" {
		addf("Location missing on 201")
	}

	if resp == nil {
		switch {
		case x.status == http.StatusNotModified:
			// Every conditional GET may answer 304, with no body.
			if len(x.body) != 0 {
				addf("304 with a body")
			}
		case x.status >= 400:
			// GitHub does not list every error status on every operation
			// (401 Bad credentials, a fine-grained token's 403, 404 and 422
			// appear on all); the body must be GitHub's basic error.
			if err := s.checkSchema("basic-error", x.body); err != nil {
				addf("undocumented %d whose body is not a basic-error: %v", x.status, err)
			}
		default:
			addf("status %d is not one GitHub's description lists", x.status)
		}
		return o, problems
	}
	if nonJSONMedia(x.reqHeader) {
		return o, problems
	}
	req, err := http.NewRequestWithContext(ctx, x.method, "http://sandbox.invalid"+x.path+"?"+x.query, nil)
	if err != nil {
		return o, append(problems, err.Error())
	}
	req.Header = x.reqHeader
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      &routers.Route{Spec: s.doc, Path: o.path, PathItem: o.item, Method: o.method, Operation: o.op},
		},
		Status: x.status,
		Header: x.header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true, MultiError: true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
		},
	}
	in.SetBodyBytes(x.body)
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		addf("%s", err)
	}
	return o, problems
}

// checkSchema validates body against components/schemas/name.
func (s *apiSpec) checkSchema(name string, body []byte) error {
	ref := s.doc.Components.Schemas[name]
	if ref == nil {
		return fmt.Errorf("no schema %q", name)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return ref.Value.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsResponse(), openapi3.DisableSchemaErrorDetails())
}

// listLen is the number of items a list response holds: a JSON array, or
// the first array of an object such as {"total_count", "secrets": [...]}.
func listLen(body []byte) (int, bool) {
	var arr []json.RawMessage
	if json.Unmarshal(body, &arr) == nil {
		return len(arr), true
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return 0, false
	}
	if _, ok := obj["total_count"]; !ok {
		return 0, false
	}
	for k, v := range obj {
		if k != "total_count" && json.Unmarshal(v, &arr) == nil {
			return len(arr), true
		}
	}
	return 0, false
}

// checkPagination replays each list operation whose description promises a
// Link header, with per_page=1: when it has two items or more, the first
// page must link rel="next" and rel="last".
func checkPagination(t *testing.T, s *apiSpec, base, token string, xs []exchange) {
	t.Helper()
	done := map[string]bool{}
	for _, x := range xs {
		o, _ := s.match(x.method, x.path)
		if o == nil || x.method != http.MethodGet || x.status != http.StatusOK || done[o.key()] {
			continue
		}
		ref := o.op.Responses.Status(http.StatusOK)
		if ref == nil || ref.Value.Headers["Link"] == nil {
			continue
		}
		get := func(perPage int) (*http.Response, []byte) {
			q, _ := url.ParseQuery(x.query)
			q.Set("per_page", strconv.Itoa(perPage))
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, strings.TrimSuffix(base, "/")+x.path+"?"+q.Encode(), nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, b
		}
		_, all := get(100)
		n, ok := listLen(all)
		if !ok || n < 2 {
			continue
		}
		done[o.key()] = true
		resp, _ := get(1)
		link := resp.Header.Get("Link")
		if !strings.Contains(link, `rel="next"`) || !strings.Contains(link, `rel="last"`) {
			t.Errorf("%s with per_page=1 of %d items: Link = %q", o.key(), n, link)
		}
	}
	if len(done) == 0 {
		t.Error("no list operation was checked for pagination")
	}
}

// TestOpenAPIContract holds the emulator to GitHub's REST description: every
// operation it serves is called for real, and every response's status,
// JSON body and headers must be what the description allows.
func TestOpenAPIContract(t *testing.T) {
	rec := &recorder{}
	f := newFixtureWrapped(t, ghapi.Options{}, rec.wrap)
	s := loadSpec(t, f.api.Routes())
	gh := clientModes[0].make(t, f.url, tokFull)
	exercise(t, f, gh)
	exerciseMore(t, f, gh)

	served := servedOps(t, s, f.api.Routes())
	conforming := map[string]int{}
	failures := map[string][]string{}
	for _, x := range rec.exchanges() {
		o, problems := s.validate(t.Context(), x)
		if o == nil {
			t.Error(problems[0])
			continue
		}
		if len(problems) > 0 {
			failures[o.key()] = append(failures[o.key()], fmt.Sprintf("%d %s %s: %s", x.status, x.method, x.path, strings.Join(problems, "; ")))
			continue
		}
		if x.status < 300 {
			conforming[o.key()]++
		}
	}
	bad := 0
	for _, o := range served {
		k := o.key()
		if f := failures[k]; len(f) > 0 {
			bad++
			t.Errorf("%s does not conform:\n  %s", k, strings.Join(f[:min(3, len(f))], "\n  "))
		} else if conforming[k] == 0 {
			bad++
			t.Errorf("%s: no successful response was checked", k)
		}
	}
	t.Logf("%d of %d served operations conform", len(served)-bad, len(served))
	checkPagination(t, s, f.url, tokFull, rec.exchanges())
}

// exerciseMore calls the operations exercise leaves out, with an App
// installation identity for the check run.
func exerciseMore(t *testing.T, f *fixture, gh *github.Client) {
	ctx := t.Context()
	ok(gh.Organizations.Get(ctx, "acme")).must(t)
	for i := range 3 {
		if err := f.api.CreateRepo("acme", fmt.Sprintf("extra-%d", i), ghapi.RepoOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ok(gh.Repositories.ListByOrg(ctx, "acme", nil)).must(t)
	ok(gh.Repositories.ListByUser(ctx, "acme", nil)).must(t)
	ok(gh.Repositories.ListBranches(ctx, "acme", "widget", nil)).must(t)
	ok(gh.Repositories.ListStatuses(ctx, "acme", "widget", "main", nil)).must(t)
	sha := ok(gh.Git.GetRef(ctx, "acme", "widget", "heads/main")).must(t).GetObject().GetSHA()

	f.api.AddToken("ghs_app", ghapi.Identity{Login: "cutover-app[bot]", Type: "Bot",
		App:         &ghapi.AppIdentity{ID: 77, Slug: "cutover-app", Name: "cutover", Owner: "acme"},
		Permissions: map[string]string{"checks": "write", "contents": "read"}})
	app := clientModes[0].make(t, f.url, "ghs_app")
	run := ok(app.Checks.CreateCheckRun(ctx, "acme", "widget", github.CreateCheckRunOptions{
		Name: "cutover", HeadSHA: sha, Conclusion: github.String("success")})).must(t)
	if run.GetApp().GetSlug() != "cutover-app" || run.GetApp().GetOwner().GetLogin() != "acme" {
		t.Errorf("check run app = %v", run.GetApp())
	}

	if _, err := gh.Actions.CreateOrgVariable(ctx, "acme", &github.ActionsVariable{Name: "A", Value: "1", Visibility: github.String("all")}); err != nil {
		t.Fatal(err)
	}
	if _, err := gh.Actions.UpdateOrgVariable(ctx, "acme", &github.ActionsVariable{Name: "A", Value: "2", Visibility: github.String("all")}); err != nil {
		t.Fatal(err)
	}
	if _, err := gh.Actions.DeleteOrgVariable(ctx, "acme", "A"); err != nil {
		t.Fatal(err)
	}
	env := "npm"
	ok(gh.Repositories.CreateUpdateEnvironment(ctx, "acme", "widget", env, &github.CreateUpdateEnvironment{})).must(t)
	r := ok(gh.Repositories.Get(ctx, "acme", "widget")).must(t)
	ok2 := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ok2(gh.Actions.CreateEnvVariable(ctx, "acme", "widget", env, &github.ActionsVariable{Name: "V", Value: "1"}))
	ok(gh.Actions.ListEnvVariables(ctx, "acme", "widget", env, nil)).must(t)
	ok(gh.Actions.GetEnvVariable(ctx, "acme", "widget", env, "V")).must(t)
	ok2(gh.Actions.UpdateEnvVariable(ctx, "acme", "widget", env, &github.ActionsVariable{Name: "V", Value: "2"}))
	ok2(gh.Actions.DeleteEnvVariable(ctx, "acme", "widget", env, "V"))
	f.api.SetOrgSecret("acme", "S", ghapi.SecretOptions{Visibility: "all"})
	ok(gh.Actions.GetOrgSecret(ctx, "acme", "S")).must(t)
	ok(gh.Actions.ListRepoOrgSecrets(ctx, "acme", "widget", nil)).must(t)
	// The environment secrets on GitHub's current paths.
	base := "repos/acme/widget/environments/" + env + "/secrets"
	raw := func(method, path string, body any) {
		t.Helper()
		req, err := gh.NewRequest(method, path, body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gh.Do(ctx, req, nil); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	raw("GET", base+"/public-key", nil)
	raw("PUT", base+"/E", map[string]string{"encrypted_value": "eA==", "key_id": "k"})
	raw("GET", base, nil)
	raw("GET", base+"/E", nil)
	raw("DELETE", base+"/E", nil)
	_ = r
	ok2(gh.Repositories.DeleteEnvironment(ctx, "acme", "widget", env))
	ok(gh.Actions.ListRepositoryWorkflowRuns(ctx, "acme", "widget", nil)).must(t)

	// An installation token, through the App flow.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	insts := f.api.AddApp(ghapi.App{ID: 88, Slug: "contract", PublicKey: &key.PublicKey},
		ghapi.Installation{Account: "acme", Permissions: map[string]string{"contents": "read", "actions_variables": "write"}},
		ghapi.Installation{Account: "alice", Permissions: map[string]string{"contents": "read"}})
	jwt := appJWT(t, key, "88", time.Now().Add(-30*time.Second), 9*time.Minute)
	// The App's own endpoints, signed with its JWT, as go-github calls them
	// through ghinstallation's AppsTransport.
	appc := clientModes[0].make(t, f.url, jwt)
	if a := ok(appc.Apps.Get(ctx, "")).must(t); a.GetID() != 88 || a.GetOwner().GetLogin() != "acme" {
		t.Errorf("GET /app = %v", a)
	}
	ok(appc.Apps.FindOrganizationInstallation(ctx, "acme")).must(t)
	ok(appc.Apps.FindUserInstallation(ctx, "alice")).must(t)
	if in := ok(appc.Apps.GetInstallation(ctx, insts[0].ID)).must(t); in.GetAccount().GetLogin() != "acme" || in.GetAppID() != 88 {
		t.Errorf("GET /app/installations/%d = %v", insts[0].ID, in)
	}
	code, body := send(t, "POST", fmt.Sprintf("%sapp/installations/%d/access_tokens", f.url, insts[0].ID), jwt)
	tok, _ := body["token"].(string)
	if code != http.StatusCreated || tok == "" {
		t.Fatalf("installation token: %d %v", code, body)
	}
	inst := clientModes[0].make(t, f.url, tok)
	ok(inst.Apps.ListRepos(ctx, nil)).must(t)

	// Last: branch protection leaves widget's main protected.
	exerciseProtection(t, f, gh)
}
