package harness

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFindModuleRoot(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "go.mod"), "module github.com/xsigner/xsigner\n\ngo 1.24\n")
	nested := filepath.Join(root, "internal", "tools", "notation")
	writeFile(t, filepath.Join(nested, "go.mod"), "module github.com/xsigner/xsigner/internal/tools/notation\n")
	deep := filepath.Join(root, "internal", "e2e", "harness")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	writeFile(t, filepath.Join(other, "go.mod"), "module example.com/other\n")

	tests := []struct {
		name    string
		start   string
		want    string
		wantErr bool
	}{
		{name: "at the root", start: root, want: root},
		{name: "from a package directory", start: deep, want: root},
		{name: "skips a nested tools module", start: nested, want: root},
		{name: "another module", start: other, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := findModuleRoot(tc.start, modulePath)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("findModuleRoot(%s) = %q, want an error", tc.start, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("findModuleRoot(%s) = %q, %v; want %q", tc.start, got, err, tc.want)
			}
		})
	}
}

func TestModuleRootHasTheProject(t *testing.T) {
	t.Parallel()
	root := ModuleRoot(t)
	if _, err := os.Stat(filepath.Join(root, "internal", "tools", "install-tools.sh")); err != nil {
		t.Fatalf("ModuleRoot = %s, which lacks internal/tools/install-tools.sh: %v", root, err)
	}
}

func TestMissingExecutables(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	exe := filepath.Join(dir, "exe")
	writeFile(t, exe, "#!/bin/sh\n")
	if err := os.Chmod(exe, 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	writeFile(t, plain, "not executable")
	absent := filepath.Join(dir, "absent")

	got := missingExecutables(exe, plain, absent, dir)
	want := []string{plain, absent, dir}
	if !slices.Equal(got, want) {
		t.Fatalf("missingExecutables = %q, want %q", got, want)
	}
}

// TestEnvInheritsNothing checks that an Env passes on exactly its own
// variables: nothing from the caller, in particular no AWS_* or XSIGNER_*.
func TestEnvInheritsNothing(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", "outer-secret")
	t.Setenv("AWS_PROFILE", "outer")
	t.Setenv("XSIGNER_DEBUG", "1")
	t.Setenv("NOTATION_CONFIG", "/outer/notation")
	env := newEnv(t, ExternalToolPaths{Dir: "/tools/bin"})
	env.Set("XSIGNER_TEST_ONLY", "inner")

	r := env.Run("", "/usr/bin/env").MustSucceed(t)
	got := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	slices.Sort(got)
	want := []string{
		"AWS_EC2_METADATA_DISABLED=true",
		"DOCKER_CONFIG=" + env.DockerConfig,
		"HOME=" + env.Home,
		"PATH=/tools/bin:/usr/bin:/bin",
		"TMPDIR=" + env.vars["TMPDIR"],
		"XDG_CACHE_HOME=" + env.CacheHome,
		"XDG_CONFIG_HOME=" + env.ConfigHome,
		"XSIGNER_TEST_ONLY=inner",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("environment:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, dir := range []string{env.Home, env.ConfigHome, env.CacheHome, env.DockerConfig} {
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			t.Errorf("%s is not a directory: %v", dir, err)
		}
	}
}

func TestRunResult(t *testing.T) {
	t.Parallel()
	env := newEnv(t, ExternalToolPaths{Dir: t.TempDir()})
	tests := []struct {
		name       string
		script     string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "success", script: "echo out", wantCode: 0, wantStdout: "out\n"},
		{name: "failure with output", script: "echo out; echo err >&2; exit 3", wantCode: 3, wantStdout: "out\n", wantStderr: "err\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := env.Run("", "/bin/sh", "-c", tc.script)
			if r.Err != nil || r.ExitCode != tc.wantCode || r.Stdout != tc.wantStdout || r.Stderr != tc.wantStderr {
				t.Fatalf("got %+v, want exit %d stdout %q stderr %q", r, tc.wantCode, tc.wantStdout, tc.wantStderr)
			}
		})
	}
	t.Run("not startable", func(t *testing.T) {
		t.Parallel()
		r := env.Run("", filepath.Join(t.TempDir(), "absent"))
		if r.Err == nil || r.ExitCode != -1 {
			t.Fatalf("got %+v, want a start error and exit code -1", r)
		}
	})
}

// TestRunTimeoutKillsGroup checks that a command over its timeout is killed
// with everything it started, instead of hanging the test.
func TestRunTimeoutKillsGroup(t *testing.T) {
	t.Parallel()
	env := newEnv(t, ExternalToolPaths{Dir: t.TempDir()})
	env.CommandTimeout = 300 * time.Millisecond
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	// The shell starts a grandchild, records its pid, then waits on it.
	r := env.Run("", "/bin/sh", "-c", `sleep 300 & echo $! > "$1"; wait`, "sh", pidFile)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "timeout") || r.ExitCode != -1 {
		t.Fatalf("got %+v, want a timeout error and exit code -1", r)
	}
	assertProcessEnds(t, readPid(t, pidFile))
}

// TestStartProcessCleanupKillsGroup checks that the cleanup StartProcess
// registers stops the process and its children once the (sub)test ends.
func TestStartProcessCleanupKillsGroup(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	var proc *Process
	t.Run("owner", func(t *testing.T) {
		proc = StartProcess(t, ProcessSpec{
			Name: "sleeper",
			Path: "/bin/sh",
			// The shell ignores SIGTERM, so only the SIGKILL after the
			// grace period ends it; the grandchild must end too.
			Args:      []string{"-c", `trap '' TERM; sleep 300 & echo $! > "$1"; echo ready; wait`, "sh", pidFile},
			StopGrace: 200 * time.Millisecond,
		})
		waitFor(t, func() bool { return strings.Contains(proc.Stdout(), "ready") })
		if proc.Exited() || proc.GroupGone() {
			t.Fatal("process ended before the test did")
		}
	})
	if !proc.Exited() {
		t.Fatal("process still running after its test's cleanup")
	}
	if !proc.GroupGone() {
		t.Fatal("process group still has live members after its test's cleanup")
	}
	assertProcessEnds(t, readPid(t, pidFile))
}

func TestStopIsIdempotent(t *testing.T) {
	t.Parallel()
	proc := StartProcess(t, ProcessSpec{Name: "sleeper", Path: "/bin/sleep", Args: []string{"300"}})
	proc.Stop()
	proc.Stop()
	if !proc.Exited() || !proc.GroupGone() {
		t.Fatal("process still running after Stop")
	}
}

// assertProcessEnds waits until pid is no longer a live process; a zombie
// awaiting a reaper counts as ended.
func assertProcessEnds(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processAlive reports whether pid is a live (non-zombie) process, from /proc.
func processAlive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

func readPid(t *testing.T, file string) int {
	t.Helper()
	var data []byte
	waitFor(t, func() bool {
		var err error
		data, err = os.ReadFile(file)
		return err == nil && strings.HasSuffix(string(data), "\n")
	})
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("reading pid file: %v", err)
	}
	return pid
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
