package batch

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/classdoc"
	"github.com/cutover/cutover/rewrite"
)

func cand(name, vis string, cred rewrite.Credential, ws string, pkgs ...rewrite.Package) Candidate {
	r := &rewrite.Result{Repo: name, Publishes: cred != rewrite.CredNone, Credential: cred, WorkspaceKind: ws, Packages: pkgs}
	if r.Publishes {
		r.Pipelines = []rewrite.Pipeline{{Workflow: ".github/workflows/release.yml", Job: "publish", Credential: cred}}
	}
	return Candidate{Repo: name, Visibility: vis, Result: classdoc.FromResult(r)}
}

func pkg(name string, access string) rewrite.Package {
	return rewrite.Package{Name: name, Access: access, Publishable: true}
}

func TestMakePlan(t *testing.T) {
	t.Parallel()
	selfHosted := cand("o/runner", "public", rewrite.CredToken, "", pkg("runner", ""))
	selfHosted.Result.Pipelines[0].SelfHosted = true
	proxied := cand("o/proxied", "public", rewrite.CredToken, "", pkg("proxied", ""))
	proxied.Result.Pipelines[0].Proxy = "https://npm-proxy.corp.invalid/"
	cands := []Candidate{
		cand("o/a-single", "public", rewrite.CredToken, "", pkg("a", "")),
		cand("o/b-mono", "public", rewrite.CredTokenProvenance, "pnpm", pkg("@o/x", "public"), pkg("@o/y", "public")),
		cand("o/c-private", "public", rewrite.CredToken, "", pkg("@o/secret", "")),
		cand("o/d", "public", rewrite.CredToken, "", pkg("d", "")),
		cand("o/e", "public", rewrite.CredToken, "", pkg("e", "")),
		cand("o/f", "public", rewrite.CredToken, "", pkg("f", "")),
		cand("o/done", "public", rewrite.CredOIDC, "", pkg("done", "")),
		cand("o/docs", "public", rewrite.CredNone, ""),
		selfHosted,
		proxied,
	}
	plan, err := MakePlan(cands, PlanOptions{Sizes: []int{2}})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, w := range plan.Waves {
		got = append(got, w.Repos)
	}
	want := [][]string{{"o/b-mono", "o/c-private", "o/a-single"}, {"o/d", "o/e"}, {"o/f"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("waves (-want +got):\n%s", diff)
	}
	if plan.Waves[0].Why["o/c-private"] != "repository with a private package" {
		t.Errorf("why = %v", plan.Waves[0].Why)
	}
	reasons, paths := map[string]string{}, map[string]string{}
	for _, s := range plan.Skipped {
		reasons[s.Repo], paths[s.Repo] = s.Reason, s.Path
	}
	for repo, want := range map[string]string{"o/done": "already publishes with OIDC", "o/docs": "does not publish", "o/runner": "self-hosted", "o/proxied": "publishes via registry proxy npm-proxy.corp.invalid: trusted publishing needs the proxy removed, else stay on the token-bridge path"} {
		if !strings.Contains(reasons[repo], want) {
			t.Errorf("skip reason for %s = %q, want %q", repo, reasons[repo], want)
		}
	}
	for repo, want := range map[string]string{"o/done": "", "o/docs": "", "o/runner": "token-bridge", "o/proxied": "token-bridge"} {
		if paths[repo] != want {
			t.Errorf("skip path for %s = %q, want %q", repo, paths[repo], want)
		}
	}
}

func TestMakePlanNamedCanaries(t *testing.T) {
	t.Parallel()
	cands := []Candidate{cand("o/a", "public", rewrite.CredToken, "", pkg("a", "")), cand("o/b", "public", rewrite.CredOIDC, "", pkg("b", ""))}
	if _, err := MakePlan(cands, PlanOptions{Canaries: []string{"o/zz"}}); err == nil || !strings.Contains(err.Error(), `"o/zz" is not in the inventory`) {
		t.Errorf("unknown canary: err = %v", err)
	}
	if _, err := MakePlan(cands, PlanOptions{Canaries: []string{"o/b"}}); err == nil || !strings.Contains(err.Error(), "already publishes with OIDC") {
		t.Errorf("ineligible canary: err = %v", err)
	}
	plan, err := MakePlan(cands, PlanOptions{Canaries: []string{"o/a"}})
	if err != nil || len(plan.Waves) != 1 || plan.Waves[0].Repos[0] != "o/a" {
		t.Errorf("plan = %+v, err = %v", plan, err)
	}
}

func TestGate(t *testing.T) {
	t.Parallel()
	ok := MemberState{Repo: "a", Checks: "success"}
	pending := MemberState{Repo: "b", Checks: "pending"}
	failed := MemberState{Repo: "c", Failed: true}
	merged := MemberState{Repo: "d", Merged: true}
	verified := MemberState{Repo: "e", Checks: "success", Verified: true}
	tests := []struct {
		name    string
		gate    Gate
		members []MemberState
		ok      bool
		reason  string
	}{
		{"checks green", Gate{Require: []string{"checks"}}, []MemberState{ok, merged}, true, ""},
		{"checks pending", Gate{Require: []string{"checks"}}, []MemberState{ok, pending}, false, "without checks"},
		{"failure over ratio", Gate{Require: []string{"checks"}, MaxFailureRatio: 0.2}, []MemberState{ok, failed}, false, "1 of 2 repositories failed"},
		{"failure under ratio", Gate{Require: []string{"checks"}, MaxFailureRatio: 0.5}, []MemberState{ok, failed}, true, ""},
		{"merged required", Gate{Require: []string{"merged"}}, []MemberState{ok, merged}, false, "without merged"},
		{"verified", Gate{Require: []string{"verified"}}, []MemberState{verified}, true, ""},
		{"empty wave", Gate{Require: []string{"checks"}}, nil, false, "no members"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := tc.gate.Evaluate(tc.members)
			if res.OK != tc.ok {
				t.Fatalf("ok = %v, want %v (%v)", res.OK, tc.ok, res.Reasons)
			}
			if tc.reason != "" && !strings.Contains(strings.Join(res.Reasons, "; "), tc.reason) {
				t.Errorf("reasons %v lack %q", res.Reasons, tc.reason)
			}
		})
	}
}
