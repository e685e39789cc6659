package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path"

	"github.com/protomod/protomod/internal/bufname"
)

// newPluginConfig validates one plugins entry. A name that parses as a
// reference and is not an existing path in fsys is a remote plugin; a name
// ending in .wasm is a Wasm file; anything else is a local binary.
func newPluginConfig(e pluginEntry, fsys fs.FS) (PluginConfig, error) {
	var options map[string]any
	for _, key := range sortedKeys(e.Options) {
		if key == "" {
			return PluginConfig{}, errors.New("must specify option key")
		}
		if e.Options[key] == nil {
			return PluginConfig{}, errors.New("must specify option value")
		}
		if options == nil {
			options = make(map[string]any, len(e.Options))
		}
		options[key] = e.Options[key]
	}
	words, err := stringOrStrings(e.Plugin)
	if err != nil {
		return PluginConfig{}, err
	}
	if len(words) == 0 {
		return PluginConfig{}, errors.New("must specify a path to the plugin")
	}
	c := PluginConfig{Name: words[0], Args: words[1:], Options: options}
	if len(c.Args) == 0 {
		c.Args = nil
	}
	if ref, err := bufname.ParseRef(c.Name); err == nil && !existsIn(fsys, c.Name) {
		c.Kind = PluginRemote
		c.Ref = ref
		return c, nil
	}
	if c.Name == "" {
		return PluginConfig{}, errors.New("must specify a name to the plugin")
	}
	if path.Ext(c.Name) == ".wasm" {
		c.Kind = PluginLocalWasm
	}
	return c, nil
}

// stringOrStrings reads a value that is a string or a list of strings.
func stringOrStrings(v any) ([]string, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{t}, nil
	case []any:
		out := make([]string, len(t))
		for i, elem := range t {
			s, ok := elem.(string)
			if !ok {
				return nil, fmt.Errorf("could not convert element %T to a string", elem)
			}
			out[i] = s
		}
		return out, nil
	default:
		return nil, fmt.Errorf("could not interpret %T as string or string slice", v)
	}
}

// newPolicyConfig validates one policies entry. The name is a remote
// reference when it parses as one and is not an existing path in fsys.
func newPolicyConfig(e policyEntry, fsys fs.FS) (PolicyConfig, error) {
	if e.Policy == "" {
		return PolicyConfig{}, errors.New("must specify a name to the policy")
	}
	c := PolicyConfig{Name: e.Policy}
	if ref, err := bufname.ParseRef(e.Policy); err == nil && !existsIn(fsys, e.Policy) {
		c.Ref = ref
	}
	ignore, err := checkPathSet(uniqueSorted(e.Ignore), "ignore")
	if err != nil {
		return PolicyConfig{}, err
	}
	c.Ignore = ignore
	for _, key := range sortedKeys(e.IgnoreOnly) {
		paths, err := checkPathSet(uniqueSorted(e.IgnoreOnly[key]), "ignore_only path")
		if err != nil {
			return PolicyConfig{}, err
		}
		if c.IgnoreOnly == nil {
			c.IgnoreOnly = make(map[string][]string, len(e.IgnoreOnly))
		}
		c.IgnoreOnly[key] = paths
	}
	return c, nil
}
