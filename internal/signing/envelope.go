package signing

import (
	"fmt"
	"reflect"

	"github.com/notaryproject/notation-core-go/signature"
	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/arn"
)

// Signed extended attributes AWS Signer puts in every Notation signature
// (research aws.md §3).
const (
	AttrSigningProfileVersion = "com.amazonaws.signer.signingProfileVersion"
	AttrSigningJob            = "com.amazonaws.signer.signingJob"
)

// CheckEnvelope checks the envelope AWS Signer returned for payload, signed
// with key, before it goes to notation: it must be a JWS envelope whose
// signature verifies with its certificate chain, that signs exactly payload
// as a Notary payload under the notary.x509.signingAuthority scheme, with a
// version of the requested profile (exactly the requested version when key
// names one). The error is a *proto.Error with code ERROR.
func CheckEnvelope(envelope, payload []byte, key arn.SigningProfile) *proto.Error {
	env, err := signature.ParseEnvelope(EnvelopeTypeJWS, envelope)
	if err != nil {
		return refuse("it is not a JWS signature envelope (%v)", err)
	}
	content, err := env.Verify()
	if err != nil {
		return refuse("its signature does not verify with its certificate chain (%v)", err)
	}
	if ct := content.Payload.ContentType; ct != PayloadTypeNotary {
		return refuse("its payload content type is %q, not %q", ct, PayloadTypeNotary)
	}
	if err := samePayload(content.Payload.Content, payload); err != nil {
		return refuse("the service returned an envelope for a different payload: %v", err)
	}
	info := content.SignerInfo
	if s := info.SignedAttributes.SigningScheme; s != signature.SigningSchemeX509SigningAuthority {
		return refuse("its signing scheme is %q, not %q", s, signature.SigningSchemeX509SigningAuthority)
	}
	version, err := signedProfileVersion(&info)
	if err != nil {
		return refuse("%v", err)
	}
	if !sameProfile(version, key) {
		return refuse("it was signed with signing profile version %q, which is not a version of the requested profile %q",
			version.String(), key.ProfileARN())
	}
	if key.Version != "" && version.Version != key.Version {
		return proto.NewGenericErrorf("signing profile %q: the profile's active version is %q but the key id asks for version %q "+
			"(AWS Signer always signs with the active version). Re-run with the profile ARN %q or the active version ARN %q.",
			key.ProfileARN(), version.Version, key.Version, key.ProfileARN(), version.String())
	}
	if err := signedJob(&info); err != nil {
		return refuse("%v", err)
	}
	return nil
}

func refuse(format string, args ...any) *proto.Error {
	return proto.NewGenericError("AWS Signer returned a signature envelope that xsigner refuses to pass on: " +
		fmt.Sprintf(format, args...) + ". No signature was handed to notation; retry, and report it to AWS if it persists.")
}

// samePayload reports how the signed payload differs from the requested one,
// comparing JSON values (so key order and white space do not matter).
func samePayload(signed, requested []byte) error {
	want, err := decodePayload(requested)
	if err != nil {
		return fmt.Errorf("the requested payload: %w", err)
	}
	got, err := decodePayload(signed)
	if err != nil {
		return fmt.Errorf("the signed payload: %w", err)
	}
	if !reflect.DeepEqual(got.targetArtifact, want.targetArtifact) {
		return fmt.Errorf("its targetArtifact is %s, the request's is %s", compact(got.targetArtifact), compact(want.targetArtifact))
	}
	if !reflect.DeepEqual(got.all, want.all) {
		return fmt.Errorf("the signed payload %s differs from the requested payload %s", compact(got.all), compact(want.all))
	}
	return nil
}

// signedProfileVersion returns the signed profile-version ARN attribute.
func signedProfileVersion(info *signature.SignerInfo) (arn.SigningProfile, error) {
	v, err := stringAttribute(info, AttrSigningProfileVersion)
	if err != nil {
		return arn.SigningProfile{}, err
	}
	p, err := arn.ParseSigningProfile(v)
	if err != nil {
		return arn.SigningProfile{}, fmt.Errorf("its signed attribute %s is malformed: %w", AttrSigningProfileVersion, err)
	}
	if p.Version == "" {
		return arn.SigningProfile{}, fmt.Errorf("its signed attribute %s is %q, a profile ARN without a version", AttrSigningProfileVersion, v)
	}
	return p, nil
}

// signedJob checks the signed signing-job ARN attribute, which revocation
// checks need later.
func signedJob(info *signature.SignerInfo) error {
	v, err := stringAttribute(info, AttrSigningJob)
	if err != nil {
		return err
	}
	if _, err := arn.ParseSigningJob(v); err != nil {
		return fmt.Errorf("its signed attribute %s is malformed: %w", AttrSigningJob, err)
	}
	return nil
}

func stringAttribute(info *signature.SignerInfo, key string) (string, error) {
	attr, err := info.ExtendedAttribute(key)
	if err != nil {
		return "", fmt.Errorf("it has no signed attribute %s", key)
	}
	s, ok := attr.Value.(string)
	if !ok {
		return "", fmt.Errorf("its signed attribute %s is a %T, not a string", key, attr.Value)
	}
	return s, nil
}

// sameProfile reports whether version is a version of the profile key names.
// The comparison is exact: the envelope must name the profile as the request
// did.
func sameProfile(version, key arn.SigningProfile) bool {
	return version.Partition == key.Partition && version.Region == key.Region &&
		version.Account == key.Account && version.Name == key.Name
}
