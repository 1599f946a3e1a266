package reports

import (
	"testing"

	"github.com/cutover/cutover/internal/logging"
)

// TestTokenShaped checks the fast filter against the redactor's token
// patterns (a Redactor without values):
// it may say yes too often, never too seldom.
func TestTokenShaped(t *testing.T) {
	t.Parallel()
	re := &logging.Redactor{}
	for _, s := range []string{
		"", "npm_", "npm_Ab12", "high ghost", "ghx_" + "abcdefghijklmnopqrstuvwxyz",
		"x npm_abcdefghijklmnopqrst y", "npm_abcdefghijklmnopqrs", "ghp_abcdefghijklmnopqrst",
		"gho_abcdefghij_klmnopqrst", "github_pat_11ABCDEFG0123456789_abcdef", "sghr_0123456789012345678901",
		"npm_abc npm_abcdefghijklmnopqrstuvwxyz", "ghgh_ghs_abcdefghijklmnopqrstu",
	} {
		if want := re.Contains(s); want && !tokenShaped([]byte(s)) {
			t.Errorf("tokenShaped(%q) = false, but the redactor's pattern matches", s)
		}
	}
}

func FuzzTokenShaped(f *testing.F) {
	re := &logging.Redactor{}
	f.Add("npm_abcdefghijklmnopqrstuvwxyz")
	f.Add("ghs_ghp_abcdefghijklmnopqrstu")
	f.Fuzz(func(t *testing.T, s string) {
		if re.Contains(s) && !tokenShaped([]byte(s)) {
			t.Errorf("tokenShaped(%q) = false, but the redactor's pattern matches", s)
		}
	})
}
