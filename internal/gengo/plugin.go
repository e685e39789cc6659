package gengo

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// Built-in plugin versions. protocolbuffers/go is generated in process by
// the protoc-gen-go code linked into this binary (see ProtocGenGoVersion);
// connectrpc/go runs a pinned protoc-gen-connect-go binary.
const (
	// ProtocGenGoVersion is the protocolbuffers/go version this binary
	// generates. The linked google.golang.org/protobuf is a development
	// commit after v1.36.12 whose generator (cmd/protoc-gen-go/internal_gengo
	// and compiler/protogen) is identical to v1.36.12's; it calls itself
	// "v1.36.12-devel". SDKs advertise v1.36.12 and the generated headers
	// say "protoc-gen-go v1.36.12", so the files are byte-identical to the
	// released protoc-gen-go v1.36.12's. Generation fails if the linked
	// generator reports another base version.
	ProtocGenGoVersion = "v1.36.12"
	// ConnectGoVersion is the pinned protoc-gen-connect-go version.
	ConnectGoVersion = "v1.21.1"
	// ConnectGoBinary is the executable name looked up on PATH when the
	// configuration does not name one.
	ConnectGoBinary = "protoc-gen-connect-go"
	// DefaultTimeout limits one run of a plugin executable.
	DefaultTimeout = 5 * time.Minute
)

// PluginRef names a plugin version; Revision 0 means the plugin's
// configured revision.
type PluginRef struct {
	Owner, Name string
	Version     string
	Revision    int
}

func (r PluginRef) String() string {
	s := r.Owner + "/" + r.Name + " " + r.Version
	if r.Revision > 0 {
		s += fmt.Sprintf(" (revision %d)", r.Revision)
	}
	return s
}

// Exec is how to run a plugin executable over the protoc plugin protocol.
type Exec struct {
	// Path is the executable. A name without a slash is looked up on PATH
	// when the plugin first runs.
	Path string
	// Args are extra command-line arguments.
	Args []string
	// Env is added to the server's environment.
	Env []string
	// VersionOutput, if set, must appear in the output of
	// "<Path> --version" before the plugin is used, so that an unpinned
	// binary cannot silently generate a published version.
	VersionOutput string
}

// Plugin is one version of a code generation plugin, with everything that
// determines the bytes of the SDKs it generates.
type Plugin struct {
	Owner, Name string
	// Version is vMAJOR.MINOR.PATCH.
	Version string
	// Revision is bumped whenever the plugin's output for the same input may
	// change (a new build, new options): a published version never changes.
	Revision int
	// Options is the parameter passed to the plugin, e.g.
	// "paths=source_relative".
	Options string
	// GoVersion is the go directive of generated modules, e.g. "1.23".
	GoVersion string
	// Requires are the Go modules the generated code needs at run time.
	Requires []module.Version
	// Deps are the plugins whose SDKs the generated code imports, e.g.
	// connectrpc/go depends on protocolbuffers/go. The generated code's
	// go_package points at the first dependency's SDK (followed to a plugin
	// without dependencies); without dependencies, at the plugin's own.
	Deps []PluginRef
	// Exec runs an executable; nil means protoc-gen-go in process.
	Exec *Exec
	// Timeout limits one run of Exec; 0 means DefaultTimeout.
	Timeout time.Duration

	deps []resolvedDep

	mu       sync.Mutex // guards execPath
	execPath string     // the executable, once found and checked
}

type resolvedDep struct {
	plugin   *Plugin
	revision int
}

// FullName returns owner/name.
func (p *Plugin) FullName() string { return p.Owner + "/" + p.Name }

// String returns "owner/name version".
func (p *Plugin) String() string { return p.FullName() + " " + p.Version }

// Major returns the plugin's major version.
func (p *Plugin) Major() int { return majorOf(p.Version) }

// DefaultPlugins returns the built-in plugins: protocolbuffers/go
// (in process) and connectrpc/go (the executable connectGoPath, or
// protoc-gen-connect-go on PATH when empty; its --version must print the
// pinned version).
func DefaultPlugins(connectGoPath string) []*Plugin {
	if connectGoPath == "" {
		connectGoPath = ConnectGoBinary
	}
	return []*Plugin{
		{
			Owner: "protocolbuffers", Name: "go", Version: ProtocGenGoVersion, Revision: 1,
			Options:   "paths=source_relative,default_api_level=API_HYBRID",
			GoVersion: "1.23",
			Requires:  []module.Version{{Path: "google.golang.org/protobuf", Version: ProtocGenGoVersion}},
		},
		{
			Owner: "connectrpc", Name: "go", Version: ConnectGoVersion, Revision: 1,
			Options:   "paths=source_relative",
			GoVersion: "1.25",
			Requires:  []module.Version{{Path: "connectrpc.com/connect", Version: ConnectGoVersion}},
			Deps:      []PluginRef{{Owner: "protocolbuffers", Name: "go", Version: ProtocGenGoVersion, Revision: 1}},
			Exec:      &Exec{Path: connectGoPath, VersionOutput: strings.TrimPrefix(ConnectGoVersion, "v")},
		},
	}
}

// Catalog is the set of plugins a registry serves.
type Catalog struct {
	byName map[string][]*Plugin // sorted by ascending version
}

// NewCatalog checks the plugins and resolves their dependencies. Each
// (owner/name, version) may appear once.
func NewCatalog(plugins []*Plugin) (*Catalog, error) {
	c := &Catalog{byName: map[string][]*Plugin{}}
	for _, p := range plugins {
		if err := checkPlugin(p); err != nil {
			return nil, err
		}
		if c.Plugin(p.Owner, p.Name, p.Version) != nil {
			return nil, fmt.Errorf("plugin %s is configured twice", p)
		}
		c.byName[p.FullName()] = append(c.byName[p.FullName()], p)
	}
	for _, list := range c.byName {
		slices.SortFunc(list, func(a, b *Plugin) int { return semver.Compare(a.Version, b.Version) })
	}
	for _, list := range c.byName {
		for _, p := range list {
			p.deps = nil
			for _, ref := range p.Deps {
				d := c.Plugin(ref.Owner, ref.Name, ref.Version)
				if d == nil {
					return nil, fmt.Errorf("plugin %s depends on %s %s, which is not configured", p, ref.Owner+"/"+ref.Name, ref.Version)
				}
				rev := ref.Revision
				if rev == 0 {
					rev = d.Revision
				}
				if rev < 1 || rev > d.Revision {
					return nil, fmt.Errorf("plugin %s depends on %s revision %d, but its revisions are 1 to %d", p, d, rev, d.Revision)
				}
				p.deps = append(p.deps, resolvedDep{plugin: d, revision: rev})
			}
		}
	}
	for _, list := range c.byName {
		for _, p := range list {
			if err := checkCycle(p, nil); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

func checkPlugin(p *Plugin) error {
	if p == nil {
		return errors.New("nil plugin")
	}
	name := p.FullName()
	for _, part := range []string{p.Owner, p.Name} {
		if err := module.CheckImportPath("example.test/" + part); err != nil || part == "" || strings.Contains(part, "/") {
			return fmt.Errorf("plugin name %q must be owner/name, each a valid Go path element", name)
		}
	}
	if err := checkPluginVersion(p.Version); err != nil {
		return fmt.Errorf("plugin %s: %w", name, err)
	}
	if p.Revision < 1 {
		return fmt.Errorf("plugin %s: revision %d must be 1 or more", p, p.Revision)
	}
	if p.GoVersion == "" {
		return fmt.Errorf("plugin %s: the minimum Go version (go) is missing", p)
	}
	if _, err := FormatGoMod("example.test/m", p.GoVersion, p.Requires); err != nil {
		return fmt.Errorf("plugin %s: %w", p, err)
	}
	if p.Exec == nil {
		if p.Owner != "protocolbuffers" || p.Name != "go" || p.Version != ProtocGenGoVersion {
			return fmt.Errorf("plugin %s needs an executable: only protocolbuffers/go %s is built in", p, ProtocGenGoVersion)
		}
	} else if p.Exec.Path == "" {
		return fmt.Errorf("plugin %s: the executable path is empty", p)
	}
	if p.Timeout < 0 {
		return fmt.Errorf("plugin %s: negative timeout", p)
	}
	return nil
}

func checkCycle(p *Plugin, stack []*Plugin) error {
	if slices.Contains(stack, p) {
		names := make([]string, 0, len(stack)+1)
		for _, s := range stack {
			names = append(names, s.String())
		}
		return fmt.Errorf("plugin dependencies form a cycle: %s -> %s", strings.Join(names, " -> "), p)
	}
	for _, d := range p.deps {
		if err := checkCycle(d.plugin, append(stack, p)); err != nil {
			return err
		}
	}
	return nil
}

// Plugin returns the plugin with this name and version, or nil.
func (c *Catalog) Plugin(owner, name, version string) *Plugin {
	for _, p := range c.byName[owner+"/"+name] {
		if p.Version == version {
			return p
		}
	}
	return nil
}

// Versions returns the versions of owner/name whose SDK module paths end
// in the given major version's suffix (major 0 and 1 share the path without
// suffix), oldest first.
func (c *Catalog) Versions(owner, name string, major int) []*Plugin {
	var out []*Plugin
	for _, p := range c.byName[owner+"/"+name] {
		if m := p.Major(); m == major || m <= 1 && major <= 1 {
			out = append(out, p)
		}
	}
	return out
}

// Plugins returns every plugin, sorted by name and version.
func (c *Catalog) Plugins() []*Plugin {
	var out []*Plugin
	for _, list := range c.byName {
		out = append(out, list...)
	}
	slices.SortFunc(out, func(a, b *Plugin) int {
		if n := strings.Compare(a.FullName(), b.FullName()); n != 0 {
			return n
		}
		return semver.Compare(a.Version, b.Version)
	})
	return out
}

// checkResolved fails for a plugin whose dependencies NewCatalog has not
// resolved.
func (p *Plugin) checkResolved() error {
	if len(p.deps) != len(p.Deps) {
		return fmt.Errorf("plugin %s is not in a catalog: build one with NewCatalog", p)
	}
	return nil
}

// goPackageBase returns the plugin whose SDK holds the Go packages the
// generated code belongs to (see Plugin.Deps), and its revision.
func (p *Plugin) goPackageBase() (*Plugin, int) {
	base, rev := p, p.Revision
	for len(base.deps) > 0 {
		base, rev = base.deps[0].plugin, base.deps[0].revision
	}
	return base, rev
}
