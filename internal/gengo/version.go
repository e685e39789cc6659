package gengo

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// timeLayout is the commit time inside an SDK version (UTC, seconds).
const timeLayout = "20060102150405"

// shortCommitLen is how many characters of the commit ID a version carries.
const shortCommitLen = 12

// Version is an SDK module version:
// v<plugin version>-<YYYYMMDDHHMMSS>-<12 hex of the commit>.<revision>.
// It is an ordinary semver pre-release, never a pseudo-version.
type Version struct {
	// Plugin is the plugin's version core, vMAJOR.MINOR.PATCH.
	Plugin string
	// Time is the commit's create time in UTC, truncated to the second.
	Time time.Time
	// Commit is the first 12 characters of the dashless commit ID.
	Commit string
	// Revision is the plugin revision, 1 or more.
	Revision int
}

// NewVersion builds the version of the SDK generated from the commit
// (dashless ID, create time) by the given plugin version and revision.
func NewVersion(pluginVersion string, commitTime time.Time, commitID string, revision int) (Version, error) {
	if err := checkPluginVersion(pluginVersion); err != nil {
		return Version{}, err
	}
	if len(commitID) < shortCommitLen || !isLowerHex(commitID) {
		return Version{}, fmt.Errorf("commit ID %q is not a dashless lowercase hex commit ID", commitID)
	}
	if revision < 1 {
		return Version{}, fmt.Errorf("plugin revision %d must be 1 or more", revision)
	}
	t := commitTime.UTC().Truncate(time.Second)
	if y := t.Year(); y < 1000 || y > 9999 {
		return Version{}, fmt.Errorf("commit time %s cannot be written as YYYYMMDDHHMMSS", commitTime.Format(time.RFC3339))
	}
	return Version{Plugin: pluginVersion, Time: t, Commit: commitID[:shortCommitLen], Revision: revision}, nil
}

// String formats the version.
func (v Version) String() string {
	return v.Plugin + "-" + v.Time.UTC().Format(timeLayout) + "-" + v.Commit + "." + strconv.Itoa(v.Revision)
}

// Major returns the plugin's major version number.
func (v Version) Major() int { return majorOf(v.Plugin) }

// ParseVersion parses an SDK version. It accepts exactly the strings that
// String produces.
func ParseVersion(s string) (Version, error) {
	bad := func(why string) (Version, error) {
		return Version{}, fmt.Errorf("%q is not an SDK version (v<plugin version>-<YYYYMMDDHHMMSS>-<12 hex>.<revision>): %s", s, why)
	}
	if !semver.IsValid(s) || semver.Canonical(s) != s {
		return bad("not a canonical semantic version")
	}
	pre := semver.Prerelease(s)
	if pre == "" {
		return bad("no pre-release part")
	}
	core := strings.TrimSuffix(s, pre)
	rest := pre[1:]
	stamp, rest, ok := strings.Cut(rest, "-")
	if !ok || len(stamp) != len(timeLayout) || !isDigits(stamp) {
		return bad("the commit time must be 14 digits")
	}
	commit, rev, ok := strings.Cut(rest, ".")
	if !ok || len(commit) != shortCommitLen || !isLowerHex(commit) {
		return bad("the commit must be 12 lowercase hex characters")
	}
	if !isDigits(rev) || rev == "" || rev[0] == '0' {
		return bad("the revision must be a number of 1 or more")
	}
	revision, err := strconv.Atoi(rev)
	if err != nil {
		return bad("the revision is too large")
	}
	t, err := time.ParseInLocation(timeLayout, stamp, time.UTC)
	if err != nil || t.Year() < 1000 {
		return bad("the commit time is not a valid date")
	}
	v := Version{Plugin: core, Time: t, Commit: commit, Revision: revision}
	if v.String() != s {
		return bad("it does not format back to itself")
	}
	return v, nil
}

// checkPluginVersion accepts vMAJOR.MINOR.PATCH and nothing else.
func checkPluginVersion(v string) error {
	if !semver.IsValid(v) || semver.Canonical(v) != v || semver.Prerelease(v) != "" || strings.Count(v, ".") != 2 {
		return fmt.Errorf("plugin version %q must have the form vMAJOR.MINOR.PATCH", v)
	}
	return nil
}

func majorOf(v string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(semver.Major(v), "v"))
	return n
}

// MajorSuffix returns the module path suffix for a plugin version: "/vN"
// for a major version N of 2 or more, "" otherwise.
func MajorSuffix(pluginVersion string) string {
	if n := majorOf(pluginVersion); n >= 2 {
		return "/v" + strconv.Itoa(n)
	}
	return ""
}

// ModulePath returns the SDK module path
// <host>/gen/go/<owner>/<module>/<plugin owner>/<plugin name>[/vN] and
// checks that the go command accepts it.
func ModulePath(host, owner, moduleName, pluginOwner, pluginName, pluginVersion string) (string, error) {
	if err := checkPluginVersion(pluginVersion); err != nil {
		return "", err
	}
	for _, part := range []string{owner, moduleName, pluginOwner, pluginName} {
		if part == "" || strings.Contains(part, "/") {
			return "", fmt.Errorf("SDK module path part %q must be one non-empty path element", part)
		}
	}
	p := host + "/gen/go/" + owner + "/" + moduleName + "/" + pluginOwner + "/" + pluginName + MajorSuffix(pluginVersion)
	if err := module.CheckPath(p); err != nil {
		return "", fmt.Errorf("SDK module path: %w", err)
	}
	return p, nil
}

// CheckHost checks that host can start SDK module paths, e.g.
// "buf.example.com" or "example.test". A port ("host:8080") is not allowed:
// Go module paths cannot contain ':'.
func CheckHost(host string) error {
	if host == "" {
		return errors.New("the public host for Go SDK module paths is empty")
	}
	if strings.Contains(host, ":") {
		return fmt.Errorf("the public host %q for Go SDK module paths must not contain a port or scheme: Go module paths cannot contain ':'", host)
	}
	if err := module.CheckPath(host + "/gen/go/a/b/c/d"); err != nil {
		return fmt.Errorf("the public host %q cannot start Go module paths: %v", host, err)
	}
	return nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
