package image

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	_ "unsafe" // for go:linkname

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// The JSON and text encoders of google.golang.org/protobuf add random
// whitespace unless told otherwise; the reference CLI turns that off so its
// output is stable, and so does protomod.
//
//go:linkname disableDetrand google.golang.org/protobuf/internal/detrand.Disable
func disableDetrand()

func init() { disableDetrand() }

// imageDescriptor describes buf.alpha.image.v1 for the JSON and text
// encoders. ImageFile repeats FileDescriptorProto's fields (same names,
// numbers and declaration order) and adds buf_extension = 8042.
var imageDescriptor = sync.OnceValues(func() (protoreflect.FileDescriptor, error) {
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
	i32 := descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum()
	boolean := descriptorpb.FieldDescriptorProto_TYPE_BOOL.Enum()
	msg := descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
	enum := descriptorpb.FieldDescriptorProto_TYPE_ENUM.Enum()
	field := func(name string, number int32, label *descriptorpb.FieldDescriptorProto_Label, typ *descriptorpb.FieldDescriptorProto_Type, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(number), Label: label, Type: typ}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	file := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("buf/alpha/image/v1/image.proto"),
		Package:    proto.String("buf.alpha.image.v1"),
		Dependency: []string{"google/protobuf/descriptor.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Image"), Field: []*descriptorpb.FieldDescriptorProto{
				field("file", 1, rep, msg, ".buf.alpha.image.v1.ImageFile"),
			}},
			{Name: proto.String("ImageFile"), Field: []*descriptorpb.FieldDescriptorProto{
				field("name", 1, opt, str, ""),
				field("package", 2, opt, str, ""),
				field("dependency", 3, rep, str, ""),
				field("public_dependency", 10, rep, i32, ""),
				field("weak_dependency", 11, rep, i32, ""),
				field("message_type", 4, rep, msg, ".google.protobuf.DescriptorProto"),
				field("enum_type", 5, rep, msg, ".google.protobuf.EnumDescriptorProto"),
				field("service", 6, rep, msg, ".google.protobuf.ServiceDescriptorProto"),
				field("extension", 7, rep, msg, ".google.protobuf.FieldDescriptorProto"),
				field("options", 8, opt, msg, ".google.protobuf.FileOptions"),
				field("source_code_info", 9, opt, msg, ".google.protobuf.SourceCodeInfo"),
				field("syntax", 12, opt, str, ""),
				field("edition", 14, opt, enum, ".google.protobuf.Edition"),
				field("option_dependency", 15, rep, str, ""),
				field("buf_extension", ExtensionFieldNumber, opt, msg, ".buf.alpha.image.v1.ImageFileExtension"),
			}},
			{Name: proto.String("ImageFileExtension"), Field: []*descriptorpb.FieldDescriptorProto{
				field("is_import", 1, opt, boolean, ""),
				field("module_info", 2, opt, msg, ".buf.alpha.image.v1.ModuleInfo"),
				field("is_syntax_unspecified", 3, opt, boolean, ""),
				field("unused_dependency", 4, rep, i32, ""),
			}},
			{Name: proto.String("ModuleInfo"), Field: []*descriptorpb.FieldDescriptorProto{
				field("name", 1, opt, msg, ".buf.alpha.image.v1.ModuleName"),
				field("commit", 2, opt, str, ""),
			}},
			{Name: proto.String("ModuleName"), Field: []*descriptorpb.FieldDescriptorProto{
				field("remote", 1, opt, str, ""),
				field("owner", 2, opt, str, ""),
				field("repository", 3, opt, str, ""),
			}},
		},
	}
	return protodesc.NewFile(file, protoregistry.GlobalFiles)
})

// resolver returns extension and message types for the image's files,
// imports dropped by WithoutImports included, so custom options print with
// their names.
func (img *Image) resolver() (*dynamicpb.Types, error) {
	files := new(protoregistry.Files)
	all := img.resolveFiles()
	byPath := make(map[string]*descriptorpb.FileDescriptorProto, len(all))
	for _, f := range all {
		fd, err := f.Descriptor()
		if err != nil {
			return nil, err
		}
		byPath[f.Path()] = fd
	}
	var register func(path string) error
	register = func(path string) error {
		if _, err := files.FindFileByPath(path); err == nil {
			return nil
		}
		fd := byPath[path]
		if fd == nil {
			// Not in the image: its types are simply unknown.
			return nil
		}
		for _, dep := range append(fd.GetDependency(), fd.GetOptionDependency()...) {
			if err := register(dep); err != nil {
				return err
			}
		}
		d, err := (protodesc.FileOptions{AllowUnresolvable: true}).New(fd, files)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return files.RegisterFile(d)
	}
	for _, f := range all {
		if err := register(f.Path()); err != nil {
			return nil, err
		}
	}
	return dynamicpb.NewTypes(files), nil
}

// WriteJSON writes the image as protojson (lowerCamel names).
func (img *Image) WriteJSON(w io.Writer, asFileDescriptorSet bool) error {
	m, types, err := img.dynamic(asFileDescriptorSet)
	if err != nil {
		return err
	}
	data, err := protojson.MarshalOptions{Resolver: types}.Marshal(m)
	if err != nil {
		return fmt.Errorf("json marshal: %w", err)
	}
	_, err = w.Write(data)
	return err
}

// WriteText writes the image in the protobuf text format.
func (img *Image) WriteText(w io.Writer, asFileDescriptorSet bool) error {
	m, types, err := img.dynamic(asFileDescriptorSet)
	if err != nil {
		return err
	}
	data, err := prototext.MarshalOptions{Resolver: types, Indent: "  "}.Marshal(m)
	if err != nil {
		return fmt.Errorf("txtpb marshal: %w", err)
	}
	_, err = w.Write(data)
	return err
}

// dynamic decodes the binary image into a message the text encoders can
// walk, with custom options resolved against the image's files.
func (img *Image) dynamic(asFileDescriptorSet bool) (proto.Message, *dynamicpb.Types, error) {
	types, err := img.resolver()
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	if err := img.WriteBinary(&buf, asFileDescriptorSet); err != nil {
		return nil, nil, err
	}
	var m proto.Message
	if asFileDescriptorSet {
		m = new(descriptorpb.FileDescriptorSet)
	} else {
		fd, err := imageDescriptor()
		if err != nil {
			return nil, nil, err
		}
		m = dynamicpb.NewMessage(fd.Messages().ByName("Image"))
	}
	if err := (proto.UnmarshalOptions{Resolver: types}).Unmarshal(buf.Bytes(), m); err != nil {
		return nil, nil, err
	}
	return m, types, nil
}
