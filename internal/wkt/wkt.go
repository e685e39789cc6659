// Package wkt provides the built-in Well-Known Types: the google/protobuf
// files shipped with protobuf release 36.2, embedded in the binary so users
// never vendor them. They are the last place an import is looked up.
package wkt

import (
	"io/fs"
	"slices"

	"github.com/bufbuild/protocompile/wellknownimports"
)

// Paths lists the built-in files, sorted.
var Paths = []string{
	"google/protobuf/any.proto",
	"google/protobuf/api.proto",
	"google/protobuf/c_sharp_features.proto",
	"google/protobuf/compiler/plugin.proto",
	"google/protobuf/cpp_features.proto",
	"google/protobuf/cpp_file_options.proto",
	"google/protobuf/cpp_options.proto",
	"google/protobuf/descriptor.proto",
	"google/protobuf/duration.proto",
	"google/protobuf/empty.proto",
	"google/protobuf/field_mask.proto",
	"google/protobuf/go_features.proto",
	"google/protobuf/java_features.proto",
	"google/protobuf/json_enumvalue_options.proto",
	"google/protobuf/json_options.proto",
	"google/protobuf/source_context.proto",
	"google/protobuf/struct.proto",
	"google/protobuf/timestamp.proto",
	"google/protobuf/type.proto",
	"google/protobuf/wrappers.proto",
}

// Has reports whether path is a built-in Well-Known Type.
func Has(path string) bool {
	_, ok := slices.BinarySearch(Paths, path)
	return ok
}

// Read returns the content of a built-in file, or fs.ErrNotExist.
func Read(path string) ([]byte, error) {
	if !Has(path) {
		return nil, fs.ErrNotExist
	}
	return fs.ReadFile(wellknownimports.FS(), path)
}
