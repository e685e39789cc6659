package depupdate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/workspace"
)

// DiffKind says how a pin differs.
type DiffKind int

const (
	// Missing: the dep is needed but buf.lock does not pin it.
	Missing DiffKind = iota + 1
	// Behind: buf.lock pins another commit than the one resolved.
	Behind
	// DigestDiffers: same commit, different digest.
	DigestDiffers
	// Extra: buf.lock pins a module nothing declared needs.
	Extra
	// WrongVersion: buf.lock is not a v2 lock file.
	WrongVersion
)

// Difference is one way buf.lock differs from what Update would write.
type Difference struct {
	Kind DiffKind
	Name bufname.FullName
	// Old is buf.lock's pin (Behind, DigestDiffers, Extra); New the
	// resolved one (Missing, Behind, DigestDiffers).
	Old, New lock.Dep
	// Declared is set when the module is a declared dep; Ref is then its
	// reference in buf.yaml.
	Declared bool
	Ref      bufname.Ref
	// LockVersion is buf.lock's version (WrongVersion).
	LockVersion string
}

// String describes the difference in one line.
func (d Difference) String() string {
	switch d.Kind {
	case Missing:
		if d.Declared {
			return fmt.Sprintf("%s: declared in buf.yaml deps but not pinned in buf.lock (%s resolves to commit %s)", d.Name, refText(d.Ref), d.New.Commit)
		}
		return fmt.Sprintf("%s: needed at commit %s by the declared deps but not pinned in buf.lock", d.Name, d.New.Commit)
	case Behind:
		if d.Declared {
			return fmt.Sprintf("%s: buf.lock pins commit %s but %s now resolves to commit %s", d.Name, d.Old.Commit, refText(d.Ref), d.New.Commit)
		}
		return fmt.Sprintf("%s: buf.lock pins commit %s but the declared deps now need commit %s", d.Name, d.Old.Commit, d.New.Commit)
	case DigestDiffers:
		return fmt.Sprintf("%s: buf.lock's digest for commit %s is %s but the registry's is %s", d.Name, d.Old.Commit, d.Old.Digest, d.New.Digest)
	case Extra:
		return fmt.Sprintf("%s: buf.lock pins commit %s but no declared dep needs it", d.Name, d.Old.Commit)
	case WrongVersion:
		return fmt.Sprintf("buf.lock is a %s lock file; a v2 buf.yaml needs a v2 buf.lock", d.LockVersion)
	}
	return d.Name.String()
}

// refText names what a declared ref asks for.
func refText(r bufname.Ref) string {
	if r.Ref == "" {
		return "its default label"
	}
	return fmt.Sprintf("%q", r.Ref)
}

// OutOfDateError is Check's failure: buf.lock differs from what Update
// would write.
type OutOfDateError struct {
	Differences []Difference
}

func (e *OutOfDateError) Error() string {
	n := len(e.Differences)
	what := "differences"
	if n == 1 {
		what = "difference"
	}
	return fmt.Sprintf("buf.lock is out of date (%d %s); run \"protomod dep update\" to update it", n, what)
}

// Check resolves the declared deps like Update but writes nothing: it
// returns the differences between buf.lock and what Update would write,
// sorted by module name (none when buf.lock is up to date).
func Check(ctx context.Context, ws *workspace.Workspace, opts Options) ([]Difference, error) {
	s, err := load(ws, "dep update --check")
	if err != nil {
		return nil, err
	}
	if len(s.refs) == 0 && s.old == nil && len(opts.Only) == 0 {
		return nil, nil
	}
	if s.old != nil && s.version == lock.V2 && s.old.Version != lock.V2 {
		return []Difference{{Kind: WrongVersion, LockVersion: s.old.Version}}, nil
	}
	p, err := s.resolve(ctx, &opts)
	if err != nil {
		return nil, err
	}
	declared := map[bufname.FullName]bufname.Ref{}
	for _, r := range s.refs {
		declared[r.FullName] = r
	}
	oldPins := s.oldPins()
	var diffs []Difference
	for _, want := range p.lock.Deps {
		ref, isDeclared := declared[want.Name]
		d := Difference{Name: want.Name, New: want, Declared: isDeclared, Ref: ref}
		have, ok := oldPins[want.Name]
		switch {
		case !ok:
			d.Kind = Missing
		case have.Commit != want.Commit:
			d.Kind, d.Old = Behind, have
		case have.Digest != want.Digest:
			d.Kind, d.Old = DigestDiffers, have
		default:
			continue
		}
		diffs = append(diffs, d)
	}
	for _, have := range oldPins {
		if _, ok := p.lock.Dep(have.Name); !ok {
			_, isDeclared := declared[have.Name]
			diffs = append(diffs, Difference{Kind: Extra, Name: have.Name, Old: have, Declared: isDeclared})
		}
	}
	slices.SortFunc(diffs, func(a, b Difference) int { return strings.Compare(a.Name.String(), b.Name.String()) })
	return diffs, nil
}
