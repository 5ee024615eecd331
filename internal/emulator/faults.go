package emulator

import (
	"errors"
	"fmt"
	"time"

	"github.com/xsigner/xsigner/internal/emulator/authority"
)

// Fault makes the next Count matching calls misbehave. It is what
// POST /_xsigner/faults accepts and what the world file's "faults" holds.
// Faults apply after authentication, in the order they were added; a call
// consumes at most one fault.
type Fault struct {
	// Service: "sts", "signer", "ecr" (the ECR API, not the registry) or "" (any).
	Service string `json:"service,omitempty"`
	// Operation, e.g. "SignPayload"; "" matches any operation.
	Operation string `json:"operation,omitempty"`
	// ErrorCode, when set, is returned instead of the real answer, e.g.
	// "ThrottlingException" or "InternalServiceErrorException".
	ErrorCode string `json:"errorCode,omitempty"`
	// Status of the injected error; 0 picks the AWS status of ErrorCode
	// (429 for throttling codes, 500 for internal errors, else 400).
	Status int `json:"status,omitempty"`
	// Message of the injected error; defaults to a note naming the fault.
	Message string `json:"message,omitempty"`
	// Count of calls affected; 0 means 1.
	Count int `json:"count,omitempty"`
	// LatencyMs is added before the call is answered.
	LatencyMs int `json:"latencyMs,omitempty"`
	// Hang blocks the call until the client goes away or the emulator closes.
	Hang bool `json:"hang,omitempty"`
	// Tamper makes SignPayload return a broken envelope: "wrong-payload",
	// "bad-signature" or "truncated".
	Tamper string `json:"tamper,omitempty"`
}

var tampers = map[string]authority.Tamper{
	"wrong-payload": authority.TamperWrongPayload,
	"bad-signature": authority.TamperBadSignature,
	"truncated":     authority.TamperTruncated,
}

func (f *Fault) validate() error {
	switch f.Service {
	case "", "sts", "signer", "ecr":
	default:
		return fmt.Errorf("service %q must be \"sts\", \"signer\", \"ecr\" or empty", f.Service)
	}
	if f.Count < 0 {
		return fmt.Errorf("count %d must not be negative", f.Count)
	}
	if f.LatencyMs < 0 || f.LatencyMs > 600_000 {
		return fmt.Errorf("latencyMs %d must be between 0 and 600000", f.LatencyMs)
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		return fmt.Errorf("status %d must be an HTTP error status (400..599)", f.Status)
	}
	if f.Status != 0 && f.ErrorCode == "" {
		return errors.New("status needs an errorCode")
	}
	if f.Tamper != "" {
		if _, ok := tampers[f.Tamper]; !ok {
			return fmt.Errorf("tamper %q must be wrong-payload, bad-signature or truncated", f.Tamper)
		}
		if (f.Operation != "" && f.Operation != "SignPayload") || f.Service == "sts" {
			return errors.New("tamper applies to signer SignPayload only")
		}
		if f.ErrorCode != "" {
			return errors.New("tamper and errorCode exclude each other")
		}
	}
	if f.ErrorCode == "" && f.Tamper == "" && f.LatencyMs == 0 && !f.Hang {
		return errors.New("the fault does nothing: set errorCode, latencyMs, hang or tamper")
	}
	return nil
}

func (f *Fault) matches(x *exchange) bool {
	if f.Service != "" && f.Service != x.service {
		return false
	}
	if f.Tamper != "" && (x.service != "signer" || x.operation != "SignPayload") {
		return false
	}
	return f.Operation == "" || f.Operation == x.operation
}

// InjectFault adds a fault, as POST /_xsigner/faults does.
func (e *Emulator) InjectFault(f Fault) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("invalid fault: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &f)
	return nil
}

// applyFault consumes the first matching fault, if any, and applies it:
// latency, hang, tamper or an error to return.
func (e *Emulator) applyFault(x *exchange) *apiError {
	e.mu.Lock()
	var f Fault
	found := false
	for i, cand := range e.faults {
		if !cand.matches(x) {
			continue
		}
		f, found = *cand, true
		if cand.Count <= 1 {
			e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
		} else {
			cand.Count--
		}
		break
	}
	e.mu.Unlock()
	if !found {
		return nil
	}
	ctx := x.r.Context()
	if f.LatencyMs > 0 {
		t := time.NewTimer(time.Duration(f.LatencyMs) * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		case <-e.done:
			t.Stop()
		}
	}
	if f.Hang {
		select {
		case <-ctx.Done():
		case <-e.done:
		}
		return errorf(503, e.internalErrorCode(x), "the request hung on an injected fault and was released")
	}
	if f.Tamper != "" {
		x.tamper = tampers[f.Tamper]
	}
	if f.ErrorCode == "" {
		return nil
	}
	status := f.Status
	if status == 0 {
		switch f.ErrorCode {
		case "ThrottlingException", "TooManyRequestsException", "Throttling":
			status = 429
			if x.service == "sts" {
				status = 400 // STS throttling (Throttling) is a 400 Sender error
			}
		case "InternalServiceErrorException", "InternalFailure", "ServiceUnavailable":
			status = 500
		case "AccessDeniedException", "AccessDenied":
			status = 403
		default:
			status = 400
		}
	}
	msg := f.Message
	if msg == "" {
		msg = "injected by xsigner-emulator fault"
	}
	return &apiError{Status: status, Code: f.ErrorCode, Message: msg}
}
