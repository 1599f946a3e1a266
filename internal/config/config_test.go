package config

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
)

const examplePath = "../../config.example.toml"

// TestExampleMatchesSchema keeps config.example.toml and the Config struct in
// step: every key of the example decodes strictly, every field of the struct
// is in the example, and the example's values are the defaults.
func TestExampleMatchesSchema(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("config.example.toml", data)
	if err != nil {
		t.Fatalf("the example does not decode strictly:\n%v", err)
	}
	if diff := cmp.Diff(Default(), got); diff != "" {
		t.Errorf("the example's values differ from Default() (-default +example):\n%s", diff)
	}

	var raw map[string]any
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range Keys() {
		if !md.IsDefined(strings.Split(key, ".")...) {
			t.Errorf("config.example.toml does not document %q; add it with its default and a comment", key)
		}
	}
	var exampleKeys []string
	for _, k := range md.Keys() {
		if md.Type(k...) != "Hash" {
			exampleKeys = append(exampleKeys, k.String())
		}
	}
	if diff := cmp.Diff(Keys(), exampleKeys); diff != "" {
		t.Errorf("keys of the schema and of the example differ (-schema +example):\n%s", diff)
	}
}

func TestKeysHaveComments(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	idx := newLineIndex(data)
	for _, key := range Keys() {
		line := idx.line(strings.Split(key, "."))
		if line < 2 || !strings.HasPrefix(strings.TrimSpace(lines[line-2]), "#") {
			t.Errorf("key %q (line %d) has no comment right above it in config.example.toml", key, line)
		}
	}
}

func TestParseEmptyIsDefault(t *testing.T) {
	t.Parallel()
	got, err := Parse("empty.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseValues(t *testing.T) {
	t.Parallel()
	src := `
[npm]
registry = "https://npm-registry.invalid"
token_env = "MY_NPM"

[github]
org = "acme-corp"
api_url = "https://ghe.invalid/api/v3/"

[secrets]
env = []

[scan]
max_file_bytes = 2048
manual_docs = ["docs/PUBLISH.md"]

[rewrite]
flag_var = "USE_OIDC"
npm_version = "~11.6.0"
`
	got, err := Parse("c.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.NPM = NPM{Registry: "https://npm-registry.invalid", TokenEnv: "MY_NPM", TokenOwner: []TokenOwner{}}
	want.GitHub.Org = "acme-corp"
	want.GitHub.APIURL = "https://ghe.invalid/api/v3/"
	want.Secrets.Env = []string{}
	want.Scan = Scan{MaxFileBytes: 2048, ManualDocs: []string{"docs/PUBLISH.md"}}
	want.Rewrite = Rewrite{FlagVar: "USE_OIDC", NPMVersion: "~11.6.0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"MY_NPM", "GITHUB_TOKEN"}, got.SecretEnvNames()); diff != "" {
		t.Errorf("SecretEnvNames (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string // every error, in order
	}{
		{
			name: "unknown key with suggestion",
			src:  "[npm]\nregistry = \"\"\n\nregisty = \"x\"\n",
			want: []string{`config "c.toml": line 4: unknown key "registy" in [npm] (did you mean "registry"?)`},
		},
		{
			name: "unknown key sharing a word",
			src:  "[scan]\nmax_bytes = 10\n",
			want: []string{`config "c.toml": line 2: unknown key "max_bytes" in [scan] (did you mean "max_file_bytes"?)`},
		},
		{
			name: "unknown key without a near one",
			src:  "[log]\ncolourful = true\n",
			want: []string{`config "c.toml": line 2: unknown key "colourful" in [log] (want one of: level, format)`},
		},
		{
			name: "unknown table reported once",
			src:  "# zzz\n[zzz]\nsize = 3\nname = \"x\"\n",
			want: []string{`config "c.toml": line 2: unknown table [zzz] (want one of: owners, npm, github, log, secrets, scan, rewrite, campaign, waves, pr, flag, schedule, sweep, lint, circleci, dashboard)`},
		},
		{
			name: "misspelt table",
			src:  "[gihub]\norg = \"acme\"\n",
			want: []string{`config "c.toml": line 1: unknown table [gihub] (did you mean "github"?)`},
		},
		{
			name: "top-level key",
			src:  "org = \"acme\"\n",
			want: []string{`config "c.toml": line 1: unknown key "org" at the top level (did you mean "github.org"?)`},
		},
		{
			name: "dotted key",
			src:  "npm.registy = \"x\"\n",
			want: []string{`config "c.toml": line 1: unknown key "registy" in [npm] (did you mean "registry"?)`},
		},
		{
			name: "quoted key",
			src:  "[log]\n\"levle\" = \"info\"\n",
			want: []string{`config "c.toml": line 2: unknown key "levle" in [log] (did you mean "level"?)`},
		},
		{
			name: "inline table",
			src:  "# c\nlog = { level = \"info\", formt = \"json\" }\n",
			want: []string{`config "c.toml": line 2: unknown key "formt" in [log] (did you mean "format"?)`},
		},
		{
			name: "key after a multi-line string",
			src:  "[npm]\nregistry = \"\"\"\nfake = 1\n\"\"\"\n[github]\nfake = 2\n",
			want: []string{
				`config "c.toml": line 2: npm.registry: "fake = 1" is not an absolute http(s) URL`,
				`config "c.toml": line 6: unknown key "fake" in [github] (did you mean "app"?)`,
			},
		},
		{
			name: "all errors, by line",
			src:  "[log]\nlevel = \"loud\"\nformat = \"xml\"\n[npm]\ntokn_env = \"X\"\n[github]\norg = \"-bad\"\n",
			want: []string{
				`config "c.toml": line 2: log.level: "loud" is not a log level; want one of debug, info, warn, error`,
				`config "c.toml": line 3: log.format: "xml" is not a log format; want one of auto, text, json`,
				`config "c.toml": line 5: unknown key "tokn_env" in [npm] (did you mean "token_env"?)`,
				`config "c.toml": line 7: github.org: "-bad" is not a GitHub organisation name (letters, digits and hyphens, at most 39)`,
			},
		},
		{
			name: "github app without a key",
			src:  "[github.app]\nid = 12\n",
			want: []string{`config "c.toml": line 1: github.app: the App needs its private key: set private_key_file (a PEM file) or private_key_env (a variable holding the PEM)`},
		},
		{
			name: "github app with two keys and no id",
			src:  "[github.app]\ninstallation_id = -1\nprivate_key_file = \"k.pem\"\nprivate_key_env = \"K\"\n",
			want: []string{
				`config "c.toml": github.app.id: 0: want the App's numeric id (the "App ID" of its settings page)`,
				`config "c.toml": line 1: github.app: set private_key_file or private_key_env, not both`,
				`config "c.toml": line 2: github.app.installation_id: -1: want the installation's numeric id, or leave it out to find the installation on [github] org`,
			},
		},
		{
			name: "syntax error",
			src:  "[npm]\nregistry = \n",
			want: []string{`config "c.toml": line 2: expected value but found '\n' instead`},
		},
		{
			// Type errors do not stop the check: each is reported with its
			// line, next to unknown keys, invalid values and cron specs
			// (in the right element of an array of tables).
			name: "six problems, six errors",
			src: `[scan]
max_file_bytes = "big"

[campaign]
concurrency = "eight"
branch = 7

[log]
level = "loud"

[npm]
registy = "https://npm-registry.invalid/"

[[schedule.job]]
name = "status"
spec = "@hourly"
run = "status"

[[schedule.job]]
name = "nightly"
spec = "0 3 * *"
run = "sweep"
`,
			want: []string{
				`config "c.toml": line 2: scan.max_file_bytes: incompatible types: TOML value has type string; destination has type integer`,
				`config "c.toml": line 5: campaign.concurrency: incompatible types: TOML value has type string; destination has type integer`,
				`config "c.toml": line 6: campaign.branch: incompatible types: TOML value has type int64; destination has type string`,
				`config "c.toml": line 9: log.level: "loud" is not a log level; want one of debug, info, warn, error`,
				`config "c.toml": line 12: unknown key "registy" in [npm] (did you mean "registry"?)`,
				`config "c.toml": line 21: schedule.job.spec: job "nightly": spec "0 3 * *": expected exactly 5 fields, found 4: [0 3 * *]; want five fields (minute hour day-of-month month day-of-week, such as "0 3 * * *") or a descriptor such as @daily`,
			},
		},
		{
			name: "tables of the wrong type",
			src:  "log = \"debug\"\nschedule = { job = 3 }\n",
			want: []string{
				`config "c.toml": line 1: log: want a table ([log]), got a string`,
				`config "c.toml": line 2: schedule.job: want an array of tables ([[schedule.job]]), got an integer`,
			},
		},
		{
			name: "wrong type",
			src:  "[scan]\n\nmax_file_bytes = \"big\"\n",
			want: []string{`config "c.toml": line 3: scan.max_file_bytes: incompatible types: TOML value has type string; destination has type integer`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("c.toml", []byte(tt.src))
			if err == nil {
				t.Fatal("no error")
			}
			var got []string
			for _, e := range Errors(err) {
				var ce *Error
				if !errors.As(e, &ce) {
					t.Errorf("error %v is not a *config.Error", e)
				}
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // substring of the error; "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"registry not a URL", func(c *Config) { c.NPM.Registry = "npm-registry.invalid" }, `npm.registry: "npm-registry.invalid" is not an absolute http(s) URL`},
		{"registry with credentials", func(c *Config) { c.NPM.Registry = "https://user:hunter2@npm-registry.invalid/" }, "must not contain credentials"},
		{"registry with query", func(c *Config) { c.NPM.Registry = "https://npm-registry.invalid/?x=1" }, "must not have a query"},
		{"api url scheme", func(c *Config) { c.GitHub.APIURL = "ftp://ghe.invalid/" }, `github.api_url: "ftp://ghe.invalid/" is not an absolute http(s) URL`},
		{"token env", func(c *Config) { c.NPM.TokenEnv = "NPM TOKEN" }, `npm.token_env: "NPM TOKEN" is not an environment variable name`},
		{"github token env", func(c *Config) { c.GitHub.TokenEnv = "1X" }, `github.token_env`},
		{"org too long", func(c *Config) { c.GitHub.Org = strings.Repeat("a", 40) }, "github.org"},
		{"secret env name", func(c *Config) { c.Secrets.Env = []string{"OK", "NOT-OK"} }, `secrets.env: "NOT-OK"`},
		{"max file bytes", func(c *Config) { c.Scan.MaxFileBytes = 10 }, "scan.max_file_bytes: 10 is out of range"},
		{"manual doc escapes", func(c *Config) { c.Scan.ManualDocs = []string{"../x.md"} }, `scan.manual_docs: "../x.md"`},
		{"manual doc absolute", func(c *Config) { c.Scan.ManualDocs = []string{"/etc/passwd"} }, `scan.manual_docs: "/etc/passwd"`},
		{"flag var reserved", func(c *Config) { c.Rewrite.FlagVar = "GITHUB_OIDC" }, "rewrite.flag_var"},
		{"npm latest", func(c *Config) { c.Rewrite.NPMVersion = "latest" }, `rewrite.npm_version: "latest" is not allowed`},
		{"npm range junk", func(c *Config) { c.Rewrite.NPMVersion = "eleven" }, `rewrite.npm_version: "eleven" is not an npm version range`},
		{"npm exact", func(c *Config) { c.Rewrite.NPMVersion = "11.6.2" }, ""},
		{"registry plain http", func(c *Config) { c.NPM.Registry = "http://npm-registry.invalid/" }, `npm.registry: "http://npm-registry.invalid/" is plain http`},
		{"registry plain http allowed", func(c *Config) { c.NPM.Registry = "http://npm-registry.invalid/"; c.NPM.AllowInsecureHTTP = true }, ""},
		{"registry plain http loopback", func(c *Config) { c.NPM.Registry = "http://127.0.0.1:4873/" }, ""},
		{"api url plain http", func(c *Config) { c.GitHub.APIURL = "http://ghe.invalid/api/v3/" }, `github.api_url: "http://ghe.invalid/api/v3/" is plain http`},
		{"api url plain http allowed", func(c *Config) { c.GitHub.APIURL = "http://ghe.invalid/api/v3/"; c.GitHub.AllowInsecureHTTP = true }, ""},
		{"api url plain http localhost", func(c *Config) { c.GitHub.APIURL = "http://localhost:8080/" }, ""},
		{"api url plain http ipv6 loopback", func(c *Config) { c.GitHub.APIURL = "http://[::1]:8080/" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tt.modify(c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("no error, want %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestApplyEnv(t *testing.T) {
	t.Parallel()
	c := Default()
	c.GitHub.Org = "from-file"
	c.ApplyEnv(func(k string) string {
		return map[string]string{"CUTOVER_ORG": " from-env "}[k]
	})
	if c.GitHub.Org != "from-env" {
		t.Errorf("org = %q, want %q", c.GitHub.Org, "from-env")
	}
	c.ApplyEnv(func(string) string { return "" })
	if c.GitHub.Org != "from-env" {
		t.Errorf("an empty CUTOVER_ORG changed org to %q", c.GitHub.Org)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	if _, err := Load(examplePath); err != nil {
		t.Errorf("Load(example): %v", err)
	}
	_, err := Load("testdata/does-not-exist.toml")
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), `"testdata/does-not-exist.toml"`) {
		t.Errorf("Load(missing) = %v, want a not-exist error naming the file", err)
	}
}

func TestNearest(t *testing.T) {
	t.Parallel()
	valid := []string{"sizes", "canaries", "gate"}
	for in, want := range map[string]string{
		"wave_size": "sizes",
		"size":      "sizes",
		"canary":    "canaries",
		"gates":     "gate",
		"colour":    "",
		"":          "",
	} {
		if got := nearest(in, valid); got != want {
			t.Errorf("nearest(%q) = %q, want %q", in, got, want)
		}
	}
	if d := levenshtein("kitten", "sitting"); d != 3 {
		t.Errorf("levenshtein = %d, want 3", d)
	}
}

func TestLineIndex(t *testing.T) {
	t.Parallel()
	src := "a = 1\n[t]\n b.c = 2 # x\n'q.k' = 3\n[[arr]]\nx = 1\n"
	idx := newLineIndex([]byte(src))
	for _, tt := range []struct {
		key  []string
		want int
	}{
		{[]string{"a"}, 1},
		{[]string{"t"}, 2},
		{[]string{"t", "b", "c"}, 3},
		{[]string{"t", "b"}, 2},
		{[]string{"t", "q.k"}, 4},
		{[]string{"arr", "x"}, 6},
		{[]string{"nope"}, 0},
	} {
		if got := idx.line(tt.key); got != tt.want {
			t.Errorf("line(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(examplePath); err == nil {
		f.Add(data)
	}
	f.Add([]byte("[npm]\nregisty = 1\n"))
	f.Add([]byte("log = { level = \"x\" }\n[[scan]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.toml", data)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Errorf("Parse accepted a config that Validate rejects: %v", verr)
			}
			return
		}
		for _, e := range Errors(err) {
			if !strings.HasPrefix(e.Error(), `config "fuzz.toml"`) {
				t.Errorf("error %q does not name the file", e)
			}
		}
	})
}
