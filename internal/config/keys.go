package config

import "strings"

// Key describes one configuration key: its pluginConfig name, its environment
// fallback, and the doc text shown by `notation-xsigner help` and README.md.
type Key struct {
	// Name is the pluginConfig key (notation --plugin-config NAME=VALUE).
	Name string
	// Env is the environment variable read when pluginConfig lacks the key.
	Env string
	// Doc is one or two sentences saying what the key does and its valid form.
	Doc string
	// Example is a valid value.
	Example string
	// Default describes the value used when the key is not set.
	Default string
	// Aliases are other pluginConfig names accepted for the key.
	Aliases []string
}

// Key names.
const (
	KeyAWSRegion         = "aws-region"
	KeyAWSProfile        = "aws-profile"
	KeyRoleARN           = "role-arn"
	KeyExternalID        = "external-id"
	KeyRoleSessionName   = "role-session-name"
	KeyRoleDuration      = "role-duration"
	KeySignerEndpointURL = "signer-endpoint-url"
	KeySTSEndpointURL    = "sts-endpoint-url"
	KeyCredentialCache   = "credential-cache"
	KeyTimeout           = "timeout"
	KeyDebugLog          = "debug-log"
)

// Keys is the one table of configuration keys, in documentation order.
var Keys = []Key{
	{
		Name:    KeyAWSRegion,
		Env:     "XSIGNER_AWS_REGION",
		Doc:     "AWS region of the Signer calls. The region is normally taken from the signing-profile ARN; if set, it must agree with it.",
		Example: "us-west-2",
		Default: "the region of the key or signature ARN",
	},
	{
		Name:    KeyAWSProfile,
		Env:     "XSIGNER_AWS_PROFILE",
		Doc:     "Shared-config profile (~/.aws/config) that supplies the base credentials.",
		Example: "ci",
		Default: "the AWS SDK default credential chain",
	},
	{
		Name:    KeyRoleARN,
		Env:     "XSIGNER_ROLE_ARN",
		Doc:     "IAM role to assume with STS before calling Signer; a comma-separated list is a role chain, assumed in order.",
		Example: "arn:aws:iam::111122223333:role/xsigner-signer",
		Default: "no role: the base credentials call Signer directly",
	},
	{
		Name:    KeyExternalID,
		Env:     "XSIGNER_EXTERNAL_ID",
		Doc:     "External ID sent when assuming the last role of the chain: 2-1224 characters of letters, digits and +=,.@:/-_. Not a secret to AWS, but notation -d prints pluginConfig; use the environment variable to keep it out of logs.",
		Example: "xsigner-ci",
		Default: "none",
	},
	{
		Name:    KeyRoleSessionName,
		Env:     "XSIGNER_ROLE_SESSION_NAME",
		Doc:     "Session name of the assumed roles (shows in CloudTrail): 2-64 characters of letters, digits and +=,.@-_.",
		Example: "ci-build-42",
		Default: "CODEBUILD_BUILD_ID made valid (in CodeBuild), else xsigner-<host>-<pid>",
	},
	{
		Name:    KeyRoleDuration,
		Env:     "XSIGNER_ROLE_DURATION",
		Doc:     "Requested session duration of the assumed roles, a Go duration between 15m and 12h (role chaining caps it at 1h).",
		Example: "1h",
		Default: "15m (the STS minimum: short-lived credentials, reused through the credential cache)",
	},
	{
		Name:    KeySignerEndpointURL,
		Env:     "XSIGNER_SIGNER_ENDPOINT_URL",
		Aliases: []string{"aws-signer-endpoint-url"},
		Doc:     "AWS Signer endpoint URL: https, or http only to a loopback address (for the emulator). Alias aws-signer-endpoint-url, as in the official plugin.",
		Example: "https://signer.us-west-2.amazonaws.com",
		Default: "the regional AWS endpoint",
	},
	{
		Name:    KeySTSEndpointURL,
		Env:     "XSIGNER_STS_ENDPOINT_URL",
		Doc:     "AWS STS endpoint URL: https, or http only to a loopback address (for the emulator).",
		Example: "https://sts.us-west-2.amazonaws.com",
		Default: "the regional AWS endpoint",
	},
	{
		Name:    KeyCredentialCache,
		Env:     "XSIGNER_CREDENTIAL_CACHE",
		Doc:     "Cache assumed-role credentials on disk between invocations: on or off.",
		Example: "off",
		Default: "on",
	},
	{
		Name:    KeyTimeout,
		Env:     "XSIGNER_TIMEOUT",
		Doc:     "Deadline for the whole command, a positive Go duration.",
		Example: "30s",
		Default: DefaultTimeout.String(),
	},
	{
		Name:    KeyDebugLog,
		Env:     "XSIGNER_DEBUG_LOG",
		Doc:     "Absolute path of a debug log file (created 0600, appended to; an existing file is narrowed to 0600, and one owned by another user is refused). Secrets are never logged.",
		Example: "/tmp/xsigner.log",
		Default: "no debug log",
	},
}

// EnvName returns the environment variable that backs a key:
// XSIGNER_ followed by the key in upper snake case.
func EnvName(key string) string {
	return "XSIGNER_" + strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
}
