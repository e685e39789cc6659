package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/protomod/protomod/internal/gengo"
	"github.com/protomod/protomod/internal/server"
)

func newServeCommand(e *env) *cobra.Command {
	var cfg server.Config
	var logFormat, pluginsConfig, connectGo string
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run a schema registry that speaks the Buf Schema Registry module API",
		Long: `serve runs a registry that both protomod and buf can push to and depend on.

Metadata lives in an embedded SQLite database and file contents in
content-addressed blobs, both under --data-dir (default: $XDG_DATA_HOME/protomod).
Manage users, organizations and tokens with the subcommands; they work on the
data directory directly, even while the server runs.

buf talks to a plain-HTTP registry when its config.yaml says so:
  $BUF_CONFIG_DIR/config.yaml:  version: v1
                                tls:
                                  use: false

Generated Go SDKs: the server is also a Go module proxy under /gen/go/. It
generates each module commit's SDK on the first go get, keeps it under
<data-dir>/sdk and serves the same bytes from then on:
  export GOPROXY=http://<addr>/gen/go,https://proxy.golang.org
  export GONOSUMDB=<sdk host>
  go get <sdk host>/gen/go/<owner>/<module>/connectrpc/go@latest
SDK module paths start with --sdk-host, by default the --public-host without
its port (Go module paths cannot contain a port): --public-host
registry.example.com:8443 serves registry.example.com/gen/go/... Set
--sdk-host when that host is not a valid module path host (localhost, IPv6
addresses); without it the SDK proxy is off. Plugins: protocolbuffers/go
(built in) and connectrpc/go (protoc-gen-connect-go v1.21.1 from PATH or
--connect-go); more in --plugins-config. Private modules need a token in
.netrc and HTTPS. See docs/goproxy.md.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			var handler slog.Handler
			switch logFormat {
			case "json":
				handler = slog.NewJSONHandler(e.stderr, nil)
			case "text":
				handler = slog.NewTextHandler(e.stderr, nil)
			default:
				return fmt.Errorf("unknown --log-format %q: must be text or json", logFormat)
			}
			cfg.Logger = slog.New(handler)
			if !cfg.SDK.Off {
				plugins, err := gengo.LoadPlugins(pluginsConfig, connectGo)
				if err != nil {
					return fmt.Errorf("--plugins-config: %w", err)
				}
				cfg.SDK.Plugins = plugins
			}
			s, err := server.New(c.Context(), cfg)
			if err != nil {
				return err
			}
			return s.Run(c.Context())
		},
	}
	f := c.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "", "where the registry keeps its data (default $XDG_DATA_HOME/protomod)")
	f.StringVar(&cfg.Addr, "addr", server.DefaultAddr, "host:port to listen on (port 0 picks a free port)")
	f.StringVar(&cfg.TLSCertFile, "tls-cert", "", "TLS certificate file (PEM); serve HTTPS with --tls-key")
	f.StringVar(&cfg.TLSKeyFile, "tls-key", "", "TLS private key file (PEM)")
	f.StringVar(&cfg.PublicHost, "public-host", "", "the registry name clients use, host[:port] (default: the listening address)")
	f.StringVar(&cfg.AddrFile, "addr-file", "", "write the bound host:port to this file once listening")
	f.StringVar(&logFormat, "log-format", "text", "request log format: text or json")
	f.StringVar(&cfg.SDK.Host, "sdk-host", "", "the host that starts Go SDK module paths, without a port (default: --public-host without its port)")
	f.StringVar(&pluginsConfig, "plugins-config", "", "YAML file that configures Go SDK plugins (see docs/goproxy.md)")
	f.StringVar(&connectGo, "connect-go", "", "the protoc-gen-connect-go "+gengo.ConnectGoVersion+" executable for connectrpc/go SDKs (default: found on PATH)")
	f.DurationVar(&cfg.SDK.BuildTimeout, "sdk-build-timeout", 15*time.Minute, "time limit of one Go SDK generation")
	f.IntVar(&cfg.SDK.MaxConcurrentBuilds, "sdk-max-builds", 1, "how many Go SDKs may be generated at the same time")
	f.BoolVar(&cfg.SDK.Off, "no-sdk", false, "do not serve generated Go SDKs under /gen/go/")
	c.AddCommand(newServeUserCommand(e), newServeOrgCommand(e), newServeTokenCommand(e), newServeFsckCommand(e))
	return c
}

// dataDirFlag is the --data-dir flag of the admin subcommands.
func dataDirFlag(c *cobra.Command, dir *string) {
	c.Flags().StringVar(dir, "data-dir", "", "the registry's data directory (default $XDG_DATA_HOME/protomod)")
}

func newServeUserCommand(e *env) *cobra.Command {
	c := &cobra.Command{Use: "user", Short: "Manage registry users"}
	var dataDir string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a user",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			st, err := server.OpenStore(c.Context(), dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			u, err := st.CreateUser(c.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "created user %s (id %s)\n", u.Name, u.ID)
			return nil
		},
	}
	dataDirFlag(create, &dataDir)
	c.AddCommand(create)
	return c
}

func newServeOrgCommand(e *env) *cobra.Command {
	c := &cobra.Command{Use: "org", Short: "Manage registry organizations"}
	var dataDir string
	var members []string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an organization",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			st, err := server.OpenStore(c.Context(), dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			o, err := st.CreateOrganization(c.Context(), args[0])
			if err != nil {
				return err
			}
			for _, m := range members {
				if err := st.AddMember(c.Context(), o.Name, m); err != nil {
					return err
				}
			}
			fmt.Fprintf(e.stdout, "created organization %s (id %s)\n", o.Name, o.ID)
			return nil
		},
	}
	dataDirFlag(create, &dataDir)
	create.Flags().StringArrayVar(&members, "member", nil, "add this user as a member; repeatable")
	addMember := &cobra.Command{
		Use:   "add-member ORG USER",
		Short: "Make a user a member of an organization",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			st, err := server.OpenStore(c.Context(), dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.AddMember(c.Context(), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s is a member of %s\n", args[1], args[0])
			return nil
		},
	}
	dataDirFlag(addMember, &dataDir)
	c.AddCommand(create, addMember)
	return c
}

func newServeTokenCommand(e *env) *cobra.Command {
	c := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	var dataDir, user, note string
	create := &cobra.Command{
		Use:   "create --user NAME",
		Short: "Create an API token for a user and print it (only once: the registry keeps a hash)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if user == "" {
				return errors.New("--user is required: the token acts as that user")
			}
			st, err := server.OpenStore(c.Context(), dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			tok, _, err := st.CreateToken(c.Context(), user, note)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, tok)
			return nil
		},
	}
	dataDirFlag(create, &dataDir)
	create.Flags().StringVar(&user, "user", "", "the user the token belongs to")
	create.Flags().StringVar(&note, "note", "", "a note stored with the token")
	c.AddCommand(create)
	return c
}

func newServeFsckCommand(e *env) *cobra.Command {
	var dataDir string
	var collect bool
	c := &cobra.Command{
		Use:   "fsck",
		Short: "Check the integrity of a registry's data directory",
		Long: `fsck checks that every commit's files exist and hash right, that every stored
digest recomputes from the files and the dependencies' digests, and that every
label points at an existing commit. It exits 1 if it finds a problem.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			st, err := server.OpenStore(c.Context(), dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := server.Fsck(c.Context(), st, collect)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, rep.String())
			if !rep.OK() {
				return fmt.Errorf("the store in %s has %d problems", dataDir, len(rep.Problems))
			}
			return nil
		},
	}
	dataDirFlag(c, &dataDir)
	c.Flags().BoolVar(&collect, "collect", false, "also delete blobs no commit references (stop the server first)")
	return c
}
