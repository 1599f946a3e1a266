package rewrite

import "testing"

// TestRegistryHost checks the host of ID-token audiences: npm asks for
// "npm:" + the registry URL's hostname, without a port.
func TestRegistryHost(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://npm-registry.invalid/", "npm-registry.invalid"},
		{"http://127.0.0.1:4873/", "127.0.0.1"},
		{"https://npm-registry.invalid:8443/npm/", "npm-registry.invalid"},
		{"", ""},
	} {
		if got := RegistryHost(tt.in); got != tt.want {
			t.Errorf("RegistryHost(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
