//go:build !unix

package debuglog

const (
	oNoFollow = 0
	oNonBlock = 0
)
