package ghapi

import "net/http"

// getUser serves GET /user: the token's identity.
func (c *call) getUser() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	u := c.userJSON(c.id.Login, c.id.ID, c.id.Type)
	u["name"] = c.id.Login
	u["user_view_type"] = "private"
	now := ts(c.s.now())
	for k, v := range map[string]any{
		"bio": nil, "blog": "", "company": nil, "email": nil, "hireable": nil, "location": nil,
		"followers": 0, "following": 0, "public_gists": 0, "public_repos": 0, "private_gists": 0,
		"created_at": now, "updated_at": now, "collaborators": 0, "disk_usage": 0,
		"owned_private_repos": 0, "total_private_repos": 0, "two_factor_authentication": true,
	} {
		u[k] = v
	}
	c.json(http.StatusOK, u)
}

// getRateLimit serves GET /rate_limit; it costs nothing from the budget.
func (c *call) getRateLimit() {
	if c.s.limiter.disabled() {
		c.error(http.StatusNotFound, "Rate limiting is not enabled.")
		return
	}
	r := c.s.limiter.rate(c.id.ID)
	core := map[string]any{"limit": r.Limit, "remaining": r.Remaining, "used": r.Used, "reset": ceilUnix(r.Reset), "resource": "core"}
	other := func(name string, limit int) map[string]any {
		return map[string]any{"limit": limit, "remaining": limit, "used": 0, "reset": ceilUnix(r.Reset), "resource": name}
	}
	c.json(http.StatusOK, map[string]any{
		"resources": map[string]any{
			"core": core, "search": other("search", 30), "graphql": other("graphql", 5000),
			"integration_manifest": other("integration_manifest", 5000), "code_search": other("code_search", 10),
		},
		"rate": core,
	})
}
