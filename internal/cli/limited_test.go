package cli

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/config"
)

// TestSandboxLimitedIdentities starts `cutover sandbox serve`, takes the
// limited identities it prints, and runs the campaign with them through the
// CLI: `apply --execute` with the fine-grained token that lacks workflows
// (write), and with the read-only one, is refused by the permission
// preflight before anything is written, naming what is missing and never
// the token; the main token then applies the same wave.
func TestSandboxLimitedIdentities(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sb")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var errb strings.Builder
	sb := startServe(ctx, &lockedWriter{w: &errb}, "--repos", "12", "--seed", "3", "--dir", dir, "--rate-limits=false")
	defer sb.stop(t, cancel)
	env := sb.env
	main, limited, reader := env["GITHUB_TOKEN"], env["SANDBOX_GITHUB_TOKEN_NO_WORKFLOWS"], env["SANDBOX_GITHUB_TOKEN_READ_ONLY"]
	if main == "" || limited == "" || reader == "" {
		t.Fatalf("serve printed no main, limited or read-only token:\n%s", sb.printed)
	}
	for _, tok := range []string{limited, reader} {
		if !strings.HasPrefix(tok, "github_pat_") {
			t.Errorf("limited token %.11s…: want a fine-grained token (github_pat_)", tok)
		}
	}
	cfg, err := config.Load(env["CUTOVER_CONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.GitHub.ProbeWorkflows {
		t.Error("the sandbox's config does not probe the workflows permission")
	}

	ledgerPath := filepath.Join(t.TempDir(), "cutover.db")
	as := func(token string, args ...string) result {
		t.Helper()
		e := map[string]string{"GITHUB_TOKEN": token}
		for _, k := range []string{"CUTOVER_CONFIG", "CUTOVER_ORG", "NPM_CONFIG_REGISTRY", "NPM_CONFIG_USERCONFIG"} {
			e[k] = env[k]
		}
		r := run(t, e, append(args, "--ledger", ledgerPath)...)
		for _, tok := range []string{main, limited, reader} {
			if strings.Contains(r.out+r.err, tok) {
				t.Errorf("cutover %s printed a token", strings.Join(args, " "))
			}
		}
		return r
	}
	for _, step := range [][]string{{"inventory"}, {"plan"}} {
		if r := as(main, step...); r.code != ExitOK {
			t.Fatalf("%s: exit %d\n%s%s", step[0], r.code, r.out, r.err)
		}
	}

	// The forge kept its ETags beside the ledger, and no token with them.
	kept := 0
	err = filepath.WalkDir(ledgerPath+".etags", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		kept++
		b, err := os.ReadFile(path)
		if bytes.Contains(b, []byte(main)) {
			t.Errorf("%s holds the token", path)
		}
		return err
	})
	if err != nil || kept == 0 {
		t.Errorf("no ETags kept beside the ledger (%d files): %v", kept, err)
	}

	gh, err := github.NewClient(nil).WithAuthToken(main).WithEnterpriseURLs(cfg.GitHub.APIURL, cfg.GitHub.APIURL)
	if err != nil {
		t.Fatal(err)
	}
	// written counts the branches beyond the default one and the pull
	// requests in the organisation.
	written := func() (branches, pulls int) {
		t.Helper()
		repos, _, err := gh.Repositories.ListByOrg(ctx, cfg.GitHub.Org, &github.RepositoryListByOrgOptions{ListOptions: github.ListOptions{PerPage: 100}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range repos {
			bs, _, err := gh.Repositories.ListBranches(ctx, cfg.GitHub.Org, r.GetName(), &github.BranchListOptions{ListOptions: github.ListOptions{PerPage: 100}})
			if err != nil {
				t.Fatal(err)
			}
			branches += len(bs) - 1
			ps, _, err := gh.PullRequests.List(ctx, cfg.GitHub.Org, r.GetName(), &github.PullRequestListOptions{State: "all"})
			if err != nil {
				t.Fatal(err)
			}
			pulls += len(ps)
		}
		return branches, pulls
	}
	b0, p0 := written()

	for _, tt := range []struct {
		name, token string
		want        []string
	}{
		{"no workflows", limited, []string{"workflows (write)"}},
		{"read-only", reader, []string{"contents (write)", "pull_requests (write)", "issues (write)"}},
	} {
		r := as(tt.token, "apply", "--wave", "0", "--execute")
		if r.code == ExitOK {
			t.Errorf("%s: apply --execute succeeded:\n%s%s", tt.name, r.out, r.err)
			continue
		}
		t.Logf("%s: exit %d: %s", tt.name, r.code, strings.TrimSpace(r.err))
		for _, w := range tt.want {
			if !strings.Contains(r.err, w) {
				t.Errorf("%s: the refusal does not name %s:\n%s", tt.name, w, r.err)
			}
		}
		if !strings.Contains(r.err, "nothing was written") {
			t.Errorf("%s: the refusal does not say nothing was written:\n%s", tt.name, r.err)
		}
		if b, p := written(); b != b0 || p != p0 {
			t.Errorf("%s: after the refusal %d branches and %d pull requests, want %d and %d", tt.name, b, p, b0, p0)
		}
	}

	if r := as(main, "apply", "--wave", "0", "--execute"); r.code != ExitOK {
		t.Fatalf("apply with the main token: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if _, p := written(); p <= p0 {
		t.Errorf("the main token opened no pull request (%d before, %d after)", p0, p)
	}
}
