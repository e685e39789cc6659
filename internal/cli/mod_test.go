package cli

import (
	"path/filepath"
	"testing"
)

// The workspace holds the two modules of digest vector (vi); their digests
// must be the spec's values (and the ones in its buf.lock example).
func TestModDigestVectorVI(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "mod", "digest", filepath.Join("..", "..", "testdata", "digest", "vector-vi"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "localhost:18080/acme/base b5:fe9589f5fc4d871f94e31be428594013c97df07e5ae4d6adfb3c0a1fd795947bd74e72825143237bda978d29455dd36687a8547d847d3f03b66af937eb2e3694\n" +
		"localhost:18080/acme/dep b5:f4c3a9513309e90f6003d019315f3283a979904b1d982f6b6270800215e02705a2b4cfdadd859d07ded6ba2e988293c125b9c481130f55a9126c2537754ff2ba\n"
	if stdout != want {
		t.Fatalf("got:\n%s\nwant:\n%s", stdout, want)
	}
}
