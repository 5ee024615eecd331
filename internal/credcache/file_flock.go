//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package credcache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// ownerOf returns the uid that owns fi.
func ownerOf(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// readPrivateFile reads path without following a symlink, and only when it
// is a regular file owned by the current user that group and others cannot
// access.
func readPrivateFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, errors.New("entry is a symlink")
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("entry is not a regular file")
	}
	if uid, ok := ownerOf(fi); ok && uid != os.Getuid() {
		return nil, fmt.Errorf("entry is owned by uid %d, not the current user", uid)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("entry has mode %#o; only 0600 is trusted", fi.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxEntrySize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxEntrySize {
		return nil, errors.New("entry is too large")
	}
	return data, nil
}

// lockPollMin and lockPollMax bound the sleep between non-blocking lock
// attempts. Polling (rather than a blocking flock) lets ctx end the wait.
const (
	lockPollMin = 5 * time.Millisecond
	lockPollMax = 100 * time.Millisecond
)

// lockFile takes an exclusive flock(2) on path (created 0600 if missing),
// waiting until it is free or ctx is done. The returned func releases it.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := openLockFile(path)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	wait := lockPollMin
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking credential cache entry %s: %w", path, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("waiting for credential cache lock %s: %w", path, context.Cause(ctx))
		case <-t.C:
		}
		if wait *= 2; wait > lockPollMax {
			wait = lockPollMax
		}
	}
	return func() {
		_ = syscall.Flock(fd, syscall.LOCK_UN)
		f.Close()
	}, nil
}

// openLockFile opens path for locking without following a symlink. A
// symlink or other non-regular file in its place is removed and replaced
// once; the directory is private, so only the current user can have put it
// there.
func openLockFile(path string) (*os.File, error) {
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
		if err == nil {
			fi, statErr := f.Stat()
			if statErr == nil && fi.Mode().IsRegular() {
				return f, nil
			}
			f.Close()
			err = errors.New("not a regular file")
		}
		if attempt > 0 || errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("opening credential cache lock %s: %w", path, err)
		}
		if rmErr := os.Remove(path); rmErr != nil {
			return nil, fmt.Errorf("opening credential cache lock %s: %w", path, err)
		}
	}
}
