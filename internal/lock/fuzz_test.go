package lock

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzRead checks that Parse never panics and that anything it accepts
// survives a write and a re-read unchanged: write(read(x)) reads back equal,
// and writing that again gives the same bytes.
func FuzzRead(f *testing.F) {
	f.Add([]byte(Header + "version: v2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		first, err := Parse(data)
		if err != nil {
			return
		}
		out, err := first.Marshal()
		if err != nil {
			// Anything read must be writable.
			t.Fatalf("Marshal of a parsed file failed: %v\ninput:\n%q", err, data)
		}
		second, err := Parse(out)
		if err != nil {
			t.Fatalf("re-read of written file failed: %v\nwritten:\n%s", err, out)
		}
		if !reflect.DeepEqual(first, second) {
			t.Fatalf("re-read differs:\nfirst  %+v\nsecond %+v", first, second)
		}
		again, err := second.Marshal()
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("second write differs (%v):\n%s\n---\n%s", err, out, again)
		}
	})
}
