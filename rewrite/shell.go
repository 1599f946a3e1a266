package rewrite

import (
	"strings"
)

// shellCommand is one simple command of a script: its words with quotes
// removed, and the line offset (0-based) of its first word within the script.
type shellCommand struct {
	words []string
	line  int
}

// splitCommands splits a shell script into simple commands. It is not a shell
// parser: it knows quoting, comments, line continuations and the operators
// that separate commands (; & && || | newline, subshell and group brackets),
// which is what finding publish commands needs.
func splitCommands(script string) []shellCommand {
	var (
		out    []shellCommand
		words  []string
		cur    strings.Builder
		inWord bool
		line   int
		start  = -1
	)
	flushWord := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	flushCmd := func() {
		flushWord()
		if len(words) > 0 {
			out = append(out, shellCommand{words: words, line: start})
		}
		words, start = nil, -1
	}
	begin := func() {
		if start < 0 {
			start = line
		}
		inWord = true
	}
	rs := []rune(script)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '\\' && i+1 < len(rs) && rs[i+1] == '\n':
			i++
			line++
		case c == '\\' && i+2 < len(rs) && rs[i+1] == '\r' && rs[i+2] == '\n':
			i += 2
			line++
		case c == '\\' && i+1 < len(rs):
			begin()
			cur.WriteRune(rs[i+1])
			i++
		case c == '\'':
			begin()
			for i++; i < len(rs) && rs[i] != '\''; i++ {
				if rs[i] == '\n' {
					line++
				}
				cur.WriteRune(rs[i])
			}
		case c == '"':
			begin()
			for i++; i < len(rs) && rs[i] != '"'; i++ {
				if rs[i] == '\\' && i+1 < len(rs) {
					i++
				}
				if rs[i] == '\n' {
					line++
				}
				cur.WriteRune(rs[i])
			}
		case c == '#' && !inWord:
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			i--
		case c == '\n':
			flushCmd()
			line++
		case c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '`':
			flushCmd()
		case c == '$' && i+2 < len(rs) && rs[i+1] == '{' && rs[i+2] == '{':
			// A GitHub Actions expression is one word part, spaces and all.
			begin()
			for ; i < len(rs); i++ {
				cur.WriteRune(rs[i])
				if rs[i] == '}' && i > 0 && rs[i-1] == '}' {
					break
				}
			}
		case c == '$' && i+1 < len(rs) && rs[i+1] == '(':
			flushCmd()
			i++
		case c == ' ' || c == '\t' || c == '\r':
			flushWord()
		default:
			begin()
			cur.WriteRune(c)
		}
	}
	flushCmd()
	return out
}

// shellKeywords may precede a command word without being one.
var shellKeywords = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "do": true, "while": true,
	"until": true, "!": true, "{": true, "}": true, "time": true, "sudo": true,
	"exec": true, "command": true, "env": true, "nohup": true,
}

// commandWords strips keywords and leading VAR=value assignments.
func commandWords(words []string) []string {
	for len(words) > 0 {
		w := words[0]
		if shellKeywords[w] {
			words = words[1:]
			continue
		}
		if eq := strings.IndexByte(w, '='); eq > 0 && isEnvName(w[:eq]) {
			words = words[1:]
			continue
		}
		break
	}
	return words
}

func isEnvName(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// publishCall is what a command does that matters to detection.
type publishCall struct {
	// Tool is the publishing tool (npm, pnpm, yarn, yarn-berry, bun, lerna,
	// changesets, semantic-release, release-it, np, nx, rush).
	Tool string
	// Stage is true for npm stage publish.
	Stage bool
	// DryRun is true when the command only rehearses a publish.
	DryRun bool
	// Provenance is true when the command asks for provenance.
	Provenance bool
	// Registry is the --registry value, when given.
	Registry string
	// Script is set when the command runs a package.json script (Tool is then
	// the package manager) rather than publishing itself.
	Script string
	// Workspace names the workspace package the script belongs to, if any.
	Workspace string
	// Version is the version pinned in an npx-style call (semantic-release@25).
	Version string
	// Words is the command as written.
	Words []string
}

// toolOf splits "name@version" and strips scopes of known CLIs.
func toolOf(w string) (name, version string) {
	name = w
	if at := strings.LastIndexByte(w, '@'); at > 0 {
		name, version = w[:at], w[at+1:]
	}
	name = strings.TrimPrefix(name, "./node_modules/.bin/")
	name = strings.TrimPrefix(name, "node_modules/.bin/")
	switch name {
	case "@changesets/cli":
		name = "changeset"
	case "@lerna-lite/cli", "lerna-lite", "@lerna-lite/publish":
		name = "lerna"
	case "@release-it/cli":
		name = "release-it"
	}
	return name, version
}

func flagsOf(words []string) (dry, prov bool, registry string) {
	for i, w := range words {
		switch {
		case w == "--dry-run" || w == "--dryRun" || w == "--dry-run=true":
			dry = true
		case w == "--provenance" || w == "--provenance=true":
			prov = true
		case w == "--registry" && i+1 < len(words):
			registry = words[i+1]
		case strings.HasPrefix(w, "--registry="):
			registry = strings.TrimPrefix(w, "--registry=")
		}
	}
	return
}

// valueFlags take a separate value word in the package managers' CLIs.
var valueFlags = map[string]bool{
	"-w": true, "--workspace": true, "--prefix": true, "-C": true, "--dir": true,
	"--filter": true, "-F": true, "--registry": true, "--userconfig": true,
	"--loglevel": true, "--tag": true, "--access": true, "--otp": true, "--cwd": true,
	"-p": true, "--package": true, "--include": true, "--exclude": true, "-j": true,
	"--jobs": true, "--from": true, "--since": true, "--filter-prod": true,
}

// firstArg returns the index of the first non-flag word from i, skipping
// values of flags that take one.
func firstArg(words []string, i int) int {
	for ; i < len(words); i++ {
		w := words[i]
		if w == "--" {
			continue
		}
		if strings.HasPrefix(w, "-") {
			if valueFlags[w] {
				i++
			}
			continue
		}
		return i
	}
	return -1
}

func flagValue(words []string, names ...string) string {
	for i, w := range words {
		for _, n := range names {
			if w == n && i+1 < len(words) {
				return words[i+1]
			}
			if strings.HasPrefix(w, n+"=") {
				return strings.TrimPrefix(w, n+"=")
			}
		}
	}
	return ""
}

var pnpmBuiltins = map[string]bool{
	"install": true, "i": true, "add": true, "remove": true, "rm": true, "update": true, "up": true,
	"link": true, "unlink": true, "audit": true, "outdated": true, "list": true, "ls": true,
	"why": true, "store": true, "env": true, "setup": true, "init": true, "import": true,
	"rebuild": true, "prune": true, "fetch": true, "pack": true, "patch": true, "config": true,
	"approve-builds": true, "licenses": true, "deploy": true, "doctor": true, "server": true,
	"root": true, "bin": true, "ci": true, "install-test": true, "it": true, "version": true,
	"self-update": true, "create": true, "cache": true, "sbom": true,
}

var yarnBuiltins = map[string]bool{
	"install": true, "add": true, "remove": true, "up": true, "upgrade": true, "why": true,
	"info": true, "set": true, "config": true, "cache": true, "constraints": true, "plugin": true,
	"version": true, "pack": true, "link": true, "unlink": true, "init": true, "node": true,
	"bin": true, "rebuild": true, "dedupe": true, "explain": true, "patch": true, "stage": true,
	"login": true, "logout": true, "owner": true, "tag": true, "audit": true, "check": true,
	"global": true, "list": true, "outdated": true, "import": true, "licenses": true,
	"generate-lock-entry": true, "create": true, "policies": true, "team": true, "autoclean": true,
	"ci": true,
}

// publishTools are CLIs a package manager may run directly (pnpm lerna
// publish, yarn changeset publish) when no script of that name exists.
var publishTools = map[string]bool{
	"lerna": true, "changeset": true, "semantic-release": true, "release-it": true,
	"np": true, "nx": true, "rush": true,
}

// classify returns what a simple command does, or false when it does not
// publish or run a script.
func classify(words []string, depth int) (publishCall, bool) {
	words = commandWords(words)
	if len(words) == 0 || depth > 6 {
		return publishCall{}, false
	}
	head, version := toolOf(words[0])
	rest := words[1:]
	mk := func(tool string) publishCall {
		dry, prov, reg := flagsOf(words)
		return publishCall{Tool: tool, DryRun: dry, Provenance: prov, Registry: reg, Version: version, Words: words}
	}
	switch head {
	case "npx", "pnpx", "bunx":
		i := firstArg(rest, 0)
		if i < 0 {
			return publishCall{}, false
		}
		return classify(rest[i:], depth+1)
	case "corepack":
		return classify(rest, depth+1)
	case "npm":
		i := firstArg(rest, 0)
		if i < 0 {
			return publishCall{}, false
		}
		switch rest[i] {
		case "publish":
			return mk("npm"), true
		case "stage":
			if j := firstArg(rest, i+1); j >= 0 && rest[j] == "publish" {
				c := mk("npm")
				c.Stage = true
				return c, true
			}
		case "run", "run-script", "rs", "urn":
			if j := firstArg(rest, i+1); j >= 0 {
				c := mk("npm")
				c.Script = rest[j]
				c.Workspace = flagValue(rest[:i], "-w", "--workspace")
				if c.Workspace == "" {
					c.Workspace = flagValue(rest, "-w", "--workspace")
				}
				return c, true
			}
		case "exec", "x":
			if j := firstArg(rest, i+1); j >= 0 {
				return classify(rest[j:], depth+1)
			}
		}
	case "pnpm":
		i := firstArg(rest, 0)
		if i < 0 {
			return publishCall{}, false
		}
		sub := rest[i]
		switch {
		case sub == "publish":
			return mk("pnpm"), true
		case sub == "run" || sub == "run-script":
			if j := firstArg(rest, i+1); j >= 0 {
				c := mk("pnpm")
				c.Script = rest[j]
				c.Workspace = flagValue(rest, "--filter", "-F")
				return c, true
			}
		case sub == "exec" || sub == "dlx" || sub == "x":
			if j := firstArg(rest, i+1); j >= 0 {
				return classify(rest[j:], depth+1)
			}
		case publishTools[sub]:
			return classify(rest[i:], depth+1)
		case !pnpmBuiltins[sub]:
			c := mk("pnpm")
			c.Script = sub
			c.Workspace = flagValue(rest, "--filter", "-F")
			return c, true
		}
	case "yarn":
		i := firstArg(rest, 0)
		if i < 0 {
			return publishCall{}, false
		}
		sub := rest[i]
		switch {
		case sub == "publish":
			return mk("yarn"), true
		case sub == "npm":
			if j := firstArg(rest, i+1); j >= 0 && rest[j] == "publish" {
				return mk("yarn-berry"), true
			}
		case sub == "workspaces":
			j := firstArg(rest, i+1)
			if j >= 0 && rest[j] == "foreach" {
				if k := firstArg(rest, j+1); k >= 0 {
					return classify(append([]string{"yarn"}, rest[k:]...), depth+1)
				}
			}
		case sub == "workspace":
			j := firstArg(rest, i+1)
			if j >= 0 {
				c, ok := classify(append([]string{"yarn"}, rest[j+1:]...), depth+1)
				if ok && c.Script != "" && c.Workspace == "" {
					c.Workspace = rest[j]
				}
				return c, ok
			}
		case sub == "run":
			if j := firstArg(rest, i+1); j >= 0 {
				c := mk("yarn")
				c.Script = rest[j]
				return c, true
			}
		case sub == "exec" || sub == "dlx":
			if j := firstArg(rest, i+1); j >= 0 {
				return classify(rest[j:], depth+1)
			}
		case publishTools[sub]:
			return classify(rest[i:], depth+1)
		case !yarnBuiltins[sub]:
			c := mk("yarn")
			c.Script = sub
			return c, true
		}
	case "bun":
		i := firstArg(rest, 0)
		if i < 0 {
			return publishCall{}, false
		}
		switch rest[i] {
		case "publish":
			return mk("bun"), true
		case "run":
			if j := firstArg(rest, i+1); j >= 0 {
				c := mk("bun")
				c.Script = rest[j]
				return c, true
			}
		case "x":
			if j := firstArg(rest, i+1); j >= 0 {
				return classify(rest[j:], depth+1)
			}
		}
	case "lerna":
		if i := firstArg(rest, 0); i >= 0 && rest[i] == "publish" {
			return mk("lerna"), true
		}
		if i := firstArg(rest, 0); i >= 0 && rest[i] == "exec" {
			if j := firstArg(rest, i+1); j >= 0 {
				return classify(rest[j:], depth+1)
			}
		}
	case "changeset":
		if i := firstArg(rest, 0); i >= 0 && rest[i] == "publish" {
			return mk("changesets"), true
		}
	case "semantic-release":
		c := mk("semantic-release")
		return c, true
	case "release-it":
		c := mk("release-it")
		return c, true
	case "np":
		c := mk("np")
		return c, true
	case "nx":
		i := firstArg(rest, 0)
		if i >= 0 && rest[i] == "release" {
			j := firstArg(rest, i+1)
			if j < 0 || rest[j] == "publish" {
				return mk("nx"), true
			}
		}
	case "rush":
		if i := firstArg(rest, 0); i >= 0 && rest[i] == "publish" {
			c := mk("rush")
			c.DryRun = !containsWord(rest, "--publish") && !containsWord(rest, "-p")
			return c, true
		}
	}
	return publishCall{}, false
}

func containsWord(ws []string, w string) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}
