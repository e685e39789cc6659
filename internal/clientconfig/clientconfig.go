// Package clientconfig reads the client configuration that decides how
// protomod reaches registries: TLS roots and plain HTTP.
//
// Two files live in the configuration directory ($BUF_CONFIG_DIR, else
// $XDG_CONFIG_HOME/buf, else ~/.config/buf; %AppData%\buf on Windows):
//
// config.yaml is the reference CLI's file, read with the same rules so both
// tools behave alike:
//
//	version: v1                 # required when the file sets anything
//	tls:
//	  use: system               # system (default), local, systemandlocal, or false
//	  root_cert_file_paths:     # for local/systemandlocal; default <dir>/tls/root.pem
//	    - /etc/ssl/my-ca.pem
//
// tls.use false sends every registry request over plain HTTP.
//
// protomod.yaml holds protomod's own settings. They cannot go in config.yaml,
// because the reference CLI rejects unknown keys there. It sets the base URL
// of individual registries, for example to reach one local registry over
// plain HTTP while all others keep TLS:
//
//	version: v1
//	registries:
//	  localhost:8080:           # the registry host as written in module names
//	    url: http://localhost:8080
//
// url must be http:// or https:// followed by host[:port], with no path,
// query, fragment or user information. A registry listed here uses that URL
// whatever tls.use says; for https, the tls.use roots apply (system roots
// when tls.use is false). Both files are strict: unknown keys are errors.
package clientconfig

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/protomod/protomod/internal/bufname"
)

const (
	// FileName is the reference CLI's configuration file.
	FileName = "config.yaml"
	// ProtomodFileName is protomod's own configuration file.
	ProtomodFileName = "protomod.yaml"
)

// TLSMode is the value of tls.use.
type TLSMode int

const (
	// TLSSystem verifies servers against the system roots (the default).
	TLSSystem TLSMode = iota
	// TLSLocal verifies servers against the configured root files only.
	TLSLocal
	// TLSSystemAndLocal uses both the system roots and the files.
	TLSSystemAndLocal
	// TLSDisabled sends every registry request over plain HTTP.
	TLSDisabled
)

func (m TLSMode) String() string {
	switch m {
	case TLSLocal:
		return "local"
	case TLSSystemAndLocal:
		return "systemandlocal"
	case TLSDisabled:
		return "false"
	default:
		return "system"
	}
}

// Config is the loaded client configuration.
type Config struct {
	// Dir is the configuration directory (it need not exist).
	Dir string
	// TLSMode is tls.use.
	TLSMode TLSMode
	// RootCertFiles are the root certificate files in use (TLSLocal and
	// TLSSystemAndLocal only).
	RootCertFiles []string
	// Registries are protomod.yaml's per-registry base URLs, by registry
	// host, each like "http://localhost:8080".
	Registries map[string]string

	tlsConfig *tls.Config
}

// Dir returns the configuration directory, reading the environment now:
// $BUF_CONFIG_DIR, else $XDG_CONFIG_HOME/buf, else $HOME/.config/buf
// (%AppData%\buf on Windows).
func Dir() (string, error) {
	if d := os.Getenv("BUF_CONFIG_DIR"); d != "" {
		return d, nil
	}
	if runtime.GOOS == "windows" {
		if d := os.Getenv("APPDATA"); d != "" {
			return filepath.Join(d, "buf"), nil
		}
		return "", errors.New("cannot locate the configuration directory: %AppData% is not set; set $BUF_CONFIG_DIR")
	}
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "buf"), nil
	}
	if h := os.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "buf"), nil
	}
	return "", errors.New("cannot locate the configuration directory: $XDG_CONFIG_HOME and $HOME are not set; set $BUF_CONFIG_DIR")
}

// Load reads the configuration from Dir(). Missing files mean defaults.
func Load() (*Config, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	return LoadDir(dir)
}

// bufFile is config.yaml.
type bufFile struct {
	Version string `yaml:"version"`
	TLS     struct {
		Use               string   `yaml:"use"`
		RootCertFilePaths []string `yaml:"root_cert_file_paths"`
	} `yaml:"tls"`
}

// protomodFile is protomod.yaml.
type protomodFile struct {
	Version    string `yaml:"version"`
	Registries map[string]struct {
		URL string `yaml:"url"`
	} `yaml:"registries"`
}

// LoadDir reads the configuration files in dir.
func LoadDir(dir string) (*Config, error) {
	c := &Config{Dir: dir}

	var bf bufFile
	path := filepath.Join(dir, FileName)
	if found, err := decodeStrict(path, &bf); err != nil {
		return nil, fmt.Errorf("invalid buf configuration file %s: %w", path, err)
	} else if found {
		isEmpty := bf.Version == "" && bf.TLS.Use == "" && len(bf.TLS.RootCertFilePaths) == 0
		if bf.Version != "v1" && !isEmpty {
			return nil, fmt.Errorf("buf configuration at %q must declare 'version: v1'", dir)
		}
	}
	switch use := strings.ToLower(strings.TrimSpace(bf.TLS.Use)); use {
	case "", "system":
		c.TLSMode = TLSSystem
	case "local":
		c.TLSMode = TLSLocal
	case "systemandlocal":
		c.TLSMode = TLSSystemAndLocal
	case "false":
		c.TLSMode = TLSDisabled
	default:
		return nil, fmt.Errorf("unknown tls.use: %q", use)
	}
	if c.TLSMode == TLSLocal || c.TLSMode == TLSSystemAndLocal {
		c.RootCertFiles = bf.TLS.RootCertFilePaths
		if len(c.RootCertFiles) == 0 {
			c.RootCertFiles = []string{filepath.Join(dir, "tls", "root.pem")}
		}
	}
	tlsConfig, err := buildTLS(c.TLSMode, c.RootCertFiles)
	if err != nil {
		return nil, err
	}
	c.tlsConfig = tlsConfig

	var pf protomodFile
	path = filepath.Join(dir, ProtomodFileName)
	found, err := decodeStrict(path, &pf)
	if err != nil {
		return nil, fmt.Errorf("invalid protomod configuration file %s: %w", path, err)
	}
	if found && (pf.Version != "" || len(pf.Registries) > 0) && pf.Version != "v1" {
		return nil, fmt.Errorf("protomod configuration file %s must declare 'version: v1'", path)
	}
	for registry, r := range pf.Registries {
		base, err := parseBaseURL(r.URL)
		if err == nil {
			err = bufname.ValidateRegistry(registry)
			if err != nil {
				err = fmt.Errorf("the registry name %w", err)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("invalid protomod configuration file %s: registries.%q: %w", path, registry, err)
		}
		if c.Registries == nil {
			c.Registries = map[string]string{}
		}
		c.Registries[registry] = base
	}
	return c, nil
}

// BaseURL returns the scheme and host to send registry's requests to, such
// as "https://buf.build" or "http://localhost:8080".
func (c *Config) BaseURL(registry string) string {
	if u, ok := c.Registries[registry]; ok {
		return u
	}
	if c.TLSMode == TLSDisabled {
		return "http://" + registry
	}
	return "https://" + registry
}

// TLSConfig returns a fresh TLS client configuration with the configured
// roots (system roots when TLS is disabled, for https overrides).
func (c *Config) TLSConfig() *tls.Config {
	if c.tlsConfig == nil {
		return &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return c.tlsConfig.Clone()
}

func buildTLS(mode TLSMode, rootFiles []string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if mode != TLSLocal && mode != TLSSystemAndLocal {
		return cfg, nil // nil RootCAs: the system roots
	}
	pool := x509.NewCertPool()
	if mode == TLSSystemAndLocal {
		sys, err := x509.SystemCertPool()
		if err != nil {
			return nil, fmt.Errorf("load the system root certificates for tls.use systemandlocal: %w", err)
		}
		pool = sys
	}
	for _, f := range rootFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read a root certificate file for tls.use %s: %w", mode, err)
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("root certificate file %s holds no PEM certificate", f)
		}
	}
	cfg.RootCAs = pool
	return cfg, nil
}

func parseBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || s == "" {
		return "", fmt.Errorf("url %q is not a URL like http://localhost:8080", s)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("url %q: the scheme must be http or https", s)
	case u.Host == "" || u.Opaque != "":
		return "", fmt.Errorf("url %q has no host", s)
	case u.User != nil, u.RawQuery != "", u.Fragment != "", u.ForceQuery, u.Path != "" && u.Path != "/":
		return "", fmt.Errorf("url %q must be just a scheme and host[:port], with no path, query, fragment or user", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

var unknownField = regexp.MustCompile(`^(line \d+): field (\S+) not found in type .*$`)

// decodeStrict decodes the YAML file at path into v, rejecting unknown
// keys. found is false when the file does not exist or holds no document.
func decodeStrict(path string, v any) (found bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msgs := make([]string, len(te.Errors))
			for i, m := range te.Errors {
				msgs[i] = unknownField.ReplaceAllString(m, `$1: unknown key "$2"`)
			}
			return false, errors.New(strings.Join(msgs, "; "))
		}
		return false, err
	}
	return true, nil
}
