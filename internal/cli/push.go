package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/protomod/protomod/internal/push"
)

func newPushCommand(e *env) *cobra.Command {
	var (
		in    inputFlags
		draft string
		opts  push.Options
	)
	c := &cobra.Command{
		Use:   "push [DIR]",
		Short: "Push the workspace's named modules to their registry",
		Long: `push builds the workspace, then uploads every named module in one request, with
the commit IDs of the remote dependencies their imports reach. It prints one
line per module: <registry>/<owner>/<module>:<commit>.

Without --label the modules' default labels (usually main) move to the new
commits. --label moves only the given labels. --draft NAME pushes to a label
that never becomes the default, so consumers can try it with
"deps: [registry/owner/module:NAME]" without touching main.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if draft != "" {
				opts.Labels = append(opts.Labels, draft)
			}
			ws, _, _, err := in.openWorkspace(args)
			if err != nil {
				return err
			}
			set, err := e.resolveDeps(c.Context(), ws)
			if err != nil {
				return err
			}
			client, err := e.registryClient()
			if err != nil {
				return err
			}
			opts.Warn = func(msg string) { e.warnf("%s", msg) }
			pushed, err := push.Push(c.Context(), client, ws, set, opts)
			if err != nil {
				return err
			}
			for _, p := range pushed {
				fmt.Fprintln(e.stdout, p)
			}
			return nil
		},
	}
	c.Flags().StringVar(&in.config, "config", "", "the buf.yaml to use instead of the input's")
	c.Flags().StringArrayVar(&opts.Labels, "label", nil, "move this label to the pushed commits (instead of the default label); repeatable")
	c.Flags().StringVar(&draft, "draft", "", "push as a draft: a label that never becomes the default")
	c.Flags().BoolVar(&opts.Create, "create", false, "create modules that do not exist yet")
	c.Flags().StringVar(&opts.CreateVisibility, "create-visibility", "", "visibility of created modules: public or private (default private; needs --create)")
	c.Flags().StringVar(&opts.CreateDefaultLabel, "create-default-label", "", "default label of created modules (default main; needs --create)")
	c.Flags().StringVar(&opts.SourceControlURL, "source-control-url", "", "URL of the source of the pushed commits (e.g. the Git commit)")
	c.Flags().BoolVar(&opts.ExcludeUnnamed, "exclude-unnamed", false, "skip unnamed modules instead of failing")
	c.Flags().StringVar(&e.errorFormat, "error-format", "text", "how to print compile errors: text, json, msvs, junit or github-actions")
	return c
}
