package config

import (
	"errors"
	"fmt"
	"sort"
)

// ParseWork parses and validates buf.work.yaml bytes (a v1 workspace) and
// returns its directories, cleaned and sorted. name is the file name used in
// messages (BufWorkYAML or BufWork). Errors are *DecodeError.
func ParseWork(data []byte, name string) ([]string, error) {
	dirs, err := parseWork(data, name)
	if err != nil {
		return nil, &DecodeError{File: name, Err: err}
	}
	return dirs, nil
}

func parseWork(data []byte, name string) ([]string, error) {
	version, err := readVersion(data, formatYAML, V1)
	if err != nil {
		return nil, err
	}
	if version != V1 {
		return nil, fmt.Errorf("%s is not supported for %s files", version, name)
	}
	var ext workYAML
	if err := decodeStrict(data, formatYAML, &ext); err != nil {
		return nil, err
	}
	return checkWorkDirs(ext.Directories)
}

const dotWorkDirMessage = `directory "." is listed, it is not valid to have "." as a workspace directory, as this is no different than not having a workspace at all, see https://buf.build/docs/reference/workspaces/#directories for more details`

// checkWorkDirs validates the directories of a buf.work.yaml. Messages quote
// the directories as written.
func checkWorkDirs(dirs []string) ([]string, error) {
	if len(dirs) == 0 {
		return nil, errors.New("directories is empty")
	}
	written := make(map[string]string, len(dirs)) // clean -> as written
	for _, d := range dirs {
		clean, err := cleanPath(d)
		if err != nil {
			return nil, fmt.Errorf("directory %q is invalid: %w", d, err)
		}
		if _, ok := written[clean]; ok {
			return nil, fmt.Errorf("directory %q is listed more than once", d)
		}
		if clean == "." {
			return nil, errors.New(dotWorkDirMessage)
		}
		written[clean] = d
	}
	sorted := sortedKeys(written)
	for i := range sorted {
		for j := i + 1; j < len(sorted); j++ {
			a, b := sorted[i], sorted[j]
			if contains(a, b) {
				return nil, fmt.Errorf("directory %q contains directory %q", written[a], written[b])
			}
			if contains(b, a) {
				return nil, fmt.Errorf("directory %q contains directory %q", written[b], written[a])
			}
		}
	}
	sort.Strings(sorted)
	return sorted, nil
}
