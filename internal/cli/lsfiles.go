package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/protomod/protomod/internal/build"
)

func newLsFilesCommand(e *env) *cobra.Command {
	var in inputFlags
	c := &cobra.Command{
		Use:   "ls-files [DIR]",
		Short: "List the .proto files of the workspace",
		Long:  "ls-files prints the target .proto files of the input, one per line, as paths relative to the current directory.",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ws, paths, excludes, err := in.openWorkspace(args)
			if err != nil {
				return err
			}
			targets, err := build.Targets(ws, paths, excludes)
			if err != nil {
				return err
			}
			wd := mustGetwd()
			for _, t := range targets {
				p := filepath.Join(t.Module.Dir, filepath.FromSlash(t.Path))
				if rel, err := filepath.Rel(wd, p); err == nil {
					p = rel
				}
				fmt.Fprintln(e.stdout, filepath.ToSlash(p))
			}
			return nil
		},
	}
	in.register(c)
	return c
}
