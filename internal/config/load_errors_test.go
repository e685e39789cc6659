package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// errorCases maps each directory under testdata/errors to the exact error
// Load returns for it. For all but a few cases the reference CLI (buf
// v1.75.0, `buf build`) prints the same text after "Failure: ". protomod's
// own texts or behaviour: v2/comments-only (buf says "EOF"),
// v2/second-document (buf ignores later documents),
// v2/{include,exclude}-is-other-file (buf checks only the .proto extension)
// and v1beta1/roots (unsupported).
var errorCases = []struct {
	dir  string
	want string
}{
	{"v2/version-missing", "decode buf.yaml: \"version\" is not set. Please add \"version: v2\""},
	{"v2/unknown-top-level-key", "decode buf.yaml: yaml: unmarshal errors:\n  line 4: field foo not found"},
	{"v2/unknown-module-key", "decode buf.yaml: yaml: unmarshal errors:\n  line 4: field exclude not found"},
	{"v2/module-path-parent", "decode buf.yaml: invalid module path: ../proto: is outside the context directory"},
	{"v2/module-path-absolute", "decode buf.yaml: invalid module path: /abs/proto: expected to be relative"},
	{"v2/exclude-outside-module", "decode buf.yaml: exclude path \"other/foo\" does not reside within module directory \"proto\""},
	{"v2/exclude-module-relative", "decode buf.yaml: exclude path \"foo\" does not reside within module directory \"proto\""},
	{"v2/exclude-equals-module", "decode buf.yaml: exclude path \"proto\" is equal to module directory \"proto\""},
	{"v2/exclude-is-proto-file", "decode buf.yaml: excludes can only be directories but file \"foo/v1/foo.proto\" discovered"},
	{"v2/include-outside-module", "decode buf.yaml: include path \"other\" does not reside within module directory \"proto\""},
	{"v2/include-equals-module", "decode buf.yaml: include path \"X\" is equal to module directory \"X\""},
	{"v2/include-is-proto-file", "decode buf.yaml: includes can only be directories but file \"proto/foo/v1/foo.proto\" discovered"},
	{"v2/exclude-outside-includes", "decode buf.yaml: include paths are specified but \"proto/bar\" is not contained within any of them"},
	{"v2/include-and-exclude", "decode buf.yaml: \"proto/foo\" is both an include path and an exclude path"},
	{"v2/include-inside-exclude", "decode buf.yaml: \"proto/foo/v1\" (an include path) is a subdirectory of \"proto/foo\" (an exclude path)"},
	{"v2/duplicate-include", "decode buf.yaml: duplicate include \"proto/foo\""},
	{"v2/duplicate-exclude", "decode buf.yaml: duplicate exclude \"foo\""},
	{"v2/nested-includes", "decode buf.yaml: include \"a/b/c\" is within include \"a/b\" which is not allowed"},
	{"v2/nested-excludes", "decode buf.yaml: exclude \"b/c\" is within exclude \"b\" which is not allowed"},
	{"v2/top-level-name-with-modules", "decode buf.yaml: top-level name key cannot be specified if modules are specified, you must specify the name on each individual module, the top-level name key is only for the default case where you have one module at path \".\"."},
	{"v2/bad-module-name", "decode buf.yaml: could not parse full name \"acme/x\": must be in the form registry/owner/name"},
	{"v2/bad-top-level-name", "decode buf.yaml: could not parse full name \"acme/x\": must be in the form registry/owner/name"},
	{"v2/duplicate-module-names", "decode buf.yaml: duplicate full names in input: \"buf.build/acme/x\", \"buf.build/acme/x\""},
	{"v2/bad-dep", "decode buf.yaml: invalid dep: could not parse reference \"acme/x\": must be in the form registry/owner/name[:ref]"},
	{"v2/duplicate-deps", "decode buf.yaml: duplicate full names in input: \"buf.build/acme/x\", \"buf.build/acme/x\""},
	{"v2/same-description", "multiple module configs found with the same description: path: \"proto\""},
	{"v2/same-description-excludes", "multiple module configs found with the same description: path: \"proto\", excludes: [\"proto/bar\", \"proto/foo\"]"},
	{"v2/unknown-version", "decode buf.yaml: unknown file version: \"v3\""},
	{"v2/empty-file", "decode buf.yaml: \"version\" is not set. Please add \"version: v2\""},
	{"v2/comments-only", "decode buf.yaml: \"version\" is not set. Please add \"version: v2\""},
	{"v2/local-tag", "decode buf.yaml: yaml: line 2: unexpected tag \"!foo\": values that start with \"!\" must be quoted"},
	{"v2/tab-indent", "decode buf.yaml: yaml: line 2: found a tab character that violates indentation"},
	{"v2/duplicate-key", "decode buf.yaml: yaml: unmarshal errors:\n  line 2: mapping key \"version\" already defined at line 1"},
	{"v2/second-document", "decode buf.yaml: yaml: line 3: found a second YAML document; the file must hold exactly one"},
	{"v2/wrong-type", "decode buf.yaml: yaml: unmarshal errors:\n  line 3: cannot unmarshal !!int `5` into []string"},
	{"v2/v1-lint-key", "decode buf.yaml: yaml: unmarshal errors:\n  line 3: field allow_comment_ignores not found"},
	{"v2/exclude-is-other-file", "decode buf.yaml: excludes can only be directories but file \"notes.txt\" discovered"},
	{"v2/include-is-other-file", "decode buf.yaml: includes can only be directories but file \"proto/notes.txt\" discovered"},
	{"v2/exclude-empty", "decode buf.yaml: exclude path \".\" does not reside within module directory \"proto\""},
	{"v2/include-empty", "decode buf.yaml: include contained an empty path"},
	{"v2/include-parent", "decode buf.yaml: ../x: is outside the context directory"},
	{"v2/exclude-parent", "decode buf.yaml: invalid exclude path: ../x: is outside the context directory"},
	{"v2/module-lint-ignore-outside", "decode buf.yaml: lint.ignore: path \"other/foo\" is not contained within module directory \"proto\""},
	{"v2/module-lint-ignore-only-outside", "decode buf.yaml: lint.ignore_only: path \"other/foo\" is not contained within module directory \"proto\""},
	{"v2/module-breaking-ignore-outside", "decode buf.yaml: breaking.ignore: path \"other\" is not contained within module directory \"proto\""},
	{"v2/lint-ignore-absolute", "decode buf.yaml: lint.ignore: invalid path: /x: expected to be relative"},
	{"v2/breaking-ignore-parent", "decode buf.yaml: breaking.ignore: invalid path: ../x: is outside the context directory"},
	{"v2/lint-ignore-nested", "decode buf.yaml: ignore \"proto/foo\" is within ignore \"proto\" which is not allowed"},
	{"v2/top-lint-ignore-nested-in-module", "decode buf.yaml: ignore \"foo/v1\" is within ignore \"foo\" which is not allowed"},
	{"v2/lint-ignore-only-nested", "decode buf.yaml: ignore_only path \"a/b\" is within ignore_only path \"a\" which is not allowed"},
	{"v2/plugin-empty-option-key", "decode buf.yaml: must specify option key"},
	{"v2/plugin-null-option-value", "decode buf.yaml: must specify option value"},
	{"v2/plugin-missing", "decode buf.yaml: must specify a path to the plugin"},
	{"v2/plugin-empty-name", "decode buf.yaml: must specify a name to the plugin"},
	{"v2/plugin-int", "decode buf.yaml: could not interpret int as string or string slice"},
	{"v2/plugin-list-int", "decode buf.yaml: could not convert element int to a string"},
	{"v2/plugin-unknown-key", "decode buf.yaml: yaml: unmarshal errors:\n  line 4: field args not found"},
	{"v2/policy-missing", "decode buf.yaml: must specify a name to the policy"},
	{"v2/policy-ignore-nested", "decode buf.yaml: ignore \"a/b\" is within ignore \"a\" which is not allowed"},
	{"v1/roots", "decode buf.yaml: build.roots cannot be set on version v1: [proto other]"},
	{"v1/v2-lint-key", "decode buf.yaml: yaml: unmarshal errors:\n  line 3: field disallow_comment_ignores not found"},
	{"v1/modules-key", "decode buf.yaml: yaml: unmarshal errors:\n  line 2: field modules not found"},
	{"v1/exclude-proto-file", "decode buf.yaml: excludes can only be directories but file \"foo/v1/foo.proto\" discovered"},
	{"v1/exclude-root", "decode buf.yaml: \".\" is both a root and exclude, which means the entire root is excluded, which is not valid"},
	{"v1/exclude-duplicate", "decode buf.yaml: duplicate exclude \"foo\""},
	{"v1/exclude-absolute", "decode buf.yaml: /x: expected to be relative"},
	{"v1/bad-name", "decode buf.yaml: could not parse full name \"x\": must be in the form registry/owner/name"},
	{"v1/bad-dep", "decode buf.yaml: invalid dep: could not parse reference \"x\": must be in the form registry/owner/name[:ref]"},
	{"v1/duplicate-deps", "decode buf.yaml: duplicate full names in input: \"buf.build/a/b\", \"buf.build/a/b\""},
	{"v1beta1/roots", "decode buf.yaml: build.roots [proto other] is not supported by protomod: only the root \".\" is; make each root a module in a v2 buf.yaml (modules: - path: <root>) instead"},
	{"v1beta1/roots-nested", "decode buf.yaml: root \"a/b\" is within root \"a\" which is not allowed"},
	{"bufmod/v2", "decode buf.mod: v2 is not supported for buf.mod files"},
	{"bufmod/unknown-key", "decode buf.mod: yaml: unmarshal errors:\n  line 2: field foo not found"},
	{"work/directories-missing", "decode buf.work.yaml: directories is empty"},
	{"work/directories-empty", "decode buf.work.yaml: directories is empty"},
	{"work/directory-parent", "decode buf.work.yaml: directory \"../x\" is invalid: ../x: is outside the context directory"},
	{"work/directory-absolute", "decode buf.work.yaml: directory \"/x\" is invalid: /x: expected to be relative"},
	{"work/directory-twice", "decode buf.work.yaml: directory \"./proto\" is listed more than once"},
	{"work/directory-dot", "decode buf.work.yaml: directory \".\" is listed, it is not valid to have \".\" as a workspace directory, as this is no different than not having a workspace at all, see https://buf.build/docs/reference/workspaces/#directories for more details"},
	{"work/directory-contains", "decode buf.work.yaml: directory \"a\" contains directory \"a/b\""},
	{"work/version-missing", "decode buf.work.yaml: \"version\" is not set. Please add \"version: v1\""},
	{"work/version-v2", "decode buf.work.yaml: v2 is not supported for buf.work.yaml files"},
	{"work/version-v3", "decode buf.work.yaml: unknown file version: \"v3\""},
	{"work/unknown-key", "decode buf.work.yaml: yaml: unmarshal errors:\n  line 4: field foo not found"},
	{"work/old-name", "decode buf.work: yaml: unmarshal errors:\n  line 4: field foo not found"},
	{"work/module-v2", "buf.yaml at proto did not have version v1beta1 or v1"},
	{"work/module-unknown-key", "decode proto/buf.yaml: yaml: unmarshal errors:\n  line 2: field foo not found"},
	{"work/module-roots", "decode proto/buf.yaml: build.roots cannot be set on version v1: [a]"},
	{"work/dep-different-refs", "found different refs for the same module within buf.yaml deps in the workspace: buf.build/acme/x:v1 buf.build/acme/x"},
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range errorCases {
		t.Run(tc.dir, func(t *testing.T) {
			t.Parallel()
			f, err := Load(filepath.Join("testdata", "errors", filepath.FromSlash(tc.dir)), "")
			if err == nil {
				t.Fatalf("Load succeeded with %+v, want error:\n%s", f, tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error mismatch\n got: %q\nwant: %q", got, tc.want)
			}
			if errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %q wraps fs.ErrNotExist; callers would treat the directory as unconfigured", err)
			}
		})
	}
}

// TestErrorCasesComplete fails when a testdata/errors case directory has no
// row in errorCases (or a row has no directory).
func TestErrorCasesComplete(t *testing.T) {
	t.Parallel()
	listed := make(map[string]bool, len(errorCases))
	for _, tc := range errorCases {
		if listed[tc.dir] {
			t.Errorf("case %s listed twice", tc.dir)
		}
		listed[tc.dir] = true
		if _, err := os.Stat(filepath.Join("testdata", "errors", filepath.FromSlash(tc.dir))); err != nil {
			t.Errorf("case %s: %v", tc.dir, err)
		}
	}
	groups, err := os.ReadDir(filepath.Join("testdata", "errors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		entries, err := os.ReadDir(filepath.Join("testdata", "errors", g.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if name := g.Name() + "/" + e.Name(); !listed[name] {
				t.Errorf("testdata/errors/%s has no row in errorCases", name)
			}
		}
	}
}
