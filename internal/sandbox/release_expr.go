package sandbox

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// exprEnv resolves the contexts of a GitHub Actions expression: a path such
// as ["secrets", "NPM_TOKEN"] or ["vars", "CUTOVER_NPM_OIDC"] gives a value
// (nil, bool, float64 or string).
type exprEnv func(path []string) any

// interpolate replaces every ${{ expr }} of s with its value as a string,
// the way the runner fills in env and with values.
func interpolate(s string, env exprEnv) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${{")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return "", fmt.Errorf("unclosed expression in %q", s)
		}
		v, err := evalExpr(s[i+3:i+j], env)
		if err != nil {
			return "", err
		}
		b.WriteString(s[:i])
		b.WriteString(exprString(v))
		s = s[i+j+2:]
	}
}

// evalCondition evaluates an if: condition, with or without ${{ }}; an
// empty condition is true.
func evalCondition(s string, env exprEnv) (bool, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return true, nil
	}
	if strings.HasPrefix(s, "${{") && strings.HasSuffix(s, "}}") && strings.Count(s, "${{") == 1 {
		s = s[3 : len(s)-2]
	}
	v, err := evalExpr(s, env)
	if err != nil {
		return false, err
	}
	return truthy(v), nil
}

// evalExpr evaluates one expression (without ${{ }}). It knows literals,
// contexts, ! == != < <= > >= && || and parentheses, and the functions
// contains, startsWith, endsWith, success and always; see
// https://docs.github.com/actions/reference/workflows-and-actions/expressions
func evalExpr(src string, env exprEnv) (any, error) {
	p := &exprParser{src: src, env: env}
	p.next()
	v, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, fmt.Errorf("unexpected %q in expression %q", p.tok.text, src)
	}
	return v, nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokNumber
	tokOp
)

type token struct {
	kind tokKind
	text string
}

type exprParser struct {
	src string
	pos int
	tok token
	env exprEnv
	err error
}

func (p *exprParser) next() {
	s := p.src
	for p.pos < len(s) && (s[p.pos] == ' ' || s[p.pos] == '\t' || s[p.pos] == '\n' || s[p.pos] == '\r') {
		p.pos++
	}
	if p.pos >= len(s) {
		p.tok = token{kind: tokEOF}
		return
	}
	c := s[p.pos]
	switch {
	case c == '\'':
		var b strings.Builder
		i := p.pos + 1
		for {
			if i >= len(s) {
				p.err = fmt.Errorf("unclosed string in expression %q", s)
				p.tok = token{kind: tokEOF}
				return
			}
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					b.WriteByte('\'')
					i += 2
					continue
				}
				break
			}
			b.WriteByte(s[i])
			i++
		}
		p.tok, p.pos = token{tokString, b.String()}, i+1
	case c >= '0' && c <= '9' || c == '-' && p.pos+1 < len(s) && s[p.pos+1] >= '0' && s[p.pos+1] <= '9':
		i := p.pos + 1
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == 'x' || s[i] >= 'a' && s[i] <= 'f' || s[i] >= 'A' && s[i] <= 'F') {
			i++
		}
		p.tok, p.pos = token{tokNumber, s[p.pos:i]}, i
	case isIdentByte(c) && c != '-':
		i := p.pos + 1
		for i < len(s) && isIdentByte(s[i]) {
			i++
		}
		p.tok, p.pos = token{tokIdent, s[p.pos:i]}, i
	default:
		for _, op := range []string{"==", "!=", "<=", ">=", "&&", "||", "!", "<", ">", "(", ")", "[", "]", ".", ",", "*"} {
			if strings.HasPrefix(s[p.pos:], op) {
				p.tok, p.pos = token{tokOp, op}, p.pos+len(op)
				return
			}
		}
		p.err = fmt.Errorf("unexpected character %q in expression %q", c, s)
		p.tok = token{kind: tokEOF}
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *exprParser) isOp(op string) bool { return p.tok.kind == tokOp && p.tok.text == op }

func (p *exprParser) or() (any, error) {
	v, err := p.and()
	for err == nil && p.isOp("||") {
		p.next()
		var r any
		r, err = p.and()
		if !truthy(v) {
			v = r
		}
	}
	return v, p.errOr(err)
}

func (p *exprParser) and() (any, error) {
	v, err := p.cmp()
	for err == nil && p.isOp("&&") {
		p.next()
		var r any
		r, err = p.cmp()
		if truthy(v) {
			v = r
		}
	}
	return v, p.errOr(err)
}

func (p *exprParser) cmp() (any, error) {
	v, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokOp {
		op := p.tok.text
		switch op {
		case "==", "!=", "<", "<=", ">", ">=":
		default:
			return v, nil
		}
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		v = compare(op, v, r)
	}
	return v, nil
}

func (p *exprParser) unary() (any, error) {
	if p.isOp("!") {
		p.next()
		v, err := p.unary()
		return !truthy(v), err
	}
	return p.primary()
}

func (p *exprParser) primary() (any, error) {
	if p.err != nil {
		return nil, p.err
	}
	t := p.tok
	switch t.kind {
	case tokString:
		p.next()
		return t.text, nil
	case tokNumber:
		p.next()
		return toNumber(t.text), nil
	case tokOp:
		if t.text == "(" {
			p.next()
			v, err := p.or()
			if err != nil {
				return nil, err
			}
			if !p.isOp(")") {
				return nil, fmt.Errorf("missing ) in expression %q", p.src)
			}
			p.next()
			return v, nil
		}
	case tokIdent:
		p.next()
		switch t.text {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		if p.isOp("(") {
			return p.call(t.text)
		}
		path := []string{t.text}
		for {
			switch {
			case p.isOp("."):
				p.next()
				if p.tok.kind != tokIdent && !p.isOp("*") {
					return nil, fmt.Errorf("expected a property name after . in expression %q", p.src)
				}
				path = append(path, p.tok.text)
				p.next()
				continue
			case p.isOp("["):
				p.next()
				k, err := p.or()
				if err != nil {
					return nil, err
				}
				if !p.isOp("]") {
					return nil, fmt.Errorf("missing ] in expression %q", p.src)
				}
				p.next()
				path = append(path, exprString(k))
				continue
			}
			break
		}
		return p.env(path), nil
	}
	return nil, p.errOr(fmt.Errorf("unexpected %q in expression %q", t.text, p.src))
}

func (p *exprParser) call(name string) (any, error) {
	p.next() // (
	var args []any
	for !p.isOp(")") {
		v, err := p.or()
		if err != nil {
			return nil, err
		}
		args = append(args, v)
		if p.isOp(",") {
			p.next()
			continue
		}
		if !p.isOp(")") {
			return nil, fmt.Errorf("missing ) after the arguments of %s in expression %q", name, p.src)
		}
	}
	p.next()
	arg := func(i int) string {
		if i < len(args) {
			return strings.ToLower(exprString(args[i]))
		}
		return ""
	}
	switch strings.ToLower(name) {
	case "success", "always":
		return true, nil
	case "failure", "cancelled":
		return false, nil
	case "contains":
		return strings.Contains(arg(0), arg(1)), nil
	case "startswith":
		return strings.HasPrefix(arg(0), arg(1)), nil
	case "endswith":
		return strings.HasSuffix(arg(0), arg(1)), nil
	}
	return nil, fmt.Errorf("function %s is not modelled by the sandbox", name)
}

func (p *exprParser) errOr(err error) error {
	if err != nil {
		return err
	}
	return p.err
}

// truthy is GitHub's boolean coercion.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0 && !math.IsNaN(x)
	case string:
		return x != ""
	}
	return true
}

// compare applies a comparison the way GitHub does: strings compare without
// regard to case; mixed types compare as numbers.
func compare(op string, a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		c := strings.Compare(strings.ToLower(as), strings.ToLower(bs))
		return cmpResult(op, c)
	}
	x, y := num(a), num(b)
	if math.IsNaN(x) || math.IsNaN(y) {
		return op == "!="
	}
	c := 0
	if x < y {
		c = -1
	} else if x > y {
		c = 1
	}
	return cmpResult(op, c)
}

func cmpResult(op string, c int) bool {
	switch op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

func num(v any) float64 {
	switch x := v.(type) {
	case nil:
		return 0
	case bool:
		if x {
			return 1
		}
		return 0
	case float64:
		return x
	case string:
		if strings.TrimSpace(x) == "" {
			return 0
		}
		return toNumber(strings.TrimSpace(x))
	}
	return math.NaN()
}

func toNumber(s string) float64 {
	if strings.HasPrefix(s, "0x") {
		n, err := strconv.ParseInt(s[2:], 16, 64)
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// exprString is a value as the runner writes it into a string.
func exprString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}
