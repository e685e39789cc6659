// Package netrc reads and edits .netrc files, the credential store that
// protomod shares with the reference CLI and with other tools (curl, git,
// the go command).
//
// Editing is surgical: Set and Delete cut or append only the bytes of the
// entries they touch, so comments, macdefs, odd whitespace, several entries
// on one line and everything else in the file keep their exact bytes.
//
// The syntax understood is the classic one. Tokens are separated by
// whitespace. A token starting with '#' begins a comment that runs to the end
// of the line. "machine <name>" and "default" start an entry; "login",
// "password" and "account" take the next token as their value; "macdef <name>"
// is followed, from the next line on, by a macro body that ends at the first
// blank line. Other tokens are ignored. Quoting is not supported (neither the
// reference CLI nor the go command supports it).
package netrc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/protomod/protomod/internal/atomicfile"
)

// Machine is one entry of a .netrc file.
type Machine struct {
	// Name is the machine name; empty for the default entry.
	Name string
	// IsDefault reports whether this is the "default" entry.
	IsDefault bool
	Login     string
	Password  string
	Account   string
}

// File is a parsed .netrc file that remembers its exact bytes.
type File struct {
	data    []byte
	entries []entry
	// end is the parser state at the end of the data.
	end endState
}

type endState int

const (
	endClean endState = iota
	// endInMacro: the data ends inside a macdef body (no blank line yet).
	endInMacro
	// endWantsValue: the data ends with a keyword whose value is missing.
	endWantsValue
)

// entry is one machine or default entry and where its bytes are.
type entry struct {
	Machine
	// start is the offset of the "machine" or "default" keyword.
	start int
	// end is the offset just after the entry's last token (or macro body).
	end int
}

// Parse parses a .netrc file. It accepts any input: what it does not
// understand is kept as is and ignored.
func Parse(data []byte) *File {
	f := &File{data: slices.Clone(data)}
	f.parse()
	return f
}

// Bytes returns the file's current content.
func (f *File) Bytes() []byte { return slices.Clone(f.data) }

// Machines returns the file's entries in file order.
func (f *File) Machines() []Machine {
	out := make([]Machine, len(f.entries))
	for i, e := range f.entries {
		out[i] = e.Machine
	}
	return out
}

// Machine returns the first entry named name (no default fallback).
func (f *File) Machine(name string) (Machine, bool) {
	for _, e := range f.entries {
		if !e.IsDefault && e.Name == name {
			return e.Machine, true
		}
	}
	return Machine{}, false
}

// Lookup returns the first entry named name, or else the first default
// entry. Names are compared exactly (a port, if any, is part of the name).
func (f *File) Lookup(name string) (Machine, bool) {
	if m, ok := f.Machine(name); ok {
		return m, true
	}
	for _, e := range f.entries {
		if e.IsDefault {
			return e.Machine, true
		}
	}
	return Machine{}, false
}

// Delete removes every entry named name (never a default entry) and reports
// whether there was one.
func (f *File) Delete(name string) bool {
	var cuts [][2]int
	for _, e := range f.entries {
		if !e.IsDefault && e.Name == name {
			cuts = append(cuts, f.span(e))
		}
	}
	if len(cuts) == 0 {
		return false
	}
	f.data = cut(f.data, cuts)
	f.parse()
	return true
}

// Set replaces every entry named name by one entry appended at the end of
// the file, in the three-line form
//
//	machine <name>
//	  login <login>
//	  password <password>
//
// When the file has a default entry, the new entry goes just before it
// instead: "default" must come after every machine, and readers such as
// the go command stop at it. Other entries are not touched.
func (f *File) Set(name, login, password string) error {
	for _, v := range []struct{ what, value string }{
		{"machine name", name}, {"login", login}, {"password", password},
	} {
		if err := checkToken(v.value); err != nil {
			return fmt.Errorf("cannot write a .netrc entry for machine %q: the %s %w", name, v.what, err)
		}
	}
	f.Delete(name)
	for _, e := range f.entries {
		if !e.IsDefault {
			continue
		}
		at := e.start
		for at > 0 && (f.data[at-1] == ' ' || f.data[at-1] == '\t') {
			at--
		}
		entry := fmt.Appendf(nil, "machine %s\n  login %s\n  password %s\n", name, login, password)
		if at > 0 && f.data[at-1] != '\n' {
			// default shares its line with earlier tokens: break the line.
			entry = append([]byte{'\n'}, entry...)
			at = e.start
		}
		f.data = slices.Concat(f.data[:at], entry, f.data[at:])
		f.parse()
		return nil
	}
	var b []byte
	b = append(b, f.data...)
	switch f.end {
	case endWantsValue:
		return fmt.Errorf("cannot add machine %q: the .netrc file ends with a keyword that has no value, "+
			"so a new entry would be read as that value; complete or remove the last entry by hand", name)
	case endInMacro:
		// A macro body runs until a blank line: end it first.
		if len(b) > 0 && b[len(b)-1] != '\n' {
			b = append(b, '\n')
		}
		b = append(b, '\n')
	default:
		if len(b) > 0 && b[len(b)-1] != '\n' {
			b = append(b, '\n')
		}
	}
	b = fmt.Appendf(b, "machine %s\n  login %s\n  password %s\n", name, login, password)
	f.data = b
	f.parse()
	return nil
}

// checkToken rejects values that would not read back as one token.
func checkToken(v string) error {
	switch {
	case v == "":
		return errors.New("is empty")
	case strings.IndexFunc(v, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }) >= 0:
		return fmt.Errorf("%q contains whitespace", v)
	case v[0] == '#':
		return fmt.Errorf("%q starts with '#', which .netrc reads as a comment", v)
	}
	return nil
}

// span returns the byte range to cut to remove e: whole lines when e owns
// its lines, otherwise just its tokens, so that neighbours on the same line
// keep their bytes.
func (f *File) span(e entry) [2]int {
	d := f.data
	lineStart := e.start
	for lineStart > 0 && d[lineStart-1] != '\n' {
		lineStart--
	}
	ownsLineStart := isBlank(d[lineStart:e.start])

	p := e.end
	if p > 0 && d[p-1] == '\n' {
		// A macro body ended with its blank line: the entry ends at a line start.
		if ownsLineStart {
			return [2]int{lineStart, p}
		}
		return [2]int{e.start, p}
	}
	for p < len(d) && (d[p] == ' ' || d[p] == '\t' || d[p] == '\r' || d[p] == '\f' || d[p] == '\v') {
		p++
	}
	if p < len(d) && d[p] == '#' {
		// A comment on the entry's last line belongs to the entry.
		for p < len(d) && d[p] != '\n' {
			p++
		}
	}
	ownsLineEnd := p == len(d) || d[p] == '\n'
	switch {
	case ownsLineStart && ownsLineEnd:
		if p < len(d) {
			p++ // the newline
		}
		return [2]int{lineStart, p}
	case !ownsLineStart && ownsLineEnd:
		// Keep the newline and drop the blanks before the entry.
		start := e.start
		for start > lineStart && (d[start-1] == ' ' || d[start-1] == '\t') {
			start--
		}
		return [2]int{start, p}
	default:
		// Something follows on the same line: cut up to it.
		return [2]int{e.start, p}
	}
}

// cut returns data without the union of the given ranges.
func cut(data []byte, ranges [][2]int) []byte {
	drop := make([]bool, len(data))
	for _, r := range ranges {
		for i := r[0]; i < r[1]; i++ {
			drop[i] = true
		}
	}
	out := make([]byte, 0, len(data))
	for i, c := range data {
		if !drop[i] {
			out = append(out, c)
		}
	}
	return out
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v':
		return true
	}
	return false
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

// parse rebuilds f.entries and f.end from f.data.
func (f *File) parse() {
	f.entries = f.entries[:0]
	f.end = endClean
	d := f.data
	var cur *entry
	i := 0
	// next returns the next token's range, skipping whitespace and comments;
	// ok is false at the end of the data.
	next := func() (start, end int, ok bool) {
		for i < len(d) {
			switch {
			case isSpace(d[i]):
				i++
			case d[i] == '#':
				for i < len(d) && d[i] != '\n' {
					i++
				}
			default:
				start = i
				for i < len(d) && !isSpace(d[i]) {
					i++
				}
				return start, i, true
			}
		}
		return 0, 0, false
	}
	// value reads the value of a keyword into dst.
	value := func(dst *string) bool {
		s, e, ok := next()
		if !ok {
			f.end = endWantsValue
			return false
		}
		if dst != nil {
			*dst = string(d[s:e])
		}
		if cur != nil {
			cur.end = e
		}
		return true
	}
	flush := func() {
		if cur != nil {
			f.entries = append(f.entries, *cur)
			cur = nil
		}
	}
	for {
		s, e, ok := next()
		if !ok {
			break
		}
		tok := string(d[s:e])
		if cur != nil && tok != "machine" && tok != "default" {
			cur.end = e
		}
		var dst *string
		switch tok {
		case "machine":
			flush()
			cur = &entry{start: s, end: e}
			if !value(&cur.Name) {
				flush()
				return
			}
			continue
		case "default":
			flush()
			cur = &entry{Machine: Machine{IsDefault: true}, start: s, end: e}
			continue
		case "login", "password", "account":
			if cur != nil {
				switch tok {
				case "login":
					dst = &cur.Login
				case "password":
					dst = &cur.Password
				default:
					dst = &cur.Account
				}
			}
			if !value(dst) {
				flush()
				return
			}
			continue
		case "macdef":
			if !value(nil) {
				flush()
				return
			}
			// The body starts on the next line and ends after the first
			// blank line (a line of only whitespace).
			for i < len(d) && d[i] != '\n' {
				i++
			}
			if i < len(d) {
				i++
			}
			terminated := false
			for i < len(d) {
				lineEnd := i
				for lineEnd < len(d) && d[lineEnd] != '\n' {
					lineEnd++
				}
				blank := isBlank(d[i:lineEnd])
				if lineEnd < len(d) {
					lineEnd++
				}
				i = lineEnd
				if blank {
					terminated = true
					break
				}
			}
			if cur != nil {
				cur.end = i
			}
			if !terminated {
				f.end = endInMacro
				flush()
				return
			}
		}
	}
	flush()
}

// Path returns the .netrc path: $NETRC if set, otherwise .netrc in the home
// directory (_netrc on Windows). The environment is read at each call.
func Path() (string, error) {
	if p := os.Getenv("NETRC"); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", fmt.Errorf("cannot locate the .netrc file: the home directory is unknown (%v); set $NETRC or $HOME", err)
	}
	name := ".netrc"
	if runtime.GOOS == "windows" {
		name = "_netrc"
	}
	return filepath.Join(home, name), nil
}

// Load reads and parses the file at path. A missing file gives an empty
// File and no error.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Parse(nil), nil
		}
		return nil, fmt.Errorf("read .netrc file: %w", err)
	}
	return Parse(data), nil
}

// Lookup returns the entry for machine in the file at path, falling back to
// its default entry. A missing file has no entries.
func Lookup(path, machine string) (Machine, bool, error) {
	f, err := Load(path)
	if err != nil {
		return Machine{}, false, err
	}
	m, ok := f.Lookup(machine)
	return m, ok, nil
}

// Put stores login and password for machine in the file at path: entries
// for machine and for the legacy "go.<machine>" are removed and the new
// entry is appended; all other bytes stay as they were. The file is written
// atomically; a new file gets mode 0600, an existing file keeps its mode.
// If path is a symbolic link, the file it points to is updated.
func Put(path, machine, login, password string) error {
	target, err := resolve(path)
	if err != nil {
		return err
	}
	f, err := Load(target)
	if err != nil {
		return err
	}
	f.Delete("go." + machine)
	if err := f.Set(machine, login, password); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return write(target, f.data)
}

// Remove deletes the entries for machine and for the legacy
// "go.<machine>" from the file at path and reports whether there were any.
// The file is rewritten only when something was removed; a missing file has
// nothing to remove.
func Remove(path, machine string) (bool, error) {
	target, err := resolve(path)
	if err != nil {
		return false, err
	}
	f, err := Load(target)
	if err != nil {
		return false, err
	}
	removed := f.Delete(machine)
	if f.Delete("go." + machine) {
		removed = true
	}
	if !removed {
		return false, nil
	}
	return true, write(target, f.data)
}

// resolve follows a symbolic link at path so that the link survives the
// atomic rename.
func resolve(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return path, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("the .netrc file %s is a symbolic link to a missing file; fix or remove the link", path)
		}
		return "", fmt.Errorf("resolve .netrc link %s: %w", path, err)
	}
	return target, nil
}

func write(path string, data []byte) error {
	if err := atomicfile.Write(path, data, atomicfile.Options{Mode: 0o600, KeepMode: true}); err != nil {
		return fmt.Errorf("write .netrc file: %w", err)
	}
	return nil
}
