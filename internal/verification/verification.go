// Package verification implements notation's verify-signature command for
// AWS Signer signatures: the trusted-identity check against signing-profile
// ARNs and the revocation check with Signer GetRevocationStatus.
package verification

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/smithy-go"
	"github.com/notaryproject/notation-core-go/signature"
	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/arn"
	"github.com/xsigner/xsigner/internal/awserr"
	"github.com/xsigner/xsigner/internal/invocation"
)

// Signed extended attributes AWS Signer puts in every Notation signature
// (research aws.md §3).
const (
	AttrSigningProfileVersion = "com.amazonaws.signer.signingProfileVersion"
	AttrSigningJob            = "com.amazonaws.signer.signingJob"
)

// PlatformID is the AWS Signer signing platform of Notation signatures, sent
// to GetRevocationStatus.
const PlatformID = "Notation-OCI-SHA384-ECDSA"

// RevocationAPI is the one SDK method verification needs. It has the exact
// SDK signature, so *signer.Client satisfies it.
type RevocationAPI interface {
	GetRevocationStatus(ctx context.Context, in *signer.GetRevocationStatusInput, optFns ...func(*signer.Options)) (*signer.GetRevocationStatusOutput, error)
}

// Verifier implements plugin.SignatureVerifier for AWS Signer signatures.
type Verifier struct {
	// Connect returns the Signer client for region (the region of the
	// signature's signing profile). It is called only when the trust policy
	// asks for the revocation check, after every local check passed. Its
	// error fails the revocation check (success:false), like a failed call.
	// A client with a custom endpoint must not add the GetRevocationStatus
	// host prefix (awsclient.Session.Signer takes care of that).
	Connect func(ctx context.Context, inv invocation.Verify, region string) (RevocationAPI, error)
}

// VerifySignature runs the checks the trust policy asks for (only those) and
// reports each one's outcome. A malformed request or trust policy is a
// VALIDATION_ERROR; a signature that fails a check is a result with
// success:false and a reason. Every error is a *proto.Error.
func (v *Verifier) VerifySignature(ctx context.Context, inv invocation.Verify) (*proto.VerifySignatureResponse, error) {
	if inv.Request == nil {
		return nil, proto.NewValidationError("verify-signature request is missing")
	}
	sig, perr := parseRequest(inv.Request)
	if perr != nil {
		return nil, perr
	}
	results := make(map[proto.Capability]*proto.VerificationResult, len(sig.capabilities))

	if slices.Contains(sig.capabilities, proto.CapabilityTrustedIdentityVerifier) {
		matched, reason, err := MatchTrustedIdentity(inv.Request.TrustPolicy.TrustedIdentities, sig.profileVersionARN)
		if err != nil {
			return nil, proto.NewValidationErrorf("trust policy: %v", err)
		}
		results[proto.CapabilityTrustedIdentityVerifier] = &proto.VerificationResult{Success: matched != "", Reason: reason}
	}

	if slices.Contains(sig.capabilities, proto.CapabilityRevocationCheckVerifier) {
		// The revocation records live in the profile's region; the official
		// plugin asks the local default region instead, which misses them.
		region := sig.profileVersion.Region
		if inv.Config.Region != "" && inv.Config.Region != region {
			return nil, proto.NewValidationErrorf("aws-region is %q but the signature was made with signing profile version %q in region %q, "+
				"where its revocation status is kept; remove aws-region or set it to %q", inv.Config.Region, sig.profileVersionARN, region, region)
		}
		if v.Connect == nil {
			return nil, proto.NewGenericError("xsigner is misconfigured: no AWS Signer client factory")
		}
		api, err := v.Connect(ctx, inv, region)
		if err != nil {
			// Connecting resolves credentials and assumes the role chain, so
			// its failures are failures of the revocation call itself: a
			// failed check that the trust policy's revocation level enforces
			// or only logs, as when the official plugin's call fails.
			results[proto.CapabilityRevocationCheckVerifier] = &proto.VerificationResult{
				Reason: callFailedReason(ctx, err, inv.Config.Timeout, ""),
			}
		} else {
			results[proto.CapabilityRevocationCheckVerifier] = revocation(ctx, api, sig, region, inv)
		}
	}

	return &proto.VerifySignatureResponse{
		VerificationResults: results,
		ProcessedAttributes: processedAttributes(inv.Request.Signature.UnprocessedAttributes),
	}, nil
}

// revocation asks AWS Signer whether the signing job, the profile version or
// a certificate of the chain was revoked.
func revocation(ctx context.Context, api RevocationAPI, sig parsedSignature, region string, inv invocation.Verify) *proto.VerificationResult {
	log := inv.Logger
	hashes := CertificateHashes(sig.chain)
	platform := PlatformID
	signingTime := sig.signingTime
	out, err := api.GetRevocationStatus(ctx, &signer.GetRevocationStatusInput{
		CertificateHashes:  hashes,
		JobArn:             &sig.jobARN,
		PlatformId:         &platform,
		ProfileVersionArn:  &sig.profileVersionARN,
		SignatureTimestamp: &signingTime,
	})
	if err != nil {
		// Like the official plugin: a failed call is a failed check, which the
		// trust policy's revocation level enforces or only logs.
		return &proto.VerificationResult{Reason: callFailedReason(ctx, err, inv.Config.Timeout, refusalHint(err, region))}
	}
	if len(out.RevokedEntities) == 0 {
		return &proto.VerificationResult{Success: true, Reason: fmt.Sprintf(
			"AWS Signer in %s reports neither signing job %q, nor signing profile version %q, nor any of the %d certificate(s) in the chain as revoked",
			region, sig.jobARN, sig.profileVersionARN, len(sig.chain))}
	}
	if log != nil {
		log.Debug("GetRevocationStatus reports revoked entities", "region", region, "revokedEntities", fmt.Sprintf("%q", out.RevokedEntities))
	}
	return &proto.VerificationResult{Reason: revokedReason(out.RevokedEntities, sig, hashes)}
}

// callFailedReason is the REVOCATION_CHECK reason for a revocation call
// (or the credentials it needed) that failed: the AWS error text, without
// the request URL's query (the certificate hashes, hundreds of characters
// of noise), and what to check. hint is used unless the deadline ran out.
func callFailedReason(ctx context.Context, err error, timeout time.Duration, hint string) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		limit := "the command's deadline"
		if timeout > 0 {
			limit = fmt.Sprintf("the command's deadline of %s", timeout)
		}
		hint = fmt.Sprintf("AWS did not answer within %s (retries included). Check that AWS Signer is reachable from here "+
			"(proxy, VPC endpoint, signer-endpoint-url), or raise the deadline with pluginConfig timeout "+
			"(e.g. notation verify --plugin-config timeout=2m) or XSIGNER_TIMEOUT.", limit)
	}
	msg := awserr.ToPluginError(err, hint).Message
	// The error is not edited: an SDK or caller may still hold it.
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.RawQuery != "" {
			u.RawQuery = ""
			msg = strings.ReplaceAll(msg, ue.URL, u.String()+"?…")
		}
	}
	return "the revocation status could not be checked: " + msg
}

// refusalHint says what to fix when AWS refused the GetRevocationStatus
// call in region: the permission it needs (AccessDeniedException), or
// credentials of the signature's partition (the access key or token is
// unknown there); "" for any other error.
func refusalHint(err error, region string) string {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return ""
	}
	switch apiErr.ErrorCode() {
	case "AccessDeniedException":
		return fmt.Sprintf("The identity that checks revocation needs an IAM policy allowing signer:GetRevocationStatus (resource \"*\") "+
			"in its own account; the call went to region %s. Grant it, or set role-arn to a role that has it.", region)
	case "UnrecognizedClientException", "InvalidClientTokenId":
		part := arn.RegionPartition(region)
		return fmt.Sprintf("AWS Signer in region %s does not know these credentials. The call goes to the signature's region, and "+
			"an AWS account and its credentials belong to one partition: checking a signature of partition %s needs credentials "+
			"of an account in %s (set aws-profile or role-arn for the verification). Expired, deleted or mistyped keys fail the same way.",
			region, part, part)
	}
	return ""
}

// revokedReason names what GetRevocationStatus reported as revoked: entries
// starting with "arn" are the job or profile version ARNs sent, the others
// certificate hashes.
func revokedReason(entities []string, sig parsedSignature, hashes []string) string {
	var parts []string
	var certs []string
	unknownCerts := 0
	for _, e := range entities {
		switch {
		case e == sig.jobARN:
			parts = append(parts, fmt.Sprintf("signing job %q was revoked", e))
		case strings.EqualFold(e, sig.profileVersionARN):
			parts = append(parts, fmt.Sprintf("signing profile version %q was revoked", e))
		case strings.HasPrefix(e, "arn"):
			parts = append(parts, fmt.Sprintf("%q was revoked", e))
		default:
			if i := slices.Index(hashes, e); i >= 0 {
				certs = append(certs, fmt.Sprintf("#%d %q", i, sig.chain[i].Subject.String()))
			} else {
				unknownCerts++
			}
		}
	}
	if len(certs) > 0 {
		parts = append(parts, "certificate(s) in the chain were revoked: "+strings.Join(certs, ", "))
	}
	if unknownCerts > 0 {
		parts = append(parts, fmt.Sprintf("%d certificate(s) in the chain were revoked", unknownCerts))
	}
	return "the signature is revoked: " + strings.Join(parts, "; ")
}

// processedAttributes returns the unprocessed attribute names this plugin
// handles, in request order; never nil, so that it is [] in JSON.
func processedAttributes(unprocessed []string) []any {
	out := []any{}
	for _, name := range unprocessed {
		if name == AttrSigningProfileVersion || name == AttrSigningJob {
			out = append(out, name)
		}
	}
	return out
}

// parsedSignature is the part of a verify-signature request the checks use,
// validated.
type parsedSignature struct {
	capabilities      []proto.Capability
	profileVersion    arn.SigningProfile
	profileVersionARN string // as signed
	jobARN            string // as signed
	signingTime       time.Time
	expiry            time.Time // zero: the signature does not expire
	chain             []*x509.Certificate
}

func parseRequest(req *proto.VerifySignatureRequest) (parsedSignature, *proto.Error) {
	var s parsedSignature
	if len(req.TrustPolicy.SignatureVerification) == 0 {
		return s, proto.NewValidationError("trustPolicy.signatureVerification is empty: there is nothing to verify")
	}
	for _, c := range req.TrustPolicy.SignatureVerification {
		switch c {
		case proto.CapabilityTrustedIdentityVerifier, proto.CapabilityRevocationCheckVerifier:
			if !slices.Contains(s.capabilities, c) {
				s.capabilities = append(s.capabilities, c)
			}
		default:
			return s, proto.NewValidationErrorf("trustPolicy.signatureVerification asks for %q, which xsigner does not provide (it provides %s and %s)",
				c, proto.CapabilityTrustedIdentityVerifier, proto.CapabilityRevocationCheckVerifier)
		}
	}

	attrs := req.Signature.CriticalAttributes
	if attrs.ContentType == "" {
		return s, proto.NewValidationError("signature criticalAttributes.contentType is empty")
	}
	if attrs.SigningScheme != string(signature.SigningSchemeX509SigningAuthority) {
		return s, proto.NewValidationErrorf("signing scheme %q is not supported: AWS Signer signatures use %q",
			attrs.SigningScheme, signature.SigningSchemeX509SigningAuthority)
	}
	if attrs.AuthenticSigningTime == nil || attrs.AuthenticSigningTime.IsZero() {
		return s, proto.NewValidationErrorf("signature criticalAttributes.authenticSigningTime is missing; it is required under %q",
			signature.SigningSchemeX509SigningAuthority)
	}
	s.signingTime = *attrs.AuthenticSigningTime
	// notation always sends expiry; 0001-01-01T00:00:00Z (the zero time)
	// means the signature has none.
	if attrs.Expiry != nil && !attrs.Expiry.IsZero() {
		s.expiry = *attrs.Expiry
		if !s.expiry.After(s.signingTime) {
			return s, proto.NewValidationErrorf("signature expiry %s is not after its authentic signing time %s",
				s.expiry.Format(time.RFC3339), s.signingTime.Format(time.RFC3339))
		}
	}

	pv, err := stringAttribute(attrs.ExtendedAttributes, AttrSigningProfileVersion)
	if err != nil {
		return s, proto.NewValidationError(err.Error())
	}
	s.profileVersion, err = arn.ParseSigningProfile(pv)
	if err != nil {
		return s, proto.NewValidationErrorf("signature attribute %s: %v", AttrSigningProfileVersion, err)
	}
	if s.profileVersion.Version == "" {
		return s, proto.NewValidationErrorf("signature attribute %s is %q, a profile ARN without the profile version",
			AttrSigningProfileVersion, pv)
	}
	s.profileVersionARN = pv

	s.jobARN, err = stringAttribute(attrs.ExtendedAttributes, AttrSigningJob)
	if err != nil {
		return s, proto.NewValidationError(err.Error())
	}
	if _, err := arn.ParseSigningJob(s.jobARN); err != nil {
		return s, proto.NewValidationErrorf("signature attribute %s: %v", AttrSigningJob, err)
	}

	if len(req.Signature.CertificateChain) == 0 {
		return s, proto.NewValidationError("signature certificateChain is empty")
	}
	for i, der := range req.Signature.CertificateChain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return s, proto.NewValidationErrorf("signature certificateChain[%d] is not a DER X.509 certificate: %v", i, err)
		}
		s.chain = append(s.chain, c)
	}
	return s, nil
}

func stringAttribute(attrs map[string]any, name string) (string, error) {
	raw, ok := attrs[name]
	if !ok {
		return "", fmt.Errorf("signature attribute %s is missing: it is not an AWS Signer signature, or it was altered", name)
	}
	s, ok := raw.(string)
	if !ok {
		return "", fmt.Errorf("signature attribute %s must be a string, not %s", name, jsonType(raw))
	}
	return s, nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64, int, int64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("a %T", v)
	}
}
