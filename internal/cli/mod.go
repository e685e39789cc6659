package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/protomod/protomod/internal/modgraph"
)

func newModCommand(e *env) *cobra.Command {
	c := &cobra.Command{Use: "mod", Short: "Inspect the workspace's modules"}
	var in inputFlags
	digestCmd := &cobra.Command{
		Use:   "digest [DIR]",
		Short: "Print the b5 digest of each module",
		Long: `digest prints one line per module of the input: its name (or, for an unnamed
module, its description) and its b5 digest, computed from the module's files
and the digests of every module its imports reach, as a registry would compute
it for a push of the same content and dependencies.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ws, _, _, err := in.openWorkspace(args)
			if err != nil {
				return err
			}
			set, err := e.resolveDeps(c.Context(), ws)
			if err != nil {
				return err
			}
			g, err := modgraph.Build(c.Context(), ws, set)
			if err != nil {
				return err
			}
			for _, m := range ws.Targets {
				d, err := g.Digest(g.Local(m))
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "%s %s\n", g.Local(m), d)
			}
			return nil
		},
	}
	digestCmd.Flags().StringVar(&in.config, "config", "", "the buf.yaml to use instead of the input's")
	c.AddCommand(digestCmd)
	return c
}
