package compile

import (
	"fmt"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// The compiler stores every options message as raw bytes. Parsing them in
// two steps gives the canonical form the reference CLI writes (extensions
// sorted by number, then fields by number): first the standard options (so
// descriptors, edition features included, read right), then custom options
// as extensions resolved against the compiled files.

// parseStandardOptions parses the standard fields of every options message
// of fd and returns the messages that still hold unknown bytes (custom
// options, possibly nested in standard fields such as features), for
// parseCustomOptions.
func parseStandardOptions(fd *descriptorpb.FileDescriptorProto) ([]protoreflect.Message, error) {
	var custom []protoreflect.Message
	err := walkOptions(fd, func(m protoreflect.Message) error {
		raw := m.GetUnknown()
		if len(raw) == 0 {
			return nil
		}
		m.SetUnknown(nil)
		if err := (proto.UnmarshalOptions{Merge: true, AllowPartial: true, Resolver: emptyResolver{}}).Unmarshal(raw, m.Interface()); err != nil {
			return fmt.Errorf("%s: options: %w", fd.GetName(), err)
		}
		if hasUnknown(m) {
			custom = append(custom, m)
		}
		return nil
	})
	return custom, err
}

// parseCustomOptions resolves the custom options left as unknown bytes in
// the given options messages.
func (r *extensionResolver) parseCustomOptions(custom []protoreflect.Message) error {
	for _, m := range custom {
		if err := reparse(m, r); err != nil {
			return err
		}
	}
	return nil
}

func hasUnknown(m protoreflect.Message) bool {
	if len(m.GetUnknown()) > 0 {
		return true
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil {
			return true
		}
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					found = hasUnknown(mv.Message())
					return !found
				})
			}
		case fd.IsList():
			for i := 0; i < v.List().Len() && !found; i++ {
				found = hasUnknown(v.List().Get(i).Message())
			}
		default:
			found = hasUnknown(v.Message())
		}
		return !found
	})
	return found
}

// reparse re-reads the unknown bytes of m and of every message below it with
// the extension resolver.
func reparse(m protoreflect.Message, r *extensionResolver) error {
	if raw := m.GetUnknown(); len(raw) > 0 {
		m.SetUnknown(nil)
		if err := (proto.UnmarshalOptions{Merge: true, AllowPartial: true, Resolver: r}).Unmarshal(raw, m.Interface()); err != nil {
			return err
		}
	}
	var err error
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len() && err == nil; i++ {
		fd := fields.Get(i)
		if fd.Message() == nil || !m.Has(fd) {
			continue
		}
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				m.Get(fd).Map().Range(func(_ protoreflect.MapKey, v protoreflect.Value) bool {
					err = reparse(v.Message(), r)
					return err == nil
				})
			}
		case fd.IsList():
			l := m.Get(fd).List()
			for j := 0; j < l.Len() && err == nil; j++ {
				err = reparse(l.Get(j).Message(), r)
			}
		default:
			err = reparse(m.Get(fd).Message(), r)
		}
	}
	return err
}

// walkOptions calls fn for every options message in a file descriptor.
func walkOptions(fd *descriptorpb.FileDescriptorProto, fn func(protoreflect.Message) error) error {
	visit := func(m proto.Message) error {
		if m == nil || !m.ProtoReflect().IsValid() {
			return nil
		}
		return fn(m.ProtoReflect())
	}
	var message func(*descriptorpb.DescriptorProto) error
	field := func(f *descriptorpb.FieldDescriptorProto) error { return visit(f.GetOptions()) }
	enum := func(e *descriptorpb.EnumDescriptorProto) error {
		if err := visit(e.GetOptions()); err != nil {
			return err
		}
		for _, v := range e.GetValue() {
			if err := visit(v.GetOptions()); err != nil {
				return err
			}
		}
		return nil
	}
	message = func(d *descriptorpb.DescriptorProto) error {
		if err := visit(d.GetOptions()); err != nil {
			return err
		}
		for _, f := range d.GetField() {
			if err := field(f); err != nil {
				return err
			}
		}
		for _, f := range d.GetExtension() {
			if err := field(f); err != nil {
				return err
			}
		}
		for _, n := range d.GetNestedType() {
			if err := message(n); err != nil {
				return err
			}
		}
		for _, e := range d.GetEnumType() {
			if err := enum(e); err != nil {
				return err
			}
		}
		for _, r := range d.GetExtensionRange() {
			if err := visit(r.GetOptions()); err != nil {
				return err
			}
		}
		for _, o := range d.GetOneofDecl() {
			if err := visit(o.GetOptions()); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(fd.GetOptions()); err != nil {
		return err
	}
	for _, d := range fd.GetMessageType() {
		if err := message(d); err != nil {
			return err
		}
	}
	for _, e := range fd.GetEnumType() {
		if err := enum(e); err != nil {
			return err
		}
	}
	for _, s := range fd.GetService() {
		if err := visit(s.GetOptions()); err != nil {
			return err
		}
		for _, m := range s.GetMethod() {
			if err := visit(m.GetOptions()); err != nil {
				return err
			}
		}
	}
	for _, f := range fd.GetExtension() {
		if err := field(f); err != nil {
			return err
		}
	}
	return nil
}

// emptyResolver resolves no extensions, so that pass 1 leaves every custom
// option as unknown bytes.
type emptyResolver struct{}

func (emptyResolver) FindExtensionByName(protoreflect.FullName) (protoreflect.ExtensionType, error) {
	return nil, protoregistry.NotFound
}

func (emptyResolver) FindExtensionByNumber(protoreflect.FullName, protoreflect.FieldNumber) (protoreflect.ExtensionType, error) {
	return nil, protoregistry.NotFound
}

type extKey struct {
	extendee protoreflect.FullName
	number   protoreflect.FieldNumber
}

// extensionResolver finds extensions among the compiled files. It keeps
// the descriptors of the files that declare extensions (and of what they
// import) and builds reflection descriptors only for the files whose
// extensions are actually used.
type extensionResolver struct {
	mu     sync.Mutex
	fdps   map[string]*descriptorpb.FileDescriptorProto
	byNum  map[extKey]protoreflect.FullName
	byName map[protoreflect.FullName]string // extension -> file
	files  *protoregistry.Files
	types  map[protoreflect.FullName]protoreflect.ExtensionType
}

func newExtensionResolver() *extensionResolver {
	return &extensionResolver{
		fdps:   map[string]*descriptorpb.FileDescriptorProto{},
		byNum:  map[extKey]protoreflect.FullName{},
		byName: map[protoreflect.FullName]string{},
		files:  new(protoregistry.Files),
		types:  map[protoreflect.FullName]protoreflect.ExtensionType{},
	}
}

func (r *extensionResolver) has(path string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.fdps[path]
	return ok
}

// add keeps fd and indexes the extensions it declares.
func (r *extensionResolver) add(fd *descriptorpb.FileDescriptorProto) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.fdps[fd.GetName()]; ok {
		return
	}
	r.fdps[fd.GetName()] = fd
	var index func(scope string, exts []*descriptorpb.FieldDescriptorProto)
	index = func(scope string, exts []*descriptorpb.FieldDescriptorProto) {
		for _, x := range exts {
			name := protoreflect.FullName(join(scope, x.GetName()))
			key := extKey{protoreflect.FullName(strings.TrimPrefix(x.GetExtendee(), ".")), protoreflect.FieldNumber(x.GetNumber())}
			if _, ok := r.byNum[key]; !ok {
				r.byNum[key] = name
			}
			r.byName[name] = fd.GetName()
		}
	}
	index(fd.GetPackage(), fd.GetExtension())
	var nested func(scope string, msgs []*descriptorpb.DescriptorProto)
	nested = func(scope string, msgs []*descriptorpb.DescriptorProto) {
		for _, m := range msgs {
			s := join(scope, m.GetName())
			index(s, m.GetExtension())
			nested(s, m.GetNestedType())
		}
	}
	nested(fd.GetPackage(), fd.GetMessageType())
}

func join(scope, name string) string {
	if scope == "" {
		return name
	}
	return scope + "." + name
}

func (r *extensionResolver) FindExtensionByName(name protoreflect.FullName) (protoreflect.ExtensionType, error) {
	return r.load(name)
}

func (r *extensionResolver) FindExtensionByNumber(message protoreflect.FullName, number protoreflect.FieldNumber) (protoreflect.ExtensionType, error) {
	r.mu.Lock()
	name, ok := r.byNum[extKey{message, number}]
	r.mu.Unlock()
	if !ok {
		return nil, protoregistry.NotFound
	}
	return r.load(name)
}

func (r *extensionResolver) load(name protoreflect.FullName) (protoreflect.ExtensionType, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.types[name]; ok {
		return t, nil
	}
	file, ok := r.byName[name]
	if !ok {
		return nil, protoregistry.NotFound
	}
	if err := r.register(file); err != nil {
		return nil, err
	}
	d, err := r.files.FindDescriptorByName(name)
	if err != nil {
		return nil, protoregistry.NotFound
	}
	xd, ok := d.(protoreflect.ExtensionDescriptor)
	if !ok {
		return nil, protoregistry.NotFound
	}
	t := dynamicpb.NewExtensionType(xd)
	r.types[name] = t
	return t, nil
}

// register builds the reflection descriptor of a kept file and of its
// imports. The caller holds r.mu.
func (r *extensionResolver) register(path string) error {
	if _, err := r.files.FindFileByPath(path); err == nil {
		return nil
	}
	fd := r.fdps[path]
	if fd == nil {
		return fmt.Errorf("resolve custom options: the descriptor of %s was not kept", path)
	}
	for _, dep := range fd.GetDependency() {
		if err := r.register(dep); err != nil {
			return err
		}
	}
	for _, dep := range fd.GetOptionDependency() {
		if err := r.register(dep); err != nil {
			return err
		}
	}
	d, err := (protodesc.FileOptions{AllowUnresolvable: true}).New(fd, r.files)
	if err != nil {
		return fmt.Errorf("resolve custom options: %s: %w", path, err)
	}
	return r.files.RegisterFile(d)
}
