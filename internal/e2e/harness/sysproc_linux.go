package harness

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// groupSysProcAttr puts a child in its own process group, so the harness can
// signal everything it starts, and asks the kernel to kill it should the test
// binary die without running its cleanups (e.g. on a `go test -timeout`
// panic).
func groupSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// groupAlive reports whether a live process belongs to process group pgid.
// Zombies do not count: a killed grandchild is reparented and stays a zombie
// until init reaps it, which some container inits never do, yet it holds no
// port, file or memory any more.
func groupAlive(pgid int) bool {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		// No usable /proc: fall back to signal 0, which counts zombies.
		return syscall.Kill(-pgid, 0) == nil
	}
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended while we looked
		}
		// Format: pid (comm) state ppid pgrp ...; comm may hold spaces
		// and parentheses, so split after the last ')'.
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) < 3 {
			continue
		}
		if pgrp, err := strconv.Atoi(fields[2]); err == nil && pgrp == pgid && fields[0] != "Z" && fields[0] != "X" {
			return true
		}
	}
	return false
}
