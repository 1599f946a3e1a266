package reports

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The HTML page draws its repository table, its revoked-token and
// canary tables and the cutover cards from data embedded in the page (a
// <script type="application/json"> block, which never runs), so that a
// campaign of 10,000 repositories stays a page of a few megabytes that
// renders at once: the script draws one page of rows at a time and a card
// when it is opened. The first rows of each table are also in the page
// itself, for readers without JavaScript.
//
// The data is compact: every string is an index into one table of
// strings ("s", with "" at 0), lists that many repositories share (such
// as checklists) are indexes into one table of lists ("l"), and every
// record is an array whose positions the constants below and report.js
// agree on. Times are
// preformatted for people. json.Marshal escapes <, > and & in strings,
// so nothing in the data can end its script element.

// htmlDataVersion names the layout of the embedded data.
const htmlDataVersion = 1

// Positions in a repository record ("r"). report.js mirrors them.
const (
	dRepo        = iota // string: full name
	dWave               // number: wave, -1 when none
	dState              // string: state
	dPath               // string: path
	dOwner              // string: owner
	dPR                 // 0, or [number, url, title, state, draft 0/1, checks, playbook, branch]
	dFlag               // string: flag state
	dCanary             // string: canary summary
	dLocked             // number: packages locked down
	dTrust              // number: trusted publishers needed
	dToken              // 0 or 1: a token remains
	dBlocked            // 0, or [reason, hint, detail, step, since]
	dCred               // string: detected credential
	dPackages           // [[name, 1 private + 2 publishable, url]]
	dFlagSince          // string: when the flag was set
	dTokenLeft          // 0, or [secrets: list of [[name, scope, env, rotated]], feeds: list of [[name, secret, file, line]], tokens [[key, prefix, name, expires, bypass -1/0/1]]]
	dTrusted            // [[package, repository, workflow, environment, state, detail, settings url]]
	dCanaries           // [[package, version, tag, passed 0/1, passed checks, checks, when, [[failed check, message]]]]
	dRevoked            // [[key, prefix, when, by]]
	dDeleted            // [[name, scope, env, when, by]]
	dChecks             // list of [[name, status, detail]]
	dManual             // [[text, url]]
	dFindings           // list of [[severity, code, file, line, message]]
	dLast               // string: last step
	dLockedNames        // [package names]
	dFlagVar            // string: flag variable
	dFields             // number of positions
)

// htmlData is the embedded data.
type htmlData struct {
	Version int `json:"v"`
	// Strings is the string table; index 0 is "".
	Strings []string `json:"s"`
	// Labels are the people's names of the states, by state.
	Labels map[string]string `json:"labels"`
	// Ranks order the states, by state.
	Ranks map[string]int `json:"ranks"`
	// Repos are the repository records, in report order (card index).
	Repos [][]any `json:"r"`
	// Revoked are the revoked tokens: [key, prefix, name, repo, when, by, card index or -1].
	Revoked [][]any `json:"t"`
	// Canaries are the verified canaries: [package, url, repo, version, tag, passed checks, checks, when, card index or -1].
	Canaries [][]any `json:"c"`
	// Lists are the lists many repositories share (checklists, findings,
	// token secrets and feeds), each once; a record holds its list's index.
	Lists []any `json:"l"`
}

// lists interns lists by their JSON text.
type lists struct {
	idx map[string]int
	all []any
}

func (l *lists) of(v any) int {
	b, _ := json.Marshal(v)
	if i, ok := l.idx[string(b)]; ok {
		return i
	}
	i := len(l.all)
	l.idx[string(b)] = i
	l.all = append(l.all, v)
	return i
}

type interner struct {
	idx map[string]int
	all []string
}

func (in *interner) s(v string) int {
	if i, ok := in.idx[v]; ok {
		return i
	}
	i := len(in.all)
	in.idx[v] = i
	in.all = append(in.all, v)
	return i
}

func b01(b bool) int {
	if b {
		return 1
	}
	return 0
}

// newHTMLData encodes the report for the page's script.
func newHTMLData(r *Report, cardIndex map[string]int) *htmlData {
	in := &interner{idx: map[string]int{"": 0}, all: []string{""}}
	s := in.s
	ls := &lists{idx: map[string]int{}}
	when := func(v string) int { return s(v) }
	d := &htmlData{Version: htmlDataVersion, Labels: stateLabels, Ranks: stateRank,
		Repos: make([][]any, 0, len(r.Repos)), Revoked: [][]any{}, Canaries: [][]any{}}
	canary := htmlFuncs["canary"].(func([]Canary) string)
	for i := range r.Repos {
		c := &r.Repos[i]
		rec := make([]any, dFields)
		rec[dRepo] = s(c.Repo)
		rec[dWave] = -1
		if c.Wave != nil {
			rec[dWave] = *c.Wave
		}
		rec[dState], rec[dPath], rec[dOwner] = s(c.State), s(c.Path), s(c.Owner)
		rec[dPR] = 0
		if p := c.PR; p != nil {
			rec[dPR] = []int{p.Number, s(p.URL), s(p.Title), s(p.State), b01(p.Draft), s(p.Checks), s(p.Playbook), s(p.Branch)}
		}
		rec[dFlag], rec[dCanary] = s(c.Flag.State), s(canary(c.Canaries))
		rec[dLocked], rec[dTrust], rec[dToken] = len(c.LockedDown), len(c.TrustedPublishers), b01(c.Token != nil)
		rec[dBlocked] = 0
		if bl := c.Blocked; bl != nil {
			rec[dBlocked] = []int{s(bl.Reason), s(bl.Hint), s(bl.Detail), s(bl.Step), when(fmtTimeOrEmpty(bl.Since))}
		}
		rec[dCred] = s(c.Credential)
		pk := make([][]int, 0, len(c.Packages))
		for _, p := range c.Packages {
			pk = append(pk, []int{s(p.Name), b01(p.Private) + 2*b01(p.Publishable), s(p.URL)})
		}
		rec[dPackages] = pk
		rec[dFlagSince] = when(fmtTimeOrEmpty(c.Flag.Updated))
		rec[dTokenLeft] = 0
		if tk := c.Token; tk != nil {
			sec := make([][]int, 0, len(tk.Secrets))
			for _, x := range tk.Secrets {
				sec = append(sec, []int{s(x.Name), s(x.Scope), s(x.Environment), when(fmtTimeOrEmpty(x.UpdatedAt))})
			}
			feeds := make([][]int, 0, len(tk.Feeds))
			for _, f := range tk.Feeds {
				feeds = append(feeds, []int{s(f.Name), s(f.Secret), s(f.File), f.Line})
			}
			toks := make([][]int, 0, len(tk.Tokens))
			for _, x := range tk.Tokens {
				bypass := -1
				if x.Bypass2FA != nil {
					bypass = b01(*x.Bypass2FA)
				}
				toks = append(toks, []int{s(x.Key), s(x.Prefix), s(x.Name), when(fmtTimeOrEmpty(x.Expires)), bypass})
			}
			rec[dTokenLeft] = []any{ls.of(sec), ls.of(feeds), toks}
		}
		tp := make([][]int, 0, len(c.TrustedPublishers))
		for _, x := range c.TrustedPublishers {
			tp = append(tp, []int{s(x.Package), s(x.Repository), s(x.Workflow), s(x.Environment), s(x.State), s(x.Detail), s(x.SettingsURL)})
		}
		rec[dTrusted] = tp
		cn := make([][]any, 0, len(c.Canaries))
		for _, x := range c.Canaries {
			failed := [][]int{}
			for _, ck := range x.Checks {
				if !ck.OK {
					failed = append(failed, []int{s(ck.Name), s(ck.Message)})
				}
			}
			cn = append(cn, []any{s(x.Package), s(x.Version), s(x.Tag), b01(x.Passed), x.ChecksPassed, x.ChecksTotal, when(fmtTime(x.VerifiedAt)), failed})
		}
		rec[dCanaries] = cn
		rv := make([][]int, 0, len(c.Revocations))
		for _, x := range c.Revocations {
			rv = append(rv, []int{s(x.Key), s(x.Prefix), when(fmtTime(x.RevokedAt)), s(x.By)})
		}
		rec[dRevoked] = rv
		del := make([][]int, 0, len(c.SecretsDeleted))
		for _, x := range c.SecretsDeleted {
			del = append(del, []int{s(x.Name), s(x.Scope), s(x.Environment), when(fmtTime(x.DeletedAt)), s(x.DeletedBy)})
		}
		rec[dDeleted] = del
		ck := make([][]int, 0, len(c.PostChecks))
		for _, x := range c.PostChecks {
			ck = append(ck, []int{s(x.Name), s(x.Status), s(x.Detail)})
		}
		rec[dChecks] = ls.of(ck)
		ms := make([][]int, 0, len(c.ManualSteps))
		for _, x := range c.ManualSteps {
			ms = append(ms, []int{s(x.Text), s(x.URL)})
		}
		rec[dManual] = ms
		fs := make([][]int, 0, len(c.Findings))
		for _, x := range c.Findings {
			fs = append(fs, []int{s(x.Severity), s(x.Code), s(x.File), x.Line, s(x.Message)})
		}
		rec[dFindings] = ls.of(fs)
		rec[dLast] = s(lastStepText(c))
		ln := make([]int, 0, len(c.LockedDown))
		for _, p := range c.LockedDown {
			ln = append(ln, s(p))
		}
		rec[dLockedNames] = ln
		rec[dFlagVar] = s(c.Flag.Variable)
		d.Repos = append(d.Repos, rec)
	}
	card := func(repo string) int {
		if i, ok := cardIndex[repo]; ok {
			return i
		}
		return -1
	}
	for _, x := range r.RevokedTokens {
		d.Revoked = append(d.Revoked, []any{s(x.Key), s(x.Prefix), s(x.Name), s(x.Repo), when(fmtTime(x.RevokedAt)), s(x.By), card(x.Repo)})
	}
	for _, x := range r.VerifiedCanaries {
		d.Canaries = append(d.Canaries, []any{s(x.Package), s(x.URL), s(x.Repo), s(x.Version), s(x.Tag), x.ChecksPassed, x.ChecksTotal, when(fmtTime(x.VerifiedAt)), card(x.Repo)})
	}
	d.Strings, d.Lists = in.all, ls.all
	return d
}

// fmtTimeOrEmpty is fmtTime, or "" for the zero time.
func fmtTimeOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmtTime(t)
}

// encodeHTMLData marshals the data for a <script type="application/json">
// element: json.Marshal escapes <, > and &, and the text is checked anyway.
func encodeHTMLData(d *htmlData) (string, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("could not encode the HTML report's data: %w", err)
	}
	if strings.Contains(strings.ToLower(string(b)), "</script") || strings.Contains(string(b), "<!--") {
		return "", fmt.Errorf("the HTML report's data holds markup that would end its script element")
	}
	return string(b), nil
}
