package lock

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/digest"
)

// The on-disk forms. Field order is the key order written.

type externalVersion struct {
	Version string `yaml:"version"`
}

type externalV2 struct {
	Version  string           `yaml:"version,omitempty"`
	Deps     []externalDep    `yaml:"deps,omitempty"`
	Plugins  []externalDep    `yaml:"plugins,omitempty"`
	Policies []externalPolicy `yaml:"policies,omitempty"`
}

type externalDep struct {
	Name   string `yaml:"name,omitempty"`
	Commit string `yaml:"commit,omitempty"`
	Digest string `yaml:"digest,omitempty"`
}

type externalPolicy struct {
	Name    string        `yaml:"name,omitempty"`
	Commit  string        `yaml:"commit,omitempty"`
	Digest  string        `yaml:"digest,omitempty"`
	Plugins []externalDep `yaml:"plugins,omitempty"`
}

type externalV1 struct {
	Version string          `yaml:"version,omitempty"`
	Deps    []externalDepV1 `yaml:"deps,omitempty"`
}

type externalDepV1 struct {
	Remote     string `yaml:"remote,omitempty"`
	Owner      string `yaml:"owner,omitempty"`
	Repository string `yaml:"repository,omitempty"`
	// Branch and CreateTime are accepted and ignored.
	Branch     string    `yaml:"branch,omitempty"`
	Commit     string    `yaml:"commit,omitempty"`
	Digest     string    `yaml:"digest,omitempty"`
	CreateTime time.Time `yaml:"create_time,omitempty"`
}

func parse(data []byte) (*File, error) {
	var v externalVersion
	if err := decodeYAML(data, &v, false); err != nil {
		return nil, err
	}
	switch v.Version {
	case V2:
		return parseV2(data)
	case V1, V1Beta1, "":
		// A lock file without a version is v1beta1.
		version := v.Version
		if version == "" {
			version = V1Beta1
		}
		return parseV1(data, version)
	default:
		return nil, fmt.Errorf("unknown file version: %q", v.Version)
	}
}

func parseV2(data []byte) (*File, error) {
	var ext externalV2
	if err := decodeYAML(data, &ext, true); err != nil {
		return nil, err
	}
	f := &File{Version: V2}
	// Per-entry checks first, in file order, as the reference CLI does;
	// digests are parsed after the duplicate check.
	type pending struct {
		dep    Dep
		digest string
	}
	deps := make([]pending, 0, len(ext.Deps))
	for _, d := range ext.Deps {
		if d.Name == "" {
			return nil, errors.New("no module name specified")
		}
		name, err := bufname.ParseFullName(d.Name)
		if err != nil {
			return nil, fmt.Errorf("invalid module name: %w", err)
		}
		if d.Commit == "" {
			return nil, fmt.Errorf("no commit specified for module %s", name)
		}
		if d.Digest == "" {
			return nil, fmt.Errorf("no digest specified for module %s", name)
		}
		if old := deprecatedDigestType(d.Digest); old != "" {
			return nil, fmt.Errorf(`%s digests are no longer supported as of v1.32.0, run "buf mod update" to update your buf.lock`, old)
		}
		commit, err := parseCommit(d.Commit, "module "+name.String())
		if err != nil {
			return nil, err
		}
		deps = append(deps, pending{Dep{Name: name, Commit: commit}, d.Digest})
	}
	plugins, err := parsePlugins(ext.Plugins)
	if err != nil {
		return nil, err
	}
	for _, p := range ext.Policies {
		policy, err := parsePolicy(p)
		if err != nil {
			return nil, err
		}
		f.Policies = append(f.Policies, policy)
	}
	for _, d := range deps {
		f.Deps = append(f.Deps, d.dep)
	}
	if err := checkDuplicateDeps(f.Deps); err != nil {
		return nil, err
	}
	if err := checkDuplicatePlugins(plugins); err != nil {
		return nil, err
	}
	if err := checkDuplicatePolicies(f.Policies); err != nil {
		return nil, err
	}
	for i, d := range deps {
		dg, err := digest.Parse(d.digest)
		if err != nil {
			return nil, err
		}
		if dg.Type != digest.TypeB5 {
			return nil, fmt.Errorf("v2 lock files must use digest type b5, but dep %s had a digest type of %s", d.dep.Key(), dg.Type)
		}
		f.Deps[i].Digest = dg
	}
	f.Plugins = plugins
	SortDeps(f.Deps)
	sortPlugins(f.Plugins)
	sortPolicies(f.Policies)
	return f, nil
}

func parsePlugins(ext []externalDep) ([]PluginDep, error) {
	var out []PluginDep
	for _, p := range ext {
		if p.Name == "" {
			return nil, errors.New("no plugin name specified")
		}
		name, err := bufname.ParseFullName(p.Name)
		if err != nil {
			return nil, fmt.Errorf("invalid plugin name: %w", err)
		}
		if p.Commit == "" {
			return nil, fmt.Errorf("no commit specified for plugin %s", name)
		}
		if p.Digest == "" {
			return nil, fmt.Errorf("no digest specified for plugin %s", name)
		}
		commit, err := parseCommit(p.Commit, "plugin "+name.String())
		if err != nil {
			return nil, err
		}
		dg, err := parseTypedDigest(p.Digest, "plugin", "p1")
		if err != nil {
			return nil, err
		}
		out = append(out, PluginDep{Name: name, Commit: commit, Digest: dg})
	}
	return out, nil
}

func parsePolicy(p externalPolicy) (PolicyDep, error) {
	if p.Name == "" {
		return PolicyDep{}, errors.New("no policy name specified")
	}
	plugins, err := parsePlugins(p.Plugins)
	if err != nil {
		return PolicyDep{}, fmt.Errorf("invalid plugins for policy %q: %w", p.Name, err)
	}
	if err := checkDuplicatePlugins(plugins); err != nil {
		return PolicyDep{}, fmt.Errorf("policy %q: %w", p.Name, err)
	}
	sortPlugins(plugins)
	if p.Commit == "" {
		if p.Digest != "" {
			return PolicyDep{}, fmt.Errorf("no commit specified for policy %s", p.Name)
		}
		return PolicyDep{Name: p.Name, Plugins: plugins}, nil
	}
	name, err := bufname.ParseFullName(p.Name)
	if err != nil {
		return PolicyDep{}, fmt.Errorf("invalid policy name: %w", err)
	}
	if p.Digest == "" {
		return PolicyDep{}, fmt.Errorf("no digest specified for policy %s", name)
	}
	commit, err := parseCommit(p.Commit, "policy "+name.String())
	if err != nil {
		return PolicyDep{}, err
	}
	dg, err := parseTypedDigest(p.Digest, "policy", "o1")
	if err != nil {
		return PolicyDep{}, err
	}
	return PolicyDep{Name: name.String(), Commit: commit, Digest: dg, Plugins: plugins}, nil
}

func parseV1(data []byte, version string) (*File, error) {
	var ext externalV1
	if err := decodeYAML(data, &ext, true); err != nil {
		return nil, err
	}
	f := &File{Version: version}
	digests := make([]string, 0, len(ext.Deps))
	for _, d := range ext.Deps {
		switch {
		case d.Remote == "":
			return nil, errors.New("remote missing")
		case d.Owner == "":
			return nil, errors.New("owner missing")
		case d.Repository == "":
			return nil, errors.New("repository missing")
		}
		name, err := bufname.ParseFullName(d.Remote + "/" + d.Owner + "/" + d.Repository)
		if err != nil {
			return nil, fmt.Errorf("invalid module name: %w", err)
		}
		if d.Commit == "" {
			return nil, fmt.Errorf("no commit specified for module %s", name)
		}
		commit, err := parseCommit(d.Commit, "module "+name.String())
		if err != nil {
			return nil, err
		}
		if d.Digest == "" || deprecatedDigestType(d.Digest) != "" {
			// The reference CLI asks the registry for the digest here; a
			// local read cannot.
			return nil, fmt.Errorf(`no digest specified for module %s; run "protomod dep update" to pin it again`, name)
		}
		f.Deps = append(f.Deps, Dep{Name: name, Commit: commit})
		digests = append(digests, d.Digest)
	}
	if err := checkDuplicateDeps(f.Deps); err != nil {
		return nil, err
	}
	for i, s := range digests {
		dg, err := digest.Parse(s)
		if err != nil {
			return nil, err
		}
		if dg.Type != digest.TypeShake256 {
			return nil, fmt.Errorf("%s lock files must use digest type shake256, but dep %s had a digest type of %s", version, f.Deps[i].Key(), dg.Type)
		}
		f.Deps[i].Digest = dg
	}
	SortDeps(f.Deps)
	return f, nil
}

// parseCommit checks a dashless commit ID and lowercases it.
func parseCommit(s, what string) (string, error) {
	if len(s) != 32 {
		return "", fmt.Errorf("expected dashless uuid to be of length 32 but was %d: %s", len(s), s)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", fmt.Errorf("invalid commit %q for %s: invalid UUID format (want 32 hex characters)", s, what)
	}
	return strings.ToLower(s), nil
}

// parseTypedDigest checks a plugin (p1) or policy (o1) digest and returns it
// with lowercase hex. The error texts follow the reference CLI's.
func parseTypedDigest(s, kind, wantType string) (string, error) {
	typ, hexValue, ok := strings.Cut(s, ":")
	if !ok {
		return "", &bufname.ParseError{Kind: kind + " digest", Input: s,
			Err: errors.New(`must be in the form "digest_type:digest_hex_value"`)}
	}
	if typ != wantType {
		// The reference CLI quotes only the type here, twice.
		return "", &bufname.ParseError{Kind: kind + " digest", Input: typ,
			Err: &bufname.ParseError{Kind: kind + " digest type", Input: typ, Err: fmt.Errorf("unknown type: %q", typ)}}
	}
	value, err := hex.DecodeString(hexValue)
	if err != nil {
		return "", &bufname.ParseError{Kind: kind + " digest", Input: s,
			Err: errors.New(`could not parse hex: must in the form "digest_type:digest_hex_value"`)}
	}
	if len(value) != digest.Size {
		return "", fmt.Errorf("invalid shake256 digest value: expected %d bytes, got %d", digest.Size, len(value))
	}
	return typ + ":" + hex.EncodeToString(value), nil
}

func deprecatedDigestType(s string) string {
	for _, t := range []string{"b1", "b3"} {
		if strings.HasPrefix(s, t+"-") {
			return t
		}
	}
	return ""
}

func checkDuplicateDeps(deps []Dep) error {
	seen := make(map[bufname.FullName]struct{}, len(deps))
	for _, d := range deps {
		if _, ok := seen[d.Name]; ok {
			return fmt.Errorf("duplicate module %q attempted to be added to lock file", d.Name.String())
		}
		seen[d.Name] = struct{}{}
	}
	return nil
}

func checkDuplicatePlugins(plugins []PluginDep) error {
	seen := make(map[bufname.FullName]struct{}, len(plugins))
	for _, p := range plugins {
		if _, ok := seen[p.Name]; ok {
			return fmt.Errorf("duplicate plugin %q attempted to be added to lock file", p.Name.String())
		}
		seen[p.Name] = struct{}{}
	}
	return nil
}

func checkDuplicatePolicies(policies []PolicyDep) error {
	seen := make(map[string]struct{}, len(policies))
	for _, p := range policies {
		if _, ok := seen[p.Name]; ok {
			return fmt.Errorf("duplicate policy %q attempted to be added to lock file", p.Name)
		}
		seen[p.Name] = struct{}{}
	}
	return nil
}

// SortDeps sorts deps by full name, bytewise, as lock files list them.
func SortDeps(deps []Dep) {
	slices.SortStableFunc(deps, func(a, b Dep) int { return strings.Compare(a.Name.String(), b.Name.String()) })
}

func sortPlugins(plugins []PluginDep) {
	slices.SortStableFunc(plugins, func(a, b PluginDep) int { return strings.Compare(a.Name.String(), b.Name.String()) })
}

// sortPolicies orders policies as the reference CLI writes them: remote
// policies keep their order unless a local policy is present, in which case
// all are sorted by name.
func sortPolicies(policies []PolicyDep) {
	if slices.ContainsFunc(policies, PolicyDep.IsLocal) {
		slices.SortStableFunc(policies, func(a, b PolicyDep) int { return strings.Compare(a.Name, b.Name) })
	}
}

// externalV2 validates f and returns its v2 on-disk form.
func (f *File) externalV2() (*externalV2, error) {
	ext := &externalV2{Version: V2}
	deps := slices.Clone(f.Deps)
	SortDeps(deps)
	if err := checkDuplicateDeps(deps); err != nil {
		return nil, err
	}
	for _, d := range deps {
		if err := checkDep(d, digest.TypeB5, V2); err != nil {
			return nil, err
		}
		ext.Deps = append(ext.Deps, externalDep{Name: d.Name.String(), Commit: d.Commit, Digest: d.Digest.String()})
	}
	plugins, err := externalPlugins(f.Plugins)
	if err != nil {
		return nil, err
	}
	ext.Plugins = plugins
	policies := slices.Clone(f.Policies)
	sortPolicies(policies)
	if err := checkDuplicatePolicies(policies); err != nil {
		return nil, err
	}
	for _, p := range policies {
		if p.Name == "" {
			return nil, errors.New("policy without a name")
		}
		if (p.Commit == "") != (p.Digest == "") {
			return nil, fmt.Errorf("policy %s needs both a commit and a digest, or neither (local policy)", p.Name)
		}
		plugins, err := externalPlugins(p.Plugins)
		if err != nil {
			return nil, fmt.Errorf("policy %q: %w", p.Name, err)
		}
		ext.Policies = append(ext.Policies, externalPolicy{Name: p.Name, Commit: p.Commit, Digest: p.Digest, Plugins: plugins})
	}
	return ext, nil
}

func externalPlugins(in []PluginDep) ([]externalDep, error) {
	plugins := slices.Clone(in)
	sortPlugins(plugins)
	if err := checkDuplicatePlugins(plugins); err != nil {
		return nil, err
	}
	var out []externalDep
	for _, p := range plugins {
		if p.Name.IsZero() || !bufname.IsCommitID(p.Commit) || p.Digest == "" {
			return nil, fmt.Errorf("plugin %q needs a name, a 32-character commit ID and a digest", p.Name.String())
		}
		out = append(out, externalDep{Name: p.Name.String(), Commit: p.Commit, Digest: p.Digest})
	}
	return out, nil
}

// externalV1 validates f and returns its v1 or v1beta1 on-disk form.
func (f *File) externalV1(version string) (*externalV1, error) {
	if len(f.Plugins) > 0 {
		return nil, fmt.Errorf("remote plugins are not supported in %s buf.lock files", version)
	}
	if len(f.Policies) > 0 {
		return nil, fmt.Errorf("remote policies are not supported in %s buf.lock files", version)
	}
	ext := &externalV1{Version: version}
	deps := slices.Clone(f.Deps)
	SortDeps(deps)
	if err := checkDuplicateDeps(deps); err != nil {
		return nil, err
	}
	for _, d := range deps {
		if err := checkDep(d, digest.TypeShake256, version); err != nil {
			return nil, err
		}
		ext.Deps = append(ext.Deps, externalDepV1{
			Remote: d.Name.Registry, Owner: d.Name.Owner, Repository: d.Name.Name,
			Commit: d.Commit, Digest: d.Digest.String(),
		})
	}
	return ext, nil
}

func checkDep(d Dep, want digest.Type, version string) error {
	if d.Name.IsZero() {
		return errors.New("dep without a module name")
	}
	if !bufname.IsCommitID(d.Commit) || strings.ToLower(d.Commit) != d.Commit {
		return fmt.Errorf("dep %s: commit %q is not a dashless lowercase commit ID", d.Name, d.Commit)
	}
	if d.Digest.Type != want {
		got := d.Digest.Type.String()
		if d.Digest.IsZero() {
			got = "none"
		}
		return fmt.Errorf("%s lock files must use digest type %s, but dep %s had a digest type of %s", version, want, d.Key(), got)
	}
	return nil
}
