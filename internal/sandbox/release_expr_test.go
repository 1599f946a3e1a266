package sandbox

import "testing"

func testEnv(p []string) any {
	if len(p) < 2 {
		return nil
	}
	switch p[0] + "." + p[1] {
	case "vars.CUTOVER_NPM_OIDC":
		return "true"
	case "secrets.NPM_TOKEN":
		return "tok"
	case "secrets.npm-token":
		return "passed"
	}
	return nil
}

func TestInterpolate(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"${{ secrets.NPM_TOKEN }}", "tok"},
		{"${{ secrets.npm-token }}", "passed"},
		{"${{ secrets['NPM_TOKEN'] }}", "tok"},
		{"${{ vars.CUTOVER_NPM_OIDC != 'true' && secrets.NPM_TOKEN || '' }}", ""},
		{"${{ vars.CUTOVER_NPM_OIDC == 'true' && secrets.NPM_TOKEN || '' }}", "tok"},
		{"${{ vars.CUTOVER_NPM_OIDC == 'TRUE' && 'case-insensitive' || 'no' }}", "case-insensitive"},
		{"${{ vars.MISSING != 'true' && secrets.NPM_TOKEN || '' }}", "tok"},
		{"${{ !vars.MISSING }}", "true"},
		{"a-${{ 1 == 1.0 }}-${{ null }}-b", "a-true--b"},
		{"${{ contains('Hello', 'ELL') && startsWith('abc', 'a') }}", "true"},
		{"${{ (1 < 2) && ('it''s' == 'IT''S') }}", "true"},
		{"${{ '' || 0 || false }}", "false"},
	}
	for _, tc := range tests {
		got, err := interpolate(tc.in, testEnv)
		if err != nil || got != tc.want {
			t.Errorf("interpolate(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"${{ secrets.X", "${{ 'open }}", "${{ (1 }}", "${{ nosuch(1) }}", "${{ 1 2 }}", "${{ # }}"} {
		if _, err := interpolate(bad, testEnv); err == nil {
			t.Errorf("interpolate(%q) did not fail", bad)
		}
	}
	for in, want := range map[string]bool{
		"": true, "vars.CUTOVER_NPM_OIDC == 'true'": true, "${{ vars.CUTOVER_NPM_OIDC != 'true' }}": false,
		"success()": true, "failure()": false,
	} {
		if got, err := evalCondition(in, testEnv); err != nil || got != want {
			t.Errorf("evalCondition(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestNPMSpecOK(t *testing.T) {
	t.Parallel()
	for spec, want := range map[string]bool{
		"latest": true, "^11.5.1": true, "^11.0.0": true, "11": true, "11.5.1": true, "11.5.0": false,
		"~11.4.0": false, "~11.6.0": true, "11.4": false, "11.5": true, "10": false, "^10.9.2": false, "12.0.0": true, ">=11": true,
	} {
		if got := npmSpecOK(spec); got != want {
			t.Errorf("npmSpecOK(%q) = %v, want %v", spec, got, want)
		}
	}
}

func FuzzInterpolate(f *testing.F) {
	for _, s := range []string{"${{ a.b && 'x' || c['d'] }}", "${{ !(1 <= 2) }}", "x${{''}}y", "${{ f(1, 'a') }}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = interpolate(s, testEnv)
		_, _ = evalCondition(s, testEnv)
	})
}
