//go:build !unix && !windows

package cache

import (
	"fmt"
	"os"
	"runtime"
)

func lockFD(*os.File, bool, bool) error {
	return fmt.Errorf("the module cache needs file locks, which protomod does not support on %s", runtime.GOOS)
}

func unlockFD(*os.File) error { return nil }
