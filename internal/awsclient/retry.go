package awsclient

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// retryableCodes are retried in addition to the SDK's defaults (which
// already hold them in v1.48; listing them keeps the policy explicit if the
// defaults change): throttling by any of its names, and request timeouts.
var retryableCodes = map[string]struct{}{
	"Throttling":               {},
	"ThrottlingException":      {},
	"TooManyRequestsException": {},
	"RequestTimeout":           {},
	"RequestTimeoutException":  {},
}

// newRetryer is the SDK standard retryer with our attempt count and a
// jittered exponential backoff capped at MaxBackoff. Every wait happens
// inside the caller's context, so the whole-command deadline bounds it.
func (s *Session) newRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = s.opts.MaxAttempts
		o.MaxBackoff = s.opts.MaxBackoff
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: retryableCodes})
		o.Throttles = append(o.Throttles, retry.ThrottleErrorCode{Codes: map[string]struct{}{
			"Throttling": {}, "ThrottlingException": {}, "TooManyRequestsException": {},
		}})
	})
}
