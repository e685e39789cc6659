package gengo

import "testing"

func TestIsVersionComponent(t *testing.T) {
	tests := map[string]bool{
		"v1":           true,
		"v2":           true,
		"v10":          true,
		"v1alpha":      true,
		"v1alpha1":     true,
		"v1beta":       true,
		"v1beta1":      true,
		"v2beta3":      true,
		"v1p1alpha2":   true,
		"v1p1beta":     true,
		"v2test":       true,
		"v1testfoo":    true,
		"v1test1":      true,
		"v0":           false,
		"v":            false,
		"":             false,
		"1":            false,
		"version1":     false,
		"v1.2":         false,
		"V1":           false,
		"v1alpha0":     false,
		"v0alpha1":     false,
		"v1p0alpha1":   false,
		"v1p1":         false,
		"v1alphabeta":  false,
		"v1beta1alpha": false,
		"valpha1":      false,
		"vtest":        false,
		"v0test":       false,
		"v1gamma":      false,
		"v1_0":         false,
		"v99999999999": false,
		"weather":      false,
		"type":         false,
		"api":          false,
	}
	for s, want := range tests {
		if got := IsVersionComponent(s); got != want {
			t.Errorf("IsVersionComponent(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestGoPackage(t *testing.T) {
	const sdk = "example.test/gen/go/acme/weather/protocolbuffers/go"
	tests := []struct {
		path, pkg, want string
	}{
		{"acme/weather/v1/weather.proto", "acme.weather.v1", sdk + "/acme/weather/v1;weatherv1"},
		{"buf/registry/admin/v1/admin.proto", "buf.registry.admin.v1", sdk + "/buf/registry/admin/v1;adminv1"},
		{"acme/weather/v1beta1/weather.proto", "acme.weather.v1beta1", sdk + "/acme/weather/v1beta1;weatherv1beta1"},
		// The package, not the directory, names the Go package.
		{"proto/forecast.proto", "acme.forecast.v2", sdk + "/proto;forecastv2"},
		// No version component: protoc-gen-go derives and sanitizes the name.
		{"google/type/date.proto", "google.type", sdk + "/google/type"},
		{"google/api/annotations.proto", "google.api", sdk + "/google/api"},
		{"buf/validate/validate.proto", "buf.validate", sdk + "/buf/validate"},
		// A single component is never suffixed, even a version.
		{"v1/x.proto", "v1", sdk + "/v1"},
		// No package, or a file at the root.
		{"nopkg/x.proto", "", sdk + "/nopkg"},
		{"root.proto", "acme.root.v1", sdk + ";rootv1"},
	}
	for _, tt := range tests {
		if got := GoPackage(sdk, tt.path, tt.pkg); got != tt.want {
			t.Errorf("GoPackage(%s, %s) = %s, want %s", tt.path, tt.pkg, got, tt.want)
		}
	}
}
