package gengo

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// FormatGoMod writes the go.mod of a generated module: the module line, a
// blank line, the go line, and (when there are requirements) a blank line
// and the requirements sorted by module path: one require block with one
// tab-indented line per module, or a single "require <path> <version>" line
// when there is only one (as the BSR and `go mod tidy` write it). The file
// ends in a newline.
func FormatGoMod(modulePath, goVersion string, requires []module.Version) ([]byte, error) {
	if err := module.CheckPath(modulePath); err != nil {
		return nil, fmt.Errorf("go.mod: %w", err)
	}
	if !modfile.GoVersionRE.MatchString(goVersion) {
		return nil, fmt.Errorf("go.mod of %s: go version %q must look like 1.23 or 1.23.4", modulePath, goVersion)
	}
	reqs := slices.Clone(requires)
	slices.SortFunc(reqs, func(a, b module.Version) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Version, b.Version)
	})
	reqs = slices.Compact(reqs)
	for i, r := range reqs {
		if err := module.Check(r.Path, r.Version); err != nil {
			return nil, fmt.Errorf("go.mod of %s: requirement: %w", modulePath, err)
		}
		if r.Path == modulePath {
			return nil, fmt.Errorf("go.mod of %s: the module cannot require itself", modulePath)
		}
		if i > 0 && reqs[i-1].Path == r.Path {
			return nil, fmt.Errorf("go.mod of %s: %s is required at two versions, %s and %s", modulePath, r.Path, reqs[i-1].Version, r.Version)
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "module %s\n\ngo %s\n", modulePath, goVersion)
	switch len(reqs) {
	case 0:
	case 1:
		fmt.Fprintf(&b, "\nrequire %s %s\n", reqs[0].Path, reqs[0].Version)
	default:
		b.WriteString("\nrequire (\n")
		for _, r := range reqs {
			fmt.Fprintf(&b, "\t%s %s\n", r.Path, r.Version)
		}
		b.WriteString(")\n")
	}
	return b.Bytes(), nil
}
