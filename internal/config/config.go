// Package config holds xsigner's configuration surface: one table of keys,
// read from notation's pluginConfig with XSIGNER_* environment fallbacks.
package config

import "time"

// Config is the validated configuration of one plugin invocation.
// Zero values mean "not set"; callers apply the documented defaults.
type Config struct {
	// Region overrides the region taken from the key or signature ARN (aws-region).
	Region string
	// Profile is the shared-config profile for the base credentials (aws-profile).
	Profile string
	// RoleARNs is the role chain, assumed in order (role-arn, comma separated).
	RoleARNs []string
	// ExternalID is sent when assuming the last role of the chain (external-id).
	ExternalID string
	// RoleSessionName names the assumed-role sessions (role-session-name).
	RoleSessionName string
	// RoleDuration is the requested session duration, 15m..12h (role-duration).
	RoleDuration time.Duration
	// SignerEndpointURL overrides the AWS Signer endpoint (signer-endpoint-url,
	// alias aws-signer-endpoint-url).
	SignerEndpointURL string
	// STSEndpointURL overrides the STS endpoint (sts-endpoint-url).
	STSEndpointURL string
	// CredentialCache enables the on-disk assumed-role credential cache (credential-cache).
	CredentialCache bool
	// Timeout is the whole-command deadline (timeout).
	Timeout time.Duration
	// DebugLog is the path of the debug log file, "" for none (debug-log).
	DebugLog string
}
