//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package login

import (
	"bufio"
	"os"
	"strings"
)

// ReadSecret reads one line from f (echoed: no terminal control here).
func ReadSecret(f *os.File) (string, error) {
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

// IsTerminal reports false: terminal detection is not implemented here.
func IsTerminal(f *os.File) bool { return false }
