// Package debuglog opens xsigner's optional debug log: a text slog logger
// writing to a file the user names with the debug-log key. It never writes to
// stdout or stderr, which belong to the plugin protocol.
package debuglog

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
)

// Open returns a logger for path. An empty path gives a logger that discards
// everything. Otherwise the file is created with mode 0600 (or appended to),
// and must be a regular file: symlinks, devices, FIFOs and directories are
// refused, and so is a file owned by another user. An existing file open to
// group or others is narrowed to 0600 first. The returned Closer closes the
// file (a no-op for "").
func Open(path string) (*slog.Logger, io.Closer, error) {
	if path == "" {
		return slog.New(slog.DiscardHandler), nopCloser{}, nil
	}
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("debug log %q is not a regular file (%s); give the path of a plain file", path, fi.Mode().Type())
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("debug log %q: %w", path, err)
	}
	// O_NOFOLLOW closes the race between Lstat and OpenFile for the last path
	// element; O_NONBLOCK keeps a FIFO swapped in meanwhile from hanging us.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|oNoFollow|oNonBlock, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("opening debug log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, nil, fmt.Errorf("debug log %q is not a regular file; give the path of a plain file", path)
	}
	// In a shared directory such as /tmp another user can create the file
	// first and then read everything appended to it.
	if uid, ok := ownerOf(fi); ok && uid != os.Getuid() {
		_ = f.Close()
		return nil, nil, fmt.Errorf("debug log %q is owned by uid %d, not the current user (uid %d); remove it or name a file in a directory of your own", path, uid, os.Getuid())
	}
	if fi.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows" {
		if err := f.Chmod(0o600); err != nil {
			_ = f.Close()
			return nil, nil, fmt.Errorf("debug log %q has mode %#o and could not be narrowed to 0600: %w", path, fi.Mode().Perm(), err)
		}
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})), f, nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
