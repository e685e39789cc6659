package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/depupdate"
	"github.com/protomod/protomod/internal/fetch"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/workspace"
)

func newDepCommand(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "dep",
		Short: "Manage the workspace's dependencies: update, check, prune and graph buf.lock",
	}
	c.AddCommand(
		newDepUpdateCommand(e, false),
		newDepUpdateCommand(e, true),
		newDepPruneCommand(e),
		newDepGraphCommand(e),
	)
	return c
}

// newDepUpdateCommand returns "dep update", or with checkOnly its alias
// "dep check" (= dep update --check).
func newDepUpdateCommand(e *env, checkOnly bool) *cobra.Command {
	var (
		only  []string
		check = checkOnly
	)
	c := &cobra.Command{
		Use:   "update [DIR]",
		Short: "Pin the latest commits of buf.yaml's deps, and everything they need, in buf.lock",
		Long: `update resolves each dep of buf.yaml (its label or commit, or the module's default
label) with the registry, pins it and all its transitive dependencies in
buf.lock, and builds the whole workspace against the new pins, downloading and
verifying what the module cache lacks. buf.lock is written only if the build
succeeds; otherwise it is left exactly as it was.

--only updates just the named deps (and what they need) and keeps every other
pin. --check writes nothing: it exits 1 and lists how buf.lock differs from
what update would write (a CI guard).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return e.runDepUpdate(c.Context(), args, only, check)
		},
	}
	if checkOnly {
		c.Use = "check [DIR]"
		c.Short = "Check that buf.lock is up to date with buf.yaml and the registry (dep update --check)"
	} else {
		c.Flags().BoolVar(&check, "check", false, "write nothing; exit 1 and list the differences if buf.lock is not up to date")
	}
	c.Flags().StringArrayVar(&only, "only", nil, "update only this dep (a full name registry/owner/name) and what it needs; repeatable")
	return c
}

func (e *env) runDepUpdate(ctx context.Context, args, only []string, check bool) error {
	command := "dep update"
	if check {
		command = "dep update --check"
	}
	if e.offline {
		return fmt.Errorf("%s needs the registry and cannot run with --offline", command)
	}
	var onlyNames []bufname.FullName
	for _, s := range only {
		name, err := bufname.ParseFullName(s)
		if err != nil {
			return fmt.Errorf("--only: %w", err)
		}
		onlyNames = append(onlyNames, name)
	}
	ws, err := workspace.Open(inputArg(args), workspace.Options{})
	if err != nil {
		return err
	}
	client, err := e.registryClient()
	if err != nil {
		return err
	}
	opts := depupdate.Options{
		Client:   client,
		Only:     onlyNames,
		InputDir: inputArg(args),
		Progress: progressWriter(e.stderr),
		Warn:     func(msg string) { e.warnf("%s", msg) },
	}
	if check {
		diffs, err := depupdate.Check(ctx, ws, opts)
		if err != nil {
			return err
		}
		if len(diffs) == 0 {
			return nil
		}
		for _, d := range diffs {
			fmt.Fprintln(e.stdout, d.String())
		}
		return &depupdate.OutOfDateError{Differences: diffs}
	}
	_, err = depupdate.Update(ctx, ws, opts)
	return err
}

func newDepPruneCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "prune [DIR]",
		Short: "Keep in buf.lock exactly the modules the workspace's imports reach",
		Long: `prune builds the workspace and rewrites buf.lock with exactly the remote modules
that its imports reach, directly or transitively, at the commits already
pinned. Each must be a dep declared in buf.yaml or a dependency of one.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if e.offline {
				return fmt.Errorf("dep prune needs the registry and cannot run with --offline")
			}
			ws, err := workspace.Open(inputArg(args), workspace.Options{})
			if err != nil {
				return err
			}
			client, err := e.registryClient()
			if err != nil {
				return err
			}
			return depupdate.Prune(c.Context(), ws, depupdate.Options{
				Client:   client,
				InputDir: inputArg(args),
				Progress: progressWriter(e.stderr),
				Warn:     func(msg string) { e.warnf("%s", msg) },
			})
		},
	}
}

func newDepGraphCommand(e *env) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "graph [DIR]",
		Short: "Print the workspace's module graph with the pinned commits (offline)",
		Long: `graph prints the modules of the workspace and the pinned modules of buf.lock with
their dependencies. It works offline, from buf.lock and the module cache; run
"protomod dep update" first if the cache lacks a pinned module.

Formats: dot (Graphviz, the default, as buf dep graph prints it), json (every
module with its dependencies nested, as buf dep graph --format json prints
it), and text (an indented tree).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			switch format {
			case "dot", "json", "text":
			default:
				return fmt.Errorf("invalid value for --format: %q; use dot, json or text", format)
			}
			ws, err := workspace.Open(inputArg(args), workspace.Options{})
			if err != nil {
				return err
			}
			g, err := depupdate.Graph(c.Context(), ws, cache.Open)
			if err != nil {
				return err
			}
			var out string
			switch format {
			case "json":
				if out, err = g.JSON(); err != nil {
					return err
				}
			case "text":
				out = g.Text()
			default:
				out = g.DOT()
			}
			_, err = io.WriteString(e.stdout, out)
			return err
		},
	}
	c.Flags().StringVar(&format, "format", "dot", "output format: dot, json or text")
	return c
}

// lazyFetcher is the build's deps.Fetcher: it sets up the registry client
// only when a module is actually missing from the cache.
type lazyFetcher struct{ e *env }

func (l lazyFetcher) Fetch(ctx context.Context, c *cache.Cache, missing, pinned []lock.Dep) error {
	client, err := l.e.registryClient()
	if err != nil {
		return err
	}
	return fetch.New(client, fetch.Options{Progress: progressWriter(l.e.stderr)}).Fetch(ctx, c, missing, pinned)
}

// progressWriter returns w when it is a terminal (progress lines update in
// place there), nil otherwise: piped output stays free of progress.
func progressWriter(w io.Writer) io.Writer {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return nil
	}
	return w
}
