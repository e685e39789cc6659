package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"

	"github.com/protomod/protomod/internal/bufname"
)

// Parse parses and validates buf.yaml bytes (any version). fsys, rooted at
// the workspace root, is used only to look at paths named by the file
// (includes/excludes that are files, plugin and policy paths); nil skips
// those looks. Used by Load and by the fuzz target.
//
// Decode and validation errors are *DecodeError ("decode buf.yaml: ...").
// Two modules with the same description give the reference CLI's
// "multiple module configs found with the same description: ..." without
// that prefix.
func Parse(data []byte, fsys fs.FS) (*File, error) {
	return parseBufYAML(data, parseOptions{name: BufYAML, source: BufYAML, fsys: fsys})
}

// parseOptions says what is being parsed.
type parseOptions struct {
	name      string // the file as named in messages ("buf.yaml", "proto/buf.yaml", "--config")
	source    string // File.Source
	allowJSON bool   // --config only
	oldName   bool   // buf.mod, which cannot be v2
	fsys      fs.FS  // rooted at the file's directory; may be nil
}

var knownVersions = map[string]bool{V1Beta1: true, V1: true, V2: true}

func parseBufYAML(data []byte, opts parseOptions) (*File, error) {
	wrap := func(err error) error { return &DecodeError{File: opts.name, Err: err} }
	format := detectFormat(data, opts.allowJSON)
	version, err := readVersion(data, format, V2)
	if err != nil {
		return nil, wrap(err)
	}
	var f *File
	switch version {
	case V2:
		f, err = parseV2(data, format, opts.fsys)
	default:
		f, err = parseV1(data, format, version, opts.fsys)
	}
	if err != nil {
		return nil, wrap(err)
	}
	if version == V2 && opts.oldName {
		return nil, wrap(fmt.Errorf("%s is not supported for %s files", version, BufMod))
	}
	f.Source = opts.source
	f.HasDocsComment = hasDocsComment(data, version)
	if err := checkUniqueDescriptions(f.Modules); err != nil {
		return nil, err
	}
	return f, nil
}

// readVersion is the loose first decode: it reads only the version, which
// must be set and known. suggest is the version the missing-version message
// suggests.
func readVersion(data []byte, format format, suggest string) (string, error) {
	var probe versionProbe
	if err := decodeLoose(data, format, &probe); err != nil {
		return "", err
	}
	switch {
	case probe.Version == "":
		return "", fmt.Errorf(`"version" is not set. Please add "version: %s"`, suggest)
	case !knownVersions[probe.Version]:
		return "", fmt.Errorf("unknown file version: %q", probe.Version)
	}
	return probe.Version, nil
}

func hasDocsComment(data []byte, version string) bool {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return string(bytes.TrimSuffix(line, []byte("\r"))) == DocsComment(version)
}

func parseV2(data []byte, format format, fsys fs.FS) (*File, error) {
	var ext bufYAMLv2
	if err := decodeStrict(data, format, &ext); err != nil {
		return nil, err
	}
	entries := ext.Modules
	if len(entries) == 0 {
		entries = []moduleEntry{{Path: ".", Name: ext.Name}}
	} else if ext.Name != "" {
		return nil, errors.New(`top-level name key cannot be specified if modules are specified, you must specify the name on each individual module, the top-level name key is only for the default case where you have one module at path ".".`)
	}
	f := &File{Version: V2}
	for _, e := range entries {
		m, err := newModuleV2(e, ext, fsys)
		if err != nil {
			return nil, err
		}
		f.Modules = append(f.Modules, m)
	}
	if !ext.Lint.isEmpty() {
		if err := lintPaths(ext.Lint.lintCommon).validateFor(".", false); err != nil {
			return nil, err
		}
		f.Lint = lintConfigV2(ext.Lint)
	}
	if !ext.Breaking.isEmpty() {
		if err := breakingPaths(ext.Breaking).validateFor(".", false); err != nil {
			return nil, err
		}
		f.Breaking = breakingConfig(".", ext.Breaking)
	}
	for _, e := range ext.Plugins {
		p, err := newPluginConfig(e, fsys)
		if err != nil {
			return nil, err
		}
		f.Plugins = append(f.Plugins, p)
	}
	for _, e := range ext.Policies {
		p, err := newPolicyConfig(e, fsys)
		if err != nil {
			return nil, err
		}
		f.Policies = append(f.Policies, p)
	}
	deps, err := parseDeps(ext.Deps)
	if err != nil {
		return nil, err
	}
	f.Deps = deps
	if err := finish(f); err != nil {
		return nil, err
	}
	return f, nil
}

// finish checks full-name uniqueness (modules, then deps) and sorts the
// modules by path, keeping declaration order for equal paths.
func finish(f *File) error {
	if err := checkUniqueNames(moduleNames(f.Modules)); err != nil {
		return err
	}
	if err := checkUniqueNames(depNames(f.Deps)); err != nil {
		return err
	}
	sort.SliceStable(f.Modules, func(i, j int) bool { return f.Modules[i].Path < f.Modules[j].Path })
	return nil
}

func newModuleV2(e moduleEntry, file bufYAMLv2, fsys fs.FS) (Module, error) {
	dir := e.Path
	if dir == "" {
		dir = "."
	}
	dir, err := cleanPath(dir)
	if err != nil {
		return Module{}, fmt.Errorf("invalid module path: %w", err)
	}
	m := Module{Path: dir}
	if e.Name != "" {
		if m.Name, err = bufname.ParseFullName(e.Name); err != nil {
			return Module{}, err
		}
	}
	if m.Includes, err = checkIncludes(dir, e.Includes, fsys); err != nil {
		return Module{}, err
	}
	if m.Excludes, err = checkExcludes(dir, m.Includes, e.Excludes, fsys); err != nil {
		return Module{}, err
	}
	// A module's own non-empty section replaces the top-level one; its paths
	// must lie inside the module. The top-level section applies with paths
	// outside the module skipped.
	if !e.Lint.isEmpty() {
		if err := lintPaths(e.Lint.lintCommon).validateFor(dir, true); err != nil {
			return Module{}, err
		}
		m.Lint = lintConfigV2(e.Lint)
	} else if err := lintPaths(file.Lint.lintCommon).validateFor(dir, false); err != nil {
		return Module{}, err
	}
	if !e.Breaking.isEmpty() {
		if err := breakingPaths(e.Breaking).validateFor(dir, true); err != nil {
			return Module{}, err
		}
		m.Breaking = breakingConfig(".", e.Breaking)
	} else if err := breakingPaths(file.Breaking).validateFor(dir, false); err != nil {
		return Module{}, err
	}
	return m, nil
}

// checkIncludes validates the includes of the module at dir and returns
// them cleaned and sorted (workspace-root-relative).
func checkIncludes(dir string, includes []string, fsys fs.FS) ([]string, error) {
	clean, err := checkPathSet(includes, "include")
	if err != nil {
		return nil, err
	}
	for _, inc := range clean {
		switch {
		case inc == dir:
			return nil, fmt.Errorf("include path %q is equal to module directory %q", inc, dir)
		case !equalsOrContains(dir, inc):
			return nil, fmt.Errorf("include path %q does not reside within module directory %q", inc, dir)
		case path.Ext(inc) == ".proto" || isExistingFile(fsys, inc):
			return nil, fmt.Errorf("includes can only be directories but file %q discovered", inc)
		}
	}
	return clean, nil
}

// checkExcludes validates the excludes of the module at dir against its
// (checked) includes and returns them cleaned and sorted
// (workspace-root-relative).
func checkExcludes(dir string, includes, excludes []string, fsys fs.FS) ([]string, error) {
	rel := make([]string, 0, len(excludes))
	for _, raw := range excludes {
		exc, err := cleanPath(raw)
		if err != nil {
			return nil, fmt.Errorf("invalid exclude path: %w", err)
		}
		if exc == dir {
			return nil, fmt.Errorf("exclude path %q is equal to module directory %q", exc, dir)
		}
		if !equalsOrContains(dir, exc) {
			return nil, fmt.Errorf("exclude path %q does not reside within module directory %q", exc, dir)
		}
		if len(includes) > 0 {
			inside := false
			for _, inc := range includes {
				switch {
				case inc == exc:
					return nil, fmt.Errorf("%q is both an include path and an exclude path", exc)
				case contains(exc, inc):
					return nil, fmt.Errorf("%q (an include path) is a subdirectory of %q (an exclude path)", inc, exc)
				case contains(inc, exc):
					inside = true
				}
			}
			if !inside {
				return nil, fmt.Errorf("include paths are specified but %q is not contained within any of them", exc)
			}
		}
		rel = append(rel, relPath(dir, exc))
	}
	// Duplicates, nesting and files are reported module-relative, as the
	// reference CLI does.
	rel, err := checkPathSet(rel, "exclude")
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rel))
	for i, r := range rel {
		if path.Ext(r) == ".proto" || isExistingFile(fsys, joinPath(dir, r)) {
			return nil, fmt.Errorf("excludes can only be directories but file %q discovered", r)
		}
		out[i] = joinPath(dir, r)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func parseDeps(deps []string) ([]bufname.Ref, error) {
	var out []bufname.Ref
	for _, d := range deps {
		ref, err := bufname.ParseRef(d)
		if err != nil {
			return nil, fmt.Errorf("invalid dep: %w", err)
		}
		out = append(out, ref)
	}
	return out, nil
}

func moduleNames(modules []Module) []bufname.FullName {
	names := make([]bufname.FullName, len(modules))
	for i, m := range modules {
		names[i] = m.Name
	}
	return names
}

func depNames(deps []bufname.Ref) []bufname.FullName {
	names := make([]bufname.FullName, len(deps))
	for i, d := range deps {
		names[i] = d.FullName
	}
	return names
}

// checkUniqueNames reports the first full name that repeats; zero names are
// skipped.
func checkUniqueNames(names []bufname.FullName) error {
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n.IsZero() {
			continue
		}
		s := n.String()
		if seen[s] {
			return fmt.Errorf("duplicate full names in input: %q, %q", s, s)
		}
		seen[s] = true
	}
	return nil
}

// checkUniqueDescriptions rejects two modules that would be described the
// same way (same path, includes and excludes).
func checkUniqueDescriptions(modules []Module) error {
	seen := make(map[string]bool, len(modules))
	for _, m := range modules {
		d := m.Description()
		if seen[d] {
			return fmt.Errorf("multiple module configs found with the same description: %s", d)
		}
		seen[d] = true
	}
	return nil
}

// parseV1 parses a v1 or v1beta1 buf.yaml: one module at ".", whose paths
// are relative to the file's directory.
func parseV1(data []byte, format format, version string, fsys fs.FS) (*File, error) {
	var ext bufYAMLv1
	if err := decodeStrict(data, format, &ext); err != nil {
		return nil, err
	}
	if version == V1 && len(ext.Build.Roots) > 0 {
		return nil, fmt.Errorf("build.roots cannot be set on version %s: %v", version, ext.Build.Roots)
	}
	m := Module{Path: "."}
	if ext.Name != "" {
		var err error
		if m.Name, err = bufname.ParseFullName(ext.Name); err != nil {
			return nil, err
		}
	}
	excludes, err := checkV1Build(ext.Build, fsys)
	if err != nil {
		return nil, err
	}
	m.Excludes = excludes
	deps, err := parseDeps(ext.Deps)
	if err != nil {
		return nil, err
	}
	if err := lintPaths(ext.Lint.lintCommon).validateFor(".", true); err != nil {
		return nil, err
	}
	if err := breakingPaths(ext.Breaking).validateFor(".", true); err != nil {
		return nil, err
	}
	m.Lint = lintConfigV1(".", ext.Lint)
	m.Breaking = breakingConfig(".", ext.Breaking)
	f := &File{Version: version, Modules: []Module{m}, Deps: deps}
	if err := finish(f); err != nil {
		return nil, err
	}
	return f, nil
}

// checkV1Build validates build.roots (v1beta1) and build.excludes and
// returns the cleaned, sorted excludes. protomod supports only the root
// ".": a v1beta1 module with other roots has files whose import paths are
// relative to several directories, which a module directory cannot express.
func checkV1Build(b buildSection, fsys fs.FS) ([]string, error) {
	roots := b.Roots
	if len(roots) == 0 {
		roots = []string{"."}
	}
	roots, err := checkPathSet(roots, "root")
	if err != nil {
		return nil, err
	}
	if len(roots) != 1 || roots[0] != "." {
		return nil, fmt.Errorf(`build.roots %v is not supported by protomod: only the root "." is; make each root a module in a v2 buf.yaml (modules: - path: <root>) instead`, b.Roots)
	}
	excludes, err := checkPathSet(b.Excludes, "exclude")
	if err != nil {
		return nil, err
	}
	for _, exc := range excludes {
		if path.Ext(exc) == ".proto" || isExistingFile(fsys, exc) {
			return nil, fmt.Errorf("excludes can only be directories but file %q discovered", exc)
		}
		if exc == "." {
			return nil, fmt.Errorf("%q is both a root and exclude, which means the entire root is excluded, which is not valid", exc)
		}
	}
	return excludes, nil
}
