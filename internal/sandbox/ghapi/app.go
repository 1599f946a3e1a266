package ghapi

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// App is a GitHub App registered in the emulator. It signs in as GitHub
// Apps do: a JWT signed with the App's private key (RS256, issuer the App
// id, at most ten minutes long) is exchanged for an installation token
// that expires.
type App struct {
	// ID is the App's numeric id, the JWT's issuer.
	ID int64
	// Slug names the App; its installation tokens act as "SLUG[bot]".
	// Empty means "cutover-sandbox".
	Slug string
	// PublicKey verifies the App's JWTs.
	PublicKey *rsa.PublicKey
	// TokenLifetime is how long an installation token lives; zero means an
	// hour, as on GitHub.
	TokenLifetime time.Duration
	// Owner is the login of the account that owns the App; empty means
	// the account of its first installation.
	Owner string
}

// Installation is an App installed on an organisation or user.
type Installation struct {
	// ID is the installation's id; zero means one is assigned.
	ID int64
	// Account is the organisation or user the App is installed on.
	Account string
	// Permissions are what the installation's tokens may do (see the Perm
	// constants).
	Permissions map[string]string
}

// appState holds the registered Apps, their installations and the
// installation tokens minted so far, with their expiry.
type appState struct {
	mu     sync.Mutex
	apps   map[int64]*App
	insts  map[int64]*installation
	tokens map[string]appToken
}

type installation struct {
	Installation
	appID int64
}

type appToken struct {
	inst    int64
	expires time.Time
}

// AddApp registers app and installs it as each of insts, returning them
// with their ids filled in. Registering an App again replaces it (its
// earlier installations stay).
func (s *Server) AddApp(app App, insts ...Installation) []Installation {
	if app.Slug == "" {
		app.Slug = "cutover-sandbox"
	}
	if app.TokenLifetime <= 0 {
		app.TokenLifetime = time.Hour
	}
	a := &s.apps
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.apps == nil {
		a.apps, a.insts, a.tokens = map[int64]*App{}, map[int64]*installation{}, map[string]appToken{}
	}
	a.apps[app.ID] = &app
	out := make([]Installation, len(insts))
	for i, in := range insts {
		if in.ID == 0 {
			s.mu.Lock()
			in.ID = s.st.id()
			s.mu.Unlock()
		}
		in.Permissions = normalizePerms(in.Permissions)
		a.insts[in.ID] = &installation{Installation: in, appID: app.ID}
		out[i] = in
	}
	return out
}

// tokenExpired reports whether token is an installation token past its
// expiry; it forgets such a token.
func (s *Server) tokenExpired(token string) bool {
	a := &s.apps
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.tokens[token]
	if !ok || s.now().Before(t.expires) {
		return false
	}
	delete(a.tokens, token)
	return true
}

// tokenInstallation returns the installation an installation token was
// minted for.
func (s *Server) tokenInstallation(token string) (*installation, bool) {
	a := &s.apps
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.tokens[token]
	if !ok {
		return nil, false
	}
	in, ok := a.insts[t.inst]
	return in, ok
}

// appRoutes registers the endpoints of the App flow. The JWT endpoints do
// not go through the token pipeline: a JWT is not a token.
func (s *Server) appRoutes() {
	s.jwtHandle("GET /app", func(c *call, app *App) {
		var owner string
		perms := map[string]string{}
		insts := 0
		s.findInstallation(app.ID, func(in *installation) bool {
			if owner == "" {
				owner = in.Account
			}
			for k, v := range in.Permissions {
				if level(v) > level(perms[k]) {
					perms[k] = v
				}
			}
			insts++
			return false
		})
		if app.Owner != "" {
			owner = app.Owner
		}
		if owner == "" {
			owner = "sandbox"
		}
		s.mu.Lock()
		body := c.appJSON(&AppIdentity{ID: app.ID, Slug: app.Slug, Name: app.Slug, Owner: owner})
		s.mu.Unlock()
		body["permissions"], body["installations_count"] = perms, insts
		c.json(http.StatusOK, body)
	})
	installationOf := func(c *call, app *App) {
		account := c.r.PathValue("org")
		if account == "" {
			account = c.r.PathValue("username")
		}
		in := s.findInstallation(app.ID, func(in *installation) bool { return strings.EqualFold(in.Account, account) })
		if in == nil {
			c.notFound()
			return
		}
		c.json(http.StatusOK, c.installationJSON(app, in))
	}
	s.jwtHandle("GET /orgs/{org}/installation", installationOf)
	s.jwtHandle("GET /users/{username}/installation", installationOf)
	s.jwtHandle("GET /app/installations/{id}", func(c *call, app *App) {
		if in := s.pathInstallation(c, app); in != nil {
			c.json(http.StatusOK, c.installationJSON(app, in))
		}
	})
	s.jwtHandle("POST /app/installations/{id}/access_tokens", func(c *call, app *App) {
		in := s.pathInstallation(c, app)
		if in == nil {
			return
		}
		tok, expires := s.mintInstallationToken(app, in)
		perms := map[string]string{}
		for k, v := range in.Permissions {
			if k == PermVariables {
				k = "actions_variables" // as GitHub names it here
			}
			perms[k] = v
		}
		c.json(http.StatusCreated, map[string]any{
			"token": tok, "expires_at": expires.Format(time.RFC3339),
			"permissions": perms, "repository_selection": "all",
		})
	})
	s.handle("GET /installation/repositories", "", (*call).installationRepos)
}

// mintInstallationToken registers a new installation token for in.
func (s *Server) mintInstallationToken(app *App, in *installation) (string, time.Time) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	tok := "ghs_" + hex.EncodeToString(b[:])
	expires := s.now().Add(app.TokenLifetime).Truncate(time.Second)
	s.AddToken(tok, Identity{Login: app.Slug + "[bot]", Type: "Bot", Permissions: in.Permissions,
		App: &AppIdentity{ID: app.ID, Slug: app.Slug, Name: app.Slug, Owner: in.Account}, Owners: []string{in.Account}})
	a := &s.apps
	a.mu.Lock()
	a.tokens[tok] = appToken{inst: in.ID, expires: expires}
	a.mu.Unlock()
	return tok, expires
}

func (s *Server) findInstallation(appID int64, match func(*installation) bool) *installation {
	a := &s.apps
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([]int64, 0, len(a.insts))
	for id := range a.insts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if in := a.insts[id]; in.appID == appID && match(in) {
			return in
		}
	}
	return nil
}

// pathInstallation returns the App's installation named by {id}, or
// answers 404.
func (s *Server) pathInstallation(c *call, app *App) *installation {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	var in *installation
	if err == nil {
		in = s.findInstallation(app.ID, func(in *installation) bool { return in.ID == id })
	}
	if in == nil {
		c.notFound()
	}
	return in
}

func (c *call) installationJSON(app *App, in *installation) map[string]any {
	c.s.mu.Lock()
	id, typ := c.s.userIDLocked(in.Account)
	login := in.Account
	if ow, ok := c.s.st.Owners[in.Account]; ok {
		login, id, typ = ow.Login, ow.ID, ow.Type
	}
	account := c.userJSON(login, id, typ)
	c.s.mu.Unlock()
	created := ts(time.Unix(1700000000, 0))
	settings := c.web + "settings/installations/" + strconv.FormatInt(in.ID, 10)
	if typ == "Organization" {
		settings = c.web + "organizations/" + login + "/settings/installations/" + strconv.FormatInt(in.ID, 10)
	}
	return map[string]any{
		"id": in.ID, "app_id": in.appID, "app_slug": app.Slug, "account": account,
		"target_id": id, "target_type": account["type"],
		"permissions": in.Permissions, "events": []string{}, "repository_selection": "all",
		"single_file_name": nil, "has_multiple_single_files": false, "single_file_paths": []string{},
		"access_tokens_url": fmt.Sprintf("%sapp/installations/%d/access_tokens", c.api, in.ID),
		"repositories_url":  c.api + "installation/repositories",
		"html_url":          settings,
		"created_at":        created, "updated_at": created,
		"suspended_by": nil, "suspended_at": nil,
	}
}

// jwtHandle registers pattern as an endpoint of the App flow: it is listed
// in Routes and served by fn after [Server.jwtRoute].
func (s *Server) jwtHandle(pattern string, fn func(*call, *App)) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, s.jwtRoute(fn))
}

// jwtRoute authenticates a request with an App's JWT before fn, answering
// 401 as GitHub does for a missing, malformed, badly signed, expired or
// too long JWT, or one whose issuer is no App.
func (s *Server) jwtRoute(fn func(*call, *App)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, w: w, r: r}
		c.setURLs()
		if r.Method == http.MethodGet {
			defer c.conditional()()
		}
		raw := requestToken(r)
		if raw == "" {
			c.error(http.StatusUnauthorized, "A JSON web token could not be decoded")
			return
		}
		app, err := s.verifyJWT(raw)
		if err != nil {
			c.error(http.StatusUnauthorized, err.Error())
			return
		}
		// An App has a rate limit of its own for what it does with its
		// JWT; its budget is kept apart from every user's (negative ids).
		c.id = &Identity{Login: app.Slug, ID: -app.ID, Type: "Bot"}
		if !s.limiter.primary(c, false) {
			return
		}
		fn(c, app)
	}
}

// verifyJWT checks an App JWT against the registered Apps' public keys and
// the emulator's clock.
func (s *Server) verifyJWT(raw string) (*App, error) {
	claims := &jwt.RegisteredClaims{}
	var app *App
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if t.Method != jwt.SigningMethodRS256 {
			return nil, fmt.Errorf("the JWT is signed with %v, not RS256", t.Header["alg"])
		}
		id, err := strconv.ParseInt(claims.Issuer, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("the JWT's issuer %q is not an App id", claims.Issuer)
		}
		s.apps.mu.Lock()
		app = s.apps.apps[id]
		s.apps.mu.Unlock()
		if app == nil {
			return nil, fmt.Errorf("no App has the id %d", id)
		}
		return app.PublicKey, nil
	}, jwt.WithoutClaimsValidation())
	if err != nil {
		//lint:ignore ST1005 GitHub's own message, quoted
		return nil, fmt.Errorf("A JSON web token could not be decoded: %v", err)
	}
	now := s.now()
	switch {
	case claims.ExpiresAt == nil || claims.IssuedAt == nil:
		return nil, fmt.Errorf("'Issued at' and 'Expiration time' claims are required")
	case !now.Before(claims.ExpiresAt.Time):
		return nil, fmt.Errorf("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
	case claims.ExpiresAt.Sub(claims.IssuedAt.Time) > 10*time.Minute+time.Minute:
		return nil, fmt.Errorf("'Expiration time' claim ('exp') is too far in the future")
	case claims.IssuedAt.After(now.Add(time.Minute)):
		return nil, fmt.Errorf("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued")
	}
	return app, nil
}

// installationRepos serves GET /installation/repositories: the
// repositories of the installation's account (the installation holds all
// of them).
func (c *call) installationRepos() {
	in, ok := c.s.tokenInstallation(requestToken(c.r))
	if !ok {
		c.error(http.StatusForbidden, "This endpoint requires an installation token")
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	var repos []*repo
	for _, rp := range c.s.st.Repos {
		if strings.EqualFold(rp.Owner, in.Account) {
			repos = append(repos, rp)
		}
	}
	slices.SortFunc(repos, func(a, b *repo) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	out := []any{}
	for _, rp := range paginate(c, repos) {
		out = append(out, c.repoJSON(rp))
	}
	c.json(http.StatusOK, map[string]any{"total_count": len(repos), "repository_selection": "all", "repositories": out})
}
