package gengo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"gopkg.in/yaml.v3"
)

// The plugin configuration file of `protomod serve` (YAML):
//
//	version: v1
//	plugins:
//	  # Override the built-in connectrpc/go: where its binary is.
//	  - name: connectrpc/go
//	    version: v1.21.1
//	    path: /opt/protomod/bin/protoc-gen-connect-go
//	  # Any protoc plugin executable.
//	  - name: grpc/go
//	    version: v1.6.2
//	    revision: 1
//	    path: protoc-gen-go-grpc            # a name without '/' is looked up on PATH
//	    args: []                            # extra arguments
//	    env: []                             # extra KEY=VALUE environment
//	    options: paths=source_relative,require_unimplemented_servers=false
//	    go: "1.24"                          # go directive of generated modules
//	    requires:                           # Go runtime requirements
//	      - google.golang.org/grpc v1.81.0
//	    deps:                               # plugins whose SDKs the code imports
//	      - plugin: protocolbuffers/go
//	        version: v1.36.12
//	        revision: 1                     # optional: the plugin's configured revision
//	    timeout: 2m                         # per run; default 5m
//	    version_output: 1.6.2               # optional: required in `<path> --version`
//
// An entry with the name and version of a built-in plugin changes only the
// fields it sets; protocolbuffers/go v1.36.12 runs in process and cannot be
// changed. Other versions of protocolbuffers/go need a path.

type configFile struct {
	Version string         `yaml:"version"`
	Plugins []pluginConfig `yaml:"plugins"`
}

type pluginConfig struct {
	Name          string      `yaml:"name"`
	Version       string      `yaml:"version"`
	Revision      int         `yaml:"revision"`
	Path          string      `yaml:"path"`
	Args          []string    `yaml:"args"`
	Env           []string    `yaml:"env"`
	Options       *string     `yaml:"options"`
	Go            string      `yaml:"go"`
	Requires      []string    `yaml:"requires"`
	Deps          []depConfig `yaml:"deps"`
	Timeout       string      `yaml:"timeout"`
	VersionOutput *string     `yaml:"version_output"`
}

type depConfig struct {
	Plugin   string `yaml:"plugin"`
	Version  string `yaml:"version"`
	Revision int    `yaml:"revision"`
}

// LoadConfig reads a plugin configuration file and returns the catalog of
// the built-in plugins merged with it. An empty path means the built-ins
// only, with protoc-gen-connect-go looked up on PATH.
func LoadConfig(path string) (*Catalog, error) {
	return LoadPlugins(path, "")
}

// LoadPlugins is LoadConfig with the built-in connectrpc/go plugin running
// the executable connectGoPath (looked up on PATH when it has no '/'; the
// default when empty). A path in the configuration file's connectrpc/go
// entry wins over connectGoPath.
func LoadPlugins(configPath, connectGoPath string) (*Catalog, error) {
	if configPath == "" {
		return NewCatalog(DefaultPlugins(connectGoPath))
	}
	data, err := os.ReadFile(configPath)
	if err != nil {
		return nil, fmt.Errorf("read plugin configuration: %w", err)
	}
	c, err := parseConfig(data, DefaultPlugins(connectGoPath))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", configPath, err)
	}
	return c, nil
}

// ParseConfig parses a plugin configuration; name is used in errors.
func ParseConfig(data []byte, name string) (*Catalog, error) {
	c, err := parseConfig(data, DefaultPlugins(""))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// parseConfig merges the configuration into plugins, the built-ins.
func parseConfig(data []byte, plugins []*Plugin) (*Catalog, error) {
	var cfg configFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if cfg.Version != "v1" {
		return nil, fmt.Errorf(`version must be "v1", got %q`, cfg.Version)
	}
	builtin := len(plugins)
	for i, pc := range cfg.Plugins {
		owner, name, ok := strings.Cut(pc.Name, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return nil, fmt.Errorf("plugins[%d]: name %q must be owner/name", i, pc.Name)
		}
		var p *Plugin
		for _, b := range plugins[:builtin] {
			if b.Owner == owner && b.Name == name && b.Version == pc.Version {
				p = b
			}
		}
		if p != nil && p.Exec == nil {
			return nil, fmt.Errorf("plugins[%d]: %s is built in (generated in process) and cannot be configured", i, p)
		}
		if p == nil {
			p = &Plugin{Owner: owner, Name: name, Version: pc.Version, Exec: &Exec{}}
			if pc.Path == "" {
				return nil, fmt.Errorf("plugins[%d]: %s %s needs a path to its executable", i, pc.Name, pc.Version)
			}
			if pc.Go == "" {
				return nil, fmt.Errorf("plugins[%d]: %s %s needs go, the minimum Go version of generated modules", i, pc.Name, pc.Version)
			}
			if pc.Revision == 0 {
				pc.Revision = 1
			}
			plugins = append(plugins, p)
		}
		if err := pc.apply(p); err != nil {
			return nil, fmt.Errorf("plugins[%d] (%s %s): %w", i, pc.Name, pc.Version, err)
		}
	}
	return NewCatalog(plugins)
}

// apply sets the fields the entry gives.
func (pc pluginConfig) apply(p *Plugin) error {
	if pc.Revision != 0 {
		p.Revision = pc.Revision
	}
	if pc.Path != "" {
		p.Exec.Path = pc.Path
	}
	if pc.Args != nil {
		p.Exec.Args = pc.Args
	}
	if pc.Env != nil {
		for _, kv := range pc.Env {
			if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
				return fmt.Errorf("env entry %q must be KEY=VALUE", kv)
			}
		}
		p.Exec.Env = pc.Env
	}
	if pc.VersionOutput != nil {
		p.Exec.VersionOutput = *pc.VersionOutput
	}
	if pc.Options != nil {
		p.Options = *pc.Options
	}
	if pc.Go != "" {
		p.GoVersion = pc.Go
	}
	if pc.Requires != nil {
		p.Requires = nil
		for _, r := range pc.Requires {
			path, version, ok := strings.Cut(strings.TrimSpace(r), " ")
			if !ok {
				return fmt.Errorf("requires entry %q must be \"<module path> <version>\"", r)
			}
			mv := module.Version{Path: path, Version: strings.TrimSpace(version)}
			if err := module.Check(mv.Path, mv.Version); err != nil {
				return fmt.Errorf("requires entry %q: %w", r, err)
			}
			p.Requires = append(p.Requires, mv)
		}
	}
	if pc.Deps != nil {
		p.Deps = nil
		for _, d := range pc.Deps {
			owner, name, ok := strings.Cut(d.Plugin, "/")
			if !ok || owner == "" || name == "" {
				return fmt.Errorf("deps entry plugin %q must be owner/name", d.Plugin)
			}
			if d.Revision < 0 {
				return fmt.Errorf("deps entry %s: negative revision", d.Plugin)
			}
			p.Deps = append(p.Deps, PluginRef{Owner: owner, Name: name, Version: d.Version, Revision: d.Revision})
		}
	}
	if pc.Timeout != "" {
		d, err := time.ParseDuration(pc.Timeout)
		if err != nil || d <= 0 {
			return fmt.Errorf("timeout %q must be a positive duration such as 90s or 5m", pc.Timeout)
		}
		p.Timeout = d
	}
	return nil
}
