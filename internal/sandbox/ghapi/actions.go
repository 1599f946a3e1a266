package ghapi

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// varScope locates a set of variables for the request; s.mu must be held.
// It answers 404 itself and returns nil when the scope does not exist.
type varScope func(c *call) map[string]*variable

// secretScope locates a set of secrets and names its public key; s.mu
// must be held.
type secretScope func(c *call) (map[string]*secret, string)

func repoVars(c *call) map[string]*variable {
	if rp := c.repoLocked(); rp != nil {
		return rp.Variables
	}
	return nil
}

func orgVars(c *call) map[string]*variable {
	if ow := c.orgLocked(); ow != nil {
		return ow.Variables
	}
	return nil
}

func envVars(c *call) map[string]*variable {
	if env := c.envLocked(); env != nil {
		return env.Variables
	}
	return nil
}

func repoSecrets(c *call) (map[string]*secret, string) {
	if rp := c.repoLocked(); rp != nil {
		return rp.Secrets, "repo:" + rp.Owner + "/" + rp.Name
	}
	return nil, ""
}

func orgSecrets(c *call) (map[string]*secret, string) {
	if ow := c.orgLocked(); ow != nil {
		return ow.Secrets, "org:" + ow.Login
	}
	return nil, ""
}

func envSecrets(c *call) (map[string]*secret, string) {
	if env := c.envLocked(); env != nil {
		return env.Secrets, "env:" + strconv.FormatInt(env.ID, 10)
	}
	return nil, ""
}

// orgLocked finds the organization {org}; s.mu must be held.
func (c *call) orgLocked() *owner {
	ow := c.s.st.Owners[c.r.PathValue("org")]
	if ow == nil {
		c.notFound()
	}
	return ow
}

// variableJSON renders a variable; org variables carry their visibility.
func (c *call) variableJSON(v *variable) map[string]any {
	m := map[string]any{"name": v.Name, "value": v.Value, "created_at": ts(v.CreatedAt), "updated_at": ts(v.UpdatedAt)}
	if v.Visibility != "" {
		m["visibility"] = v.Visibility
		if v.Visibility == "selected" {
			m["selected_repositories_url"] = c.api + "orgs/" + c.r.PathValue("org") + "/actions/variables/" + v.Name + "/repositories"
		}
	}
	return m
}

// secretJSON renders a secret's metadata; values never leave.
func (c *call) secretJSON(x *secret) map[string]any {
	m := map[string]any{"name": x.Name, "created_at": ts(x.CreatedAt), "updated_at": ts(x.UpdatedAt)}
	if x.Visibility != "" {
		m["visibility"] = x.Visibility
		if x.Visibility == "selected" {
			m["selected_repositories_url"] = c.api + "orgs/" + c.r.PathValue("org") + "/actions/secrets/" + x.Name + "/repositories"
		}
	}
	return m
}

// sortedNames returns the keys of m in order.
func sortedNames[T any](m map[string]T) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// listVariables serves the list endpoints of variables.
func (c *call) listVariables(scope varScope) {
	listEntries(c, scope, "variables", c.variableJSON)
}

// getVariable serves GET …/variables/{name}.
func (c *call) getVariable(scope varScope) {
	getEntry(c, scope, c.variableJSON)
}

// variableBody is the body of variable writes.
type variableBody struct {
	Name       *string `json:"name"`
	Value      *string `json:"value"`
	Visibility string  `json:"visibility"`
}

// createVariable serves POST …/variables.
func (c *call) createVariable(scope varScope, org bool) {
	var body variableBody
	if !c.decode(&body) {
		return
	}
	if body.Name == nil || body.Value == nil || *body.Name == "" {
		c.invalid(map[string]any{"resource": "ActionsVariable", "field": "name", "code": "missing_field"})
		return
	}
	name := strings.ToUpper(*body.Name)
	if strings.HasPrefix(name, "GITHUB_") {
		c.invalid(map[string]any{"resource": "ActionsVariable", "field": "name", "code": "custom", "message": "Variable names must not start with GITHUB_."})
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	vars := scope(c)
	if vars == nil {
		return
	}
	if _, ok := vars[name]; ok {
		c.error(http.StatusConflict, "Already exists - Variable already exists")
		return
	}
	now := c.s.now()
	v := &variable{Name: name, Value: *body.Value, CreatedAt: now, UpdatedAt: now}
	if org {
		v.Visibility = orDefault(body.Visibility, "all")
	}
	vars[name] = v
	c.json(http.StatusCreated, map[string]any{})
}

// updateVariable serves PATCH …/variables/{name}.
func (c *call) updateVariable(scope varScope) {
	var body variableBody
	if !c.decode(&body) {
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	vars := scope(c)
	if vars == nil {
		return
	}
	name := strings.ToUpper(c.r.PathValue("name"))
	v := vars[name]
	if v == nil {
		c.notFound()
		return
	}
	if body.Value != nil {
		v.Value = *body.Value
	}
	if body.Visibility != "" && v.Visibility != "" {
		v.Visibility = body.Visibility
	}
	if body.Name != nil && *body.Name != "" && strings.ToUpper(*body.Name) != name {
		delete(vars, name)
		v.Name = strings.ToUpper(*body.Name)
		vars[v.Name] = v
	}
	v.UpdatedAt = c.s.now()
	c.noContent()
}

// deleteVariable serves DELETE …/variables/{name}.
func (c *call) deleteVariable(scope varScope) {
	deleteEntry(c, scope)
}

// listRepoOrgVariables serves GET /repos/{owner}/{repo}/actions/organization-variables.
func (c *call) listRepoOrgVariables() {
	listRepoOrgEntries(c, func(ow *owner) map[string]*variable { return ow.Variables }, "variables", c.variableJSON)
}

// listSecrets serves the list endpoints of secrets.
func (c *call) listSecrets(scope secretScope) {
	listEntries(c, scope.secrets, "secrets", c.secretJSON)
}

// getSecret serves GET …/secrets/{name}.
func (c *call) getSecret(scope secretScope) {
	getEntry(c, scope.secrets, c.secretJSON)
}

// publicKey derives a stable key for a scope.
func publicKey(scope string) (id, key string) {
	sum := sha256.Sum256([]byte("cutover-sandbox:" + scope))
	n := uint64(0)
	for _, b := range sum[:8] {
		n = n<<8 | uint64(b)
	}
	return strconv.FormatUint(n%1_000_000_000_000_000_000, 10), base64.StdEncoding.EncodeToString(sum[:])
}

// getPublicKey serves GET …/secrets/public-key.
func (c *call) getPublicKey(scope secretScope) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	secrets, name := scope(c)
	if secrets == nil {
		return
	}
	id, key := publicKey(name)
	c.json(http.StatusOK, map[string]any{"key_id": id, "key": key})
}

// putSecret serves PUT …/secrets/{name}: 201 when created, 204 when updated.
func (c *call) putSecret(scope secretScope, org bool) {
	var body struct {
		EncryptedValue string `json:"encrypted_value"`
		KeyID          string `json:"key_id"`
		Visibility     string `json:"visibility"`
	}
	if !c.decode(&body) {
		return
	}
	if _, err := base64.StdEncoding.DecodeString(body.EncryptedValue); err != nil || body.EncryptedValue == "" {
		c.invalid(map[string]any{"resource": "Secret", "field": "encrypted_value", "code": "invalid"})
		return
	}
	name := strings.ToUpper(c.r.PathValue("name"))
	if strings.HasPrefix(name, "GITHUB_") {
		c.invalid(map[string]any{"resource": "Secret", "field": "name", "code": "custom", "message": "Secret names must not start with GITHUB_."})
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	secrets, _ := scope(c)
	if secrets == nil {
		return
	}
	now := c.s.now()
	if x := secrets[name]; x != nil {
		x.Value, x.UpdatedAt = body.EncryptedValue, now
		if org && body.Visibility != "" {
			x.Visibility = body.Visibility
		}
		c.noContent()
		return
	}
	x := &secret{Name: name, Value: body.EncryptedValue, CreatedAt: now, UpdatedAt: now}
	if org {
		x.Visibility = orDefault(body.Visibility, "all")
	}
	secrets[name] = x
	c.json(http.StatusCreated, map[string]any{})
}

// deleteSecret serves DELETE …/secrets/{name}.
func (c *call) deleteSecret(scope secretScope) {
	deleteEntry(c, scope.secrets)
}

// listRepoOrgSecrets serves GET /repos/{owner}/{repo}/actions/organization-secrets.
func (c *call) listRepoOrgSecrets() {
	listRepoOrgEntries(c, func(ow *owner) map[string]*secret { return ow.Secrets }, "secrets", c.secretJSON)
}

// entry is a variable or a secret, for the handlers the two share.
type entry interface {
	*variable | *secret
	visibility() string
}

func (v *variable) visibility() string { return v.Visibility }

func (x *secret) visibility() string { return x.Visibility }

// secrets is the scope without its public key's name, for the handlers
// secrets share with variables.
func (scope secretScope) secrets(c *call) map[string]*secret {
	secrets, _ := scope(c)
	return secrets
}

// listEntries serves the list endpoints of variables and secrets: the
// entries of the scope in name order, a page of them under key.
func listEntries[T entry](c *call, scope func(*call) map[string]T, key string, render func(T) map[string]any) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	m := scope(c)
	if m == nil {
		return
	}
	names := sortedNames(m)
	out := []any{}
	for _, n := range paginate(c, names) {
		out = append(out, render(m[n]))
	}
	c.json(http.StatusOK, map[string]any{"total_count": len(names), key: out})
}

// getEntry serves GET …/variables/{name} and GET …/secrets/{name}.
func getEntry[T entry](c *call, scope func(*call) map[string]T, render func(T) map[string]any) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	m := scope(c)
	if m == nil {
		return
	}
	x := m[strings.ToUpper(c.r.PathValue("name"))]
	if x == nil {
		c.notFound()
		return
	}
	c.json(http.StatusOK, render(x))
}

// deleteEntry serves DELETE …/variables/{name} and DELETE …/secrets/{name}.
func deleteEntry[T entry](c *call, scope func(*call) map[string]T) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	m := scope(c)
	if m == nil {
		return
	}
	name := strings.ToUpper(c.r.PathValue("name"))
	if m[name] == nil {
		c.notFound()
		return
	}
	delete(m, name)
	c.noContent()
}

// listRepoOrgEntries serves the organization entries a repository sees
// (those visible to all, and to private ones when it is private): a page
// of them under key.
func listRepoOrgEntries[T entry](c *call, of func(*owner) map[string]T, key string, render func(T) map[string]any) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp := c.repoLocked()
	if rp == nil {
		return
	}
	m := of(c.s.st.Owners[rp.Owner])
	var list []T
	for _, n := range sortedNames(m) {
		x := m[n]
		if v := x.visibility(); v == "all" || (v == "private" && rp.Private) {
			list = append(list, x)
		}
	}
	out := []any{}
	for _, x := range paginate(c, list) {
		out = append(out, render(x))
	}
	c.json(http.StatusOK, map[string]any{"total_count": len(list), key: out})
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// SecretOptions describe a secret set through the emulator's Go API.
type SecretOptions struct {
	// Value is the (encrypted) value; empty means a placeholder.
	Value string
	// Visibility is "all", "private" or "selected" for organization secrets; empty means "all".
	Visibility string
	// CreatedAt and UpdatedAt are the timestamps; zero means now.
	CreatedAt, UpdatedAt time.Time
}

// putSecretLocked stores a secret with the given timestamps.
func (s *Server) putSecretLocked(m map[string]*secret, name string, o SecretOptions, org bool) {
	now := s.now()
	if o.CreatedAt.IsZero() {
		o.CreatedAt = now
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = o.CreatedAt
	}
	x := &secret{Name: strings.ToUpper(name), Value: orDefault(o.Value, "c2FuZGJveA=="), CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
	if org {
		x.Visibility = orDefault(o.Visibility, "all")
	}
	m[x.Name] = x
}

// SetRepoSecret creates or replaces an Actions secret of owner/name.
func (s *Server) SetRepoSecret(owner, name, secretName string, o SecretOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.st.Repos[owner+"/"+name]
	if rp == nil {
		return errNoRepo(owner, name)
	}
	s.putSecretLocked(rp.Secrets, secretName, o, false)
	return nil
}

// SetEnvSecret creates or replaces a secret of environment env of owner/name,
// creating the environment when needed.
func (s *Server) SetEnvSecret(owner, name, env, secretName string, o SecretOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.st.Repos[owner+"/"+name]
	if rp == nil {
		return errNoRepo(owner, name)
	}
	s.putSecretLocked(s.envForLocked(rp, env).Secrets, secretName, o, false)
	return nil
}

// SetOrgSecret creates or replaces an organization secret, creating the
// organization when needed.
func (s *Server) SetOrgSecret(org, secretName string, o SecretOptions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putSecretLocked(s.ownerLocked(org, "").Secrets, secretName, o, true)
}

// SetRepoVariable creates or replaces an Actions variable of owner/name.
func (s *Server) SetRepoVariable(owner, name, varName, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.st.Repos[owner+"/"+name]
	if rp == nil {
		return errNoRepo(owner, name)
	}
	now := s.now()
	rp.Variables[strings.ToUpper(varName)] = &variable{Name: strings.ToUpper(varName), Value: value, CreatedAt: now, UpdatedAt: now}
	return nil
}

// RepoVariable returns the value of an Actions variable of owner/name.
func (s *Server) RepoVariable(owner, name, varName string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.st.Repos[owner+"/"+name]
	if rp == nil {
		return "", false
	}
	v := rp.Variables[strings.ToUpper(varName)]
	if v == nil {
		return "", false
	}
	return v.Value, true
}

// SetOrgVariable creates or replaces an organization variable; visibility
// is "all", "private" or "selected" (empty means "all").
func (s *Server) SetOrgVariable(org, varName, value, visibility string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	ow := s.ownerLocked(org, "")
	ow.Variables[strings.ToUpper(varName)] = &variable{Name: strings.ToUpper(varName), Value: value,
		Visibility: orDefault(visibility, "all"), CreatedAt: now, UpdatedAt: now}
}
