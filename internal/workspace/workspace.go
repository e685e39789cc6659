// Package workspace finds and loads a workspace: the directory holding
// buf.yaml (or buf.work.yaml), its modules, and each module's files after
// includes and excludes. It enforces the workspace rules that must hold
// before anything is compiled: modules do not share .proto files, and an
// import path belongs to one workspace module only.
package workspace

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/config"
	"github.com/protomod/protomod/internal/digest"
)

// Workspace is a loaded workspace.
type Workspace struct {
	// Root is the absolute directory holding the configuration (or the
	// input directory when there is none).
	Root string
	// Config is the parsed configuration; nil when the directory has none.
	Config *config.File
	// Modules are the workspace modules, in configuration order.
	Modules []*Module
	// Deps are the declared remote dependencies, in declaration order.
	Deps []bufname.Ref
	// Targets are the modules the input selects: all modules, or the one
	// module whose directory was given as input.
	Targets []*Module
	// InputPath is the input directory relative to Root ("." for the root).
	InputPath string
}

// Module is one workspace module.
type Module struct {
	Config config.Module
	// Path is the module directory relative to the workspace root.
	Path string
	// Dir is the absolute module directory.
	Dir string
	// ProtoPaths are the module's .proto files, module-relative, sorted.
	ProtoPaths []string
	// DocPath is the absolute path of the module's doc file ("" for none),
	// its own or the workspace root's; DocName is its name inside the
	// module (buf.md, README.md or README.markdown).
	DocPath, DocName string
	// LicensePath is the absolute path of the module's LICENSE ("" for
	// none), its own or the workspace root's.
	LicensePath string
}

// Name returns the module's full name (zero if unnamed).
func (m *Module) Name() bufname.FullName { return m.Config.Name }

// Description returns the module description used in messages.
func (m *Module) Description() string { return m.Config.Description() }

// DisplayPath returns the workspace-relative path of a module file, as
// shown in messages.
func (m *Module) DisplayPath(p string) string {
	if m.Path == "." {
		return p
	}
	return m.Path + "/" + p
}

// FS returns the module directory as a file system.
func (m *Module) FS() fs.FS { return os.DirFS(m.Dir) }

// Files reads the module's content files (the .proto files, the doc file
// and LICENSE) at their module-relative paths: what is hashed and pushed.
func (m *Module) Files() ([]digest.File, error) {
	files := make([]digest.File, 0, len(m.ProtoPaths)+2)
	for _, p := range m.ProtoPaths {
		data, err := os.ReadFile(filepath.Join(m.Dir, filepath.FromSlash(p)))
		if err != nil {
			return nil, err
		}
		files = append(files, digest.File{Path: p, Content: data})
	}
	if m.DocPath != "" {
		data, err := os.ReadFile(m.DocPath)
		if err != nil {
			return nil, err
		}
		files = append(files, digest.File{Path: m.DocName, Content: data})
	}
	if m.LicensePath != "" {
		data, err := os.ReadFile(m.LicensePath)
		if err != nil {
			return nil, err
		}
		files = append(files, digest.File{Path: digest.LicensePath, Content: data})
	}
	slices.SortFunc(files, func(a, b digest.File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// Options tune Open.
type Options struct {
	// ConfigOverride is the --config value.
	ConfigOverride string
}

// UserError is a mistake in the user's input or configuration (exit 1).
type UserError struct{ Msg string }

func (e *UserError) Error() string { return e.Msg }

func userErrorf(format string, args ...any) error {
	return &UserError{Msg: fmt.Sprintf(format, args...)}
}

// Open finds the workspace of inputDir and loads it: the nearest directory
// at or above inputDir holding a buf.yaml or buf.work.yaml whose modules
// contain the input. Without any configuration, inputDir is one unnamed
// module.
func Open(inputDir string, opts Options) (*Workspace, error) {
	abs, err := filepath.Abs(inputDir)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, userErrorf("input %q does not exist", inputDir)
		}
		return nil, err
	}
	if !fi.IsDir() {
		return nil, userErrorf("input %q is not a directory", inputDir)
	}
	if opts.ConfigOverride != "" {
		cfg, err := config.Load(abs, opts.ConfigOverride)
		if err != nil {
			return nil, err
		}
		return load(abs, cfg, ".", inputDir)
	}
	root, cfg, err := find(abs)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return load(abs, nil, ".", inputDir)
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return nil, err
	}
	return load(root, cfg, filepath.ToSlash(rel), inputDir)
}

// find walks up from dir to the filesystem root. The first buf.yaml v2 or
// buf.work.yaml found wins; a v1 buf.yaml is used only if no buf.work.yaml
// above it lists its directory.
func find(dir string) (string, *config.File, error) {
	var v1Root string
	var v1Config *config.File
	for d := dir; ; {
		cfg, err := config.Load(d, "")
		switch {
		case err == nil:
			switch {
			case cfg.Version == config.V2:
				if v1Config != nil {
					return v1Root, v1Config, nil
				}
				return d, cfg, nil
			case cfg.Source == config.BufWorkYAML || cfg.Source == config.BufWork:
				if v1Config == nil || listsDir(cfg, d, v1Root) {
					return d, cfg, nil
				}
			case v1Config == nil:
				v1Root, v1Config = d, cfg
			}
		case !errors.Is(err, fs.ErrNotExist):
			return "", nil, err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return v1Root, v1Config, nil
		}
		d = parent
	}
}

func listsDir(cfg *config.File, root, dir string) bool {
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return false
	}
	rel = filepath.ToSlash(rel)
	for _, m := range cfg.Modules {
		if m.Path == rel {
			return true
		}
	}
	return false
}

func load(root string, cfg *config.File, input, inputDisplay string) (*Workspace, error) {
	ws := &Workspace{Root: root, Config: cfg, InputPath: input}
	mods := []config.Module{{Path: "."}}
	if cfg != nil {
		mods = cfg.Modules
		ws.Deps = cfg.Deps
	}
	if err := checkDescriptions(mods); err != nil {
		return nil, err
	}
	v2 := cfg != nil && cfg.Version == config.V2
	var rootDoc, rootDocName, rootLicense string
	if v2 {
		rootDoc, rootDocName = findDoc(root)
		rootLicense = findFile(filepath.Join(root, digest.LicensePath))
	}
	for _, mc := range mods {
		m := &Module{Config: mc, Path: mc.Path, Dir: filepath.Join(root, filepath.FromSlash(mc.Path))}
		fi, err := os.Stat(m.Dir)
		if err != nil || !fi.IsDir() {
			return nil, userErrorf("module directory %q does not exist: check the modules of %s", mc.Path, configName(cfg))
		}
		if m.ProtoPaths, err = listProtos(root, mc); err != nil {
			return nil, err
		}
		if len(m.ProtoPaths) == 0 {
			return nil, userErrorf("Module \"%s\" had no .proto files", m.Description())
		}
		m.DocPath, m.DocName = findDoc(m.Dir)
		if m.DocPath == "" && rootDoc != "" {
			m.DocPath, m.DocName = rootDoc, rootDocName
		}
		m.LicensePath = findFile(filepath.Join(m.Dir, digest.LicensePath))
		if m.LicensePath == "" {
			m.LicensePath = rootLicense
		}
		ws.Modules = append(ws.Modules, m)
	}
	if err := checkOverlaps(ws.Modules); err != nil {
		return nil, err
	}
	if err := checkDuplicatePaths(ws.Modules); err != nil {
		return nil, err
	}
	if err := ws.selectTargets(inputDisplay); err != nil {
		return nil, err
	}
	return ws, nil
}

func configName(cfg *config.File) string {
	if cfg == nil || cfg.Source == "" {
		return config.BufYAML
	}
	return cfg.Source
}

// selectTargets picks the modules the input directory designates.
func (ws *Workspace) selectTargets(inputDisplay string) error {
	if ws.InputPath == "." {
		ws.Targets = ws.Modules
		return nil
	}
	for _, m := range ws.Modules {
		if m.Path == ws.InputPath {
			ws.Targets = append(ws.Targets, m)
		}
	}
	if len(ws.Targets) > 0 {
		return nil
	}
	for _, m := range ws.Modules {
		if m.Path == "." || strings.HasPrefix(ws.InputPath, m.Path+"/") {
			return userErrorf("failed to build input %q because it is contained by module at path %q specified in your configuration, you must provide the workspace or module as the input, and filter to this path using --path", inputDisplay, m.Path)
		}
	}
	return userErrorf("input %q is inside the workspace at %q but is not one of its module directories; build the workspace itself or one module directory", inputDisplay, ws.Root)
}

func checkDescriptions(mods []config.Module) error {
	seen := make(map[string]bool)
	for _, m := range mods {
		d := m.Description()
		if seen[d] {
			return userErrorf("multiple module configs found with the same description: %s", d)
		}
		seen[d] = true
	}
	return nil
}

// findDoc returns the first existing doc file of dir.
func findDoc(dir string) (string, string) {
	for _, name := range digest.DocPaths {
		if p := findFile(filepath.Join(dir, name)); p != "" {
			return p, name
		}
	}
	return "", ""
}

func findFile(p string) string {
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		return p
	}
	return ""
}

// listProtos lists a module's .proto files (module-relative, sorted) after
// its includes and excludes. Both are workspace-root-relative.
func listProtos(root string, mc config.Module) ([]string, error) {
	starts := []string{mc.Path}
	if len(mc.Includes) > 0 {
		starts = mc.Includes
	}
	excluded := make(map[string]bool, len(mc.Excludes))
	for _, e := range mc.Excludes {
		excluded[e] = true
	}
	var out []string
	for _, start := range starts {
		startDir := filepath.Join(root, filepath.FromSlash(start))
		if _, err := os.Stat(startDir); errors.Is(err, fs.ErrNotExist) {
			continue // an include that does not exist contributes nothing
		}
		err := filepath.WalkDir(startDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			if d.IsDir() {
				if excluded[rel] {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(d.Name(), ".proto") {
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				fi, err := os.Stat(p)
				if err != nil || !fi.Mode().IsRegular() {
					return nil
				}
			} else if !d.Type().IsRegular() {
				return nil
			}
			modRel := rel
			if mc.Path != "." {
				modRel = strings.TrimPrefix(rel, mc.Path+"/")
			}
			out = append(out, modRel)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list files of module %s: %w", mc.Description(), err)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// checkOverlaps enforces protomod's rule: a .proto file must not belong to
// two workspace modules (which happens when one module directory is inside
// another and includes/excludes do not split them).
func checkOverlaps(mods []*Module) error {
	owner := make(map[string]*Module)
	for _, m := range mods {
		for _, p := range m.ProtoPaths {
			wsPath := path.Join(m.Path, p)
			if other, ok := owner[wsPath]; ok && other != m {
				outer, inner := other, m
				if len(inner.Path) < len(outer.Path) {
					outer, inner = inner, outer
				}
				hint := fmt.Sprintf("add %q to the excludes of the module at %q, or move one module out of the other", inner.Path, outer.Path)
				if outer.Path == inner.Path {
					hint = "split them with includes/excludes so that every .proto file belongs to one module"
				}
				return userErrorf("modules overlap: %s belongs to both %s and %s; workspace modules must not contain each other's files: %s",
					wsPath, outer.Description(), inner.Description(), hint)
			}
			owner[wsPath] = m
		}
	}
	return nil
}

// checkDuplicatePaths rejects an import path provided by two workspace
// modules.
func checkDuplicatePaths(mods []*Module) error {
	providers := make(map[string][]*Module)
	var dups []string
	for _, m := range mods {
		for _, p := range m.ProtoPaths {
			if len(providers[p]) == 1 {
				dups = append(dups, p)
			}
			providers[p] = append(providers[p], m)
		}
	}
	if len(dups) == 0 {
		return nil
	}
	slices.Sort(dups)
	p := dups[0]
	descs := make([]string, len(providers[p]))
	for i, m := range providers[p] {
		descs[i] = m.Description()
	}
	slices.SortFunc(descs, func(a, b string) int { return cmp.Compare(a, b) })
	return userErrorf("%s is contained in multiple modules:\n  %s", p, strings.Join(descs, "\n  "))
}
