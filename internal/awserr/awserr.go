// Package awserr is the one place where errors from AWS calls become
// notation plugin protocol errors. It keeps the AWS error code, the AWS
// message text and the request id, and adds a caller-supplied hint that says
// what to check.
package awserr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"
)

// Metadata keys set in errorMetadata.
const (
	MetadataRequestID = "requestId"
	MetadataErrorCode = "awsErrorCode"
)

// codes maps AWS error codes (Signer restJson1 and STS query protocol) to
// protocol error codes. Codes not listed become ERROR.
var codes = map[string]proto.ErrorCode{
	"AccessDenied":                proto.ErrorCodeAccessDenied,
	"AccessDeniedException":       proto.ErrorCodeAccessDenied,
	"UnrecognizedClientException": proto.ErrorCodeAccessDenied,
	"InvalidClientTokenId":        proto.ErrorCodeAccessDenied,
	"SignatureDoesNotMatch":       proto.ErrorCodeAccessDenied,
	"ExpiredToken":                proto.ErrorCodeAccessDenied,
	"ExpiredTokenException":       proto.ErrorCodeAccessDenied,
	// Authentication failures: a wrong secret key, a stale clock or a
	// missing signature are the caller's credentials being refused, like
	// UnrecognizedClientException (restJson1 front ends; STS spells some
	// without the suffix).
	"InvalidSignatureException":           proto.ErrorCodeAccessDenied,
	"IncompleteSignature":                 proto.ErrorCodeAccessDenied,
	"IncompleteSignatureException":        proto.ErrorCodeAccessDenied,
	"MissingAuthenticationToken":          proto.ErrorCodeAccessDenied,
	"MissingAuthenticationTokenException": proto.ErrorCodeAccessDenied,
	"RequestExpired":                      proto.ErrorCodeAccessDenied,
	// AssumeRoleWithWebIdentity refusing the token (wrong audience, issuer
	// or signature; a claim the provider rejects): the caller's credentials.
	"InvalidIdentityToken": proto.ErrorCodeAccessDenied,
	"IDPRejectedClaim":     proto.ErrorCodeAccessDenied,

	// The Signer guide documents ThrottlingException; the Signer model lists
	// TooManyRequestsException for SignPayload; STS uses Throttling.
	"ThrottlingException":      proto.ErrorCodeThrottled,
	"TooManyRequestsException": proto.ErrorCodeThrottled,
	"Throttling":               proto.ErrorCodeThrottled,

	"RequestTimeout":          proto.ErrorCodeTimeout,
	"RequestTimeoutException": proto.ErrorCodeTimeout,

	"ValidationException":       proto.ErrorCodeValidation,
	"ValidationError":           proto.ErrorCodeValidation,
	"ResourceNotFoundException": proto.ErrorCodeValidation,
	"NotFoundException":         proto.ErrorCodeValidation,
	"BadRequestException":       proto.ErrorCodeValidation,
}

// ToPluginError converts err into the protocol error to return to notation.
// A *proto.Error (also when wrapped) passes through unchanged. hint, when not
// empty, is appended to the message: it should say what the user can check
// ("Check that the role may call signer:SignPayload on the profile.").
//
// The message has the form
//
//	AWS Signer SignPayload failed: AccessDeniedException: User: ... (request id 1234). <hint>
//
// and errorMetadata carries requestId and awsErrorCode when known.
func ToPluginError(err error, hint string) *proto.Error {
	if err == nil {
		return nil
	}
	var pe *proto.Error
	if errors.As(err, &pe) {
		return pe
	}

	what := "AWS call"
	var opErr *smithy.OperationError
	if errors.As(err, &opErr) {
		what = serviceName(opErr.Service()) + " " + opErr.Operation()
	}
	var requestID string
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		requestID = respErr.ServiceRequestID()
	}
	meta := map[string]string{}
	if requestID != "" {
		meta[MetadataRequestID] = requestID
	}

	// inner is the error without the SDK's "operation error S: Op, " prefix,
	// which the message states in words instead.
	inner := err
	if opErr != nil && opErr.Err != nil {
		inner = opErr.Err
	}
	var code proto.ErrorCode
	var msg string
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr):
		code = codes[apiErr.ErrorCode()]
		if code == "" {
			code = proto.ErrorCodeGeneric
		}
		// A credentials endpoint (container, SSO) may answer with no code.
		parts := make([]string, 0, 2)
		if c := apiErr.ErrorCode(); c != "" {
			meta[MetadataErrorCode] = c
			parts = append(parts, c)
		}
		if text := apiErr.ErrorMessage(); text != "" {
			parts = append(parts, text)
		}
		if len(parts) == 0 {
			parts = append(parts, "an error response with no code and no message")
		}
		msg = what + " failed: " + strings.Join(parts, ": ")
	case isTimeout(err):
		code = proto.ErrorCodeTimeout
		detail := inner.Error()
		if opErr != nil && errors.Is(err, context.DeadlineExceeded) {
			// The SDK's text here is transport noise ("https response error
			// StatusCode: 0, RequestID: , canceled, context deadline exceeded").
			detail = "no answer before the deadline (context deadline exceeded)"
		}
		msg = what + " timed out: " + detail
	default:
		code = proto.ErrorCodeGeneric
		msg = what + " failed: " + inner.Error()
	}
	if requestID != "" {
		msg += fmt.Sprintf(" (request id %s)", requestID)
	}
	msg = strings.TrimSuffix(msg, ".") + "."
	if hint == "" {
		hint = hintOf(err)
	}
	if hint != "" {
		msg += " " + hint
	}
	out := proto.NewError(code, msg)
	if len(meta) > 0 {
		out.Metadata = meta
	}
	return out
}

func serviceName(id string) string {
	switch strings.ToLower(id) {
	case "signer":
		return "AWS Signer"
	case "sts":
		return "AWS STS"
	default:
		return "AWS " + id
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// hinter is an error that says what the user should check, such as
// awsclient.AssumeRoleError.
type hinter interface {
	Hint() string
}

// hintOf returns the hint of the first error in err's chain that has one,
// "" when none has. Without it a failed role assumption would lose its
// advice (trust policy, external-id) when converted for notation.
func hintOf(err error) string {
	var h hinter
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}
