package digest

import "strings"

// MismatchError reports that a module's recomputed digest differs from the
// digest pinned in buf.lock. Its text is the reference CLI's; the CLI prints
// it after "Failure: ".
type MismatchError struct {
	// ModuleKey is "registry/owner/name:<commit>", "registry/owner/name",
	// or empty when the module has no name.
	ModuleKey string
	// Expected is the digest from buf.lock, Actual the recomputed one. The
	// digest lines are left out unless both are set.
	Expected Digest
	Actual   Digest
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	b.WriteString("*** Digest verification failed")
	if e.ModuleKey != "" {
		b.WriteString(` for "` + e.ModuleKey + `"`)
	}
	b.WriteString(" ***\n")
	if !e.Expected.IsZero() && !e.Actual.IsZero() {
		b.WriteString("\tExpected digest (from buf.lock): \"" + e.Expected.String() + "\"\n")
		b.WriteString("\tActual digest: \"" + e.Actual.String() + "\"\n")
	}
	b.WriteString("\tThis may be the result of a hand-edited or corrupted buf.lock file, a corrupted local cache, and/or an attack.\n")
	b.WriteString("\tTo clear your local cache, run \"buf registry cc\".")
	return b.String()
}

// VerifyB5 recomputes the b5 digest of files plus depB5s and returns a
// *MismatchError naming moduleKey when it differs from want.
func VerifyB5(moduleKey string, files []File, depB5s []Digest, want Digest) error {
	got, err := B5(files, depB5s)
	if err != nil {
		return err
	}
	if got != want {
		return &MismatchError{ModuleKey: moduleKey, Expected: want, Actual: got}
	}
	return nil
}
