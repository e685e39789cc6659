package config

import (
	"fmt"
)

// checkPaths is the path part of a lint or breaking section, for validation.
type checkPaths struct {
	field      string // "lint" or "breaking", the message prefix
	ignore     []string
	ignoreOnly map[string][]string
}

func lintPaths(l lintCommon) checkPaths {
	return checkPaths{field: "lint", ignore: l.Ignore, ignoreOnly: l.IgnoreOnly}
}

func breakingPaths(b breakingSection) checkPaths {
	return checkPaths{field: "breaking", ignore: b.Ignore, ignoreOnly: b.IgnoreOnly}
}

// validateFor validates c as it applies to the module at dir (both
// workspace-root-relative), the way the reference CLI does:
//   - an ignore path equal to dir turns the check off for the module, and
//     nothing else is checked;
//   - otherwise every path must be valid, and paths outside dir are an error
//     when requireInside (the module's own section) or skipped (the
//     top-level section applied to a module);
//   - the remaining paths, relative to dir, must not repeat after cleaning
//     or nest.
func (c checkPaths) validateFor(dir string, requireInside bool) error {
	for _, p := range c.ignore {
		clean, err := cleanPath(p)
		if err != nil {
			return fmt.Errorf("%s.ignore: invalid path: %w", c.field, err)
		}
		if clean == dir {
			return nil
		}
	}
	ignore, err := relToModule(c.field+".ignore", c.ignore, dir, requireInside)
	if err != nil {
		return err
	}
	ignoreOnly := make(map[string][]string, len(c.ignoreOnly))
	for _, key := range sortedKeys(c.ignoreOnly) {
		rel, err := relToModule(c.field+".ignore_only", c.ignoreOnly[key], dir, requireInside)
		if err != nil {
			return err
		}
		if len(rel) > 0 {
			ignoreOnly[key] = rel
		}
	}
	if _, err := checkPathSet(uniqueSorted(ignore), "ignore"); err != nil {
		return err
	}
	for _, key := range sortedKeys(ignoreOnly) {
		if _, err := checkPathSet(uniqueSorted(ignoreOnly[key]), "ignore_only path"); err != nil {
			return err
		}
	}
	return nil
}

func relToModule(field string, paths []string, dir string, requireInside bool) ([]string, error) {
	var out []string
	for _, p := range paths {
		clean, err := cleanPath(p)
		if err != nil {
			return nil, fmt.Errorf("%s: invalid path: %w", field, err)
		}
		if !equalsOrContains(dir, clean) {
			if !requireInside {
				continue
			}
			return nil, fmt.Errorf("%s: path %q is not contained within module directory %q", field, clean, dir)
		}
		out = append(out, relPath(dir, clean))
	}
	return out, nil
}

// cleanPaths cleans paths relative to base (a clean workspace-root-relative
// directory) and returns them sorted and deduplicated. Invalid paths, which
// validation lets through only in a section that is turned off, are dropped.
func cleanPaths(base string, paths []string) []string {
	var out []string
	for _, p := range paths {
		if clean, err := cleanPath(p); err == nil {
			out = append(out, joinPath(base, clean))
		}
	}
	return uniqueSorted(out)
}

func cleanPathMap(base string, m map[string][]string) map[string][]string {
	var out map[string][]string
	for key, paths := range m {
		if cleaned := cleanPaths(base, paths); len(cleaned) > 0 {
			if out == nil {
				out = make(map[string][]string, len(m))
			}
			out[key] = cleaned
		}
	}
	return out
}

func newLintConfig(base string, l lintCommon) *LintConfig {
	return &LintConfig{
		Use:                                  uniqueSorted(l.Use),
		Except:                               uniqueSorted(l.Except),
		Ignore:                               cleanPaths(base, l.Ignore),
		IgnoreOnly:                           cleanPathMap(base, l.IgnoreOnly),
		EnumZeroValueSuffix:                  l.EnumZeroValueSuffix,
		RPCAllowSameRequestResponse:          l.RPCAllowSameRequestResponse,
		RPCAllowGoogleProtobufEmptyRequests:  l.RPCAllowGoogleProtobufEmptyRequests,
		RPCAllowGoogleProtobufEmptyResponses: l.RPCAllowGoogleProtobufEmptyResponses,
		ServiceSuffix:                        l.ServiceSuffix,
		DisableBuiltin:                       l.DisableBuiltin,
	}
}

func lintConfigV2(l lintSectionV2) *LintConfig {
	if l.isEmpty() {
		return nil
	}
	c := newLintConfig(".", l.lintCommon)
	c.DisallowCommentIgnores = l.DisallowCommentIgnores
	return c
}

// lintConfigV1 converts a v1 lint section of the module at base, whose
// paths are relative to base.
func lintConfigV1(base string, l lintSectionV1) *LintConfig {
	if l.isEmpty() {
		return nil
	}
	c := newLintConfig(base, l.lintCommon)
	c.AllowCommentIgnores = l.AllowCommentIgnores
	return c
}

// breakingConfig converts a breaking section whose paths are relative to
// base.
func breakingConfig(base string, b breakingSection) *BreakingConfig {
	if b.isEmpty() {
		return nil
	}
	return &BreakingConfig{
		Use:                    uniqueSorted(b.Use),
		Except:                 uniqueSorted(b.Except),
		Ignore:                 cleanPaths(base, b.Ignore),
		IgnoreOnly:             cleanPathMap(base, b.IgnoreOnly),
		IgnoreUnstablePackages: b.IgnoreUnstablePackages,
		DisableBuiltin:         b.DisableBuiltin,
	}
}
