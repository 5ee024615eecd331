// Package version reports the xsigner version. The release build sets it at
// link time:
//
//	go build -ldflags "-X github.com/xsigner/xsigner/internal/version.Version=1.2.3" ...
//
// A plain `go build` reports 0.0.0-dev, which is still valid SemVer, so
// notation's minimum-version checks never see a malformed version.
package version

import "regexp"

// Dev is the version reported when no valid version was linked in.
const Dev = "0.0.0-dev"

// Version is set with -ldflags -X. Read it through Get, which validates it.
var Version = Dev

// semVer is the regular expression from semver.org (no leading "v"), the
// same one notation-go uses (internal/semver/semver.go).
var semVer = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// Get returns Version when it is strict SemVer without a leading "v", and Dev
// otherwise.
func Get() string { return orDev(Version) }

// Valid reports whether v is strict SemVer 2.0.0 without a leading "v".
func Valid(v string) bool { return semVer.MatchString(v) }

func orDev(v string) string {
	if Valid(v) {
		return v
	}
	return Dev
}
