package diag

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/print")

// fixture is a fixed set of annotations, out of order and with a duplicate,
// covering the edge cases of every printer: no file, no position, no column,
// equal starts, an empty message, an empty type and characters XML escapes.
var fixture = []Annotation{
	{Path: "proto/y.proto", StartLine: 3, StartColumn: 19, EndLine: 3, EndColumn: 20, Type: "COMPILE", Message: "`a` declared multiple times"},
	{Path: "proto/x.proto", StartLine: 4, StartColumn: 13, EndLine: 4, EndColumn: 16, Type: "COMPILE", Message: "cannot find `Foo` in this scope"},
	{Path: "proto/x.proto", StartLine: 3, StartColumn: 1, EndLine: 3, EndColumn: 24, Type: "COMPILE", Message: "imported file does not exist"},
	{Path: "proto/y.proto", StartLine: 3, StartColumn: 19, EndLine: 3, EndColumn: 20, Type: "COMPILE", Message: "`a` declared multiple times"},
	{Path: "proto/x.proto", StartLine: 4, StartColumn: 13, EndLine: 4, EndColumn: 30, Type: "COMPILE", Message: "another error at the same start"},
	{Path: "proto/z.proto", Type: "COMPILE", Message: "file-level <error> & \"quotes\""},
	{Path: "proto/z.proto", StartLine: 7, Type: "LINT", Message: "line only"},
	{Type: "COMPILE", Message: "no file at all"},
	{Path: "proto/w.proto", StartLine: 2, StartColumn: 5, Type: "COMPILE"},
	{Path: "proto/w.proto", StartLine: 1, StartColumn: 1},
}

func TestPrintGolden(t *testing.T) {
	e := New(fixture)
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Print(&buf, e, format); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "print", format+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got := buf.String(); got != string(want) {
				t.Errorf("Print(%s) mismatch\n--- got\n%s\n--- want\n%s", format, got, want)
			}
		})
	}
}

func TestPrintEmptyFormatIsText(t *testing.T) {
	e := New(fixture)
	var text, empty bytes.Buffer
	if err := Print(&text, e, "text"); err != nil {
		t.Fatal(err)
	}
	if err := Print(&empty, e, ""); err != nil {
		t.Fatal(err)
	}
	if text.String() != empty.String() {
		t.Errorf("format \"\" printed\n%s\nwant the text format\n%s", empty.String(), text.String())
	}
	// The text format is the error text plus a newline after each line.
	if want := e.Error() + "\n"; text.String() != want {
		t.Errorf("text format\n%s\ndiffers from Error()+\"\\n\"\n%s", text.String(), want)
	}
}

func TestNewSortsAndDeduplicates(t *testing.T) {
	tests := []struct {
		name string
		in   []Annotation
		want []Annotation
	}{
		{
			name: "by path then position",
			in: []Annotation{
				{Path: "b.proto", StartLine: 1, StartColumn: 1, Message: "b"},
				{Path: "a.proto", StartLine: 2, StartColumn: 1, Message: "a2"},
				{Path: "a.proto", StartLine: 1, StartColumn: 9, Message: "a1c9"},
				{Path: "a.proto", StartLine: 1, StartColumn: 2, Message: "a1c2"},
			},
			want: []Annotation{
				{Path: "a.proto", StartLine: 1, StartColumn: 2, Message: "a1c2"},
				{Path: "a.proto", StartLine: 1, StartColumn: 9, Message: "a1c9"},
				{Path: "a.proto", StartLine: 2, StartColumn: 1, Message: "a2"},
				{Path: "b.proto", StartLine: 1, StartColumn: 1, Message: "b"},
			},
		},
		{
			name: "no file sorts first",
			in: []Annotation{
				{Path: "a.proto", StartLine: 1, StartColumn: 1, Message: "x"},
				{Message: "global"},
			},
			want: []Annotation{
				{Message: "global"},
				{Path: "a.proto", StartLine: 1, StartColumn: 1, Message: "x"},
			},
		},
		{
			// As the reference CLI: type and message decide before the end
			// position does.
			name: "same start: type, message, then end",
			in: []Annotation{
				{Path: "a.proto", StartLine: 1, StartColumn: 1, EndLine: 1, EndColumn: 3, Type: "T", Message: "z"},
				{Path: "a.proto", StartLine: 1, StartColumn: 1, EndLine: 1, EndColumn: 9, Type: "T", Message: "a"},
				{Path: "a.proto", StartLine: 1, StartColumn: 1, EndLine: 1, EndColumn: 5, Type: "T", Message: "a"},
				{Path: "a.proto", StartLine: 1, StartColumn: 1, EndLine: 1, EndColumn: 1, Type: "S", Message: "q"},
			},
			want: []Annotation{
				{Path: "a.proto", StartLine: 1, StartColumn: 1, EndLine: 1, EndColumn: 1, Type: "S", Message: "q"},
				{Path: "a.proto", StartLine: 1, StartColumn: 1, EndLine: 1, EndColumn: 5, Type: "T", Message: "a"},
				{Path: "a.proto", StartLine: 1, StartColumn: 1, EndLine: 1, EndColumn: 9, Type: "T", Message: "a"},
				{Path: "a.proto", StartLine: 1, StartColumn: 1, EndLine: 1, EndColumn: 3, Type: "T", Message: "z"},
			},
		},
		{
			name: "duplicates removed, even when not adjacent in the input",
			in: []Annotation{
				{Path: "a.proto", StartLine: 1, StartColumn: 1, Message: "x"},
				{Path: "b.proto", StartLine: 1, StartColumn: 1, Message: "y"},
				{Path: "a.proto", StartLine: 1, StartColumn: 1, Message: "x"},
				{Path: "a.proto", StartLine: 1, StartColumn: 1, Message: "x"},
			},
			want: []Annotation{
				{Path: "a.proto", StartLine: 1, StartColumn: 1, Message: "x"},
				{Path: "b.proto", StartLine: 1, StartColumn: 1, Message: "y"},
			},
		},
		{
			name: "annotations differing only in the end are both kept",
			in: []Annotation{
				{Path: "a.proto", StartLine: 1, StartColumn: 1, EndLine: 2, Message: "x"},
				{Path: "a.proto", StartLine: 1, StartColumn: 1, EndLine: 1, Message: "x"},
			},
			want: []Annotation{
				{Path: "a.proto", StartLine: 1, StartColumn: 1, EndLine: 1, Message: "x"},
				{Path: "a.proto", StartLine: 1, StartColumn: 1, EndLine: 2, Message: "x"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]Annotation(nil), tt.in...)
			got := New(tt.in).List
			if len(got) != len(tt.want) {
				t.Fatalf("New() = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("New()[%d] = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
			for i := range in {
				if in[i] != tt.in[i] {
					t.Fatalf("New modified its input at %d", i)
				}
			}
		})
	}
}

func TestAnnotationString(t *testing.T) {
	tests := []struct {
		a    Annotation
		want string
	}{
		{Annotation{Path: "proto/x.proto", StartLine: 3, StartColumn: 1, Type: "COMPILE", Message: "imported file does not exist"}, "proto/x.proto:3:1:imported file does not exist"},
		{Annotation{Path: "a.proto", Type: "COMPILE", Message: "m"}, "a.proto:1:1:m"},
		{Annotation{Message: "m"}, "<input>:1:1:m"},
		{Annotation{Path: "a.proto", StartLine: 2, StartColumn: 3, Type: "LINT"}, "a.proto:2:3:LINT"},
		{Annotation{Path: "a.proto", StartLine: 2, StartColumn: 3}, "a.proto:2:3:FAILURE"},
		{Annotation{Path: "a.proto", StartLine: -4, StartColumn: -1, Message: "m"}, "a.proto:1:1:m"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.a, got, tt.want)
		}
	}
}

func TestErrorJoinsLines(t *testing.T) {
	e := New([]Annotation{
		{Path: "b.proto", StartLine: 1, StartColumn: 1, Message: "second"},
		{Path: "a.proto", StartLine: 1, StartColumn: 1, Message: "first"},
	})
	if got, want := e.Error(), "a.proto:1:1:first\nb.proto:1:1:second"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var target *Annotations
	if !errors.As(error(e), &target) || target != e {
		t.Error("errors.As does not find *Annotations")
	}
}

func TestCheckFormat(t *testing.T) {
	for _, f := range []string{"text", "json", "msvs", "junit", "github-actions"} {
		if err := CheckFormat(f); err != nil {
			t.Errorf("CheckFormat(%q) = %v, want nil", f, err)
		}
	}
	for _, f := range []string{"", "TEXT", "yaml", "gitlab", "github"} {
		err := CheckFormat(f)
		if err == nil {
			t.Errorf("CheckFormat(%q) = nil, want an error", f)
			continue
		}
		want := `unknown error format "` + f + `": must be one of text, json, msvs, junit, github-actions`
		if err.Error() != want {
			t.Errorf("CheckFormat(%q) = %q, want %q", f, err, want)
		}
	}
}

func TestPrintUnknownFormatWritesNothing(t *testing.T) {
	var buf bytes.Buffer
	err := Print(&buf, New(fixture), "yaml")
	if err == nil || !strings.Contains(err.Error(), `unknown error format "yaml"`) {
		t.Errorf("Print(yaml) error = %v", err)
	}
	if buf.Len() != 0 {
		t.Errorf("Print(yaml) wrote %q", buf.String())
	}
}
