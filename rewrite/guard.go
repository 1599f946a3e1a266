package rewrite

import (
	"fmt"
	"regexp"
	"strings"
)

// The guard is the one shape the oidc playbook writes around every token
// expression of a feed:
//
//	${{ vars.FLAG != 'true' && secrets.NPM_TOKEN || '' }}
//
// The token flows exactly while the repository variable FLAG is not 'true'.
// Detection decides, with guardOf, whether each feed is guarded
// (TokenFeed.Guarded); lint, cleanup and sweep's drift check read that
// field and never look at the text themselves.

// guardInnerRe matches the inside of a guarded expression; group 1 is the
// flag variable, group 2 the token operand.
var guardInnerRe = regexp.MustCompile(`^vars\.([A-Za-z_][A-Za-z0-9_]*)\s*!=\s*'+true'+\s*&&\s*(.+?)\s*\|\|\s*'+'+$`)

// guardOf reports whether every token expression in text (a value or a
// script) is wrapped in the exact flag guard for flag. issue is set when the
// text reads the flag but the guard is not that shape (inverted, a token as
// the fallback, another token read next to the guarded one): the token
// path is then not switched off by the flag.
func guardOf(text, flag string) (guarded bool, issue string) {
	if flag == "" {
		return false, ""
	}
	mentions := strings.Contains(text, "vars."+flag)
	exact, other := 0, 0
	var bad string
	for _, e := range exprRe.FindAllString(text, -1) {
		inner := strings.TrimSpace(e[3 : len(e)-2])
		if _, cred := credentialValue(e); !cred {
			continue
		}
		if exactGuard(inner, flag) {
			exact++
			continue
		}
		other++
		if bad == "" {
			bad = e
		}
	}
	// A token value written outside any expression is never switched off.
	if strings.Contains(text, "npm_") && literalTokenRe.MatchString(exprRe.ReplaceAllString(text, "")) {
		other++
		if bad == "" {
			bad = "a literal token"
		}
	}
	switch {
	case exact > 0 && other == 0:
		return true, ""
	case !mentions:
		return false, ""
	case exact > 0:
		return false, fmt.Sprintf("partial guard: %s is read outside the vars.%s guard, so a token flows whatever the flag says", bad, flag)
	case bad != "" && invertedRe(flag).MatchString(bad):
		return false, fmt.Sprintf("inverted guard: %s sends the token exactly when vars.%s is 'true'", bad, flag)
	case bad != "":
		return false, fmt.Sprintf("guard is not the exact shape ${{ vars.%s != 'true' && <token> || '' }}: %s can still send the token while the flag is on", flag, bad)
	}
	return false, ""
}

// exactGuard reports whether an expression's inside is the oidc playbook's
// guard for flag around one operand: a bare reference, or a parenthesised
// expression, with no operator that could let the token through.
func exactGuard(inner, flag string) bool {
	m := guardInnerRe.FindStringSubmatch(inner)
	if m == nil || m[1] != flag {
		return false
	}
	op := m[2]
	if strings.HasPrefix(op, "(") && strings.HasSuffix(op, ")") && unparen(op) != op {
		return !strings.Contains(op[1:len(op)-1], "vars."+flag)
	}
	return !strings.ContainsAny(op, "|&=!<>() ")
}

func invertedRe(flag string) *regexp.Regexp {
	return regexp.MustCompile(`vars\.` + regexp.QuoteMeta(flag) + `\s*(==\s*'+true'+|!=\s*'+false'+|!=\s*'')`)
}

// feedGuard sets f.Guarded and f.GuardIssue from the text that carries f.
func feedGuard(f *TokenFeed, text, flag string) {
	f.Guarded, f.GuardIssue = guardOf(text, flag)
}
