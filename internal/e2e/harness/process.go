package harness

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stopGrace is how long a stopped process group gets between SIGTERM and
// SIGKILL, unless ProcessSpec.StopGrace says otherwise.
const stopGrace = 3 * time.Second

// ProcessSpec describes a long-running process for [StartProcess].
type ProcessSpec struct {
	// Name labels the process in logs and failure output (e.g. "registry").
	Name string
	// Path is the executable; Args are its arguments (without argv[0]).
	Path string
	Args []string
	// Env is the complete environment. Nothing is inherited: nil means empty.
	Env []string
	// Dir is the working directory; empty means the test's working directory.
	Dir string
	// StopGrace is how long the process group gets to exit after SIGTERM
	// before it is killed with SIGKILL; zero means 3 seconds.
	StopGrace time.Duration
}

// Process is a running process started by [StartProcess]. It leads its own
// process group, so stopping it also stops whatever it started.
type Process struct {
	name   string
	cmd    *exec.Cmd
	stdout *SyncBuffer
	stderr *SyncBuffer
	grace  time.Duration
	done   chan struct{} // closed once the process has been waited for
	err    error         // the Wait result; read only after done is closed

	stopOnce sync.Once
}

// StartProcess starts spec in a new process group and registers a t.Cleanup
// that kills the whole group (SIGTERM, then SIGKILL after a grace period) and
// waits for it, whether the test passed or failed. Stdout and stderr are
// captured; when the test has failed, the cleanup logs both.
//
// Create any t.TempDir the process uses before calling StartProcess, so that
// the process is gone before the directory is removed (cleanups run last
// registered, first run).
func StartProcess(t testing.TB, spec ProcessSpec) *Process {
	t.Helper()
	p, err := startProcess(spec)
	if err != nil {
		t.Fatalf("starting %s: %v", spec.Name, err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("%s (pid %d) %s\n--- stdout ---\n%s\n--- stderr ---\n%s",
				p.name, p.Pid(), p.exitDescription(), p.Stdout(), p.Stderr())
		}
	})
	return p
}

func startProcess(spec ProcessSpec) (*Process, error) {
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env = spec.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = spec.Dir
	p := &Process{
		name:   spec.Name,
		cmd:    cmd,
		stdout: &SyncBuffer{},
		stderr: &SyncBuffer{},
		grace:  spec.StopGrace,
		done:   make(chan struct{}),
	}
	if p.grace <= 0 {
		p.grace = stopGrace
	}
	cmd.Stdout = p.stdout
	cmd.Stderr = p.stderr
	cmd.SysProcAttr = groupSysProcAttr()
	// If a grandchild keeps the output pipes open after the group is
	// killed, stop waiting for them rather than hang the test.
	cmd.WaitDelay = p.grace
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process ID, which is also its process group ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stdout returns what the process has written to stdout so far.
func (p *Process) Stdout() string { return p.stdout.String() }

// Stderr returns what the process has written to stderr so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Stop kills the process group (SIGTERM, then SIGKILL after a grace period)
// and waits for the process. It is safe to call more than once; the cleanup
// registered by [StartProcess] calls it too.
func (p *Process) Stop() {
	p.stopOnce.Do(func() {
		pgid := p.Pid()
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(p.grace):
		}
		// Always SIGKILL the group: children that ignored SIGTERM, or
		// that outlived a leader which did exit, must not survive.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	})
}

// GroupGone reports whether no live process of the group led by p is left
// (on Linux, zombies awaiting a reaper do not count). It works after the
// leader has been reaped.
func (p *Process) GroupGone() bool {
	return !groupAlive(p.Pid())
}

// exitDescription says how the process ended, for failure output.
func (p *Process) exitDescription() string {
	if !p.Exited() {
		return "still running"
	}
	if p.err == nil {
		return "exited with status 0"
	}
	return fmt.Sprintf("ended: %v", p.err)
}

// SyncBuffer is a bytes.Buffer safe for one writer and concurrent readers,
// for a process's output that a test reads while the process runs.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// commandLine renders a command for logs: the base name of the executable and
// its arguments, quoted when they contain spaces.
func commandLine(path string, args []string) string {
	parts := make([]string, 0, len(args)+1)
	parts = append(parts, filepath.Base(path))
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'") {
			a = fmt.Sprintf("%q", a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
