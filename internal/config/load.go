package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// Load reads the workspace configuration of dir.
//
// override is the --config value ("" = none): inline YAML or JSON text, or
// the path of a file ending in .json, .yaml or .yml (relative to the current
// directory). A v2 override is the whole configuration; a v1 or v1beta1
// override replaces the buf.yaml of every module, as in the reference CLI.
//
// Without an override, dir is looked at for buf.work.yaml (then buf.work)
// and buf.yaml (then buf.mod for v1/v1beta1); having both is an error:
//   - a buf.yaml alone gives its modules (a v1/v1beta1 file gives one module
//     at ".");
//   - a buf.work.yaml (v1 workspace) gives one module per listed directory,
//     configured by that directory's optional v1/v1beta1 buf.yaml (name,
//     deps, build.excludes, lint, breaking; all paths rebased onto the
//     workspace root). Deps of all modules are merged in module order;
//     the same module with two different refs is an error.
//
// When dir has no configuration at all, the error wraps fs.ErrNotExist (the
// caller then treats dir as a module with no config). Decode and validation
// errors are *DecodeError naming the file ("decode buf.yaml: ...",
// "decode proto/buf.yaml: ...", "decode buf.work.yaml: ...").
func Load(dir string, override string) (*File, error) {
	var overrideFile *File
	if override != "" {
		f, err := loadOverride(dir, override)
		if err != nil {
			return nil, err
		}
		if f.Version == V2 {
			return f, nil
		}
		overrideFile = f
	}
	workName, workData, err := readFirst(dir, ".", BufWorkYAML, BufWork)
	if err != nil {
		return nil, err
	}
	var workDirs []string
	if workData != nil {
		if workDirs, err = ParseWork(workData, workName); err != nil {
			return nil, err
		}
	}
	if overrideFile != nil {
		if workData == nil {
			return overrideFile, nil
		}
		return loadWorkspaceV1(dir, workName, workDirs, overrideFile)
	}
	yamlName, yamlData, err := readFirst(dir, ".", BufYAML, BufMod)
	if err != nil {
		return nil, err
	}
	var yamlFile *File
	if yamlData != nil {
		yamlFile, err = parseBufYAML(yamlData, parseOptions{
			name:    yamlName,
			source:  yamlName,
			oldName: yamlName == BufMod,
			fsys:    os.DirFS(dir),
		})
		if err != nil {
			return nil, err
		}
	}
	switch {
	case workData != nil && yamlData != nil:
		return nil, fmt.Errorf("cannot have a %s and %s in the same directory %q", BufWorkYAML, BufYAML, dir)
	case workData != nil:
		return loadWorkspaceV1(dir, workName, workDirs, nil)
	case yamlData != nil:
		return yamlFile, nil
	}
	return nil, &fs.PathError{Op: "read", Path: filepath.Join(dir, BufYAML), Err: fs.ErrNotExist}
}

// loadOverride reads and parses the --config value.
func loadOverride(dir, override string) (*File, error) {
	data := []byte(override)
	name := OverrideSource
	switch filepath.Ext(override) {
	case ".json", ".yaml", ".yml":
		var err error
		if data, err = os.ReadFile(override); err != nil {
			// Not wrapped: a missing --config file must not look like a
			// directory without configuration.
			return nil, fmt.Errorf("could not read %s file: %v", OverrideSource, err)
		}
		name = override
	}
	return parseBufYAML(data, parseOptions{
		name:      name,
		source:    OverrideSource,
		allowJSON: true,
		fsys:      os.DirFS(dir),
	})
}

// readFirst reads the first of names that exists in dir. It returns no data
// and no error when none exists. display is dir as shown in messages.
func readFirst(dir, display string, names ...string) (string, []byte, error) {
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			return name, data, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			var pathErr *fs.PathError
			if errors.As(err, &pathErr) {
				err = pathErr.Err
			}
			return "", nil, fmt.Errorf("read %s: %v", path.Join(display, name), err)
		}
	}
	return "", nil, nil
}

// loadWorkspaceV1 builds the File of a buf.work.yaml workspace. override,
// when set, is a v1/v1beta1 configuration used for every module.
func loadWorkspaceV1(dir, workName string, workDirs []string, override *File) (*File, error) {
	f := &File{Version: V1, Source: workName}
	refOf := make(map[string]string) // full name -> ref as first declared
	for _, d := range workDirs {
		mf := override
		if mf == nil {
			moduleDir := filepath.Join(dir, filepath.FromSlash(d))
			name, data, err := readFirst(moduleDir, d, BufYAML, BufMod)
			if err != nil {
				return nil, err
			}
			if data == nil {
				f.Modules = append(f.Modules, Module{Path: d})
				continue
			}
			mf, err = parseBufYAML(data, parseOptions{
				name:    path.Join(d, name),
				source:  name,
				oldName: name == BufMod,
				fsys:    os.DirFS(moduleDir),
			})
			if err != nil {
				return nil, err
			}
			if mf.Version == V2 {
				return nil, fmt.Errorf("%s at %s did not have version v1beta1 or v1", BufYAML, d)
			}
		}
		f.Modules = append(f.Modules, rebase(mf.Modules[0], d))
		for _, dep := range mf.Deps {
			name, ref := dep.FullName.String(), dep.String()
			existing, ok := refOf[name]
			switch {
			case !ok:
				refOf[name] = ref
				f.Deps = append(f.Deps, dep)
			case existing != ref:
				return nil, fmt.Errorf("found different refs for the same module within %s deps in the workspace: %s %s", BufYAML, ref, existing)
			}
		}
	}
	if err := checkUniqueNames(moduleNames(f.Modules)); err != nil {
		return nil, err
	}
	return f, nil
}

// rebase moves a module parsed from a v1 buf.yaml (at ".") to directory d
// of the workspace: every path becomes workspace-root-relative.
func rebase(m Module, d string) Module {
	m.Path = d
	m.Includes = joinAll(d, m.Includes)
	m.Excludes = joinAll(d, m.Excludes)
	if m.Lint != nil {
		l := *m.Lint
		l.Ignore = joinAll(d, l.Ignore)
		l.IgnoreOnly = joinAllMap(d, l.IgnoreOnly)
		m.Lint = &l
	}
	if m.Breaking != nil {
		b := *m.Breaking
		b.Ignore = joinAll(d, b.Ignore)
		b.IgnoreOnly = joinAllMap(d, b.IgnoreOnly)
		m.Breaking = &b
	}
	return m
}

func joinAll(dir string, paths []string) []string {
	if len(paths) == 0 {
		return nil
	}
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = joinPath(dir, p)
	}
	return out
}

func joinAllMap(dir string, m map[string][]string) map[string][]string {
	if m == nil {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = joinAll(dir, v)
	}
	return out
}
