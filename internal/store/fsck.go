package store

import "fmt"

// DigestFunc computes a commit's b5 digest (64 raw bytes) from its files and
// the b5 digests of all its dependencies.
type DigestFunc func(files []File, depDigests [][]byte) ([]byte, error)

// FsckOptions tune Store.Fsck.
type FsckOptions struct {
	// Digest recomputes commit digests. If nil, digests are not checked.
	Digest DigestFunc
	// CollectOrphans deletes blobs that no commit references. Without it
	// they are only counted (orphans are harmless: a push that crashed
	// after writing its blobs leaves some).
	CollectOrphans bool
}

// FsckReport is the result of an integrity check.
type FsckReport struct {
	Commits   int // commits checked
	Labels    int // labels checked
	Blobs     int // distinct blobs referenced and verified
	Orphans   int // stored blobs that no commit references
	Collected int // orphans deleted (CollectOrphans)
	// Problems describes every inconsistency found, one per line, naming
	// the commit, label or blob. Empty means the store is consistent.
	Problems []string
}

// OK reports whether no problem was found.
func (r FsckReport) OK() bool { return len(r.Problems) == 0 }

func (r FsckReport) String() string {
	s := fmt.Sprintf("checked %d commits, %d labels, %d blobs; %d orphan blobs", r.Commits, r.Labels, r.Blobs, r.Orphans)
	if r.Collected > 0 {
		s += fmt.Sprintf(" (%d deleted)", r.Collected)
	}
	if r.OK() {
		return s + "; no problems found"
	}
	s += fmt.Sprintf("; %d problems:", len(r.Problems))
	for _, p := range r.Problems {
		s += "\n  " + p
	}
	return s
}
