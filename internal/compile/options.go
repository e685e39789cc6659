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

// canonicalizeOptions turns the raw option bytes the compiler stores in every
// options message into parsed fields: standard options become ordinary
// fields, and custom options become extension fields resolved against the
// compiled files. Marshalling the result deterministically then gives the
// canonical encoding (extensions sorted by number, then fields by number),
// which is what the reference CLI writes.
func canonicalizeOptions(res *Result) error {
	// Pass 1: standard fields only; custom options stay unknown for now.
	var withExtensions []protoreflect.Message
	for _, f := range res.Files {
		if err := walkOptions(f.Proto, func(m protoreflect.Message) error {
			raw := m.GetUnknown()
			if len(raw) == 0 {
				return nil
			}
			m.SetUnknown(nil)
			if err := (proto.UnmarshalOptions{Merge: true, AllowPartial: true, Resolver: emptyResolver{}}).Unmarshal(raw, m.Interface()); err != nil {
				return fmt.Errorf("%s: options: %w", f.Proto.GetName(), err)
			}
			if hasUnknown(m) {
				withExtensions = append(withExtensions, m)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if len(withExtensions) == 0 {
		return nil
	}
	// Pass 2: custom options, now that the descriptors' own options (edition
	// features in particular) are readable.
	ext := newExtensionResolver(res)
	for _, m := range withExtensions {
		if err := reparse(m, ext); err != nil {
			return err
		}
	}
	return ext.err
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

// extensionResolver finds extensions among the compiled files, building
// descriptors only for the files that define extensions actually used.
type extensionResolver struct {
	res    *Result
	byNum  map[extKey]extLoc
	byName map[protoreflect.FullName]extLoc

	mu    sync.Mutex
	files *protoregistry.Files
	types map[protoreflect.FullName]protoreflect.ExtensionType
	err   error
}

type extLoc struct {
	file string
	name protoreflect.FullName
}

func newExtensionResolver(res *Result) *extensionResolver {
	r := &extensionResolver{
		res:    res,
		byNum:  map[extKey]extLoc{},
		byName: map[protoreflect.FullName]extLoc{},
		files:  new(protoregistry.Files),
		types:  map[protoreflect.FullName]protoreflect.ExtensionType{},
	}
	for _, f := range res.Files {
		fd := f.Proto
		pkg := fd.GetPackage()
		var add func(scope string, exts []*descriptorpb.FieldDescriptorProto)
		add = func(scope string, exts []*descriptorpb.FieldDescriptorProto) {
			for _, x := range exts {
				name := protoreflect.FullName(join(scope, x.GetName()))
				loc := extLoc{file: fd.GetName(), name: name}
				key := extKey{protoreflect.FullName(strings.TrimPrefix(x.GetExtendee(), ".")), protoreflect.FieldNumber(x.GetNumber())}
				if _, ok := r.byNum[key]; !ok {
					r.byNum[key] = loc
				}
				r.byName[name] = loc
			}
		}
		add(pkg, fd.GetExtension())
		var nested func(scope string, msgs []*descriptorpb.DescriptorProto)
		nested = func(scope string, msgs []*descriptorpb.DescriptorProto) {
			for _, m := range msgs {
				s := join(scope, m.GetName())
				add(s, m.GetExtension())
				nested(s, m.GetNestedType())
			}
		}
		nested(pkg, fd.GetMessageType())
	}
	return r
}

func join(scope, name string) string {
	if scope == "" {
		return name
	}
	return scope + "." + name
}

func (r *extensionResolver) FindExtensionByName(name protoreflect.FullName) (protoreflect.ExtensionType, error) {
	loc, ok := r.byName[name]
	if !ok {
		return nil, protoregistry.NotFound
	}
	return r.load(loc)
}

func (r *extensionResolver) FindExtensionByNumber(message protoreflect.FullName, number protoreflect.FieldNumber) (protoreflect.ExtensionType, error) {
	loc, ok := r.byNum[extKey{message, number}]
	if !ok {
		return nil, protoregistry.NotFound
	}
	return r.load(loc)
}

func (r *extensionResolver) load(loc extLoc) (protoreflect.ExtensionType, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.types[loc.name]; ok {
		return t, nil
	}
	if err := r.register(loc.file); err != nil {
		if r.err == nil {
			r.err = err
		}
		return nil, protoregistry.NotFound
	}
	d, err := r.files.FindDescriptorByName(loc.name)
	if err != nil {
		return nil, protoregistry.NotFound
	}
	xd, ok := d.(protoreflect.ExtensionDescriptor)
	if !ok {
		return nil, protoregistry.NotFound
	}
	t := dynamicpb.NewExtensionType(xd)
	r.types[loc.name] = t
	return t, nil
}

// register builds the descriptor of a compiled file and of its imports.
func (r *extensionResolver) register(path string) error {
	if _, err := r.files.FindFileByPath(path); err == nil {
		return nil
	}
	f := r.res.byPath[path]
	if f == nil {
		return fmt.Errorf("extension file %s was not compiled", path)
	}
	for _, dep := range f.Proto.GetDependency() {
		if err := r.register(dep); err != nil {
			return err
		}
	}
	for _, dep := range f.Proto.GetOptionDependency() {
		if err := r.register(dep); err != nil {
			return err
		}
	}
	fd, err := (protodesc.FileOptions{AllowUnresolvable: true}).New(f.Proto, r.files)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return r.files.RegisterFile(fd)
}
