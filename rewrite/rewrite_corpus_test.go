package rewrite

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestRewriteCorpus checks the oidc playbook on every corpus file: token
// publishers are rewritten correctly or reported manual with a reason;
// OIDC and non-publishing files stay byte-identical.
func TestRewriteCorpus(t *testing.T) {
	rows := loadCorpus(t)
	var table strings.Builder
	tokenFiles, automatic := 0, 0
	for _, row := range rows {
		snap := corpusSnapshot(t, row)
		res, err := Rewrite(snap, RewriteOptions{Registry: TestRegistry})
		if err != nil {
			t.Fatalf("%s: %v", row.File, err)
		}
		fr := res.Files[0]
		cred := res.Detect.Credential
		fmt.Fprintf(&table, "  %-62s %-17s %-9s %d edits %s\n", row.File, cred, fr.Status, len(fr.Edits), strings.Join(fr.Reasons, "; "))
		if cred != CredToken && cred != CredTokenProvenance {
			if !bytes.Equal(fr.After, fr.Before) || fr.Status != StatusUnchanged {
				t.Errorf("%s: %s file changed (status %s)", row.File, cred, fr.Status)
			}
			continue
		}
		tokenFiles++
		switch fr.Status {
		case StatusManual:
			if len(fr.Reasons) == 0 {
				t.Errorf("%s: manual without a reason", row.File)
			}
			continue
		case StatusUnchanged:
			t.Errorf("%s: token publisher left unchanged", row.File)
			continue
		}
		automatic++
		checkRewritten(t, row.File, snap, fr, "CUTOVER_NPM_OIDC")
	}
	t.Logf("oidc playbook over the corpus:\n%s", table.String())
	ratio := float64(automatic) / float64(tokenFiles)
	t.Logf("rewritten automatically: %d/%d token-publishing files (%.0f%%)", automatic, tokenFiles, 100*ratio)
	if automatic < wantRewriteAuto || tokenFiles != wantRewriteTokenPub {
		t.Errorf("rewritten automatically %d/%d (%.0f%%), want %d/%d", automatic, tokenFiles, 100*ratio, wantRewriteAuto, wantRewriteTokenPub)
	}
}

// checkRewritten asserts a rewritten file parses, is idempotent, guards
// every token on the publish path and grants id-token: write.
func checkRewritten(t *testing.T, name string, snap Snapshot, fr FileResult, flag string) {
	t.Helper()
	if _, err := ParseWorkflow(fr.Path, fr.After); err != nil {
		t.Errorf("%s: rewritten file does not parse: %v", name, err)
		return
	}
	if err := Lint(fr.Path, fr.Before, fr.After); err != nil {
		t.Errorf("%s: %v", name, err)
	}
	next := Snapshot{Repo: snap.Repo, Files: map[string][]byte{}}
	for p, b := range snap.Files {
		next.Files[p] = b
	}
	next.Files[fr.Path] = fr.After
	again, err := Rewrite(next, RewriteOptions{Registry: TestRegistry, FlagVar: flag})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range again.Files {
		if f.Path == fr.Path && !bytes.Equal(f.After, fr.After) {
			t.Errorf("%s: second run changed the file again:\n%s", name, f.After)
		}
	}
	det := again.Detect
	for _, p := range det.Pipelines {
		if p.Workflow != fr.Path {
			continue
		}
		if !p.IDToken {
			t.Errorf("%s: job %s has no id-token: write after rewrite", name, p.Job)
		}
		wf, err := ParseWorkflow(fr.Path, fr.After)
		if err != nil {
			t.Fatalf("%s: the rewritten file does not parse: %v", name, err)
		}
		j := jobByID(wf, p.Job)
		for _, f := range p.Feeds {
			if f.File != fr.Path {
				continue
			}
			text := feedText(wf, j, f)
			if !strings.Contains(text, "vars."+flag+" != 'true'") && !strings.Contains(text, "vars."+flag+" != ''true''") {
				t.Errorf("%s: token feed %s (%s, line %d) is not guarded: %q", name, f.Name, f.Kind, f.Line, text)
			}
		}
	}
}

func feedText(wf *Workflow, j *Job, f TokenFeed) string {
	switch f.Kind {
	case "npmrc-write":
		return j.Steps[f.Step].Run
	case "secret-pass":
		v, _ := lookup(j.Secrets, f.Name, false)
		return v.Value
	}
	var fs []Field
	switch {
	case f.Level == "workflow":
		fs = wf.Env
	case f.Level == "job":
		fs = j.Env
	case f.Kind == "action-input":
		fs = j.Steps[f.Step].With
	default:
		fs = j.Steps[f.Step].Env
	}
	v, _ := lookup(fs, f.Name, false)
	return v.Value
}

// TestCleanupCorpus runs oidc then cleanup on every automatically
// rewritten corpus file: the result must parse, pass actionlint, publish
// through OIDC only, and a second cleanup must change nothing.
func TestCleanupCorpus(t *testing.T) {
	for _, row := range loadCorpus(t) {
		snap := corpusSnapshot(t, row)
		res, err := Rewrite(snap, RewriteOptions{Registry: TestRegistry})
		if err != nil {
			t.Fatal(err)
		}
		fr := res.Files[0]
		if fr.Status != StatusRewritten {
			continue
		}
		if res.Detect.Pipelines[0].Feeds[0].Kind == "secret-pass" {
			continue // the callee is not in the snapshot
		}
		migrated := Snapshot{Repo: snap.Repo, Files: map[string][]byte{fr.Path: fr.After}}
		clean, err := Rewrite(migrated, RewriteOptions{Registry: TestRegistry, Playbook: PlaybookCleanup})
		if err != nil {
			t.Fatal(err)
		}
		cf := clean.Files[0]
		if cf.Status != StatusRewritten {
			t.Errorf("%s: cleanup status %s %v", row.File, cf.Status, cf.Reasons)
			continue
		}
		if err := Lint(cf.Path, fr.After, cf.After); err != nil {
			t.Errorf("%s: %v", row.File, err)
		}
		after := Detect(Snapshot{Repo: snap.Repo, Files: map[string][]byte{cf.Path: cf.After}}, Options{Registry: TestRegistry})
		// A publish inferred only from the token it was handed (an
		// unknown action) is no longer visible once the token is gone.
		if after.Credential == CredToken || after.Credential == CredTokenProvenance {
			t.Errorf("%s: after cleanup credential is %s, want no token\n%s", row.File, after.Credential, cf.After)
		}
		if strings.Contains(string(cf.After), "CUTOVER_NPM_OIDC") {
			t.Errorf("%s: flag still referenced after cleanup:\n%s", row.File, cf.After)
		}
		again, _ := Rewrite(Snapshot{Repo: snap.Repo, Files: map[string][]byte{cf.Path: cf.After}}, RewriteOptions{Registry: TestRegistry, Playbook: PlaybookCleanup})
		if !bytes.Equal(again.Files[0].After, cf.After) {
			t.Errorf("%s: cleanup is not idempotent", row.File)
		}
	}
}
