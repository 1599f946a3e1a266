package ghapi

import (
	"fmt"

	"github.com/go-git/go-git/v5"
)

// errNoRepo is the error for an unknown repository.
func errNoRepo(owner, name string) error {
	return fmt.Errorf("repository %q not found", owner+"/"+name)
}

// ciPrefix is the part of a head's tree handed to the simulated CI.
const ciPrefix = ".github/"

// runCI runs the simulated CI on a pull request head and records its check run.
func (s *Server) runCI(owner, name, sha string) {
	s.mu.Lock()
	ci, checkName := s.opts.CI, s.opts.CIName
	s.mu.Unlock()
	conclusion, summary := "success", "The sandbox CI found nothing to complain about."
	if ci != nil {
		var files map[string][]byte
		err := s.opts.Git.With(owner, name, func(r *git.Repository) error {
			var err error
			files, err = headFiles(r, sha, ciPrefix)
			return err
		})
		if err != nil {
			conclusion, summary = "failure", fmt.Sprintf("could not read the head %s: %v", sha, err)
		} else {
			conclusion, summary = ci(owner+"/"+name, sha, files)
		}
	}
	title := "Sandbox CI: " + conclusion
	_ = s.SetCheckRun(owner, name, sha, CheckRun{Name: checkName, Conclusion: conclusion, Title: title, Summary: summary})
}

// SyncRepo brings the API's view of owner/name up to date with its git
// branches: open pull requests follow their head and base branches, and a
// new head runs the simulated CI. The git server calls it after each push
// (wire it as [githttp.Options.OnPush]); the API calls it after its own ref
// writes.
func (s *Server) SyncRepo(owner, name string) {
	s.mu.Lock()
	rp := s.st.Repos[owner+"/"+name]
	if rp == nil {
		s.mu.Unlock()
		return
	}
	var branches []string
	for _, is := range rp.Issues {
		if is.Pull != nil && is.State == "open" {
			branches = append(branches, is.Pull.HeadRef, is.Pull.BaseRef)
		}
	}
	s.mu.Unlock()

	heads := map[string]string{}
	if len(branches) > 0 {
		heads = s.branchHeads(owner, name, branches...)
	}
	now := s.now()
	var changed []string
	s.mu.Lock()
	rp.PushedAt, rp.UpdatedAt = now, now
	for _, is := range rp.Issues {
		p := is.Pull
		if p == nil || is.State != "open" {
			continue
		}
		if h := heads[p.HeadRef]; h != "" && h != p.HeadSHA {
			p.HeadSHA, is.UpdatedAt = h, now
			changed = append(changed, h)
		}
		if b := heads[p.BaseRef]; b != "" {
			p.BaseSHA = b
		}
	}
	s.mu.Unlock()
	for _, sha := range changed {
		s.runCI(owner, name, sha)
	}
}
