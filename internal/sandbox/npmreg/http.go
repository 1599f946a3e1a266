package npmreg

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

const maxBody = 32 << 20

// response is a handler's answer, built under the lock and written after it.
// A value is encoded after the lock is released, so it must not share
// mutable state with the registry.
type response struct {
	status int
	body   []byte
	value  any
	ctype  string
	header http.Header
}

func jsonResp(status int, v any) response {
	return response{status: status, value: v, ctype: "application/json"}
}

func errResp(e *Error) response {
	key := "error"
	if e.messageKey {
		key = "message"
	}
	body := map[string]string{key: e.Message}
	if e.AuthURL != "" {
		body["authUrl"] = e.AuthURL
		body["doneUrl"] = e.DoneURL
	}
	resp := jsonResp(e.Status, body)
	resp.header = http.Header{}
	if e.otp {
		resp.header.Set("WWW-Authenticate", "OTP")
	}
	if e.notice != "" {
		resp.header.Set("npm-notice", e.notice)
	}
	return resp
}

var methodNotAllowed = errorf(405, "Method not allowed")

// ServeHTTP serves the registry API below Options.Prefix.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.serve(w, req, r.opts.Prefix)
}

// Handler serves the registry API below prefix ("/npm"; "" for the root)
// instead of Options.Prefix, with the URLs in its answers below that prefix:
// one registry can be served at the root of its own port and under a path
// of another server.
func (r *Registry) Handler(prefix string) http.Handler {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix != "" && !strings.HasPrefix(prefix, "/") {
		prefix = "/" + prefix
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { r.serve(w, req, prefix) })
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request, prefix string) {
	p := req.URL.EscapedPath()
	if prefix != "" {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok || (rest != "" && rest[0] != '/') {
			r.write(w, errResp(errNotFound))
			return
		}
		p = rest
	}
	var body []byte
	if req.Body != nil && (req.Method == http.MethodPut || req.Method == http.MethodPost) {
		var err error
		body, err = io.ReadAll(io.LimitReader(req.Body, maxBody))
		if err != nil {
			r.write(w, errResp(errorf(400, "could not read request body")))
			return
		}
	}
	rc := r.reqCtxFor(req, prefix)
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	r.mu.Lock()
	r.requests++
	var resp response
	if segs[0] == "-" {
		resp = r.serveDashLocked(req, rc, segs[1:], body)
	} else {
		resp = r.servePackageLocked(req, rc, segs, body)
	}
	r.mu.Unlock()
	r.write(w, resp)
}

func (r *Registry) write(w http.ResponseWriter, resp response) {
	if resp.value != nil {
		b, err := json.Marshal(resp.value)
		if err != nil {
			resp = response{status: 500, body: []byte(`{"error":"internal error"}`), ctype: "application/json"}
		} else {
			resp.body = b
		}
	}
	h := w.Header()
	maps.Copy(h, resp.header)
	if resp.ctype != "" {
		h.Set("Content-Type", resp.ctype)
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// splitPkg reads a package name from escaped path segments: "@scope%2fname",
// "@scope/name" or "name", and returns the remaining segments unescaped.
func splitPkg(segs []string) (string, []string, bool) {
	un := make([]string, 0, len(segs))
	for _, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return "", nil, false
		}
		un = append(un, u)
	}
	if len(un) == 0 || un[0] == "" {
		return "", nil, false
	}
	name, rest := un[0], un[1:]
	if strings.HasPrefix(name, "@") && !strings.Contains(name, "/") {
		if len(rest) == 0 {
			return "", nil, false
		}
		name, rest = name+"/"+rest[0], rest[1:]
	}
	if validName(name) != nil {
		return "", nil, false
	}
	return name, rest, true
}

func (r *Registry) serveDashLocked(req *http.Request, rc reqCtx, segs []string, body []byte) response {
	m := req.Method
	route := strings.Join(segs, "/")
	switch {
	case route == "whoami":
		if m != http.MethodGet {
			return errResp(methodNotAllowed)
		}
		p, e := r.userLocked(rc)
		if e != nil {
			return errResp(e)
		}
		return jsonResp(200, map[string]string{"username": p.user.Name})
	case route == "npm/v1/tokens":
		switch m {
		case http.MethodGet:
			return r.tokenListLocked(req, rc)
		case http.MethodPost:
			return r.tokenCreateLocked(rc, body)
		}
		return errResp(methodNotAllowed)
	case strings.HasPrefix(route, "npm/v1/tokens/token/") && len(segs) == 5:
		if m != http.MethodDelete {
			return errResp(methodNotAllowed)
		}
		key, _ := url.PathUnescape(segs[4])
		return r.tokenDeleteLocked(rc, key)
	case strings.HasPrefix(route, "npm/v1/oidc/token/exchange/package/"):
		if m != http.MethodPost {
			return errResp(methodNotAllowed)
		}
		name, rest, ok := splitPkg(segs[6:])
		if !ok || len(rest) != 0 {
			return errResp(&Error{Status: 404, Code: "E404", Message: MessageExchangeNotFound, messageKey: true})
		}
		tok, e := r.exchangeLocked(name, rc.bearer, rc.hostname)
		if e != nil {
			return errResp(e)
		}
		return jsonResp(201, map[string]string{"token": tok})
	case route == "npm/v1/keys":
		if m != http.MethodGet && m != http.MethodHead {
			return errResp(methodNotAllowed)
		}
		return jsonResp(200, r.keysJSON())
	case route == "ping":
		if m != http.MethodGet && m != http.MethodHead {
			return errResp(methodNotAllowed)
		}
		// npm ping sends ?write=true; the registry answers {} either way.
		return jsonResp(200, map[string]any{})
	case len(segs) == 3 && (segs[0] == "org" || segs[0] == "user") && segs[2] == "package":
		if m != http.MethodGet {
			return errResp(methodNotAllowed)
		}
		owner, err := url.PathUnescape(segs[1])
		if err != nil {
			return errResp(errNotFound)
		}
		return r.accessListLocked(rc, segs[0], strings.TrimPrefix(owner, "@"))
	case strings.HasPrefix(route, "npm/v1/attestations/"):
		if m != http.MethodGet {
			return errResp(methodNotAllowed)
		}
		spec, err := url.PathUnescape(strings.Join(segs[3:], "/"))
		i := strings.LastIndexByte(spec, '@')
		if err != nil || i <= 0 {
			return errResp(errNotFound)
		}
		return r.attestationsLocked(rc, spec[:i], spec[i+1:])
	case len(segs) >= 2 && segs[0] == "package":
		name, rest, ok := splitPkg(segs[1:])
		if !ok || len(rest) == 0 {
			return errResp(errNotFound)
		}
		switch rest[0] {
		case "dist-tags":
			return r.distTagsLocked(m, rc, name, rest[1:], body)
		case "visibility":
			if m != http.MethodGet || len(rest) != 1 {
				return errResp(errNotFound)
			}
			p, e := r.readableLocked(rc, name)
			if e != nil {
				return errResp(e)
			}
			return jsonResp(200, map[string]bool{"public": !p.private})
		case "trust":
			return r.trustLocked(m, rc, name, rest[1:], body)
		case "collaborators":
			if m != http.MethodGet || len(rest) != 1 {
				return errResp(errNotFound)
			}
			p, e := r.readableLocked(rc, name)
			if e != nil {
				return errResp(e)
			}
			out := map[string]string{}
			for _, u := range p.maintainers {
				out[u] = "read-write"
			}
			return jsonResp(200, out)
		case "access":
			return r.publishAccessLocked(m, rc, name, rest[1:], body)
		}
		return errResp(errNotFound)
	case route == "v1/done":
		return r.doneLocked(req.URL.Query().Get("authId"))
	case len(segs) == 3 && segs[0] == "sandbox" && segs[1] == "auth":
		return r.authPageLocked(rc, segs[2])
	case len(segs) == 3 && segs[0] == "sandbox" && segs[1] == "approve":
		if m != http.MethodPost {
			return errResp(methodNotAllowed)
		}
		if err := r.approveLocked(segs[2]); err != nil {
			return errResp(errorf(404, "%s", err.Error()))
		}
		return jsonResp(200, map[string]bool{"ok": true})
	}
	return errResp(errNotFound)
}

// readableLocked returns the package if the caller may read it; a private
// package looks absent to anyone but its maintainers.
func (r *Registry) readableLocked(rc reqCtx, name string) (*pkgState, *Error) {
	pr, e := r.authLocked(rc)
	if e != nil {
		return nil, e
	}
	p, ok := r.packages[name]
	if !ok {
		return nil, errNotFound
	}
	if p.private {
		switch {
		case pr == nil:
			return nil, errNotFound
		case pr.grant != nil && pr.grant.pkg != name:
			return nil, errNotFound
		case pr.user != nil && !p.isMaintainer(pr.user.Name):
			return nil, errNotFound
		}
	}
	return p, nil
}

// writableLocked returns the package and principal if the caller holds a
// maintainer's write token for it.
func (r *Registry) writableLocked(rc reqCtx, name string) (*pkgState, *principal, *Error) {
	pr, e := r.userLocked(rc)
	if e != nil {
		return nil, nil, e
	}
	p, ok := r.packages[name]
	if !ok || (p.private && !p.isMaintainer(pr.user.Name)) {
		return nil, nil, errNotFound
	}
	if !p.isMaintainer(pr.user.Name) {
		return nil, nil, errorf(403, "You do not have permission to modify %q. Are you logged in as the correct user?", name)
	}
	if pr.tok.Readonly {
		return nil, nil, errorf(403, "This token is read-only and cannot modify %q.", name)
	}
	return p, pr, nil
}

func (r *Registry) distTagsLocked(m string, rc reqCtx, name string, rest []string, body []byte) response {
	if m == http.MethodGet && len(rest) == 0 {
		p, e := r.readableLocked(rc, name)
		if e != nil {
			return errResp(e)
		}
		return jsonResp(200, maps.Clone(p.distTags))
	}
	if len(rest) != 1 || rest[0] == "" || (m != http.MethodPut && m != http.MethodDelete) {
		return errResp(methodNotAllowed)
	}
	tag := rest[0]
	p, pr, e := r.writableLocked(rc, name)
	if e != nil {
		return errResp(e)
	}
	if e := r.check2FALocked(pr, rc, tfaWrite); e != nil {
		return errResp(e)
	}
	if m == http.MethodPut {
		var v string
		if err := json.Unmarshal(body, &v); err != nil {
			return errResp(errorf(400, "body must be a JSON string naming a version"))
		}
		if _, ok := p.versions[v]; !ok {
			return errResp(errorf(404, "version not found: %s", v))
		}
		p.distTags[tag] = v
	} else {
		if tag == "latest" {
			return errResp(errorf(400, "cannot delete the latest dist-tag"))
		}
		if _, ok := p.distTags[tag]; !ok {
			return errResp(errorf(404, "dist-tag not found: %s", tag))
		}
		delete(p.distTags, tag)
	}
	p.modified = r.now()
	return jsonResp(200, maps.Clone(p.distTags))
}

// trustBody is a trusted-publisher configuration as npm's API reads and
// writes it: {type, claims, permissions}, the claims of its provider only.
type trustBody struct {
	ID          string      `json:"id,omitempty"`
	Type        string      `json:"type"`
	Claims      trustClaims `json:"claims"`
	Permissions []string    `json:"permissions"`
}

type fileClaim struct {
	File string `json:"file"`
}

type trustClaims struct {
	Repository     string     `json:"repository,omitempty"`
	WorkflowRef    *fileClaim `json:"workflow_ref,omitempty"`
	Environment    string     `json:"environment,omitempty"`
	ProjectPath    string     `json:"project_path,omitempty"`
	CIConfigRefURI *fileClaim `json:"ci_config_ref_uri,omitempty"`
	OrgID          string     `json:"oidc.circleci.com/org-id,omitempty"`
	ProjectID      string     `json:"oidc.circleci.com/project-id,omitempty"`
	PipelineDefID  string     `json:"oidc.circleci.com/pipeline-definition-id,omitempty"`
	VCSOrigin      string     `json:"oidc.circleci.com/vcs-origin,omitempty"`
	ContextIDs     []string   `json:"oidc.circleci.com/context-ids,omitempty"`
}

func trustJSON(t *TrustConfig) trustBody {
	b := trustBody{ID: t.ID, Type: t.provider(), Permissions: slices.Clone(t.Permissions)}
	switch t.provider() {
	case ProviderGitLab:
		b.Claims = trustClaims{ProjectPath: t.ProjectPath, CIConfigRefURI: &fileClaim{t.File}, Environment: t.Environment}
	case ProviderCircleCI:
		b.Claims = trustClaims{OrgID: t.OrgID, ProjectID: t.ProjectID, PipelineDefID: t.PipelineDefinitionID, VCSOrigin: t.VCSOrigin, ContextIDs: slices.Clone(t.ContextIDs)}
	default:
		b.Claims = trustClaims{Repository: t.Repository, WorkflowRef: &fileClaim{t.File}, Environment: t.Environment}
	}
	return b
}

// spec reads a posted configuration; the error is npm's 400 message.
func (b trustBody) spec() (TrustSpec, error) {
	c := b.Claims
	file := func(f *fileClaim) string {
		if f == nil {
			return ""
		}
		return f.File
	}
	s := TrustSpec{Type: b.Type, Environment: c.Environment, Permissions: slices.Clone(b.Permissions)}
	switch b.Type {
	case ProviderGitHub:
		s.Repository, s.File = c.Repository, file(c.WorkflowRef)
	case ProviderGitLab:
		s.ProjectPath, s.File = c.ProjectPath, file(c.CIConfigRefURI)
	case ProviderCircleCI:
		s.OrgID, s.ProjectID, s.PipelineDefinitionID, s.VCSOrigin, s.ContextIDs = c.OrgID, c.ProjectID, c.PipelineDefID, c.VCSOrigin, slices.Clone(c.ContextIDs)
		s.Environment = ""
	default:
		return s, fmt.Errorf("unsupported trusted publisher type %q", b.Type)
	}
	return s, s.validate()
}

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// validate checks the fields npm requires of the spec's provider.
func (s TrustSpec) validate() error {
	switch s.provider() {
	case ProviderGitHub:
		if s.Repository == "" || s.File == "" {
			return errors.New("claims.repository and claims.workflow_ref.file are required")
		}
	case ProviderGitLab:
		if !strings.Contains(s.ProjectPath, "/") || s.File == "" {
			return errors.New("claims.project_path (group/project) and claims.ci_config_ref_uri.file are required")
		}
	case ProviderCircleCI:
		for _, f := range []struct{ name, v string }{
			{"oidc.circleci.com/org-id", s.OrgID}, {"oidc.circleci.com/project-id", s.ProjectID},
			{"oidc.circleci.com/pipeline-definition-id", s.PipelineDefinitionID},
		} {
			if !uuidRe.MatchString(f.v) {
				return fmt.Errorf("claims[%q] must be a UUID, got %q", f.name, f.v)
			}
		}
		for _, id := range s.ContextIDs {
			if !uuidRe.MatchString(id) {
				return fmt.Errorf("claims[\"oidc.circleci.com/context-ids\"]: %q is not a UUID", id)
			}
		}
		if s.VCSOrigin == "" || strings.Contains(s.VCSOrigin, "://") || strings.Count(s.VCSOrigin, "/") < 2 {
			return fmt.Errorf("claims[\"oidc.circleci.com/vcs-origin\"] must be host/org/repo without a scheme, got %q", s.VCSOrigin)
		}
	default:
		return fmt.Errorf("unsupported trusted publisher type %q", s.Type)
	}
	return nil
}

func (r *Registry) trustLocked(m string, rc reqCtx, name string, rest []string, body []byte) response {
	switch {
	case m == http.MethodGet && len(rest) == 0, m == http.MethodPost && len(rest) == 0, m == http.MethodDelete && len(rest) == 1:
	default:
		return errResp(methodNotAllowed)
	}
	pr, e := r.userLocked(rc)
	if e != nil {
		return errResp(e)
	}
	p, ok := r.packages[name]
	if !ok || (p.private && !p.isMaintainer(pr.user.Name)) {
		return errResp(errNotFound)
	}
	if !p.isMaintainer(pr.user.Name) {
		return errResp(errorf(403, "You do not have permission to manage trusted publishers of %q.", name))
	}
	if e := r.check2FALocked(pr, rc, tfaTrust); e != nil {
		return errResp(e)
	}
	switch m {
	case http.MethodGet:
		out := []trustBody{}
		if p.trust != nil {
			out = append(out, trustJSON(p.trust))
		}
		return jsonResp(200, out)
	case http.MethodDelete:
		if p.trust == nil || p.trust.ID != rest[0] {
			return errResp(errorf(404, "trusted publisher configuration %q not found", rest[0]))
		}
		p.trust = nil
		return response{status: 204}
	}
	if pr.tok.Readonly {
		return errResp(errorf(403, "This token is read-only and cannot modify %q.", name))
	}
	var in []trustBody
	if err := json.Unmarshal(body, &in); err != nil {
		return errResp(errorf(400, "body must be a JSON array of trusted publisher configurations"))
	}
	if len(in) != 1 {
		return errResp(errorf(400, "exactly one trusted publisher configuration is allowed per package"))
	}
	if p.trust != nil {
		return errResp(errorf(409, "A trusted publisher configuration already exists for %q.", name))
	}
	spec, err := in[0].spec()
	if err != nil {
		return errResp(errorf(400, "%s", err.Error()))
	}
	if len(spec.Permissions) == 0 {
		return errResp(errorf(400, "at least one permission is required"))
	}
	for _, perm := range spec.Permissions {
		if perm != PermissionPublish && perm != PermissionStagePublish {
			return errResp(errorf(400, "unknown permission %q", perm))
		}
	}
	p.trust = &TrustConfig{ID: r.newUUIDLocked(), TrustSpec: spec}
	return jsonResp(201, []trustBody{trustJSON(p.trust)})
}

func (r *Registry) tokenListLocked(req *http.Request, rc reqCtx) response {
	pr, e := r.userLocked(rc)
	if e != nil {
		return errResp(e)
	}
	q := req.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	per, _ := strconv.Atoi(q.Get("perPage"))
	if per <= 0 || per > 100 {
		per = r.opts.TokensPerPage
	}
	page = max(page, 0)
	all := r.sortedTokensLocked(pr.user.Name, false)
	start := min(page*per, len(all))
	end := min(start+per, len(all))
	objs := []map[string]any{}
	for _, t := range all[start:end] {
		objs = append(objs, tokenJSON(t, false))
	}
	var next any
	if end < len(all) {
		next = fmt.Sprintf("%s/-/npm/v1/tokens?page=%d&perPage=%d", rc.prefix, page+1, per)
	}
	return jsonResp(200, map[string]any{"objects": objs, "total": len(all), "urls": map[string]any{"next": next}})
}

func tokenJSON(t *token, full bool) map[string]any {
	shown := t.Value
	if !full && len(shown) > 6 {
		shown = shown[:6]
	}
	var cidr any
	if len(t.CIDR) > 0 {
		cidr = t.CIDR
	}
	var exp any
	if !t.Expires.IsZero() {
		exp = t.Expires.Format(isoMillis)
	}
	return map[string]any{
		"key":            t.Key,
		"token":          shown,
		"name":           t.Name,
		"created":        t.Created.Format(isoMillis),
		"updated":        t.updated.Format(isoMillis),
		"readonly":       t.Readonly,
		"cidr_whitelist": cidr,
		"expires":        exp,
	}
}

func (r *Registry) tokenCreateLocked(rc reqCtx, body []byte) response {
	pr, e := r.userLocked(rc)
	if e != nil {
		return errResp(e)
	}
	if e := r.check2FALocked(pr, rc, tfaManage); e != nil {
		return errResp(e)
	}
	var in struct {
		Name       string   `json:"name"`
		Password   string   `json:"password"`
		Expires    *int     `json:"expires"`
		CIDR       []string `json:"cidr_whitelist"`
		Bypass2FA  bool     `json:"bypass_2fa"`
		Permission string   `json:"packages_and_scopes_permission"`
		Readonly   bool     `json:"readonly"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return errResp(errorf(400, "body must be a JSON object"))
	}
	if pr.user.Password != "" && in.Password != pr.user.Password {
		return errResp(errorf(401, "invalid password"))
	}
	readonly := in.Readonly || in.Permission == "read-only"
	days := 7
	if readonly {
		days = 30
	}
	if in.Expires != nil {
		days = *in.Expires
	}
	if days < 1 || (!readonly && days > 90) {
		return errResp(errorf(400, "expires must be between 1 and 90 days for write tokens"))
	}
	now := r.now()
	val := r.newTokenValueLocked("npm_")
	t := &token{TokenSpec: TokenSpec{
		User: pr.user.Name, Value: val, Key: r.newUUIDLocked(), Name: in.Name, Created: now,
		Expires: now.Add(time.Duration(days) * 24 * time.Hour), Readonly: readonly,
		Bypass2FA: in.Bypass2FA, CIDR: slices.Clone(in.CIDR),
	}, updated: now}
	r.tokens[val] = t
	return jsonResp(201, tokenJSON(t, true))
}

func (r *Registry) tokenDeleteLocked(rc reqCtx, key string) response {
	pr, e := r.userLocked(rc)
	if e != nil {
		return errResp(e)
	}
	var found *token
	for _, t := range r.tokens {
		if t.Key == key && t.User == pr.user.Name {
			found = t
		}
	}
	if found == nil {
		return errResp(errorf(404, "token not found"))
	}
	if e := r.check2FALocked(pr, rc, tfaManage); e != nil {
		return errResp(e)
	}
	r.revokeLocked(key)
	return response{status: 204}
}

func (r *Registry) doneLocked(id string) response {
	s, ok := r.sessions[id]
	if !ok {
		return errResp(errNotFound)
	}
	if !s.approved {
		if !r.now().Before(s.created.Add(DefaultWebLoginTTL)) {
			delete(r.sessions, id)
			return errResp(errorf(404, "web login expired"))
		}
		resp := jsonResp(202, map[string]any{})
		resp.header = http.Header{"Retry-After": {strconv.Itoa(int(math.Ceil(r.opts.RetryAfter.Seconds())))}}
		return resp
	}
	return jsonResp(200, map[string]string{"token": s.otp})
}

func (r *Registry) authPageLocked(rc reqCtx, id string) response {
	s, ok := r.sessions[id]
	if !ok {
		return errResp(errNotFound)
	}
	state := "waiting for approval"
	if s.approved {
		state = "approved"
	}
	page := fmt.Sprintf("<!doctype html><title>sandbox npm login</title><p>Login for %s: %s.</p>"+
		"<form method=post action=\"%s/-/sandbox/approve/%s\"><button>Approve (skip 2FA for the next 5 minutes)</button></form>",
		html.EscapeString(s.user), state, html.EscapeString(rc.prefix), html.EscapeString(id))
	return response{status: 200, body: []byte(page), ctype: "text/html; charset=utf-8"}
}

func (r *Registry) attestationsLocked(rc reqCtx, name, version string) response {
	p, e := r.readableLocked(rc, name)
	if e != nil {
		return errResp(e)
	}
	vs, ok := p.versions[version]
	if !ok {
		return errResp(errNotFound)
	}
	type entry struct {
		PredicateType string  `json:"predicateType"`
		Bundle        *bundle `json:"bundle"`
	}
	var out []entry
	if vs.provenance != nil {
		out = append(out, entry{SLSAProvenanceV1, vs.provenance})
	}
	out = append(out, entry{PublishAttestationV01, vs.publishAtt})
	return jsonResp(200, map[string]any{"attestations": out})
}

func (r *Registry) servePackageLocked(req *http.Request, rc reqCtx, segs []string, body []byte) response {
	name, rest, ok := splitPkg(segs)
	if !ok {
		return errResp(errNotFound)
	}
	if req.Method == http.MethodPut && len(rest) == 0 {
		var pb publishBody
		if err := json.Unmarshal(body, &pb); err != nil {
			return errResp(errorf(400, "publish body is not valid JSON"))
		}
		if e := r.publishLocked(name, &pb, rc); e != nil {
			return errResp(e)
		}
		return jsonResp(200, map[string]bool{"ok": true})
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return errResp(methodNotAllowed)
	}
	p, e := r.readableLocked(rc, name)
	if e != nil {
		return errResp(e)
	}
	switch {
	case len(rest) == 0:
		return jsonResp(200, r.packumentLocked(p, rc.base))
	case len(rest) == 1:
		v := rest[0]
		if t, ok := p.distTags[v]; ok {
			v = t
		}
		vs, ok := p.versions[v]
		if !ok {
			return errResp(errorf(404, "version not found: %s", rest[0]))
		}
		return jsonResp(200, r.versionDocLocked(p, vs, rc.base))
	case len(rest) == 2 && rest[0] == "-":
		for v, vs := range p.versions {
			if tarballName(p.name, v) == rest[1] {
				return response{status: 200, body: vs.tarball, ctype: "application/octet-stream"}
			}
		}
	}
	return errResp(errNotFound)
}
