// Package invocation defines the validated plugin calls that the plugin
// package hands to the signing and verification implementations. It sits
// below all of them so that the plugin package can use both as defaults
// without an import cycle.
package invocation

import (
	"log/slog"

	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/arn"
	"github.com/xsigner/xsigner/internal/config"
)

// Sign is one validated generate-envelope call.
type Sign struct {
	// Request is the request as notation sent it (contract version checked).
	Request *proto.GenerateEnvelopeRequest
	// Config is the parsed and validated configuration.
	Config config.Config
	// Key is the parsed key ID (a signing-profile or profile-version ARN).
	Key arn.SigningProfile
	// Region is the region to call, resolved from Config and Key.
	Region string
	// Logger writes to the debug log (discards when none is configured).
	// Never nil when the plugin calls the generator.
	Logger *slog.Logger
}

// Verify is one validated verify-signature call.
type Verify struct {
	// Request is the request as notation sent it (contract version checked).
	Request *proto.VerifySignatureRequest
	// Config is the parsed and validated configuration.
	Config config.Config
	// PluginName is the name the plugin reports (xsigner or the AWS name).
	PluginName string
	// Logger writes to the debug log (discards when none is configured).
	// Never nil when the plugin calls the verifier.
	Logger *slog.Logger
}
