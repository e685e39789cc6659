// Package image assembles compiled files into a buf image
// (buf.alpha.image.v1.Image) and writes it in the formats `build` offers.
//
// An image is wire-compatible with google.protobuf.FileDescriptorSet: each
// file is a FileDescriptorProto plus field 8042 (ImageFileExtension), which
// records whether the file is an import, which module it came from, whether
// it lacked a syntax statement, and which of its imports are unused.
package image

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protomod/protomod/internal/bufname"
)

// ExtensionFieldNumber is the number of ImageFile.buf_extension.
const ExtensionFieldNumber = 8042

// File is one file of an image.
type File struct {
	// Proto is the descriptor; nil after Encode (see Descriptor).
	Proto               *descriptorpb.FileDescriptorProto
	IsImport            bool
	ModuleName          bufname.FullName // zero when the file has no named module
	CommitID            string           // dashless; only for downloaded modules
	IsSyntaxUnspecified bool
	UnusedDependency    []int32

	name    string
	deps    []string
	encoded []byte // the descriptor's known fields, after Encode
	unknown []byte // its unknown fields, after Encode
}

// NewFile returns an image file for a descriptor.
func NewFile(fd *descriptorpb.FileDescriptorProto) *File {
	return &File{
		Proto: fd,
		name:  fd.GetName(),
		deps:  append(slices.Clip(fd.GetDependency()), fd.GetOptionDependency()...),
	}
}

// Path returns the file's import path.
func (f *File) Path() string { return f.name }

// Encode marshals the descriptor now and releases it, so that a large
// image holds only its encoded bytes.
func (f *File) Encode() error {
	if f.Proto == nil {
		return nil
	}
	unknown := f.Proto.ProtoReflect().GetUnknown()
	f.Proto.ProtoReflect().SetUnknown(nil)
	b, err := marshalOptions.Marshal(f.Proto)
	if err != nil {
		return fmt.Errorf("marshal %s: %w", f.name, err)
	}
	f.encoded, f.unknown, f.Proto = b, unknown, nil
	return nil
}

// Descriptor returns the file's descriptor, decoding it again if it was
// released by Encode.
func (f *File) Descriptor() (*descriptorpb.FileDescriptorProto, error) {
	if f.Proto != nil {
		return f.Proto, nil
	}
	fd := new(descriptorpb.FileDescriptorProto)
	if err := proto.Unmarshal(append(slices.Clip(f.encoded), f.unknown...), fd); err != nil {
		return nil, fmt.Errorf("decode %s: %w", f.name, err)
	}
	return fd, nil
}

// Image is an ordered list of files: every file comes after its
// dependencies.
type Image struct {
	Files []*File

	// resolve, when set, are the files custom options are resolved
	// against in the JSON and text formats: the image before its imports
	// were dropped, so that options defined in an import keep their names.
	resolve []*File
}

// Assemble orders the files for the given targets as the reference CLI
// does: targets sorted by path, each preceded depth-first by its
// dependencies (dependency entries in order, then option dependencies), each
// file once. Files that are not targets are marked as imports. lookup
// returns the file for an import path, or nil if it is unknown.
func Assemble(targets []string, lookup func(path string) *File) (*Image, error) {
	targets = slices.Clone(targets)
	slices.Sort(targets)
	isTarget := make(map[string]bool, len(targets))
	for _, t := range targets {
		isTarget[t] = true
	}
	seen := make(map[string]bool)
	var files []*File
	var visit func(path string) error
	visit = func(path string) error {
		if seen[path] {
			return nil
		}
		seen[path] = true
		f := lookup(path)
		if f == nil {
			return fmt.Errorf("file %s is missing from the compiled set", path)
		}
		for _, dep := range f.deps {
			if err := visit(dep); err != nil {
				return err
			}
		}
		f.IsImport = !isTarget[path]
		files = append(files, f)
		return nil
	}
	for _, t := range targets {
		if err := visit(t); err != nil {
			return nil, err
		}
	}
	return &Image{Files: files}, nil
}

// WithoutImports returns the image without its import files.
func (img *Image) WithoutImports() *Image {
	return &Image{
		Files:   slices.DeleteFunc(slices.Clone(img.Files), func(f *File) bool { return f.IsImport }),
		resolve: img.resolveFiles(),
	}
}

// resolveFiles returns the files custom options are resolved against.
func (img *Image) resolveFiles() []*File {
	if img.resolve != nil {
		return img.resolve
	}
	return img.Files
}

// extensionBytes encodes the ImageFileExtension message (field 8042's
// payload). is_import and is_syntax_unspecified are always written.
func (f *File) extensionBytes() []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, protowire.EncodeBool(f.IsImport))
	if !f.ModuleName.IsZero() {
		var name []byte
		name = protowire.AppendTag(name, 1, protowire.BytesType)
		name = protowire.AppendString(name, f.ModuleName.Registry)
		name = protowire.AppendTag(name, 2, protowire.BytesType)
		name = protowire.AppendString(name, f.ModuleName.Owner)
		name = protowire.AppendTag(name, 3, protowire.BytesType)
		name = protowire.AppendString(name, f.ModuleName.Name)
		var info []byte
		info = protowire.AppendTag(info, 1, protowire.BytesType)
		info = protowire.AppendBytes(info, name)
		if f.CommitID != "" {
			info = protowire.AppendTag(info, 2, protowire.BytesType)
			info = protowire.AppendString(info, f.CommitID)
		}
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, info)
	}
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, protowire.EncodeBool(f.IsSyntaxUnspecified))
	for _, i := range f.UnusedDependency {
		b = protowire.AppendTag(b, 4, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(i)))
	}
	return b
}

var marshalOptions = proto.MarshalOptions{Deterministic: true}

// marshalFile encodes one ImageFile (or a plain FileDescriptorProto when
// asFileDescriptorSet is set). Field 8042 has the highest number of
// ImageFile, so it follows the descriptor's own fields.
func (f *File) marshal(asFileDescriptorSet bool) ([]byte, error) {
	b, unknown := f.encoded, f.unknown
	if f.Proto != nil {
		unknown = f.Proto.ProtoReflect().GetUnknown()
		if len(unknown) > 0 {
			// Unknown fields follow the known ones, 8042 included; an old
			// 8042 among them is replaced.
			f.Proto.ProtoReflect().SetUnknown(nil)
			defer f.Proto.ProtoReflect().SetUnknown(unknown)
		}
		var err error
		if b, err = marshalOptions.Marshal(f.Proto); err != nil {
			return nil, fmt.Errorf("marshal %s: %w", f.Path(), err)
		}
	} else {
		b = slices.Clip(b)
	}
	if !asFileDescriptorSet {
		b = protowire.AppendTag(b, ExtensionFieldNumber, protowire.BytesType)
		b = protowire.AppendBytes(b, f.extensionBytes())
	}
	return appendWithout(b, unknown, ExtensionFieldNumber), nil
}

// appendWithout appends the fields of raw other than number to b.
func appendWithout(b, raw []byte, number protowire.Number) []byte {
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return append(b, raw...)
		}
		m := protowire.ConsumeFieldValue(num, typ, raw[n:])
		if m < 0 {
			return append(b, raw...)
		}
		if num != number {
			b = append(b, raw[:n+m]...)
		}
		raw = raw[n+m:]
	}
	return b
}
