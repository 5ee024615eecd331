//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package credcache

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
)

// On platforms without flock(2) (Windows, Plan 9, ...) the cache works
// without a cross-process lock: parallel processes may each call refresh,
// and the last atomic rename wins. That costs extra AssumeRole calls, never
// correctness. Ownership is not checked there either (no POSIX uid); the
// directory's ACLs are the user's profile's.

func ownerOf(fs.FileInfo) (int, bool) { return 0, false }

func readPrivateFile(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("entry is not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxEntrySize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxEntrySize {
		return nil, errors.New("entry is too large")
	}
	return data, nil
}

func lockFile(ctx context.Context, _ string) (func(), error) {
	if err := context.Cause(ctx); ctx.Err() != nil {
		return nil, err
	}
	return func() {}, nil
}
