//go:build unix && !linux

package harness

import "syscall"

// groupSysProcAttr puts a child in its own process group, so the harness can
// signal everything it starts.
func groupSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// groupAlive reports whether a process (zombies included) belongs to process
// group pgid.
func groupAlive(pgid int) bool {
	return syscall.Kill(-pgid, 0) == nil
}
