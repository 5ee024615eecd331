// Package signing implements notation's generate-envelope command on top of
// AWS Signer SignPayload: it refuses requests Signer cannot honour before any
// call, turns AWS errors into protocol errors that say what to fix, and checks
// the envelope Signer returns before handing it to notation.
package signing

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/smithy-go"
	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/awserr"
	"github.com/xsigner/xsigner/internal/invocation"
)

// SignPayloadAPI is the one SDK method signing needs. It has the exact SDK
// signature, so *signer.Client satisfies it.
type SignPayloadAPI interface {
	SignPayload(ctx context.Context, in *signer.SignPayloadInput, optFns ...func(*signer.Options)) (*signer.SignPayloadOutput, error)
}

// Client is what the generator gets per invocation: the Signer API plus who
// is calling, which error messages name.
type Client interface {
	SignPayloadAPI
	// CallerARN returns the ARN of the identity the calls are made as, or ""
	// when it cannot be found out.
	CallerARN(ctx context.Context) string
}

// Generator implements plugin.EnvelopeGenerator with AWS Signer.
type Generator struct {
	// Connect returns the Signer client for one invocation (credentials,
	// role chain, region and endpoint already applied). It is called only
	// after the request passed every local check.
	Connect func(ctx context.Context, inv invocation.Sign) (Client, error)
}

// GenerateEnvelope checks the request, has AWS Signer sign the payload with
// the profile named by inv.Key, checks the returned envelope and returns it.
// Every error is a *proto.Error.
func (g *Generator) GenerateEnvelope(ctx context.Context, inv invocation.Sign) (*proto.GenerateEnvelopeResponse, error) {
	req := inv.Request
	if req == nil {
		return nil, proto.NewValidationError("generate-envelope request is missing")
	}
	if err := CheckRequest(req); err != nil {
		return nil, err
	}
	if g.Connect == nil {
		return nil, proto.NewGenericError("xsigner is misconfigured: no AWS Signer client factory")
	}
	client, err := g.Connect(ctx, inv)
	if err != nil {
		return nil, awserr.ToPluginError(err, deadlineHint(ctx, inv))
	}
	out, err := client.SignPayload(ctx, &signer.SignPayloadInput{
		ProfileName:   &inv.Key.Name,
		ProfileOwner:  &inv.Key.Account,
		Payload:       req.Payload,
		PayloadFormat: &req.PayloadType,
	})
	if err != nil {
		hint := deadlineHint(ctx, inv)
		if hint == "" {
			hint = signPayloadHint(ctx, err, client, inv)
		}
		return nil, awserr.ToPluginError(err, hint)
	}
	if out == nil || len(out.Signature) == 0 {
		return nil, proto.NewGenericError("AWS Signer SignPayload returned no signature envelope; refusing to continue. " +
			"This is a service fault: retry, and report it to AWS if it persists.")
	}
	if err := CheckEnvelope(out.Signature, req.Payload, inv.Key); err != nil {
		return nil, err
	}
	return &proto.GenerateEnvelopeResponse{
		SignatureEnvelope:     out.Signature,
		SignatureEnvelopeType: req.SignatureEnvelopeType,
		Annotations:           annotations(out.Metadata, inv.Logger),
	}, nil
}

// reservedAnnotationPrefix marks annotation keys notation sets itself
// (io.cncf.notary.x509chain.thumbprint#S256 and friends); a plugin must not.
const reservedAnnotationPrefix = "io.cncf.notary"

// annotations returns the SignPayload metadata as signature manifest
// annotations, without the keys notation reserves (each dropped key is logged
// to log, which may be nil). Empty metadata gives nil.
func annotations(metadata map[string]string, log *slog.Logger) map[string]string {
	if len(metadata) == 0 {
		return nil
	}
	out := make(map[string]string, len(metadata))
	for k, v := range metadata {
		if strings.HasPrefix(k, reservedAnnotationPrefix) {
			if log != nil {
				log.Debug("dropping SignPayload metadata key reserved for notation", "key", k, "reservedPrefix", reservedAnnotationPrefix)
			}
			continue
		}
		out[k] = v
	}
	return out
}

// signPayloadHint returns what the user should check for a failed
// SignPayload, or "" when there is nothing specific to add.
func signPayloadHint(ctx context.Context, err error, client Client, inv invocation.Sign) string {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return ""
	}
	switch apiErr.ErrorCode() {
	case "AccessDeniedException", "AccessDenied":
		return accessDeniedHint(client.CallerARN(ctx), inv.Key, inv.Config.RoleARNs)
	case "ResourceNotFoundException", "NotFoundException":
		return notFoundHint(inv.Key, inv.Region)
	case "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException",
		"MissingAuthenticationTokenException", "ExpiredTokenException":
		return credentialsHint(apiErr.ErrorCode(), inv.Config.RoleARNs)
	}
	return ""
}

// NewClient pairs a Signer API with the function that names the caller, for
// Generator.Connect:
//
//	s, err := awsclient.New(ctx, opts)
//	...
//	return signing.NewClient(s.Signer(), s.CallerARN), nil
func NewClient(api SignPayloadAPI, callerARN func(ctx context.Context) string) Client {
	return pairedClient{SignPayloadAPI: api, callerARN: callerARN}
}

type pairedClient struct {
	SignPayloadAPI
	callerARN func(ctx context.Context) string
}

func (c pairedClient) CallerARN(ctx context.Context) string {
	if c.callerARN == nil {
		return ""
	}
	return c.callerARN(ctx)
}
