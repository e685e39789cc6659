//go:build unix

package gengo

import (
	"os/exec"
	"syscall"
)

// killGroup runs the plugin in its own process group and kills the whole
// group on timeout, so that children it started cannot keep running.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
