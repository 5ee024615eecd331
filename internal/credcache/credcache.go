// Package credcache keeps assumed-role credentials on disk so that the
// separate plugin processes notation starts (one per `notation sign`) share
// one STS AssumeRole call instead of making one each.
//
// Layout: one directory (mode 0700, owned by the current user, never a
// symlink) holding <key> entry files (mode 0600, JSON) and <key>.lock files
// used with flock(2). Entries are replaced atomically (temp file + rename).
// Anything suspicious (corrupt JSON, a symlink, a file owned by someone else
// or readable by others) is ignored and replaced, never followed or trusted.
package credcache

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// MinRemaining is how long cached credentials must still be valid to be
// reused. Shorter-lived entries are refreshed, so a signature never starts
// with credentials that expire mid-command.
const MinRemaining = 5 * time.Minute

// maxEntrySize bounds how much of an entry file is read; real entries are
// well under 4 KiB.
const maxEntrySize = 64 << 10

// entryVersion is bumped when the entry format changes; other versions are
// treated as a miss and overwritten.
const entryVersion = 1

// DefaultDir returns the cache directory: $XDG_CACHE_HOME/xsigner when
// XDG_CACHE_HOME is set (it must be absolute), else the platform cache
// directory of os.UserCacheDir + "/xsigner" ($HOME/.cache on Linux and other
// Unix systems, $HOME/Library/Caches on macOS, %LocalAppData% on Windows).
// Unlike os.UserCacheDir, XDG_CACHE_HOME is honoured on macOS too, so CI
// jobs can point every platform at one place. It does no I/O.
func DefaultDir(lookupEnv func(string) (string, bool)) (string, error) {
	get := func(name string) string {
		v, _ := lookupEnv(name)
		return v
	}
	if x := get("XDG_CACHE_HOME"); x != "" {
		if !filepath.IsAbs(x) {
			return "", fmt.Errorf("XDG_CACHE_HOME %q is not an absolute path", x)
		}
		return filepath.Join(x, "xsigner"), nil
	}
	var base string
	switch runtime.GOOS {
	case "windows":
		base = get("LocalAppData")
		if base == "" {
			return "", errors.New("neither XDG_CACHE_HOME nor %LocalAppData% is set")
		}
	case "darwin", "ios":
		home := get("HOME")
		if home == "" {
			return "", errors.New("neither XDG_CACHE_HOME nor HOME is set")
		}
		base = filepath.Join(home, "Library", "Caches")
	case "plan9":
		home := get("home")
		if home == "" {
			return "", errors.New("neither XDG_CACHE_HOME nor $home is set")
		}
		base = filepath.Join(home, "lib", "cache")
	default:
		home := get("HOME")
		if home == "" {
			return "", errors.New("neither XDG_CACHE_HOME nor HOME is set")
		}
		base = filepath.Join(home, ".cache")
	}
	if !filepath.IsAbs(base) {
		return "", fmt.Errorf("cache base directory %q is not an absolute path", base)
	}
	return filepath.Join(base, "xsigner"), nil
}

// Key returns the cache key for parts (base identity, role chain, external
// id, duration, ...): the hex SHA-256 of the length-prefixed parts, so
// ("ab","c") and ("a","bc") differ. Never pass a secret: the key is only a
// hash, but it must not be a way to confirm a guessed secret either.
func Key(parts ...string) string {
	h := sha256.New()
	io.WriteString(h, "xsigner-credcache-v1")
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		io.WriteString(h, p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ErrInsecure is wrapped by Open's errors for a directory it refuses to
// trust (a symlink, owned by another user, or open to group or others), as
// opposed to one it merely could not create.
var ErrInsecure = errors.New("insecure credential cache directory")

// Cache is an on-disk credential cache in one directory.
type Cache struct {
	dir    string
	now    func() time.Time
	logger *slog.Logger
}

// Option configures Open.
type Option func(*Cache)

// WithLogger sends cache diagnostics (entry ignored, write failed) to l.
// Messages name files and reasons, never credential values.
func WithLogger(l *slog.Logger) Option {
	return func(c *Cache) {
		if l != nil {
			c.logger = l
		}
	}
}

// Open opens the cache in dir, creating it (and missing parents) with mode
// 0700. It refuses a dir that is a symlink, is not owned by the current
// user, or is accessible by group or others; the error says how to fix it.
// now nil means time.Now.
func Open(dir string, now func() time.Time, opts ...Option) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("credential cache directory is empty")
	}
	if now == nil {
		now = time.Now
	}
	c := &Cache{dir: filepath.Clean(dir), now: now, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(c)
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating credential cache directory: %w", err)
	}
	fi, err := os.Lstat(c.dir)
	if err != nil {
		return nil, fmt.Errorf("checking credential cache directory: %w", err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("credential cache directory %s is a symlink; remove it (xsigner recreates it) or set credential-cache=off: %w", c.dir, ErrInsecure)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("credential cache directory %s is not a directory; remove it or set credential-cache=off: %w", c.dir, ErrInsecure)
	}
	if uid, ok := ownerOf(fi); ok && uid != os.Getuid() {
		return nil, fmt.Errorf("credential cache directory %s is owned by uid %d, not the current user (uid %d); remove it or set XDG_CACHE_HOME to a directory of your own: %w", c.dir, uid, os.Getuid(), ErrInsecure)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("credential cache directory %s has mode %#o, which lets other users in; run chmod 700 %s: %w", c.dir, perm, c.dir, ErrInsecure)
	}
	return c, nil
}

// Dir returns the cache directory.
func (c *Cache) Dir() string { return c.dir }

// keyPattern is what Key produces; anything else could escape the directory.
var keyPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// entry is the on-disk JSON form of cached credentials.
type entry struct {
	Version         int       `json:"version"`
	AccessKeyID     string    `json:"accessKeyId"`
	SecretAccessKey string    `json:"secretAccessKey"`
	SessionToken    string    `json:"sessionToken"`
	Expires         time.Time `json:"expires"`
	AccountID       string    `json:"accountId,omitempty"`
	Source          string    `json:"source,omitempty"`
}

// Fetch returns the cached credentials for key when they stay valid for more
// than MinRemaining. Otherwise it takes an exclusive lock on <key>.lock
// (waiting as long as ctx allows), checks again (another process may just
// have refreshed), calls refresh, stores the result atomically and returns
// it. Credentials that cannot expire are returned but not stored. A failure
// to store is logged, not returned: the credentials are still good.
//
// Errors never contain credential values; refresh's own error is returned
// as is.
func (c *Cache) Fetch(ctx context.Context, key string, refresh func(context.Context) (aws.Credentials, error)) (aws.Credentials, error) {
	if !keyPattern.MatchString(key) {
		return aws.Credentials{}, fmt.Errorf("credential cache key %q is not a Key() value", key)
	}
	path := filepath.Join(c.dir, key)
	if creds, ok := c.load(path); ok {
		return creds, nil
	}
	unlock, err := lockFile(ctx, path+".lock")
	if err != nil {
		return aws.Credentials{}, err
	}
	defer unlock()
	if creds, ok := c.load(path); ok {
		return creds, nil
	}
	creds, err := refresh(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	if !creds.CanExpire || creds.Expires.IsZero() {
		c.logger.Debug("credentials do not expire; not caching them", "cache", c.dir)
		return creds, nil
	}
	if err := c.store(path, creds); err != nil {
		c.logger.Warn("could not write credential cache entry; continuing without it", "file", path, "error", err.Error())
	}
	return creds, nil
}

// load reads the entry at path and reports whether it is trustworthy and
// valid for more than MinRemaining.
func (c *Cache) load(path string) (aws.Credentials, bool) {
	data, err := readPrivateFile(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.logger.Debug("ignoring credential cache entry", "file", path, "reason", err.Error())
		}
		return aws.Credentials{}, false
	}
	var e entry
	if err := json.Unmarshal(data, &e); err != nil {
		// The JSON error text may quote bytes of the file; keep it out.
		c.logger.Debug("ignoring corrupt credential cache entry", "file", path)
		return aws.Credentials{}, false
	}
	if e.Version != entryVersion || e.AccessKeyID == "" || e.SecretAccessKey == "" || e.Expires.IsZero() {
		c.logger.Debug("ignoring incomplete credential cache entry", "file", path)
		return aws.Credentials{}, false
	}
	if left := e.Expires.Sub(c.now()); left <= MinRemaining {
		c.logger.Debug("credential cache entry expires too soon", "file", path, "expires", e.Expires.UTC().Format(time.RFC3339))
		return aws.Credentials{}, false
	}
	return aws.Credentials{
		AccessKeyID:     e.AccessKeyID,
		SecretAccessKey: e.SecretAccessKey,
		SessionToken:    e.SessionToken,
		Source:          e.Source,
		CanExpire:       true,
		Expires:         e.Expires,
		AccountID:       e.AccountID,
	}, true
}

// store writes creds to path atomically: a 0600 temp file in the same
// directory, synced, then renamed over path. rename(2) replaces a symlink
// at path rather than following it.
func (c *Cache) store(path string, creds aws.Credentials) error {
	data, err := json.Marshal(entry{
		Version:         entryVersion,
		AccessKeyID:     creds.AccessKeyID,
		SecretAccessKey: creds.SecretAccessKey,
		SessionToken:    creds.SessionToken,
		Expires:         creds.Expires.UTC(),
		AccountID:       creds.AccountID,
		Source:          creds.Source,
	})
	if err != nil {
		return errors.New("encoding credential cache entry failed")
	}
	tmp, err := os.CreateTemp(c.dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating temp file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("setting mode of temp file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing temp file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing temp file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing temp file: %w", err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		// A directory squatting on the entry's name blocks rename; only an
		// empty one can be removed safely.
		if rmErr := os.Remove(path); rmErr != nil {
			return fmt.Errorf("replacing entry: %w", err)
		}
		if err := os.Rename(tmpName, path); err != nil {
			return fmt.Errorf("replacing entry: %w", err)
		}
	}
	return nil
}
