package cli

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

func TestParseRepoList(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, in, org string
		want          []string
		err           string
	}{
		{name: "empty", in: "", org: "acme", want: nil},
		{name: "full names", in: "acme/a\nother/b\n", want: []string{"acme/a", "other/b"}},
		{name: "bare names in the org", in: "a\n  b  \n", org: "acme", want: []string{"acme/a", "acme/b"}},
		{name: "comments and blank lines", in: "# wave 2\n\nacme/a   # the first\n\t\n#acme/x\nacme/b", want: []string{"acme/a", "acme/b"}},
		{name: "duplicates once, case-insensitively", in: "acme/a\nACME/A\nacme/a\n", want: []string{"acme/a"}},
		{name: "windows line ends and a BOM", in: "\ufeffacme/a\r\nacme/b\r\n", want: []string{"acme/a", "acme/b"}},
		{name: "dots, dashes, underscores", in: "acme/my.lib-2_x\n", want: []string{"acme/my.lib-2_x"}},
		{name: "bare name without an org", in: "a\n", err: `line 1: "a": want OWNER/NAME (NAME alone needs [github] org or CUTOVER_ORG)`},
		{name: "three parts", in: "acme/a\nacme/b/c\n", org: "acme", err: `line 2: "acme/b/c": want OWNER/NAME or NAME`},
		{name: "a URL", in: "https://github.invalid/acme/a\n", org: "acme", err: "line 1:"},
		{name: "spaces inside", in: "acme/a b\n", org: "acme", err: `line 1: "acme/a b"`},
		{name: "dot dot", in: "acme/..\n", org: "acme", err: "want OWNER/NAME or NAME"},
		{name: "empty owner", in: "/a\n", org: "acme", err: "want OWNER/NAME or NAME"},
		{name: "a very long line", in: strings.Repeat("a", 5000), org: "acme", err: "longer than 4096 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseRepoList(strings.NewReader(tt.in), tt.org)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzParseRepoList(f *testing.F) {
	for _, s := range []string{"acme/a\n# c\n\nb\n", "\ufeffa\r\n", "a/b/c", "#", "acme/a # x # y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseRepoList(strings.NewReader(in), "acme")
		if err != nil {
			return
		}
		for _, n := range got {
			owner, name, ok := strings.Cut(n, "/")
			if !ok || !repoPartRE.MatchString(owner) || !repoPartRE.MatchString(name) || strings.ContainsAny(n, "# \t\r\n") {
				t.Fatalf("%q gave the name %q", in, n)
			}
		}
		// Every name read is one the list holds: parsing it again gives the same.
		again, err := parseRepoList(strings.NewReader(strings.Join(got, "\n")), "acme")
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("%q: %q, then %q (%v)", in, got, again, err)
		}
	})
}

// runStdin runs cutover against the sandbox with stdin.
func (c *npmCLI) runStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	args = append(args, "--ledger", c.ledger)
	var out, errb bytes.Buffer
	code := Main(t.Context(), args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb}, func(k string) string { return c.env[k] })
	return result{code: code, out: out.String(), err: errb.String()}
}

// TestSelectionFlagsOnSandbox chooses repositories with --repo, --skip-repo,
// --topic and --repos-file (stdin too) on inventory, plan, status and flag,
// against the sandbox GitHub; inventory skips and counts archived
// repositories and forks.
func TestSelectionFlagsOnSandbox(t *testing.T) {
	t.Parallel()
	c := newNPMCLI(t, 6)
	for name, o := range map[string]ghapi.RepoOptions{
		"attic":    {Archived: true},
		"old-fork": {Fork: true},
		"tagged":   {Topics: []string{"campaign-x"}},
		"tagged-2": {Topics: []string{"Campaign-X", "other"}},
	} {
		o.Files = map[string][]byte{"README.md": []byte("# " + name + "\n")}
		if err := c.w.API.CreateRepo("acme", name, o); err != nil {
			t.Fatal(err)
		}
	}
	archived := 1
	for _, r := range c.p.Repos {
		if r.Archived {
			archived++
		}
	}
	mustCode := func(r result, code int, what string) result {
		t.Helper()
		if r.code != code {
			t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, code, r.out, r.err)
		}
		return r
	}

	inv := mustCode(c.runStdin(t, "", "inventory"), ExitOK, "inventory")
	if want := "skipped " + strconv.Itoa(archived) + " archived, 1 forks; pass --include-archived/--include-forks"; !strings.Contains(inv.out, want) {
		t.Errorf("inventory does not say %q:\n%s", want, inv.out)
	}
	if strings.Contains(inv.out, "acme/attic") || strings.Contains(inv.out, "acme/old-fork") || !strings.Contains(inv.out, "acme/tagged-2") {
		t.Errorf("inventory listed an archived repository or a fork, or missed one:\n%s", inv.out)
	}
	// Named, a fork needs --include-forks; unknown names are errors naming them.
	r := mustCode(c.runStdin(t, "", "inventory", "--repo", "old-fork"), ExitFatal, "inventory --repo old-fork")
	if !strings.Contains(r.err, "acme/old-fork is a fork (pass --include-forks)") {
		t.Errorf("inventory --repo old-fork:\n%s", r.err)
	}
	r = mustCode(c.runStdin(t, "", "inventory", "--repo", "old-fork", "--include-forks"), ExitOK, "inventory --include-forks")
	if !strings.Contains(r.out, "acme/old-fork") || !strings.Contains(r.out, "inventory: 1 repositories") {
		t.Errorf("inventory --repo old-fork --include-forks:\n%s", r.out)
	}
	r = mustCode(c.runStdin(t, "acme/tagged\n# a comment\n\nno-such-repo\n", "inventory", "--repos-file", "-"), ExitUsage, "inventory with an unknown repository")
	if !strings.Contains(r.err, "unknown repository acme/no-such-repo") {
		t.Errorf("unknown repository not named:\n%s", r.err)
	}
	r = mustCode(c.runStdin(t, "acme/tagged\nacme/a/b\n", "status", "--repos-file", "-"), ExitUsage, "status with a bad list")
	if !strings.Contains(r.err, `--repos-file stdin: line 2: "acme/a/b"`) {
		t.Errorf("bad list line not named:\n%s", r.err)
	}

	// plan and status keep to the selection; topics compare without case.
	pl := mustCode(c.runStdin(t, "", "plan", "--topic", "campaign-x"), ExitOK, "plan --topic")
	for _, want := range []string{"acme/tagged:", "acme/tagged-2:"} {
		if !strings.Contains(pl.out, want) {
			t.Errorf("plan --topic campaign-x misses %s:\n%s", want, pl.out)
		}
	}
	if n := strings.Count(pl.out, "\n  acme/"); n != 2 {
		t.Errorf("plan --topic campaign-x lists %d repositories, want 2:\n%s", n, pl.out)
	}
	mustCode(c.runStdin(t, "", "status", "--repo", "acme/nope"), ExitUsage, "status --repo acme/nope")

	// flag off by topic, by a list on stdin, minus --skip-repo.
	fl := mustCode(c.runStdin(t, "# the tagged ones\ntagged\nacme/tagged-2 # second\n", "flag", "off", "--repos-file", "-", "--skip-repo", "acme/tagged-2"), ExitOK, "flag off --repos-file -")
	if !strings.Contains(fl.out, "acme/tagged ") || strings.Contains(fl.out, "acme/tagged-2") || !strings.Contains(fl.out, "flag off: 1 repositories") {
		t.Errorf("flag off from stdin:\n%s", fl.out)
	}
	if v, ok := c.w.API.RepoVariable("acme", "tagged", "CUTOVER_NPM_OIDC"); !ok || v != "false" {
		t.Errorf("acme/tagged's flag is %q (%v), want false", v, ok)
	}
	if _, ok := c.w.API.RepoVariable("acme", "tagged-2", "CUTOVER_NPM_OIDC"); ok {
		t.Error("the skipped repository's flag was set")
	}
	r = mustCode(c.runStdin(t, "", "flag", "off", "--topic", "campaign-x", "--skip-repo", "tagged", "--skip-repo", "tagged-2"), ExitFatal, "flag off with nothing left")
	if !strings.Contains(r.err, "no repositories left") {
		t.Errorf("empty selection:\n%s", r.err)
	}
	r = mustCode(c.runStdin(t, "", "flag", "off", "--skip-repo", "tagged"), ExitUsage, "flag off with only --skip-repo")
	if !strings.Contains(r.err, "give --wave N, --repo OWNER/NAME, --repos-file FILE or --topic TOPIC") {
		t.Errorf("flag off --skip-repo alone:\n%s", r.err)
	}
}
