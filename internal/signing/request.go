package signing

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/notaryproject/notation-core-go/signature/jws"
	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"
)

// Values AWS Signer accepts and produces.
const (
	// PayloadTypeNotary is the only SignPayload payloadFormat AWS Signer accepts.
	PayloadTypeNotary = "application/vnd.cncf.notary.payload.v1+json"
	// EnvelopeTypeJWS is the only envelope AWS Signer produces.
	EnvelopeTypeJWS = jws.MediaTypeEnvelope
	// MaxPayloadBytes is the SignPayload payload limit (Signer API model:
	// Payload length 1..4096).
	MaxPayloadBytes = 4096
)

// CheckRequest refuses, before any AWS call, the generate-envelope requests
// AWS Signer cannot honour. The error is a VALIDATION_ERROR that says what to
// do instead.
func CheckRequest(req *proto.GenerateEnvelopeRequest) *proto.Error {
	if req.ExpiryDurationInSeconds != 0 {
		return proto.NewValidationErrorf("the signature expiry cannot be chosen per signature (--expiry %ds was given): "+
			"AWS Signer sets it from the signing profile's signature validity period. "+
			"Remove --expiry and set the profile's validity period instead (aws signer put-signing-profile ... --signature-validity-period value=N,type=DAYS|MONTHS|YEARS).",
			req.ExpiryDurationInSeconds)
	}
	if req.SignatureEnvelopeType != EnvelopeTypeJWS {
		return proto.NewValidationErrorf("signature envelope type %q is not supported: AWS Signer produces JWS envelopes (%s) only. "+
			"Use --signature-format jws.", req.SignatureEnvelopeType, EnvelopeTypeJWS)
	}
	if req.PayloadType != PayloadTypeNotary {
		return proto.NewValidationErrorf("payload type %q is not supported: AWS Signer signs only %s payloads",
			req.PayloadType, PayloadTypeNotary)
	}
	if n := len(req.Payload); n > MaxPayloadBytes {
		return proto.NewValidationErrorf("the payload to sign is %d bytes, over AWS Signer's limit of %d bytes. "+
			"User metadata (-m/--user-metadata annotations) is part of the payload: use fewer or shorter -m annotations.",
			n, MaxPayloadBytes)
	}
	if len(req.Payload) == 0 {
		return proto.NewValidationError("the payload to sign is empty")
	}
	if _, err := decodePayload(req.Payload); err != nil {
		return proto.NewValidationErrorf("the payload to sign is not a Notary payload: %v", err)
	}
	return nil
}

// notaryPayload is a decoded Notary payload, kept as generic JSON so that
// comparisons see every field, known or not.
type notaryPayload struct {
	all            map[string]any
	targetArtifact map[string]any
}

// decodePayload decodes a Notary payload: a JSON object whose targetArtifact
// is a JSON object. Numbers stay json.Number so that they compare exactly.
func decodePayload(b []byte) (notaryPayload, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var all map[string]any
	if err := dec.Decode(&all); err != nil {
		return notaryPayload{}, fmt.Errorf("it is not a JSON object: %w", err)
	}
	if len(bytes.TrimSpace(b[dec.InputOffset():])) != 0 {
		return notaryPayload{}, fmt.Errorf("it has data after the JSON object")
	}
	if all == nil {
		return notaryPayload{}, fmt.Errorf("it is not a JSON object")
	}
	raw, ok := all["targetArtifact"]
	if !ok {
		return notaryPayload{}, fmt.Errorf("it has no targetArtifact")
	}
	ta, ok := raw.(map[string]any)
	if !ok {
		return notaryPayload{}, fmt.Errorf("its targetArtifact is not a JSON object")
	}
	return notaryPayload{all: all, targetArtifact: ta}, nil
}

// compact renders a decoded JSON value for an error message, cut at 512 bytes.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	const max = 512
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
