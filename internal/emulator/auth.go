package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/xsigner/xsigner/internal/emulator/sigv4"
)

// parseAuthorization parses the SigV4 authorization of a request.
func parseAuthorization(r *http.Request) (*sigv4.Authorization, error) {
	return sigv4.Parse(r)
}

// authError maps a sigv4 error to the service's authentication error.
func (e *Emulator) authError(x *exchange, err error) *apiError {
	switch {
	case errors.Is(err, sigv4.ErrMissingAuthentication):
		return e.authFailure(x, authMissing, "")
	case errors.Is(err, sigv4.ErrIncompleteSignature):
		return e.authFailure(x, authIncomplete, err.Error())
	case errors.Is(err, sigv4.ErrRequestExpired):
		return e.authFailure(x, authRequestExpired, err.Error())
	default:
		return e.authFailure(x, authBadSignature, err.Error())
	}
}

func mkdirState(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating state dir: %w", err)
	}
	return nil
}
