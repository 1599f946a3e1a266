package config

import (
	"strings"
	"testing"
)

func TestOwners(t *testing.T) {
	t.Parallel()
	c, err := Parse("owners.toml", []byte(`
[[owners]]
repos = ["acme/web-*", "acme/site"]
owner = "@acme/web"

[[owners]]
repos = ["acme/*"]
owner = "@acme/platform"
`))
	if err != nil {
		t.Fatal(err)
	}
	for repo, want := range map[string]string{
		"acme/web-shop": "@acme/web", "acme/site": "@acme/web", "acme/api": "@acme/platform", "other/web-shop": "",
	} {
		if got := c.OwnerOf(repo); got != want {
			t.Errorf("OwnerOf(%q) = %q, want %q", repo, got, want)
		}
	}
	for _, tc := range []struct {
		name  string
		owner Owners
		want  string
	}{
		{"no owner", Owners{Repos: []string{"acme/x"}}, "owners.owner: an [[owners]] table names no owner"},
		{"no repos", Owners{Owner: "@acme/x"}, `owners.repos: the [[owners]] table of "@acme/x" names no repositories`},
		{"bad glob", Owners{Repos: []string{"acme/["}, Owner: "@acme/x"}, `owners.repos: "acme/[" is not a repository pattern`},
		{"no slash", Owners{Repos: []string{"web-*"}, Owner: "@acme/x"}, `owners.repos: "web-*" is not a repository pattern`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Owners = []Owners{tc.owner}
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
