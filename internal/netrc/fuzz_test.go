package netrc

import (
	"bytes"
	"testing"
)

// FuzzParse checks that parsing never fails or panics, keeps the bytes, and
// that deleting or setting one machine leaves every other entry as it was.
func FuzzParse(f *testing.F) {
	f.Add([]byte("machine a login b password c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parsed := Parse(data)
		if !bytes.Equal(parsed.Bytes(), data) {
			t.Fatalf("Bytes() = %q, want the input", parsed.Bytes())
		}
		before := parsed.Machines()

		seen := map[string]bool{}
		for _, m := range before {
			if m.IsDefault || seen[m.Name] {
				continue
			}
			seen[m.Name] = true
			f := Parse(data)
			if !f.Delete(m.Name) {
				t.Fatalf("Delete(%q) found nothing", m.Name)
			}
			want := without(before, m.Name)
			if got := Parse(f.Bytes()).Machines(); !equalMachines(got, want) {
				t.Fatalf("Delete(%q) on %q gave %q:\n%+v\nwant\n%+v", m.Name, data, f.Bytes(), got, want)
			}
		}

		const name = "fuzz.example:1"
		set := Parse(data)
		if err := set.Set(name, "user", "secret"); err != nil {
			if set.end != endWantsValue {
				t.Fatalf("Set on %q: %v", data, err)
			}
			return
		}
		got := Parse(set.Bytes()).Machines()
		want := withNew(without(before, name), Machine{Name: name, Login: "user", Password: "secret"})
		if !equalMachines(got, want) {
			t.Fatalf("Set on %q gave %q:\n%+v\nwant\n%+v", data, set.Bytes(), got, want)
		}
	})
}

func without(ms []Machine, name string) []Machine {
	var out []Machine
	for _, m := range ms {
		if m.IsDefault || m.Name != name {
			out = append(out, m)
		}
	}
	return out
}
