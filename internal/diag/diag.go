// Package diag holds file annotations (compile errors and other findings tied
// to a place in a file) and prints them in the formats the reference CLI
// offers: text, json, msvs, junit and github-actions.
//
// A command that fails with an *Annotations error exits with code 100; every
// other failure exits with code 1.
package diag

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Annotation is one finding in a file. Lines and columns are 1-based; zero
// means unknown.
type Annotation struct {
	Path        string // workspace-relative path as shown to the user; "" means no file
	StartLine   int
	StartColumn int
	EndLine     int
	EndColumn   int
	Type        string // e.g. "COMPILE"
	Message     string
}

func (a Annotation) path() string {
	if a.Path == "" {
		return "<input>"
	}
	return a.Path
}

func (a Annotation) message() string {
	switch {
	case a.Message != "":
		return a.Message
	case a.Type != "":
		return a.Type
	default:
		return "FAILURE"
	}
}

// String is the text form: path:line:column:message.
func (a Annotation) String() string {
	return a.path() + ":" + strconv.Itoa(max(a.StartLine, 1)) + ":" + strconv.Itoa(max(a.StartColumn, 1)) + ":" + a.message()
}

// Annotations is an error carrying one or more annotations.
type Annotations struct {
	List []Annotation
	// Hint, when set, is a line for the user printed after the
	// annotations (what to do next).
	Hint string
}

// New returns an Annotations error with the annotations sorted and
// deduplicated.
func New(list []Annotation) *Annotations {
	list = slices.Clone(list)
	slices.SortStableFunc(list, compare)
	list = slices.Compact(list)
	return &Annotations{List: list}
}

// compare orders annotations as the reference CLI does: by file (no file
// first), start, type and message, and only then by end.
func compare(a, b Annotation) int {
	return cmp.Or(
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.StartLine, b.StartLine),
		cmp.Compare(a.StartColumn, b.StartColumn),
		cmp.Compare(a.Type, b.Type),
		cmp.Compare(a.Message, b.Message),
		cmp.Compare(a.EndLine, b.EndLine),
		cmp.Compare(a.EndColumn, b.EndColumn),
	)
}

func (e *Annotations) Error() string {
	lines := make([]string, len(e.List))
	for i, a := range e.List {
		lines[i] = a.String()
	}
	return strings.Join(lines, "\n")
}

// Formats lists the accepted --error-format values.
var Formats = []string{"text", "json", "msvs", "junit", "github-actions"}

// CheckFormat returns an error for an unknown --error-format value.
func CheckFormat(format string) error {
	if slices.Contains(Formats, format) {
		return nil
	}
	return fmt.Errorf("unknown error format %q: must be one of %s", format, strings.Join(Formats, ", "))
}

// Print writes the annotations to w in the given format, one per line.
func Print(w io.Writer, e *Annotations, format string) error {
	var buf bytes.Buffer
	switch format {
	case "", "text":
		for _, a := range e.List {
			buf.WriteString(a.String())
			buf.WriteByte('\n')
		}
	case "json":
		for _, a := range e.List {
			// Unknown positions print as 1, as in the reference CLI.
			data, err := json.Marshal(jsonAnnotation{
				Path: a.Path, StartLine: max(a.StartLine, 1), StartColumn: max(a.StartColumn, 1),
				EndLine: max(a.EndLine, 1), EndColumn: max(a.EndColumn, 1), Type: a.Type, Message: a.Message,
			})
			if err != nil {
				return err
			}
			buf.Write(data)
			buf.WriteByte('\n')
		}
	case "msvs":
		for _, a := range e.List {
			typ := cmp.Or(a.Type, "FAILURE")
			fmt.Fprintf(&buf, "%s(%d", a.path(), max(a.StartLine, 1))
			if c := max(a.StartColumn, 1); c != 0 {
				fmt.Fprintf(&buf, ",%d", c)
			}
			fmt.Fprintf(&buf, ") : error %s : %s\n", typ, a.message())
		}
	case "github-actions":
		for _, a := range e.List {
			buf.WriteString("::error file=" + a.path())
			if a.StartLine > 0 {
				buf.WriteString(",line=" + strconv.Itoa(a.StartLine))
				if a.StartColumn > 0 {
					buf.WriteString(",col=" + strconv.Itoa(a.StartColumn))
				}
				if a.EndLine > 0 {
					buf.WriteString(",endLine=" + strconv.Itoa(a.EndLine))
					if a.EndColumn > 0 {
						buf.WriteString(",endColumn=" + strconv.Itoa(a.EndColumn))
					}
				}
			}
			buf.WriteString("::" + a.Message + "\n")
		}
	case "junit":
		if err := printJUnit(&buf, e); err != nil {
			return err
		}
	default:
		return CheckFormat(format)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

type jsonAnnotation struct {
	Path        string `json:"path,omitempty"`
	StartLine   int    `json:"start_line,omitempty"`
	StartColumn int    `json:"start_column,omitempty"`
	EndLine     int    `json:"end_line,omitempty"`
	EndColumn   int    `json:"end_column,omitempty"`
	Type        string `json:"type,omitempty"`
	Message     string `json:"message,omitempty"`
}

// printJUnit writes one test suite per file and one failing test case per
// annotation, without an XML declaration (as the reference CLI). A test
// case is named after the type and the start: TYPE_line_column, TYPE_line
// when the column is unknown, TYPE when both are.
func printJUnit(w io.Writer, e *Annotations) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name    string  `xml:"name,attr"`
		Failure failure `xml:"failure"`
	}
	type testsuite struct {
		Name      string     `xml:"name,attr"`
		Tests     int        `xml:"tests,attr"`
		Failures  int        `xml:"failures,attr"`
		Errors    int        `xml:"errors,attr"`
		TestCases []testcase `xml:"testcase"`
	}
	type testsuites struct {
		XMLName xml.Name    `xml:"testsuites"`
		Suites  []testsuite `xml:"testsuite"`
	}
	var out testsuites
	index := map[string]int{}
	for _, a := range e.List {
		name := strings.TrimSuffix(a.path(), ".proto")
		i, ok := index[name]
		if !ok {
			i = len(out.Suites)
			index[name] = i
			out.Suites = append(out.Suites, testsuite{Name: name})
		}
		s := &out.Suites[i]
		s.Tests++
		s.Failures++
		caseName := a.Type
		switch {
		case a.StartColumn > 0:
			caseName += fmt.Sprintf("_%d_%d", max(a.StartLine, 1), a.StartColumn)
		case a.StartLine > 0:
			caseName += fmt.Sprintf("_%d", a.StartLine)
		}
		s.TestCases = append(s.TestCases, testcase{
			Name:    caseName,
			Failure: failure{Message: a.String(), Type: a.Type},
		})
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
