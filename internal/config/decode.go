package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// format is the syntax of a configuration text.
type format int

const (
	formatYAML format = iota
	formatJSON        // only for --config
)

// detectFormat picks JSON for --config text that is a valid JSON object;
// everything else (including YAML flow mappings) is YAML.
func detectFormat(data []byte, allowJSON bool) format {
	if allowJSON && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) && json.Valid(data) {
		return formatJSON
	}
	return formatYAML
}

// versionProbe is the loose first decode: only the version key.
type versionProbe struct {
	Version string `yaml:"version" json:"version"`
}

// decodeLoose decodes data into v, ignoring unknown keys.
func decodeLoose(data []byte, f format, v any) error {
	if f == formatJSON {
		return decodeJSON(data, v, false)
	}
	return decodeYAML(data, v, false)
}

// decodeStrict decodes data into v, rejecting unknown keys.
func decodeStrict(data []byte, f format, v any) error {
	if f == formatJSON {
		return decodeJSON(data, v, true)
	}
	return decodeYAML(data, v, true)
}

func decodeJSON(data []byte, v any, strict bool) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	return nil
}

// decodeYAML decodes the single YAML document of data into v. An empty
// document leaves v unchanged. In strict mode, unknown keys, local tags
// (!foo) and a second non-empty document are errors.
func decodeYAML(data []byte, v any, strict bool) (retErr error) {
	// yaml.v3 has panicked on malformed input in the past; a configuration
	// file must never crash the program.
	defer func() {
		if r := recover(); r != nil {
			retErr = fmt.Errorf("yaml: could not parse the file: %v", r)
		}
	}()
	if len(data) == 0 {
		return nil
	}
	if strict {
		if err := checkNoLocalTags(data); err != nil {
			return err
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(strict)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			// No document at all (only comments or blank lines).
			return nil
		}
		return fixYAMLError(err)
	}
	if strict {
		var next yaml.Node
		switch err := dec.Decode(&next); {
		case errors.Is(err, io.EOF):
		case err != nil:
			return fixYAMLError(err)
		case !isEmptyDocument(&next):
			line := next.Line
			if len(next.Content) > 0 {
				line = next.Content[0].Line
			}
			return fmt.Errorf("yaml: line %d: found a second YAML document; the file must hold exactly one", line)
		}
	}
	return nil
}

// isEmptyDocument reports whether n is a document with no content or only a
// null scalar (as after a trailing "---").
func isEmptyDocument(n *yaml.Node) bool {
	if n.Kind != yaml.DocumentNode {
		return n.Kind == 0
	}
	for _, c := range n.Content {
		if !(c.Kind == yaml.ScalarNode && c.Tag == "!!null" && (c.Value == "" || c.Value == "~" || c.Value == "null")) {
			return false
		}
	}
	return true
}

// checkNoLocalTags rejects local tags such as "!foo": yaml.v3 would silently
// accept them, while the user most likely meant a string starting with "!".
func checkNoLocalTags(data []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fixYAMLError(err)
	}
	return walkNodes(&root, 0)
}

func walkNodes(n *yaml.Node, depth int) error {
	if depth > 10000 {
		return errors.New("yaml: document is nested too deeply")
	}
	if len(n.Tag) >= 2 && n.Tag[0] == '!' && n.Tag[1] != '!' {
		return fmt.Errorf("yaml: line %d: unexpected tag %q: values that start with %q must be quoted", n.Line, n.Tag, "!")
	}
	for _, c := range n.Content {
		if err := walkNodes(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// fixYAMLError drops the Go type names yaml.v3 appends to unknown-field and
// already-set errors ("field foo not found in type config.x" becomes
// "field foo not found"), as the reference CLI does.
func fixYAMLError(err error) error {
	var typeErr *yaml.TypeError
	if !errors.As(err, &typeErr) {
		return err
	}
	for i, msg := range typeErr.Errors {
		msg = cutAfter(msg, "already set in type", "already set")
		msg = cutAfter(msg, "not found in type", "not found")
		typeErr.Errors[i] = msg
	}
	return typeErr
}

func cutAfter(s, marker, replacement string) string {
	if before, _, ok := strings.Cut(s, marker); ok {
		return before + replacement
	}
	return s
}
