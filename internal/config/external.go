package config

// The structs below mirror the files key for key. Strict decoding into them
// rejects any other key. Type names appear in yaml.v3 type errors, hence the
// descriptive names.

// bufYAMLv2 is a v2 buf.yaml.
type bufYAMLv2 struct {
	Version  string          `yaml:"version" json:"version"`
	Name     string          `yaml:"name" json:"name"`
	Modules  []moduleEntry   `yaml:"modules" json:"modules"`
	Deps     []string        `yaml:"deps" json:"deps"`
	Lint     lintSectionV2   `yaml:"lint" json:"lint"`
	Breaking breakingSection `yaml:"breaking" json:"breaking"`
	Plugins  []pluginEntry   `yaml:"plugins" json:"plugins"`
	Policies []policyEntry   `yaml:"policies" json:"policies"`
}

// moduleEntry is one element of the v2 modules list.
type moduleEntry struct {
	Path     string          `yaml:"path" json:"path"`
	Name     string          `yaml:"name" json:"name"`
	Includes []string        `yaml:"includes" json:"includes"`
	Excludes []string        `yaml:"excludes" json:"excludes"`
	Lint     lintSectionV2   `yaml:"lint" json:"lint"`
	Breaking breakingSection `yaml:"breaking" json:"breaking"`
}

// bufYAMLv1 is a v1 or v1beta1 buf.yaml (build.roots is v1beta1 only).
type bufYAMLv1 struct {
	Version  string          `yaml:"version" json:"version"`
	Name     string          `yaml:"name" json:"name"`
	Deps     []string        `yaml:"deps" json:"deps"`
	Build    buildSection    `yaml:"build" json:"build"`
	Lint     lintSectionV1   `yaml:"lint" json:"lint"`
	Breaking breakingSection `yaml:"breaking" json:"breaking"`
}

type buildSection struct {
	Roots    []string `yaml:"roots" json:"roots"`
	Excludes []string `yaml:"excludes" json:"excludes"`
}

// lintCommon holds the lint keys shared by all versions.
type lintCommon struct {
	Use                                  []string            `yaml:"use" json:"use"`
	Except                               []string            `yaml:"except" json:"except"`
	Ignore                               []string            `yaml:"ignore" json:"ignore"`
	IgnoreOnly                           map[string][]string `yaml:"ignore_only" json:"ignore_only"`
	EnumZeroValueSuffix                  string              `yaml:"enum_zero_value_suffix" json:"enum_zero_value_suffix"`
	RPCAllowSameRequestResponse          bool                `yaml:"rpc_allow_same_request_response" json:"rpc_allow_same_request_response"`
	RPCAllowGoogleProtobufEmptyRequests  bool                `yaml:"rpc_allow_google_protobuf_empty_requests" json:"rpc_allow_google_protobuf_empty_requests"`
	RPCAllowGoogleProtobufEmptyResponses bool                `yaml:"rpc_allow_google_protobuf_empty_responses" json:"rpc_allow_google_protobuf_empty_responses"`
	ServiceSuffix                        string              `yaml:"service_suffix" json:"service_suffix"`
	DisableBuiltin                       bool                `yaml:"disable_builtin" json:"disable_builtin"`
}

func (l lintCommon) isEmpty() bool {
	return len(l.Use) == 0 && len(l.Except) == 0 && len(l.Ignore) == 0 && len(l.IgnoreOnly) == 0 &&
		l.EnumZeroValueSuffix == "" && !l.RPCAllowSameRequestResponse &&
		!l.RPCAllowGoogleProtobufEmptyRequests && !l.RPCAllowGoogleProtobufEmptyResponses &&
		l.ServiceSuffix == "" && !l.DisableBuiltin
}

type lintSectionV2 struct {
	lintCommon             `yaml:",inline"`
	DisallowCommentIgnores bool `yaml:"disallow_comment_ignores" json:"disallow_comment_ignores"`
}

func (l lintSectionV2) isEmpty() bool { return l.lintCommon.isEmpty() && !l.DisallowCommentIgnores }

type lintSectionV1 struct {
	lintCommon          `yaml:",inline"`
	AllowCommentIgnores bool `yaml:"allow_comment_ignores" json:"allow_comment_ignores"`
}

func (l lintSectionV1) isEmpty() bool { return l.lintCommon.isEmpty() && !l.AllowCommentIgnores }

// breakingSection is the breaking section of every version.
type breakingSection struct {
	Use                    []string            `yaml:"use" json:"use"`
	Except                 []string            `yaml:"except" json:"except"`
	Ignore                 []string            `yaml:"ignore" json:"ignore"`
	IgnoreOnly             map[string][]string `yaml:"ignore_only" json:"ignore_only"`
	IgnoreUnstablePackages bool                `yaml:"ignore_unstable_packages" json:"ignore_unstable_packages"`
	DisableBuiltin         bool                `yaml:"disable_builtin" json:"disable_builtin"`
}

func (b breakingSection) isEmpty() bool {
	return len(b.Use) == 0 && len(b.Except) == 0 && len(b.Ignore) == 0 && len(b.IgnoreOnly) == 0 &&
		!b.IgnoreUnstablePackages && !b.DisableBuiltin
}

// pluginEntry is one element of the v2 plugins list. plugin: is a string or
// a list of strings, hence any.
type pluginEntry struct {
	Plugin  any            `yaml:"plugin" json:"plugin"`
	Options map[string]any `yaml:"options" json:"options"`
}

// policyEntry is one element of the v2 policies list.
type policyEntry struct {
	Policy     string              `yaml:"policy" json:"policy"`
	Ignore     []string            `yaml:"ignore" json:"ignore"`
	IgnoreOnly map[string][]string `yaml:"ignore_only" json:"ignore_only"`
}

// workYAML is a buf.work.yaml.
type workYAML struct {
	Version     string   `yaml:"version" json:"version"`
	Directories []string `yaml:"directories" json:"directories"`
}
