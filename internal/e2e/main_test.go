package e2e_test

import (
	"os"
	"testing"

	"github.com/protomod/protomod/internal/e2e"
)

func TestMain(m *testing.M) { os.Exit(e2e.Main(m)) }
