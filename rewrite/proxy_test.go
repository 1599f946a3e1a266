package rewrite

import "testing"

func TestPipelineProxyFor(t *testing.T) {
	t.Parallel()
	all := Pipeline{Proxy: "https://proxy.example.invalid/"}
	scoped := Pipeline{Proxy: "https://proxy.example.invalid/", ProxyScopes: []string{"@acme"}}
	tests := []struct {
		name string
		p    Pipeline
		pkg  string
		want bool
	}{
		{"no proxy", Pipeline{}, "@acme/x", false},
		{"default registry is the proxy", all, "tool", true},
		{"unknown name through a proxy", all, "", true},
		{"package in the scope", scoped, "@acme/core", true},
		{"scope compared without case", scoped, "@ACME/core", true},
		{"unscoped package", scoped, "tool", false},
		{"other scope", scoped, "@other/core", false},
		{"scope-like name without a slash", scoped, "@acme", false},
		{"unknown name, scoped proxy: conservative", scoped, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.p.ProxyFor(tt.pkg); got != tt.want {
				t.Errorf("ProxyFor(%q) = %v, want %v", tt.pkg, got, tt.want)
			}
		})
	}
	r := &Result{Pipelines: []Pipeline{{}, scoped}}
	if got := r.ProxyFor("@acme/core"); got != scoped.Proxy {
		t.Errorf("Result.ProxyFor(@acme/core) = %q", got)
	}
	if got := r.ProxyFor("tool"); got != "" {
		t.Errorf("Result.ProxyFor(tool) = %q, want none", got)
	}
}

func TestScopeRegistryRe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line, scope, url string
	}{
		{`echo "@acme:registry=https://proxy.example.invalid/" >> .npmrc`, "@acme", "https://proxy.example.invalid/"},
		{`npm config set @Acme:registry https://proxy.example.invalid/npm/`, "@Acme", "https://proxy.example.invalid/npm/"},
		{`@my-org.x:registry = 'https://proxy.example.invalid/'`, "@my-org.x", "https://proxy.example.invalid/"},
		{`registry=https://proxy.example.invalid/`, "", ""},
		{`//proxy.example.invalid/:_authToken=${NPM_TOKEN}`, "", ""},
	}
	for _, tt := range tests {
		m := scopeRegistryRe.FindStringSubmatch(tt.line)
		var scope, url string
		if m != nil {
			scope, url = m[1], m[2]
		}
		if scope != tt.scope || url != tt.url {
			t.Errorf("%q: scope %q url %q, want %q %q", tt.line, scope, url, tt.scope, tt.url)
		}
	}
}
