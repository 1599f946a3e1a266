package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/batch"
)

// selectionHelp is the one description of the selection flags, referenced
// from each command's help.
const selectionHelp = `Choosing repositories (the same flags on every campaign command):
  --repo OWNER/NAME     this repository (repeatable; NAME alone means the configured org)
  --skip-repo OWNER/NAME  leave this repository out (repeatable)
  --topic TOPIC         only repositories with this topic (repeatable: any of them)
  --repos-file FILE     the repositories listed in FILE, one OWNER/NAME or NAME a
                        line; # starts a comment, blank lines are ignored; - is stdin
A repository named that the inventory does not have is an error naming it.`

// selectFlags are the flags every campaign command chooses repositories
// with: --repo, --skip-repo, --topic and --repos-file.
type selectFlags struct {
	repos, skip, topics []string
	reposFile           string
}

func (f *selectFlags) register(cmd *cobra.Command) {
	cmd.Long = strings.TrimRight(cmd.Long, "\n") + "\n\n" + selectionHelp
	cmd.Flags().StringSliceVar(&f.repos, "repo", nil, "this repository, OWNER/NAME or NAME in the configured org (repeatable)")
	cmd.Flags().StringSliceVar(&f.skip, "skip-repo", nil, "leave this repository out, OWNER/NAME or NAME (repeatable)")
	cmd.Flags().StringSliceVar(&f.topics, "topic", nil, "only repositories with this topic (repeatable: any of them)")
	cmd.Flags().StringVar(&f.reposFile, "repos-file", "", "the repositories listed in this `FILE` (one a line, # comments; - reads stdin)")
}

// named reports whether the flags name repositories (--repo or --repos-file).
func (f *selectFlags) named() bool { return len(f.repos) > 0 || f.reposFile != "" }

// selection reads --repos-file and returns the selection with every name
// as OWNER/NAME, or a usage error naming what is wrong.
func (f *selectFlags) selection(cmd *cobra.Command, app *App) (batch.Selection, error) {
	org := app.Config.GitHub.Org
	var s batch.Selection
	for _, r := range f.repos {
		n, err := fullRepoName(r, org)
		if err != nil {
			return s, usageErrorf(cmd, "--repo %q: %v", r, err)
		}
		s.Repos = appendNew(s.Repos, n)
	}
	if f.reposFile != "" {
		var in io.Reader
		name := f.reposFile
		if name == "-" {
			in, name = app.In, "stdin"
		} else {
			file, err := os.Open(name)
			if err != nil {
				return s, usageErrorf(cmd, "--repos-file: %v", err)
			}
			defer file.Close()
			in = file
		}
		list, err := parseRepoList(in, org)
		if err != nil {
			return s, usageErrorf(cmd, "--repos-file %s: %v", name, err)
		}
		if len(list) == 0 {
			return s, usageErrorf(cmd, "--repos-file %s lists no repositories", name)
		}
		for _, n := range list {
			s.Repos = appendNew(s.Repos, n)
		}
	}
	for _, r := range f.skip {
		n, err := fullRepoName(r, org)
		if err != nil {
			return s, usageErrorf(cmd, "--skip-repo %q: %v", r, err)
		}
		s.Skip = appendNew(s.Skip, n)
	}
	for _, t := range f.topics {
		t = strings.TrimSpace(t)
		if !topicRE.MatchString(t) {
			return s, usageErrorf(cmd, "--topic %q: a topic is lower-case letters, digits and hyphens", t)
		}
		s.Topics = appendNew(s.Topics, strings.ToLower(t))
	}
	return s, nil
}

func appendNew(list []string, s string) []string {
	for _, have := range list {
		if strings.EqualFold(have, s) {
			return list
		}
	}
	return append(list, s)
}

// repoPartRE is one part of a repository's full name as GitHub allows it.
var (
	repoPartRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	topicRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,49}$`)
)

// fullRepoName returns OWNER/NAME for "OWNER/NAME", or for "NAME" in org.
func fullRepoName(s, org string) (string, error) {
	s = strings.TrimSpace(s)
	owner, name, ok := strings.Cut(s, "/")
	if !ok {
		if org == "" {
			return "", errors.New("want OWNER/NAME (NAME alone needs [github] org or CUTOVER_ORG)")
		}
		owner, name = org, s
	}
	if !repoPartRE.MatchString(owner) || !repoPartRE.MatchString(name) || name == "." || name == ".." {
		return "", errors.New("want OWNER/NAME or NAME")
	}
	return owner + "/" + name, nil
}

// maxRepoListLine bounds a line of a repository list.
const maxRepoListLine = 4096

// parseRepoList reads a repository list: one OWNER/NAME or NAME (in org)
// a line; "#" starts a comment, surrounding space and blank lines are
// ignored. An error names the line.
func parseRepoList(r io.Reader, org string) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxRepoListLine)
	var out []string
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" {
			continue
		}
		name, err := fullRepoName(line, org)
		if err != nil {
			return nil, fmt.Errorf("line %d: %q: %v", n, line, err)
		}
		out = appendNew(out, name)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("a line is longer than %d bytes: not a repository list", maxRepoListLine)
		}
		return nil, err
	}
	return out, nil
}
