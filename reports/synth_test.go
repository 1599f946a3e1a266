package reports

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cutover/cutover/internal/classdoc"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/rewrite"
)

// synth makes a deterministic snapshot of a campaign over n repositories
// in every state, with findings, packages and an event log, for the
// benchmark, the size check and the schema test.
func synth(n int) *ledger.Snapshot {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	t0 := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	snap := &ledger.Snapshot{SchemaVersion: 2, TakenAt: at(24 * 40),
		Campaign: ledger.Campaign{Name: "synthetic campaign", ConfigDigest: "sha256:0000", Created: t0, Updated: t0}}
	waveSize := []int{3, 20, 100, 300}
	var waves []ledger.Wave
	next := 0
	var events []ledger.Event
	ev := func(t time.Time, kind, repo, msg string) {
		events = append(events, ledger.Event{ID: int64(len(events) + 1), Time: t, Kind: kind, Repo: repo, Message: msg})
	}
	for i := range n {
		name := fmt.Sprintf("org-%d/repo-%04d", i%7, i)
		pkgName := fmt.Sprintf("@org-%d/pkg-%04d", i%7, i)
		res := &rewrite.Result{Repo: name, Publishes: i%10 != 9, Credential: rewrite.CredToken,
			Pipelines: []rewrite.Pipeline{{Workflow: ".github/workflows/release.yml", Job: "publish", TrustedWorkflow: []string{"release.yml"},
				Tools: []string{"npm"}, Credential: rewrite.CredToken, NPMReady: "unknown", SelfHosted: i%37 == 0,
				Feeds: []rewrite.TokenFeed{{Kind: "env", Name: "NODE_AUTH_TOKEN", Secret: "NPM_TOKEN", Level: "step", File: ".github/workflows/release.yml", Line: 22, Step: 3}}}},
			Packages: []rewrite.Package{{Name: pkgName, Dir: ".", Publishable: true}},
			Findings: []rewrite.Finding{{Severity: rewrite.SevWarning, Code: "npm-too-old", File: ".github/workflows/release.yml", Line: 14, Message: "node 18 ships npm 10; trusted publishing needs npm 11.5.1"}}}
		if i%13 == 0 {
			res.Findings = append(res.Findings, rewrite.Finding{Severity: rewrite.SevWarning, Code: "manual-publish", File: "RELEASING.md", Line: 3, Message: "documents a manual publish (npm publish)"})
		}
		if !res.Publishes {
			res.Credential, res.Pipelines, res.Findings = rewrite.CredNone, nil, nil
		}
		rs := ledger.RepoState{
			Repo: ledger.Repo{FullName: name, ID: int64(i + 1), DefaultBranch: "main", Visibility: "public", Owner: fmt.Sprintf("@org-%d/team-%d", i%7, i%5),
				Publishes: res.Publishes, Credential: res.Credential, Classification: classdoc.FromResult(res), DetectedAt: at(1), Updated: at(1)},
			Packages: []ledger.Package{}, Flags: []ledger.Flag{}, Verifications: []ledger.Verification{}, Tokens: []ledger.Token{},
			Revocations: []ledger.Revocation{}, Secrets: []ledger.Secret{}, Reminders: []ledger.Reminder{},
		}
		if res.Publishes {
			rs.Packages = append(rs.Packages, ledger.Package{Repo: name, Name: pkgName, Dir: ".", Publishable: true,
				TrustRepository: name, TrustWorkflow: "release.yml", TrustState: ledger.TrustUnknown})
			rs.Secrets = append(rs.Secrets, ledger.Secret{Repo: name, Scope: ledger.ScopeRepo, Name: "NPM_TOKEN", Seen: at(1)})
			rs.Tokens = append(rs.Tokens, ledger.Token{Key: fmt.Sprintf("%032x", rng.Uint64()), Prefix: "npm_" + fmt.Sprintf("%04d", i), Name: name + " CI", Repo: name, Source: "registry", Updated: at(1)})
			snap.Tokens = append(snap.Tokens, rs.Tokens[0])
			// Plan the repository into a wave and move it along.
			w := len(waves) - 1
			if w < 0 || len(waves[w].Members) == waveSize[min(w, len(waveSize)-1)] {
				waves = append(waves, ledger.Wave{Number: len(waves), Gate: ledger.Gate{Require: []string{ledger.GateChecks}, MaxFailureRatio: 0.1},
					State: ledger.WavePlanned, Members: []string{}})
				w++
				if w == 0 {
					waves[w].Name = "canaries"
				}
			}
			if next < n*8/10 {
				waves[w].Members = append(waves[w].Members, name)
				wn := w
				rs.Wave = &wn
				next++
				h := 24*(w*5+1) + rng.IntN(72)
				stage := rng.IntN(8)
				if w >= 3 {
					stage = rng.IntN(3)
				}
				if stage >= 1 {
					rs.Change = &ledger.Change{Repo: name, Branch: "cutover/npm-oidc", Base: "main", Playbook: "oidc", PRNumber: 100 + i,
						URL: fmt.Sprintf("https://forge.invalid/%s/pull/%d", name, 100+i), Title: "Publish to npm with trusted publishing (OIDC)",
						State: ledger.ChangeOpen, Checks: "pending", Updated: at(h)}
					ev(at(h), ledger.EventChangeState, name, "pull request opened")
				}
				if stage >= 2 {
					rs.Change.State, rs.Change.Checks = ledger.ChangeMerged, "success"
					rs.Packages[0].TrustState = ledger.TrustConfigured
					ev(at(h+5), ledger.EventChangeState, name, "merged")
				}
				if stage >= 3 {
					rs.Flags = append(rs.Flags, ledger.Flag{Repo: name, Variable: "CUTOVER_NPM_OIDC", Value: "true", Updated: at(h + 20)})
					ev(at(h+20), ledger.EventFlag, name, "flag on")
				}
				if stage >= 4 {
					rs.Verifications = append(rs.Verifications, ledger.Verification{ID: int64(i), Repo: name, Package: pkgName, Version: "1.0.0-canary.0", Tag: "canary",
						Checks: []ledger.Check{{Name: "provenance", OK: stage != 4 || i%3 != 0, Message: "attestation checked"}, {Name: "trusted-publisher", OK: true, Message: "ok"}},
						Passed: stage != 4 || i%3 != 0, VerifiedAt: at(h + 30)})
					ev(at(h+30), ledger.EventVerified, name, "verified")
				}
				if stage >= 6 {
					rv := ledger.Revocation{Key: rs.Tokens[0].Key, Prefix: rs.Tokens[0].Prefix, Name: rs.Tokens[0].Name, Repo: name, RevokedAt: at(h + 40), By: "cutover revoke"}
					rs.Revocations = append(rs.Revocations, rv)
					snap.Revocations = append(snap.Revocations, rv)
					del := at(h + 41)
					rs.Secrets[0].DeletedAt, rs.Secrets[0].DeletedBy = &del, "cutover revoke"
					ev(at(h+40), ledger.EventTokenRevoked, name, "revoked")
					ev(at(h+41), ledger.EventSecretDeleted, name, "deleted")
				}
				if i%17 == 0 {
					rs.Step = &ledger.Step{Repo: name, Name: "push", Outcome: ledger.OutcomeFailed, Reason: []string{"push rejected", "checks failed", "rate limited"}[i%3],
						Error: "remote: protected branch hook declined", Hint: "see the repository's branch protection", Attempts: 1 + i%3, At: at(h + 2)}
				}
			}
		}
		snap.Repos = append(snap.Repos, rs)
	}
	for i := range waves {
		if i < 2 {
			waves[i].State, waves[i].Started = ledger.WaveGated, at(24*(i*5+1))
		}
	}
	slicesSortEvents(events)
	for i := range events {
		events[i].ID = int64(i + 1)
	}
	snap.Waves, snap.Events = waves, events
	slicesSortRevocations(snap.Revocations)
	return snap
}

func slicesSortEvents(es []ledger.Event) {
	slices.SortStableFunc(es, func(a, b ledger.Event) int { return a.Time.Compare(b.Time) })
}

func slicesSortRevocations(rs []ledger.Revocation) {
	slices.SortStableFunc(rs, func(a, b ledger.Revocation) int { return a.RevokedAt.Compare(b.RevokedAt) })
}
