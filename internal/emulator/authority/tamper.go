package authority

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Tamper selects a fault to inject into an envelope (the emulator's admin
// faults), to test that clients reject bad signatures.
type Tamper int

const (
	// TamperNone signs normally.
	TamperNone Tamper = iota
	// TamperWrongPayload returns a valid envelope over a different
	// targetArtifact digest than the one requested.
	TamperWrongPayload
	// TamperBadSignature flips bytes of the JWS signature, so the envelope
	// parses but does not verify.
	TamperBadSignature
	// TamperTruncated cuts the envelope JSON in half.
	TamperTruncated
)

// String names the tamper for logs.
func (t Tamper) String() string {
	switch t {
	case TamperNone:
		return "none"
	case TamperWrongPayload:
		return "wrong-payload"
	case TamperBadSignature:
		return "bad-signature"
	case TamperTruncated:
		return "truncated"
	}
	return fmt.Sprintf("Tamper(%d)", int(t))
}

// SignTampered is Sign with the fault t applied to the result.
func (a *Authority) SignTampered(req SignRequest, t Tamper) ([]byte, []*x509.Certificate, error) {
	switch t {
	case TamperNone:
		return a.Sign(req)
	case TamperWrongPayload:
		payload, err := changeDigest(req.Payload)
		if err != nil {
			return nil, nil, fmt.Errorf("tampering payload: %w", err)
		}
		req.Payload = payload
		return a.Sign(req)
	case TamperBadSignature:
		env, chain, err := a.Sign(req)
		if err != nil {
			return nil, nil, err
		}
		env, err = flipSignature(env)
		if err != nil {
			return nil, nil, fmt.Errorf("tampering signature: %w", err)
		}
		return env, chain, nil
	case TamperTruncated:
		env, chain, err := a.Sign(req)
		if err != nil {
			return nil, nil, err
		}
		return env[:len(env)/2], chain, nil
	}
	return nil, nil, fmt.Errorf("unknown tamper %d", int(t))
}

// changeDigest returns payload with the last character of
// targetArtifact.digest changed (kept a hex digit).
func changeDigest(payload []byte) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil {
		return nil, err
	}
	var target map[string]json.RawMessage
	if err := json.Unmarshal(top["targetArtifact"], &target); err != nil {
		return nil, fmt.Errorf("targetArtifact: %w", err)
	}
	var digest string
	if err := json.Unmarshal(target["digest"], &digest); err != nil || digest == "" {
		return nil, errors.New("payload has no targetArtifact.digest")
	}
	last := digest[len(digest)-1]
	replacement := byte('0')
	if last == '0' {
		replacement = '1'
	}
	digest = digest[:len(digest)-1] + string(replacement)
	var err error
	if target["digest"], err = json.Marshal(digest); err != nil {
		return nil, err
	}
	if top["targetArtifact"], err = json.Marshal(target); err != nil {
		return nil, err
	}
	return json.Marshal(top)
}

// flipSignature inverts the first and a middle byte of the JWS signature.
func flipSignature(env []byte) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(env, &fields); err != nil {
		return nil, err
	}
	var sig string
	if err := json.Unmarshal(fields["signature"], &sig); err != nil {
		return nil, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(raw) == 0 {
		return nil, errors.New("envelope signature is not base64url")
	}
	raw[0] ^= 0xff
	raw[len(raw)/2] ^= 0xff
	if fields["signature"], err = json.Marshal(base64.RawURLEncoding.EncodeToString(raw)); err != nil {
		return nil, err
	}
	return json.Marshal(fields)
}

// samePayload checks that the envelope carries req semantically unchanged
// (same JSON values, numbers compared as written).
func samePayload(env, want []byte) error {
	var fields struct {
		Payload string `json:"payload"`
	}
	if err := json.Unmarshal(env, &fields); err != nil {
		return fmt.Errorf("reading signed envelope: %w", err)
	}
	got, err := base64.RawURLEncoding.DecodeString(fields.Payload)
	if err != nil {
		return fmt.Errorf("reading signed envelope payload: %w", err)
	}
	a, errA := decodeNumbers(got)
	b, errB := decodeNumbers(want)
	if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
		return errors.New("the payload cannot be signed unchanged (numbers too large for JSON doubles?)")
	}
	return nil
}

func decodeNumbers(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
