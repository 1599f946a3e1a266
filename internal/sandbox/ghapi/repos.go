package ghapi

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/cutover/cutover/internal/sandbox/githttp"
)

// RepoOptions describe a new repository. The zero value is a public
// repository of an organization with an empty main branch.
type RepoOptions struct {
	// Description is the repository's description.
	Description string
	// Private makes the repository private.
	Private bool
	// Visibility is "public", "private" or "internal"; empty follows Private.
	Visibility string
	// Fork, Archived, Disabled and IsTemplate set the flags of the same names.
	Fork, Archived, Disabled, IsTemplate bool
	// NoIssues turns issues off (has_issues false).
	NoIssues bool
	// Topics are the repository's topics.
	Topics []string
	// Language is the primary language GitHub would detect.
	Language string
	// DefaultBranch is the default branch; empty means "main".
	DefaultBranch string
	// Files are the contents of the first commit (path → bytes).
	Files map[string][]byte
	// Executable lists the paths of Files whose mode is 100755.
	Executable []string
	// Author signs the first commit; empty means a sandbox user at the emulator's time.
	Author object.Signature
	// Message is the first commit's message; empty means "Initial commit".
	Message string
	// OwnerType is "Organization" (the default) or "User".
	OwnerType string
	// CreatedAt is the creation time; zero means now.
	CreatedAt time.Time
}

// CreateRepo creates the repository owner/name in git and in the API, and
// the owner when it is new.
func (s *Server) CreateRepo(ownerLogin, name string, o RepoOptions) error {
	s.mu.Lock()
	_, exists := s.st.Repos[ownerLogin+"/"+name]
	s.mu.Unlock()
	if exists {
		return fmt.Errorf("could not create %q: %w", ownerLogin+"/"+name, githttp.ErrRepoExists)
	}
	branch := o.DefaultBranch
	if branch == "" {
		branch = "main"
	}
	now := s.now()
	created := o.CreatedAt
	if created.IsZero() {
		created = now
	}
	author := o.Author
	if author.Name == "" {
		author = object.Signature{Name: "Sandbox", Email: "sandbox@users.noreply.invalid", When: created}
	}
	if _, err := s.opts.Git.CreateRepo(ownerLogin, name, githttp.InitOptions{
		Branch: branch, Files: o.Files, Executable: o.Executable, Author: author, Message: o.Message,
	}); err != nil {
		return err
	}
	vis := o.Visibility
	if vis == "" {
		vis = "public"
		if o.Private {
			vis = "private"
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ow := s.ownerLocked(ownerLogin, o.OwnerType)
	s.st.Repos[ownerLogin+"/"+name] = &repo{
		ID: s.st.id(), Owner: ow.Login, Name: name, Description: o.Description,
		Private: vis != "public", Visibility: vis, Fork: o.Fork, Archived: o.Archived, Disabled: o.Disabled,
		IsTemplate: o.IsTemplate, HasIssues: !o.NoIssues, Topics: append([]string{}, o.Topics...),
		Language: o.Language, DefaultBranch: branch, CreatedAt: created, UpdatedAt: created, PushedAt: created,
		NextNumber: 1, Issues: map[int]*issue{}, Comments: map[int][]*comment{}, Labels: map[string]*label{},
		CheckRuns: map[string][]*checkRun{}, Statuses: map[string][]*status{}, Variables: map[string]*variable{},
		Secrets: map[string]*secret{}, Environments: map[string]*environment{},
	}
	return nil
}

// ownerLocked returns the owner login, creating it with type typ if needed.
func (s *Server) ownerLocked(login, typ string) *owner {
	if ow, ok := s.st.Owners[login]; ok {
		return ow
	}
	if typ == "" {
		typ = "Organization"
	}
	ow := &owner{Login: login, ID: s.st.id(), Type: typ, Variables: map[string]*variable{}, Secrets: map[string]*secret{}}
	s.st.Owners[login] = ow
	return ow
}

// userID returns the numeric id of a login: a token's user, an owner, or a
// stable made-up id.
func (s *Server) userIDLocked(login string) (int64, string) {
	for _, id := range s.st.Tokens {
		if id.Login == login {
			return id.ID, id.Type
		}
	}
	if ow, ok := s.st.Owners[login]; ok {
		return ow.ID, ow.Type
	}
	h := fnv.New32a()
	h.Write([]byte(login))
	return 1_000_000 + int64(h.Sum32()%1_000_000), "User"
}

// loginByID finds the login of a user id, for reviewers given by id.
func (s *Server) loginByIDLocked(id int64) string {
	for _, t := range s.st.Tokens {
		if t.ID == id {
			return t.Login
		}
	}
	for _, ow := range s.st.Owners {
		if ow.ID == id {
			return ow.Login
		}
	}
	return fmt.Sprintf("user%d", id)
}

// user renders a login as a user object; s.mu must be held.
func (c *call) user(login string) map[string]any {
	if login == "" {
		return nil
	}
	id, typ := c.s.userIDLocked(login)
	return c.userJSON(login, id, typ)
}

// repoLocked finds the repository of the request's owner and repo path
// values; s.mu must be held. It answers 404 and returns nil when missing.
func (c *call) repoLocked() *repo {
	rp := c.s.st.Repos[c.r.PathValue("owner")+"/"+c.r.PathValue("repo")]
	if rp == nil {
		c.notFound()
	}
	return rp
}

// repoJSON renders a repository as GitHub does.
func (c *call) repoJSON(rp *repo) map[string]any {
	full := rp.Owner + "/" + rp.Name
	api := c.api + "repos/" + full
	ow := c.s.st.Owners[rp.Owner]
	out := map[string]any{
		"id":                rp.ID,
		"node_id":           nodeID("R", rp.ID),
		"name":              rp.Name,
		"full_name":         full,
		"owner":             c.userJSON(ow.Login, ow.ID, ow.Type),
		"private":           rp.Private,
		"visibility":        rp.Visibility,
		"description":       rp.Description,
		"fork":              rp.Fork,
		"archived":          rp.Archived,
		"disabled":          rp.Disabled,
		"is_template":       rp.IsTemplate,
		"has_issues":        rp.HasIssues,
		"topics":            rp.Topics,
		"language":          nilIfEmpty(rp.Language),
		"default_branch":    rp.DefaultBranch,
		"created_at":        ts(rp.CreatedAt),
		"updated_at":        ts(rp.UpdatedAt),
		"pushed_at":         ts(rp.PushedAt),
		"url":               api,
		"html_url":          c.web + full,
		"clone_url":         c.git + full + ".git",
		"git_url":           gitProtocolURL(c.git) + full + ".git",
		"ssh_url":           "git@sandbox.invalid:" + full + ".git",
		"size":              0,
		"open_issues_count": openIssues(rp),
		"permissions": map[string]bool{
			"admin":    c.id.Can(PermAdministration, Write),
			"maintain": c.id.Can(PermAdministration, Write),
			"push":     c.id.Can(PermContents, Write),
			"triage":   c.id.Can(PermIssues, Write),
			"pull":     c.id.Can(PermContents, Read),
		},
		"allow_merge_commit": true,
		"allow_squash_merge": true,
		"allow_rebase_merge": true,
		"homepage":           nil,
		"mirror_url":         nil,
		"license":            nil,
		"forks":              0,
		"forks_count":        0,
		"stargazers_count":   0,
		"watchers":           0,
		"watchers_count":     0,
		"open_issues":        openIssues(rp),
		"network_count":      0,
		"subscribers_count":  0,
		"has_downloads":      true,
		"has_projects":       false,
		"has_wiki":           false,
		"has_pages":          false,
		"has_discussions":    false,
		"svn_url":            c.web + full,
	}
	// The hypermedia links every repository object carries.
	for k, v := range map[string]string{
		"archive_url": "/{archive_format}{/ref}", "assignees_url": "/assignees{/user}",
		"blobs_url": "/git/blobs{/sha}", "branches_url": "/branches{/branch}",
		"collaborators_url": "/collaborators{/collaborator}", "comments_url": "/comments{/number}",
		"commits_url": "/commits{/sha}", "compare_url": "/compare/{base}...{head}",
		"contents_url": "/contents/{+path}", "contributors_url": "/contributors",
		"deployments_url": "/deployments", "downloads_url": "/downloads", "events_url": "/events",
		"forks_url": "/forks", "git_commits_url": "/git/commits{/sha}", "git_refs_url": "/git/refs{/sha}",
		"git_tags_url": "/git/tags{/sha}", "hooks_url": "/hooks",
		"issue_comment_url": "/issues/comments{/number}", "issue_events_url": "/issues/events{/number}",
		"issues_url": "/issues{/number}", "keys_url": "/keys{/key_id}", "labels_url": "/labels{/name}",
		"languages_url": "/languages", "merges_url": "/merges", "milestones_url": "/milestones{/number}",
		"notifications_url": "/notifications{?since,all,participating}", "pulls_url": "/pulls{/number}",
		"releases_url": "/releases{/id}", "stargazers_url": "/stargazers", "statuses_url": "/statuses/{sha}",
		"subscribers_url": "/subscribers", "subscription_url": "/subscription", "tags_url": "/tags",
		"teams_url": "/teams", "trees_url": "/git/trees{/sha}",
	} {
		out[k] = api + v
	}
	return out
}

func openIssues(rp *repo) int {
	n := 0
	for _, is := range rp.Issues {
		if is.State == "open" {
			n++
		}
	}
	return n
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// listOwnerRepos serves GET /orgs/{org}/repos and GET /users/{owner}/repos.
func (c *call) listOwnerRepos() {
	login := c.r.PathValue("org")
	if login == "" {
		login = c.r.PathValue("owner")
	}
	q := c.r.URL.Query()
	typ, sortBy, dir := q.Get("type"), q.Get("sort"), q.Get("direction")
	if sortBy == "" {
		sortBy = "created"
	}
	if dir == "" {
		dir = "desc"
		if sortBy == "full_name" {
			dir = "asc"
		}
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if _, ok := c.s.st.Owners[login]; !ok {
		c.notFound()
		return
	}
	var repos []*repo
	for _, rp := range c.s.st.Repos {
		if rp.Owner != login || (c.public && rp.Private) {
			continue
		}
		switch typ {
		case "public":
			if rp.Visibility != "public" {
				continue
			}
		case "private":
			if !rp.Private {
				continue
			}
		case "forks":
			if !rp.Fork {
				continue
			}
		case "sources":
			if rp.Fork {
				continue
			}
		}
		repos = append(repos, rp)
	}
	sort.Slice(repos, func(i, j int) bool {
		a, b := repos[i], repos[j]
		if dir == "desc" {
			a, b = b, a
		}
		var less, eq bool
		switch sortBy {
		case "updated":
			less, eq = a.UpdatedAt.Before(b.UpdatedAt), a.UpdatedAt.Equal(b.UpdatedAt)
		case "pushed":
			less, eq = a.PushedAt.Before(b.PushedAt), a.PushedAt.Equal(b.PushedAt)
		case "full_name":
			less, eq = strings.ToLower(a.Name) < strings.ToLower(b.Name), strings.EqualFold(a.Name, b.Name)
		default:
			less, eq = a.CreatedAt.Before(b.CreatedAt), a.CreatedAt.Equal(b.CreatedAt)
		}
		if eq {
			return a.ID < b.ID
		}
		return less
	})
	out := []any{}
	for _, rp := range paginate(c, repos) {
		out = append(out, c.repoJSON(rp))
	}
	c.json(http.StatusOK, out)
}

// getRepo serves GET /repos/{owner}/{repo}.
func (c *call) getRepo() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if rp := c.repoLocked(); rp != nil {
		c.json(http.StatusOK, c.repoJSON(rp))
	}
}

// getOrg serves GET /orgs/{org}.
func (c *call) getOrg() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	ow, ok := c.s.st.Owners[c.r.PathValue("org")]
	if !ok || ow.Type != "Organization" {
		c.notFound()
		return
	}
	o := c.api + "orgs/" + ow.Login
	created := ts(time.Unix(1600000000, 0))
	public := 0
	for _, rp := range c.s.st.Repos {
		if rp.Owner == ow.Login && !rp.Private {
			public++
		}
	}
	c.json(http.StatusOK, map[string]any{
		"login": ow.Login, "id": ow.ID, "node_id": nodeID("O", ow.ID), "type": ow.Type,
		"url": o, "html_url": c.web + ow.Login, "avatar_url": c.web + ow.Login + ".png",
		"repos_url": o + "/repos", "events_url": o + "/events", "hooks_url": o + "/hooks",
		"issues_url": o + "/issues", "members_url": o + "/members{/member}",
		"public_members_url": o + "/public_members{/member}", "description": nil,
		"has_organization_projects": false, "has_repository_projects": false,
		"public_repos": public, "public_gists": 0, "followers": 0, "following": 0,
		"created_at": created, "updated_at": created, "archived_at": nil,
	})
}

// gitProtocolURL turns an http(s) base URL into a git:// one.
func gitProtocolURL(base string) string {
	_, rest, ok := strings.Cut(base, "://")
	if !ok {
		return base
	}
	return "git://" + rest
}
