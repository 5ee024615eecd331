package debuglog

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpenEmptyDiscards(t *testing.T) {
	t.Parallel()
	log, c, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("nothing")
	if err := c.Close(); err != nil {
		t.Error(err)
	}
}

func TestOpenCreatesAndAppends(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "xsigner.log")
	for _, msg := range []string{"first", "second"} {
		log, c, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		log.Debug(msg, "key", "value")
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if !strings.Contains(got, "msg=first key=value") || !strings.Contains(got, "msg=second") || strings.Count(got, "\n") != 2 {
		t.Errorf("log = %q, want two appended debug lines", got)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode = %v, want 0600", perm)
	}
}

func TestOpenRefusesNonRegular(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"symlink": link, "directory": dir, "fifo": fifo, "device": os.DevNull} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := Open(path); err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("Open(%s) error = %v, want not a regular file", path, err)
			}
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		t.Parallel()
		if _, _, err := Open(filepath.Join(dir, "no", "such", "x.log")); err == nil {
			t.Error("Open in a missing directory succeeded")
		}
	})
}

// TestOpenTightensExistingFile: a debug log that already exists with a mode
// open to group or others (created by hand, or by an older tool) is narrowed
// to 0600 before anything is written to it.
func TestOpenTightensExistingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "xsigner.log")
	if err := os.WriteFile(path, []byte("old line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	log, c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("new line")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode = %v, want 0600", perm)
	}
}

// TestOpenRefusesFileOfAnotherUser: in a shared directory such as /tmp
// another user can create the named file first and read what xsigner
// appends; such a file is refused, not written to.
func TestOpenRefusesFileOfAnotherUser(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		t.Skip("needs root to create a file owned by another user")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "xsigner.log")
	if err := os.WriteFile(path, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, _, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Fatalf("Open error = %v, want a refusal naming the owner", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Errorf("the other user's file was written to (size %d, %v)", fi.Size(), err)
	}
}
