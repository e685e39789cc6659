// Package config reads workspace configuration files: buf.yaml (v2, v1,
// v1beta1, and the old name buf.mod) and the legacy v1 workspace file
// buf.work.yaml. It decodes them strictly, validates them with the reference
// CLI's error texts, and returns one File whatever was read.
//
// Every path kept in a File (module paths, includes, excludes, lint and
// breaking ignore paths) is cleaned, '/'-separated and relative to the
// workspace root, whatever file it came from.
package config

import (
	"fmt"
	"strings"

	"github.com/protomod/protomod/internal/bufname"
)

// File versions.
const (
	V1Beta1 = "v1beta1"
	V1      = "v1"
	V2      = "v2"
)

// File names.
const (
	BufYAML     = "buf.yaml"
	BufMod      = "buf.mod" // old name of buf.yaml, v1beta1 and v1 only
	BufWorkYAML = "buf.work.yaml"
	BufWork     = "buf.work" // old name of buf.work.yaml
	// OverrideSource is File.Source when the configuration came from --config.
	OverrideSource = "--config"
)

// File is a parsed, validated workspace configuration, whatever file it came
// from.
type File struct {
	// Version is "v2", "v1" or "v1beta1". For a buf.work.yaml workspace it is
	// "v1".
	Version string
	// Source is what was read, for messages: "buf.yaml", "buf.mod",
	// "buf.work.yaml", "buf.work" or "--config".
	Source string
	// Modules are sorted by Path; modules with equal paths keep their
	// declaration order (as the reference CLI does). Never empty.
	Modules []Module
	// Deps are the buf.yaml deps in declaration order (protomod searches deps
	// in this order). Full names are unique. For a buf.work.yaml workspace,
	// the deps of all modules, in module order, deduplicated.
	Deps []bufname.Ref
	// Lint is the top-level lint section; nil when absent or empty. It is the
	// default for modules without their own section. Always nil for v1 files,
	// whose single lint section is the module's own (Module.Lint).
	Lint *LintConfig
	// Breaking is the top-level breaking section, like Lint.
	Breaking *BreakingConfig
	// Plugins are the v2 plugins, in declaration order.
	Plugins []PluginConfig
	// Policies are the v2 policies, in declaration order.
	Policies []PolicyConfig
	// HasDocsComment is true when line 1 of the file is the buf.yaml docs
	// comment for the file's version (see DocsComment); a rewrite keeps it.
	HasDocsComment bool
}

// Module is one module of a workspace.
type Module struct {
	// Path is the module directory: cleaned, '/'-separated, relative to the
	// workspace root; "." for the root.
	Path string
	// Name is the module's full name; zero if unnamed.
	Name bufname.FullName
	// Includes are the include directories (workspace-root-relative, cleaned,
	// sorted). Empty means the whole module directory.
	Includes []string
	// Excludes are the exclude directories (workspace-root-relative, cleaned,
	// sorted). Each removes its whole subtree.
	Excludes []string
	// Lint is the module's own lint section if present and non-empty, else
	// nil (the module then uses File.Lint). Its ignore paths lie inside Path.
	Lint *LintConfig
	// Breaking is the module's own breaking section, like Lint.
	Breaking *BreakingConfig
}

// Description returns the module description used in messages:
//
//	path: "proto"
//	path: "proto", includes: "proto/a"
//	path: "proto", excludes: ["proto/a", "proto/b"]
func (m Module) Description() string {
	var b strings.Builder
	fmt.Fprintf(&b, "path: %q", m.Path)
	describeList(&b, "includes", m.Includes)
	describeList(&b, "excludes", m.Excludes)
	return b.String()
}

func describeList(b *strings.Builder, key string, paths []string) {
	switch len(paths) {
	case 0:
	case 1:
		fmt.Fprintf(b, ", %s: %q", key, paths[0])
	default:
		quoted := make([]string, len(paths))
		for i, p := range paths {
			quoted[i] = fmt.Sprintf("%q", p)
		}
		fmt.Fprintf(b, ", %s: [%s]", key, strings.Join(quoted, ", "))
	}
}

// LintConfig is a lint section. Lists are sorted and deduplicated; paths are
// workspace-root-relative. An ignore path equal to a module's directory turns
// lint off for that module; top-level ignore paths outside a module do not
// apply to it. An empty Use means the default (STANDARD in v2, DEFAULT in v1).
type LintConfig struct {
	Use        []string
	Except     []string
	Ignore     []string
	IgnoreOnly map[string][]string // rule or category -> paths

	EnumZeroValueSuffix                  string
	RPCAllowSameRequestResponse          bool
	RPCAllowGoogleProtobufEmptyRequests  bool
	RPCAllowGoogleProtobufEmptyResponses bool
	ServiceSuffix                        string
	// AllowCommentIgnores is the v1/v1beta1 key allow_comment_ignores
	// (default: comment ignores are not honoured).
	AllowCommentIgnores bool
	// DisallowCommentIgnores is the v2 key disallow_comment_ignores
	// (default: comment ignores are honoured).
	DisallowCommentIgnores bool
	DisableBuiltin         bool
}

// CommentIgnoresAllowed reports whether "buf:lint:ignore" comments are
// honoured under a file of the given version. c may be nil.
func (c *LintConfig) CommentIgnoresAllowed(version string) bool {
	if version == V2 {
		return c == nil || !c.DisallowCommentIgnores
	}
	return c != nil && c.AllowCommentIgnores
}

// BreakingConfig is a breaking section, with the same list and path rules
// as LintConfig. An empty Use means the default (FILE).
type BreakingConfig struct {
	Use                    []string
	Except                 []string
	Ignore                 []string
	IgnoreOnly             map[string][]string
	IgnoreUnstablePackages bool
	DisableBuiltin         bool
}

// PluginKind says how a check plugin is run.
type PluginKind int

const (
	// PluginLocal is a local binary, found by name or path.
	PluginLocal PluginKind = iota
	// PluginLocalWasm is a local Wasm file (name ends in .wasm).
	PluginLocalWasm
	// PluginRemote is a plugin on a registry (Ref is set).
	PluginRemote
)

func (k PluginKind) String() string {
	switch k {
	case PluginLocal:
		return "local"
	case PluginLocalWasm:
		return "local-wasm"
	case PluginRemote:
		return "remote"
	default:
		return fmt.Sprintf("PluginKind(%d)", int(k))
	}
}

// MarshalText writes the kind's name (for JSON and logs).
func (k PluginKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// PluginConfig is one entry of the v2 plugins list.
type PluginConfig struct {
	Kind PluginKind
	// Name is the binary name or path, the .wasm path, or for a remote
	// plugin the reference as written.
	Name string
	// Args are the further elements when plugin: is a list.
	Args []string
	// Options are the plugin options; keys are non-empty and values non-nil.
	Options map[string]any
	// Ref is the parsed reference of a remote plugin; zero otherwise.
	Ref bufname.Ref
}

// PolicyConfig is one entry of the v2 policies list.
type PolicyConfig struct {
	// Name is the local path or the reference, as written.
	Name string
	// Ref is the parsed reference of a remote policy; zero for a local one.
	Ref bufname.Ref
	// Ignore and IgnoreOnly are cleaned, sorted and deduplicated.
	Ignore     []string
	IgnoreOnly map[string][]string
}

// DocsComment returns the docs comment line (without newline) that
// `buf config init` writes as line 1 of a buf.yaml of the given version.
func DocsComment(version string) string {
	return "# For details on buf.yaml configuration, visit https://buf.build/docs/configuration/" + version + "/buf-yaml"
}

// DecodeError is a configuration file that could not be decoded or did not
// validate. Its text is "decode <file>: <reason>", as in the reference CLI.
type DecodeError struct {
	// File names what was read: "buf.yaml", "proto/buf.yaml",
	// "buf.work.yaml", "--config", or the --config file path.
	File string
	Err  error
}

func (e *DecodeError) Error() string { return "decode " + e.File + ": " + e.Err.Error() }

func (e *DecodeError) Unwrap() error { return e.Err }
