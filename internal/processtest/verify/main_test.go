// Package verify_test runs the built notation-xsigner executable as notation
// v1.3.2 does for verification (verify-signature, one process, the request
// notation-go builds from the parsed envelope on stdin) against the
// in-process AWS emulator. The signatures are real: the built plugin signs
// through emulated AWS Signer SignPayload, and revocations are made with the
// AWS SDK's RevokeSignature and RevokeSigningProfile, as a user would. The
// tests check each verification result, every refusal, and which AWS calls
// were made, by whom and in which region (the emulator's journal).
package verify_test

import (
	"testing"

	"github.com/xsigner/xsigner/internal/plugintest"
)

func TestMain(m *testing.M) { plugintest.Main(m) }
