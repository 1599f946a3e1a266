package ghapi

import (
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// publicRead is what anyone may do on a public repository: read it.
var publicRead = map[string]string{
	PermMetadata: Read, PermContents: Read, PermPullRequests: Read, PermIssues: Read,
	PermChecks: Read, PermStatuses: Read, PermActions: Read, PermEnvironments: Read,
}

// anonymous is the identity of a request without a token; it shares one
// budget of 60 requests an hour, as an IP address does on GitHub.
var anonymous = &Identity{Login: "", ID: 0, Type: "User", Permissions: publicRead}

// anonymousLimit is GitHub's primary limit for requests without a token.
const anonymousLimit = 60

// classicScopes maps a classic token's scopes to the permissions they give.
var classicScopes = map[string]map[string]string{
	"repo": {
		PermContents: Write, PermPullRequests: Write, PermIssues: Write, PermStatuses: Write,
		PermChecks: Write, PermVariables: Write, PermSecrets: Write, PermEnvironments: Write,
		PermAdministration: Write, PermActions: Write,
	},
	"workflow":  {PermWorkflows: Write},
	"admin:org": {PermOrgSecrets: Write, PermOrgVariables: Write, PermOrgAdministration: Write},
}

// scopesFor returns the classic scopes that permissions amount to.
func scopesFor(perms map[string]string) []string {
	var out []string
	for scope, grants := range classicScopes {
		for name := range grants {
			if level(perms[name]) >= level(Write) {
				out = append(out, scope)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// permsForScopes returns the permissions classic scopes give.
func permsForScopes(scopes []string) map[string]string {
	out := map[string]string{}
	for _, s := range scopes {
		for name, lvl := range classicScopes[s] {
			out[name] = lvl
		}
	}
	return out
}

// classic completes a token's identity for a classic token: its
// permissions from its scopes, or, for a "ghp_" token whose permissions are
// exactly what classic scopes give, those scopes. (A "ghp_" token
// registered with another permission set stays a fine-grained one, as
// tests that need a partial grant register them.)
func classic(token string, id *Identity) {
	switch {
	case id.Scopes != nil && len(id.Permissions) == 0:
		id.Permissions = permsForScopes(id.Scopes)
	case id.Scopes == nil && strings.HasPrefix(token, "ghp_") && id.App == nil:
		perms := normalizePerms(id.Permissions)
		scopes := scopesFor(perms)
		if maps.Equal(normalizePerms(permsForScopes(scopes)), perms) {
			id.Scopes = scopes
		}
	}
}

// inScope reports whether the identity reaches owner's resources.
func (id *Identity) inScope(owner string) bool {
	return len(id.Owners) == 0 || slices.ContainsFunc(id.Owners, func(o string) bool { return strings.EqualFold(o, owner) })
}

// scope applies the token's reach before the endpoint runs: a classic
// token answers X-OAuth-Scopes; outside its owners a token, like a request
// without one, sees public repositories read-only and private ones not at
// all (404). It answers and returns false when the request ends here.
func (c *call) scope() bool {
	if c.id.Scopes != nil {
		c.w.Header().Set("X-OAuth-Scopes", strings.Join(c.id.Scopes, ", "))
	}
	owner := c.r.PathValue("owner")
	if owner == "" {
		owner = c.r.PathValue("org")
	}
	var rp *repo
	c.s.mu.Lock()
	if strings.Contains(c.route.pattern, " /repositories/{id}/") {
		n, _ := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
		for _, x := range c.s.st.Repos {
			if x.ID == n {
				rp = x
			}
		}
		if rp != nil {
			owner = rp.Owner
		}
	} else if name := c.r.PathValue("repo"); name != "" {
		rp = c.s.st.Repos[owner+"/"+name]
	}
	c.s.mu.Unlock()
	if c.id == anonymous {
		c.public = true
	} else if owner != "" && !c.id.inScope(owner) {
		c.public = true
		cp := *c.id
		cp.Permissions = publicRead
		c.id = &cp
	}
	if !c.public {
		return true
	}
	if rp != nil && rp.Private {
		c.notFound()
		return false
	}
	if c.id == anonymous && (owner == "" && c.route.pattern != "GET /rate_limit" || !c.id.satisfies(c.route.needs)) {
		c.error(http.StatusUnauthorized, "Requires authentication")
		return false
	}
	return true
}
