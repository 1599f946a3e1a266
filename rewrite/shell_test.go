package rewrite

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script string
		want   []shellCommand
	}{
		{
			name:   "empty",
			script: "",
			want:   nil,
		},
		{
			name:   "one command",
			script: "npm publish --access public",
			want:   []shellCommand{{words: []string{"npm", "publish", "--access", "public"}, line: 0}},
		},
		{
			name:   "lines and blank lines",
			script: "npm ci\n\nnpm test\nnpm publish\n",
			want: []shellCommand{
				{words: []string{"npm", "ci"}, line: 0},
				{words: []string{"npm", "test"}, line: 2},
				{words: []string{"npm", "publish"}, line: 3},
			},
		},
		{
			name:   "operators",
			script: "npm run build && npm publish || echo failed; echo done & wait | cat",
			want: []shellCommand{
				{words: []string{"npm", "run", "build"}, line: 0},
				{words: []string{"npm", "publish"}, line: 0},
				{words: []string{"echo", "failed"}, line: 0},
				{words: []string{"echo", "done"}, line: 0},
				{words: []string{"wait"}, line: 0},
				{words: []string{"cat"}, line: 0},
			},
		},
		{
			name:   "single quotes keep spaces and operators",
			script: `echo 'a && b; c' && npm publish`,
			want: []shellCommand{
				{words: []string{"echo", "a && b; c"}, line: 0},
				{words: []string{"npm", "publish"}, line: 0},
			},
		},
		{
			name:   "double quotes and escapes",
			script: `npm publish --tag "next \"beta\"" --otp=$OTP`,
			want:   []shellCommand{{words: []string{"npm", "publish", "--tag", `next "beta"`, "--otp=$OTP"}, line: 0}},
		},
		{
			name:   "quotes join a word",
			script: `npm pub"lish" --access=pu'blic'`,
			want:   []shellCommand{{words: []string{"npm", "publish", "--access=public"}, line: 0}},
		},
		{
			name:   "empty quotes are a word",
			script: `npm publish --tag ""`,
			want:   []shellCommand{{words: []string{"npm", "publish", "--tag", ""}, line: 0}},
		},
		{
			name:   "line continuation",
			script: "npx semantic-release \\\n  --branches main \\\n  --dry-run\nnpm test",
			want: []shellCommand{
				{words: []string{"npx", "semantic-release", "--branches", "main", "--dry-run"}, line: 0},
				{words: []string{"npm", "test"}, line: 3},
			},
		},
		{
			name:   "CRLF continuation",
			script: "npm publish \\\r\n  --provenance\r\nnpm test\r\n",
			want: []shellCommand{
				{words: []string{"npm", "publish", "--provenance"}, line: 0},
				{words: []string{"npm", "test"}, line: 2},
			},
		},
		{
			name:   "expression with spaces is one word",
			script: "npm publish --tag ${{ github.event.inputs.tag || 'latest' }} --access public",
			want: []shellCommand{{words: []string{
				"npm", "publish", "--tag", "${{ github.event.inputs.tag || 'latest' }}", "--access", "public",
			}, line: 0}},
		},
		{
			name:   "expression glued to text",
			script: `echo "//npm-registry.invalid/:_authToken=${{ secrets.NPM_TOKEN }}" >> ~/.npmrc`,
			want: []shellCommand{{words: []string{
				"echo", "//npm-registry.invalid/:_authToken=${{ secrets.NPM_TOKEN }}", ">>", "~/.npmrc",
			}, line: 0}},
		},
		{
			name:   "comments",
			script: "# npm publish\nnpm test # then npm publish\nnpm pack#not-a-comment",
			want: []shellCommand{
				{words: []string{"npm", "test"}, line: 1},
				{words: []string{"npm", "pack#not-a-comment"}, line: 2},
			},
		},
		{
			name:   "if then fi",
			script: "if [ \"$PUBLISH\" = true ]; then\n  npm publish\nfi",
			want: []shellCommand{
				{words: []string{"if", "[", "$PUBLISH", "=", "true", "]"}, line: 0},
				{words: []string{"then"}, line: 0},
				{words: []string{"npm", "publish"}, line: 1},
				{words: []string{"fi"}, line: 2},
			},
		},
		{
			name:   "subshell and command substitution",
			script: "(cd packages/a && npm publish)\nVERSION=$(node -p 'require(\"./package.json\").version')",
			want: []shellCommand{
				{words: []string{"cd", "packages/a"}, line: 0},
				{words: []string{"npm", "publish"}, line: 0},
				{words: []string{"VERSION="}, line: 1},
				{words: []string{"node", "-p", `require("./package.json").version`}, line: 1},
			},
		},
		{
			name:   "backticks",
			script: "echo `npm whoami`",
			want: []shellCommand{
				{words: []string{"echo"}, line: 0},
				{words: []string{"npm", "whoami"}, line: 0},
			},
		},
		{
			name:   "quoted newline counts lines",
			script: "echo 'a\nb'\nnpm publish",
			want: []shellCommand{
				{words: []string{"echo", "a\nb"}, line: 0},
				{words: []string{"npm", "publish"}, line: 2},
			},
		},
		{
			name:   "unterminated quote",
			script: "echo 'npm publish",
			want:   []shellCommand{{words: []string{"echo", "npm publish"}, line: 0}},
		},
		{
			name:   "trailing backslash",
			script: `npm publish \`,
			want:   []shellCommand{{words: []string{"npm", "publish", `\`}, line: 0}},
		},
		{
			name:   "heredoc body lines are read as commands",
			script: "cat > .npmrc <<EOF\n//npm-registry.invalid/:_authToken=${NPM_TOKEN}\nEOF\nnpm publish",
			want: []shellCommand{
				{words: []string{"cat", ">", ".npmrc", "<<EOF"}, line: 0},
				{words: []string{"//npm-registry.invalid/:_authToken=${NPM_TOKEN}"}, line: 1},
				{words: []string{"EOF"}, line: 2},
				{words: []string{"npm", "publish"}, line: 3},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := splitCommands(tt.script)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(shellCommand{})); diff != "" {
				t.Errorf("splitCommands(%q) mismatch (-want +got):\n%s", tt.script, diff)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	type want struct {
		Tool, Script, Workspace, Registry, Version string
		Stage, DryRun, Provenance                  bool
	}
	tests := []struct {
		cmd  string
		want *want // nil: not a publish or script run
	}{
		// npm
		{"npm publish", &want{Tool: "npm"}},
		{"npm publish --workspaces --access public", &want{Tool: "npm"}},
		{"npm publish -w packages/a", &want{Tool: "npm"}},
		{"npm --prefix dist publish", &want{Tool: "npm"}},
		{"npm publish ./dist --tag next", &want{Tool: "npm"}},
		{"npm publish --provenance", &want{Tool: "npm", Provenance: true}},
		{"npm publish --provenance=true", &want{Tool: "npm", Provenance: true}},
		{"npm publish --dry-run", &want{Tool: "npm", DryRun: true}},
		{"npm publish --registry https://npm.pkg.github.com", &want{Tool: "npm", Registry: "https://npm.pkg.github.com"}},
		{"npm publish --registry=https://npm-registry.invalid/", &want{Tool: "npm", Registry: "https://npm-registry.invalid/"}},
		{"npm stage publish", &want{Tool: "npm", Stage: true}},
		{"npm stage list", nil},
		{"npm ci", nil},
		{"npm install -g npm@latest", nil},
		{"npm pack", nil},
		{"npm version patch", nil},
		{"npm", nil},
		{"npm --loglevel silly", nil},
		{"npm run release", &want{Tool: "npm", Script: "release"}},
		{"npm run-script release", &want{Tool: "npm", Script: "release"}},
		{"npm run release --if-present", &want{Tool: "npm", Script: "release"}},
		{"npm run -w packages/cli deploy", &want{Tool: "npm", Script: "deploy", Workspace: "packages/cli"}},
		{"npm run deploy --workspace=@acme/cli", &want{Tool: "npm", Script: "deploy", Workspace: "@acme/cli"}},
		{"npm -w @acme/cli run deploy", &want{Tool: "npm", Script: "deploy", Workspace: "@acme/cli"}},
		{"npm run publish:dry -- --dry-run", &want{Tool: "npm", Script: "publish:dry", DryRun: true}},
		{"npm exec -- semantic-release", &want{Tool: "semantic-release"}},
		{"npm x semantic-release", &want{Tool: "semantic-release"}},
		// wrappers
		{"npx semantic-release", &want{Tool: "semantic-release"}},
		{"npx -y semantic-release@25", &want{Tool: "semantic-release", Version: "25"}},
		{"npx --yes semantic-release --dry-run", &want{Tool: "semantic-release", DryRun: true}},
		{"npx -p semantic-release@24 -p @semantic-release/git semantic-release", &want{Tool: "semantic-release"}},
		{"npx npm@11.6.0 publish", &want{Tool: "npm", Version: "11.6.0"}},
		{"npx changeset publish", &want{Tool: "changesets"}},
		{"npx @changesets/cli publish", &want{Tool: "changesets"}},
		{"npx changeset version", nil},
		{"npx lerna publish from-package --yes", &want{Tool: "lerna"}},
		{"npx @lerna-lite/cli publish", &want{Tool: "lerna"}},
		{"npx lerna run build", nil},
		{"npx lerna exec -- npm publish", &want{Tool: "npm"}},
		{"npx release-it --ci", &want{Tool: "release-it"}},
		{"npx np --no-tests", &want{Tool: "np"}},
		{"npx nx release publish", &want{Tool: "nx"}},
		{"npx nx release", &want{Tool: "nx"}},
		{"npx nx release version", nil},
		{"npx nx run-many -t build", nil},
		{"npx", nil},
		{"bunx npm publish", &want{Tool: "npm"}},
		{"pnpx semantic-release", &want{Tool: "semantic-release"}},
		{"pnpm exec semantic-release", &want{Tool: "semantic-release"}},
		{"pnpm dlx semantic-release", &want{Tool: "semantic-release"}},
		{"yarn dlx semantic-release", &want{Tool: "semantic-release"}},
		{"yarn exec changeset publish", &want{Tool: "changesets"}},
		{"corepack pnpm publish", &want{Tool: "pnpm"}},
		{"./node_modules/.bin/semantic-release", &want{Tool: "semantic-release"}},
		{"node_modules/.bin/changeset publish", &want{Tool: "changesets"}},
		// env prefixes and shell keywords
		{"NPM_CONFIG_PROVENANCE=true npm publish", &want{Tool: "npm"}},
		{"env NODE_AUTH_TOKEN=x npm publish", &want{Tool: "npm"}},
		{"sudo npm publish", &want{Tool: "npm"}},
		{"then npm publish", &want{Tool: "npm"}},
		{"if npm publish", &want{Tool: "npm"}},
		{"! npm publish --dry-run", &want{Tool: "npm", DryRun: true}},
		{"time pnpm publish", &want{Tool: "pnpm"}},
		{"FOO=bar", nil},
		// pnpm
		{"pnpm publish --no-git-checks", &want{Tool: "pnpm"}},
		{"pnpm -r publish --access public", &want{Tool: "pnpm"}},
		{"pnpm --recursive publish", &want{Tool: "pnpm"}},
		{"pnpm --filter @acme/cli publish", &want{Tool: "pnpm"}},
		{"pnpm -F ./packages/cli publish --dry-run", &want{Tool: "pnpm", DryRun: true}},
		{"pnpm publish -r --provenance", &want{Tool: "pnpm", Provenance: true}},
		{"pnpm install --frozen-lockfile", nil},
		{"pnpm i", nil},
		{"pnpm version patch", nil},
		{"pnpm release", &want{Tool: "pnpm", Script: "release"}},
		{"pnpm run release", &want{Tool: "pnpm", Script: "release"}},
		{"pnpm --filter @acme/cli run deploy", &want{Tool: "pnpm", Script: "deploy", Workspace: "@acme/cli"}},
		{"pnpm -F @acme/cli ship", &want{Tool: "pnpm", Script: "ship", Workspace: "@acme/cli"}},
		{"pnpm -F @acme/cli deploy ./out", nil},
		{"pnpm changeset publish", &want{Tool: "changesets"}},
		{"pnpm lerna publish", &want{Tool: "lerna"}},
		// yarn
		{"yarn publish --non-interactive", &want{Tool: "yarn"}},
		{"yarn publish --new-version 1.2.3 --access public", &want{Tool: "yarn"}},
		{"yarn npm publish", &want{Tool: "yarn-berry"}},
		{"yarn npm publish --access public --tolerate-republish", &want{Tool: "yarn-berry"}},
		{"yarn npm publish --dry-run", &want{Tool: "yarn-berry", DryRun: true}},
		{"yarn npm info left-pad", nil},
		{"yarn npm whoami", nil},
		{"yarn workspaces foreach --all --no-private npm publish", &want{Tool: "yarn-berry"}},
		{"yarn workspaces foreach -A --topological-dev npm publish --tolerate-republish", &want{Tool: "yarn-berry"}},
		{"yarn workspaces foreach --all run build", &want{Tool: "yarn", Script: "build"}},
		{"yarn workspaces list", nil},
		{"yarn workspace @acme/cli npm publish", &want{Tool: "yarn-berry"}},
		{"yarn workspace @acme/cli release", &want{Tool: "yarn", Script: "release", Workspace: "@acme/cli"}},
		{"yarn workspace @acme/cli run release", &want{Tool: "yarn", Script: "release", Workspace: "@acme/cli"}},
		{"yarn release", &want{Tool: "yarn", Script: "release"}},
		{"yarn run release", &want{Tool: "yarn", Script: "release"}},
		{"yarn --cwd packages/cli release", &want{Tool: "yarn", Script: "release"}},
		{"yarn install --immutable", nil},
		{"yarn", nil},
		{"yarn version --patch", nil},
		{"yarn changeset publish", &want{Tool: "changesets"}},
		{"yarn semantic-release", &want{Tool: "semantic-release"}},
		// bun
		{"bun publish", &want{Tool: "bun"}},
		{"bun publish --dry-run", &want{Tool: "bun", DryRun: true}},
		{"bun run release", &want{Tool: "bun", Script: "release"}},
		{"bun x semantic-release", &want{Tool: "semantic-release"}},
		{"bun install", nil},
		// release tools
		{"lerna publish from-git --yes", &want{Tool: "lerna"}},
		{"lerna publish --canary --dry-run", &want{Tool: "lerna", DryRun: true}},
		{"lerna version --yes", nil},
		{"changeset publish --tag next", &want{Tool: "changesets"}},
		{"changeset version", nil},
		{"semantic-release", &want{Tool: "semantic-release"}},
		{"semantic-release --dry-run", &want{Tool: "semantic-release", DryRun: true}},
		{"release-it minor --ci", &want{Tool: "release-it"}},
		{"release-it --dry-run", &want{Tool: "release-it", DryRun: true}},
		{"np patch --no-tests", &want{Tool: "np"}},
		{"nx release publish --projects=@acme/http", &want{Tool: "nx"}},
		{"nx release --skip-publish", &want{Tool: "nx"}},
		{"rush publish --publish --include-all", &want{Tool: "rush"}},
		{"rush publish --include-all", &want{Tool: "rush", DryRun: true}},
		// not publishing
		{"echo npm publish", nil},
		{"git push --follow-tags", nil},
		{"node scripts/publish.js", nil},
		{"gh release create v1.0.0", nil},
		{"docker push ghcr.io/acme/app", nil},
		{"cargo publish", nil},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			t.Parallel()
			cmds := splitCommands(tt.cmd)
			var words []string
			if len(cmds) > 0 {
				words = cmds[0].words
			}
			pc, ok := classify(words, 0)
			if tt.want == nil {
				if ok {
					t.Errorf("classify(%q) = %+v, want no publish", tt.cmd, pc)
				}
				return
			}
			if !ok {
				t.Fatalf("classify(%q) found nothing, want %+v", tt.cmd, *tt.want)
			}
			got := want{
				Tool: pc.Tool, Script: pc.Script, Workspace: pc.Workspace, Registry: pc.Registry, Version: pc.Version,
				Stage: pc.Stage, DryRun: pc.DryRun, Provenance: pc.Provenance,
			}
			if diff := cmp.Diff(*tt.want, got); diff != "" {
				t.Errorf("classify(%q) mismatch (-want +got):\n%s", tt.cmd, diff)
			}
		})
	}
}

// TestCommandWords checks the prefixes classify strips before the command.
func TestCommandWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want []string
	}{
		{[]string{"npm", "publish"}, []string{"npm", "publish"}},
		{[]string{"A=1", "B=two", "npm", "publish"}, []string{"npm", "publish"}},
		{[]string{"if", "!", "npm", "publish"}, []string{"npm", "publish"}},
		{[]string{"sudo", "-E", "npm", "publish"}, []string{"-E", "npm", "publish"}},
		{[]string{"=x", "npm"}, []string{"=x", "npm"}},
		{[]string{"1A=x", "npm"}, []string{"1A=x", "npm"}},
		{[]string{"then"}, []string{}},
		{nil, nil},
	}
	for _, tt := range tests {
		got := commandWords(tt.in)
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("commandWords(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestProvenancePrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cmd  string
		want bool
	}{
		{"NPM_CONFIG_PROVENANCE=true npm publish", true},
		{"npm_config_provenance=true npm publish", true},
		{"if NPM_CONFIG_PROVENANCE='true' npm publish", true},
		{"NPM_CONFIG_PROVENANCE=false npm publish", false},
		{"npm publish NPM_CONFIG_PROVENANCE=true", false},
		{"npm publish", false},
	}
	for _, tt := range tests {
		if got := provenancePrefix(splitCommands(tt.cmd)[0].words); got != tt.want {
			t.Errorf("provenancePrefix(%q) = %v, want %v", tt.cmd, got, tt.want)
		}
	}
}
