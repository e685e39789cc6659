package cli

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/clientconfig"
	"github.com/protomod/protomod/internal/login"
	"github.com/protomod/protomod/internal/netrc"
)

const defaultRegistry = "buf.build"

func newRegistryCommand(e *env) *cobra.Command {
	c := &cobra.Command{Use: "registry", Short: "Log in to registries and manage the module cache"}
	c.AddCommand(newLoginCommand(e), newLogoutCommand(e), newCacheClearCommand(e))
	return c
}

// registryArg returns the registry named on the command line (default
// buf.build), checked to be a host with an optional port.
func registryArg(args []string) (string, error) {
	domain := defaultRegistry
	if len(args) > 0 {
		domain = args[0]
	}
	if err := bufname.ValidateRegistry(domain); err != nil {
		return "", fmt.Errorf("invalid registry %q: %v", domain, err)
	}
	return domain, nil
}

func newLoginCommand(e *env) *cobra.Command {
	var tokenStdin, prompt bool
	c := &cobra.Command{
		Use:   "login [REGISTRY]",
		Short: "Log in to a registry and save the token in .netrc",
		Long: `login checks a token with the registry and saves it in your .netrc ($NETRC or
~/.netrc), which protomod, buf and go all read. REGISTRY defaults to buf.build.

The token comes from stdin with --token-stdin, from a prompt with --prompt, or
by default through the registry's browser login (OAuth2 device flow), falling
back to the prompt where the registry has none (protomod serve: create tokens
with "protomod serve token create").`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if tokenStdin && prompt {
				return errors.New("cannot use both --token-stdin and --prompt")
			}
			domain, err := registryArg(args)
			if err != nil {
				return err
			}
			client, err := e.registryClient()
			if err != nil {
				return err
			}
			var token string
			switch {
			case tokenStdin:
				data, err := io.ReadAll(e.stdin)
				if err != nil {
					return fmt.Errorf("read the token from stdin: %w", err)
				}
				token = strings.TrimSpace(string(data))
			case prompt:
				if token, err = e.promptToken(domain); err != nil {
					return err
				}
			default:
				cfg, err := clientconfig.Load()
				if err != nil {
					return err
				}
				hc := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: cfg.TLSConfig()}}
				host, _ := os.Hostname()
				token, err = login.DeviceFlow(c.Context(), hc, client.BaseURL(domain), host, func(link, code string) {
					fmt.Fprintf(e.stderr, "Open %s in your browser and confirm the code %s to log in.\n", link, code)
				})
				if errors.Is(err, login.ErrDeviceFlowUnsupported) {
					token, err = e.promptToken(domain)
				}
				if err != nil {
					return err
				}
			}
			user, err := client.GetCurrentUser(c.Context(), domain, token)
			if err != nil {
				return err
			}
			path, err := netrc.Path()
			if err != nil {
				return err
			}
			if err := netrc.Put(path, domain, user.GetUsername(), token); err != nil {
				return fmt.Errorf("save the credentials in %s: %w", path, err)
			}
			if !tokenStdin {
				fmt.Fprintln(e.stdout)
			}
			fmt.Fprintf(e.stdout, "Logged in as %s. Credentials saved to %s.\n", user.GetUsername(), path)
			return nil
		},
	}
	c.Flags().BoolVar(&tokenStdin, "token-stdin", false, "read the token from stdin")
	c.Flags().BoolVar(&prompt, "prompt", false, "ask for the token on the terminal")
	return c
}

// promptToken asks for a token on the terminal.
func (e *env) promptToken(domain string) (string, error) {
	in, ok := e.stdin.(*os.File)
	if !ok || !login.IsTerminal(in) {
		return "", errors.New("cannot prompt for a token: stdin is not a terminal; pipe the token into \"protomod registry login --token-stdin\"")
	}
	fmt.Fprintf(e.stdout, "Enter the BSR token created at https://%s/settings/user.\n", domain)
	fmt.Fprint(e.stdout, "\nToken: ")
	token, err := login.ReadSecret(in)
	fmt.Fprintln(e.stdout)
	return token, err
}

func newLogoutCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "logout [REGISTRY]",
		Short: "Remove a registry's credentials from .netrc",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			domain, err := registryArg(args)
			if err != nil {
				return err
			}
			path, err := netrc.Path()
			if err != nil {
				return err
			}
			removed, err := netrc.Remove(path, domain)
			if err != nil {
				return err
			}
			if removed {
				fmt.Fprintf(e.stdout, "All existing BSR credentials removed from %s\n", path)
			} else {
				fmt.Fprintf(e.stdout, "No BSR credentials found in %s; you are already logged out\n", path)
			}
			return nil
		},
	}
}

func newCacheClearCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "cc",
		Aliases: []string{"clear-cache"},
		Short:   "Clear the module cache (shared with buf)",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			dir, err := cache.DefaultDir()
			if err != nil {
				return err
			}
			ch, err := cache.OpenDir(dir)
			if err != nil {
				return err
			}
			if _, err := ch.Clear(); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Cleared the module cache in %s\n", dir)
			return nil
		},
	}
}
