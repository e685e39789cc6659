package wkt

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"slices"
	"testing"
)

func TestAllPresent(t *testing.T) {
	if !slices.IsSorted(Paths) {
		t.Fatal("Paths must be sorted")
	}
	for _, p := range Paths {
		data, err := Read(p)
		if err != nil || len(data) == 0 {
			t.Errorf("%s: %v (len %d)", p, err, len(data))
		}
	}
	if _, err := Read("google/protobuf/unittest.proto"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unknown file: %v", err)
	}
}

// The sources must stay those of protobuf 36.2 (what the reference CLI
// embeds): a changed byte would change every image that imports them.
func TestDescriptorProtoVersion(t *testing.T) {
	data, err := Read("google/protobuf/descriptor.proto")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); len(data) != 61186 {
		t.Fatalf("descriptor.proto is %d bytes (sha256 %s), want the 61186 bytes of protobuf 36.2", len(data), got)
	}
}
