package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/protomod/protomod/internal/store"
)

// CheckModule is one module given to a Checker.
type CheckModule struct {
	// Name is owner/name, for messages.
	Name string
	// Files are the module's files (.proto, LICENSE, doc file).
	Files []store.File
}

// Checker validates an upload before anything is stored: the uploaded
// modules must compile together with their dependencies. Imports resolve to
// the first module that has the path: uploaded modules in order, then deps
// in order, then the Well-Known Types.
type Checker interface {
	// Check returns the import paths declared by every .proto file of the
	// uploaded modules, keyed by file path (paths are unique across the
	// uploaded modules). Its error text is shown to the client after
	// "the upload does not compile: " (unless it already starts so).
	Check(ctx context.Context, uploaded []CheckModule, deps []CheckModule) (imports map[string][]string, err error)
}

// wellKnownTypes are the imports that resolve without any module.
var wellKnownTypes = map[string]bool{}

func init() {
	for _, name := range []string{
		"any", "api", "descriptor", "duration", "empty", "field_mask", "source_context", "struct",
		"timestamp", "type", "wrappers", "compiler/plugin", "cpp_features", "cpp_file_options",
		"cpp_options", "c_sharp_features", "go_features", "java_features", "json_options",
		"json_enumvalue_options",
	} {
		wellKnownTypes["google/protobuf/"+name+".proto"] = true
	}
}

// ScanChecker is a lightweight Checker: it tokenizes every uploaded .proto
// file (comments, strings, brackets), reads its import statements, and
// checks that each import resolves. It does not type-check; the real
// compiler can replace it through Config.Checker.
type ScanChecker struct{}

// Check implements Checker.
func (ScanChecker) Check(ctx context.Context, uploaded []CheckModule, deps []CheckModule) (map[string][]string, error) {
	provided := map[string]bool{}
	for _, group := range [][]CheckModule{uploaded, deps} {
		for _, m := range group {
			for _, f := range m.Files {
				if strings.HasSuffix(f.Path, ".proto") {
					provided[f.Path] = true
				}
			}
		}
	}
	imports := map[string][]string{}
	for _, m := range uploaded {
		for _, f := range m.Files {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if !strings.HasSuffix(f.Path, ".proto") {
				continue
			}
			imps, err := ScanImports(f.Content)
			if err != nil {
				return nil, fmt.Errorf("%s: %s:%w", m.Name, f.Path, err)
			}
			for _, imp := range imps {
				if !provided[imp] && !wellKnownTypes[imp] {
					return nil, fmt.Errorf("%s: %s: import %q: file does not exist", m.Name, f.Path, imp)
				}
			}
			imports[f.Path] = imps
		}
	}
	return imports, nil
}

// ScanError is a syntax problem found by ScanImports.
type ScanError struct {
	Line, Col int
	Msg       string
}

func (e *ScanError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

type token struct {
	kind      byte // 'i' identifier, 's' string, 'n' number, or the punctuation character
	text      string
	line, col int
}

// ScanImports tokenizes a .proto source and returns the paths of its import
// statements, in order. It reports unterminated comments and strings,
// unbalanced brackets, stray characters and malformed import statements.
func ScanImports(src []byte) ([]string, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	var imports []string
	depth := 0
	atStatementStart := true
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.kind {
		case '{':
			depth++
			atStatementStart = true
			continue
		case '}':
			depth--
			atStatementStart = true
			continue
		case ';':
			atStatementStart = true
			continue
		}
		if depth == 0 && atStatementStart && t.kind == 'i' && t.text == "import" {
			j := i + 1
			if j < len(toks) && toks[j].kind == 'i' && (toks[j].text == "public" || toks[j].text == "weak" || toks[j].text == "option") {
				j++
			}
			if j >= len(toks) || toks[j].kind != 's' {
				return nil, &ScanError{t.line, t.col, "expected a quoted path after import"}
			}
			var path strings.Builder
			for ; j < len(toks) && toks[j].kind == 's'; j++ {
				path.WriteString(toks[j].text)
			}
			if j >= len(toks) || toks[j].kind != ';' {
				return nil, &ScanError{t.line, t.col, "expected ';' after the import path"}
			}
			imports = append(imports, path.String())
			i = j
			atStatementStart = true
			continue
		}
		atStatementStart = false
	}
	return imports, nil
}

func tokenize(src []byte) ([]token, error) {
	var toks []token
	var stack []token
	line, col := 1, 1
	i := 0
	advance := func(n int) {
		for k := 0; k < n && i < len(src); k++ {
			if src[i] == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
			i++
		}
	}
	closers := map[byte]byte{')': '(', ']': '[', '}': '{', '>': '<'}
	for i < len(src) {
		c := src[i]
		startLine, startCol := line, col
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			advance(1)
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				advance(1)
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			advance(2)
			for {
				if i >= len(src) {
					return nil, &ScanError{startLine, startCol, "block comment is not terminated"}
				}
				if src[i] == '*' && i+1 < len(src) && src[i+1] == '/' {
					advance(2)
					break
				}
				advance(1)
			}
		case c == '"' || c == '\'':
			advance(1)
			var b strings.Builder
			for {
				if i >= len(src) || src[i] == '\n' {
					return nil, &ScanError{startLine, startCol, "string literal is not terminated"}
				}
				if src[i] == c {
					advance(1)
					break
				}
				if src[i] == '\\' && i+1 < len(src) {
					b.WriteByte(src[i+1])
					advance(2)
					continue
				}
				b.WriteByte(src[i])
				advance(1)
			}
			toks = append(toks, token{'s', b.String(), startLine, startCol})
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			start := i
			for i < len(src) && (src[i] == '_' || src[i] >= 'a' && src[i] <= 'z' || src[i] >= 'A' && src[i] <= 'Z' || src[i] >= '0' && src[i] <= '9') {
				advance(1)
			}
			toks = append(toks, token{'i', string(src[start:i]), startLine, startCol})
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			start := i
			for i < len(src) && (src[i] == '.' || src[i] == '_' || src[i] >= 'a' && src[i] <= 'z' || src[i] >= 'A' && src[i] <= 'Z' || src[i] >= '0' && src[i] <= '9' ||
				(src[i] == '+' || src[i] == '-') && (src[i-1] == 'e' || src[i-1] == 'E')) {
				advance(1)
			}
			toks = append(toks, token{'n', string(src[start:i]), startLine, startCol})
		case strings.IndexByte("{}()[]<>;=,.:-+/", c) >= 0:
			t := token{c, string(c), startLine, startCol}
			switch c {
			case '{', '(', '[', '<':
				stack = append(stack, t)
			case '}', ')', ']', '>':
				if len(stack) == 0 || stack[len(stack)-1].kind != closers[c] {
					return nil, &ScanError{startLine, startCol, fmt.Sprintf("unexpected '%c'", c)}
				}
				stack = stack[:len(stack)-1]
			}
			toks = append(toks, t)
			advance(1)
		default:
			return nil, &ScanError{startLine, startCol, fmt.Sprintf("unexpected character %q", rune(c))}
		}
	}
	if len(stack) > 0 {
		open := stack[len(stack)-1]
		return nil, &ScanError{open.line, open.col, fmt.Sprintf("'%c' is never closed", open.kind)}
	}
	return toks, nil
}
