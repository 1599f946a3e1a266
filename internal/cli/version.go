package cli

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

type versionOptions struct {
	out  io.Writer
	info func() (*debug.BuildInfo, bool)
}

func newVersionCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:         "version",
		Short:       "Print cutover's version",
		Long:        "Print the module version cutover was built from (\"(devel)\" for a build from a checkout), the VCS revision when known, and the Go version and platform.",
		Example:     example("cutover version"),
		Args:        noArgs,
		Annotations: map[string]string{annotationNoConfig: ""},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(cmd.Context(), &versionOptions{out: app.Out, info: debug.ReadBuildInfo})
		},
	}
}

func runVersion(_ context.Context, opts *versionOptions) error {
	version, revision := "(devel)", ""
	if bi, ok := opts.info(); ok && bi != nil {
		if v := bi.Main.Version; v != "" {
			version = v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				revision = s.Value[:12]
			}
		}
	}
	line := "cutover " + version
	if revision != "" {
		line += " " + revision
	}
	_, err := fmt.Fprintf(opts.out, "%s (%s %s/%s)\n", line, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
