package ghapi

import "strings"

// Fine-grained permission names, as GitHub names them for fine-grained
// personal access tokens and GitHub Apps.
const (
	PermMetadata          = "metadata"
	PermContents          = "contents"
	PermPullRequests      = "pull_requests"
	PermIssues            = "issues"
	PermWorkflows         = "workflows"
	PermVariables         = "variables"
	PermSecrets           = "secrets"
	PermEnvironments      = "environments"
	PermAdministration    = "administration"
	PermActions           = "actions"
	PermChecks            = "checks"
	PermStatuses          = "statuses"
	PermOrgSecrets        = "organization_secrets"
	PermOrgVariables      = "organization_variables"
	PermOrgAdministration = "organization_administration"
)

// Permission levels, from weakest to strongest.
const (
	Read  = "read"
	Write = "write"
	Admin = "admin"
)

// permAliases maps other spellings to the names above.
var permAliases = map[string]string{
	"actions_variables":              PermVariables,
	"organization_actions_variables": PermOrgVariables,
	"workflow":                       PermWorkflows,
	"pull_request":                   PermPullRequests,
	"statuses_write":                 PermStatuses,
}

// AllPermissions returns write access to every permission the emulator checks.
func AllPermissions() map[string]string {
	return map[string]string{
		PermMetadata: Read, PermContents: Write, PermPullRequests: Write, PermIssues: Write,
		PermWorkflows: Write, PermVariables: Write, PermSecrets: Write, PermEnvironments: Write,
		PermAdministration: Write, PermActions: Write, PermChecks: Write, PermStatuses: Write,
		PermOrgSecrets: Write, PermOrgVariables: Write, PermOrgAdministration: Write,
	}
}

// Identity is who a token acts as and what it may do.
type Identity struct {
	// Login is the user name; empty means "sandbox-user".
	Login string `json:"login"`
	// ID is the user's numeric id; zero means one is assigned.
	ID int64 `json:"id"`
	// Type is "User" (the default) or "Bot".
	Type string `json:"type,omitempty"`
	// Permissions maps a permission name (see the Perm constants; GitHub's
	// spellings such as "actions_variables" are accepted) to "read", "write"
	// or "admin". Metadata read is always granted.
	Permissions map[string]string `json:"permissions"`
	// App makes the identity a GitHub App installation acting as its bot;
	// only App identities may create check runs, as on GitHub.
	App *AppIdentity `json:"app,omitempty"`
	// Owners are the accounts whose repositories the token reaches (a
	// fine-grained token's resource owner, an installation's account, the
	// organisations a classic token's user belongs to); empty means every
	// owner. Elsewhere it sees public repositories read-only and private
	// ones not at all, for the API and git alike.
	Owners []string `json:"owners,omitempty"`
	// Scopes makes the token a classic one: it answers X-OAuth-Scopes with
	// them. Nil for a token starting with "ghp_" means the scopes its
	// permissions amount to; fine-grained and App tokens have none.
	Scopes []string `json:"scopes,omitempty"`
}

// AppIdentity is the GitHub App an installation identity acts for, as its
// check runs show it.
type AppIdentity struct {
	ID    int64  `json:"id"`
	Slug  string `json:"slug"`
	Name  string `json:"name"`
	Owner string `json:"owner"` // login of the account that owns the App
}

// level ranks a permission level; unknown levels rank as none.
func level(l string) int {
	switch strings.ToLower(l) {
	case Read:
		return 1
	case Write:
		return 2
	case Admin:
		return 3
	}
	return 0
}

// normalizePerms returns perms with GitHub's aliases folded in.
func normalizePerms(perms map[string]string) map[string]string {
	out := map[string]string{PermMetadata: Read}
	for k, v := range perms {
		k = strings.ToLower(k)
		if a, ok := permAliases[k]; ok {
			k = a
		}
		if level(v) > level(out[k]) {
			out[k] = strings.ToLower(v)
		}
	}
	return out
}

// Can reports whether the identity holds permission name at least at level lvl.
func (id *Identity) Can(name, lvl string) bool {
	if a, ok := permAliases[name]; ok {
		name = a
	}
	return level(id.Permissions[name]) >= level(lvl)
}

// need is one way to satisfy a route: a permission at a level.
type need struct{ name, level string }

// parseNeeds parses "contents:write|workflows:write" (any of) into needs.
func parseNeeds(spec string) []need {
	if spec == "" {
		return nil
	}
	var out []need
	for _, alt := range strings.Split(spec, "|") {
		name, lvl, _ := strings.Cut(alt, ":")
		out = append(out, need{name, lvl})
	}
	return out
}

// satisfies reports whether id meets any of needs.
func (id *Identity) satisfies(needs []need) bool {
	if len(needs) == 0 {
		return true
	}
	for _, n := range needs {
		if id.Can(n.name, n.level) {
			return true
		}
	}
	return false
}

// acceptedHeader renders needs as GitHub's X-Accepted-GitHub-Permissions.
func acceptedHeader(needs []need) string {
	parts := make([]string, len(needs))
	for i, n := range needs {
		parts[i] = n.name + "=" + n.level
	}
	return strings.Join(parts, "; ")
}
