//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package login

import (
	"bufio"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// ReadSecret reads one line from f. When f is a terminal, the input is not
// echoed.
func ReadSecret(f *os.File) (string, error) {
	fd := int(f.Fd())
	if old, err := unix.IoctlGetTermios(fd, ioctlGetTermios); err == nil {
		noEcho := *old
		noEcho.Lflag &^= unix.ECHO
		noEcho.Lflag |= unix.ICANON | unix.ISIG
		if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &noEcho); err == nil {
			defer func() { _ = unix.IoctlSetTermios(fd, ioctlSetTermios, old) }()
		}
	}
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), ioctlGetTermios)
	return err == nil
}
