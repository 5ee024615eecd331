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
