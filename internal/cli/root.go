// Package cli defines protomod's commands: flags, output and exit codes.
// The work itself is done by the packages below it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/protomod/protomod/internal/diag"
)

// version is set at link time (-ldflags "-X ...cli.version=v1.2.3"); when
// empty it comes from the module's build info.
var version string

// Version returns protomod's version.
func Version() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}

// defaultMemoryLimit is the soft heap limit protomod sets for itself
// unless GOGC or GOMEMLIMIT is set.
const defaultMemoryLimit = 850 << 20

// Exit codes.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitAnnotations = 100
)

// env carries what every command needs: streams and global flags.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	offline        bool
	refetch        bool
	errorFormat    string
	clientState
}

// warnf prints a warning line in the reference CLI's text log format.
func (e *env) warnf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "WARN\t"+format+"\n", args...)
}

// Main runs protomod with args and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		// Compiling allocates a lot of short-lived memory. Collecting only
		// when the heap has grown fivefold, but never letting it pass a
		// soft limit, saves about a tenth of the CPU time of a large build
		// and keeps its peak lower than the default does
		// (docs/benchmarks.md). Small builds never reach the limit.
		debug.SetGCPercent(400)
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	return e.report(err)
}

// report prints err the way the reference CLI does and returns the exit code:
// file annotations go to stderr one per line (exit 100); anything else is
// one "Failure: ..." message (exit 1).
func (e *env) report(err error) int {
	if err == nil {
		return ExitOK
	}
	var ann *diag.Annotations
	if errors.As(err, &ann) {
		if perr := diag.Print(e.stderr, ann, e.errorFormat); perr != nil {
			fmt.Fprintf(e.stderr, "Failure: %v\n", perr)
			return ExitFailure
		}
		if ann.Hint != "" {
			fmt.Fprintln(e.stderr, ann.Hint)
		}
		return ExitAnnotations
	}
	msg := err.Error()
	var hinted interface{ Hint() string }
	if errors.As(err, &hinted) {
		msg += "\n" + hinted.Hint()
	}
	fmt.Fprintf(e.stderr, "Failure: %s\n", strings.TrimRight(msg, "\n"))
	return ExitFailure
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "protomod",
		Short: "A local-first Protobuf module tool and schema registry, compatible with buf",
		Long: `protomod builds buf.yaml workspaces into descriptor images, pins dependencies in
buf.lock with b5 digests, talks to any registry that speaks the Buf Schema
Registry module API, and can be that registry itself (protomod serve).`,
		Version:       Version(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.PersistentFlags().BoolVar(&e.offline, "offline", false, "never use the network: fail instead of downloading modules missing from the cache")
	root.AddCommand(
		newBuildCommand(e),
		newLsFilesCommand(e),
		newServeCommand(e),
		newPushCommand(e),
		newRegistryCommand(e),
		newModCommand(e),
		newDepCommand(e),
	)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nRun %q for usage.", err, c.CommandPath()+" --help")
	})
	return root
}

// inputArg returns the input directory argument ("." by default).
func inputArg(args []string) string {
	if len(args) == 0 {
		return "."
	}
	return args[0]
}
