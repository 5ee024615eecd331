package plugin

import (
	"context"

	"github.com/xsigner/xsigner/internal/awsclient"
	"github.com/xsigner/xsigner/internal/invocation"
	"github.com/xsigner/xsigner/internal/signing"
	"github.com/xsigner/xsigner/internal/verification"
	"github.com/xsigner/xsigner/internal/version"
)

// awsGenerator is the default EnvelopeGenerator: AWS Signer SignPayload,
// called with the credentials and role chain the configuration names.
func awsGenerator(lookupEnv func(string) (string, bool)) EnvelopeGenerator {
	return &signing.Generator{Connect: func(ctx context.Context, inv invocation.Sign) (signing.Client, error) {
		regionSource := "the key ARN"
		if inv.Config.Region != "" {
			regionSource = "pluginConfig aws-region"
		}
		s, err := awsclient.New(ctx, awsclient.Options{
			Config:       inv.Config,
			Region:       inv.Region,
			RegionSource: regionSource,
			Logger:       inv.Logger,
			LookupEnv:    lookupEnv,
			UserAgent:    "xsigner/" + version.Get(),
		})
		if err != nil {
			return nil, err
		}
		return signing.NewClient(s.Signer(), s.CallerARN), nil
	}}
}

// awsVerifier is the default SignatureVerifier: trusted identity from the
// signature's profile ARN, revocation through AWS Signer GetRevocationStatus
// in the signature's own region.
func awsVerifier(lookupEnv func(string) (string, bool)) SignatureVerifier {
	return &verification.Verifier{Connect: func(ctx context.Context, inv invocation.Verify, region string) (verification.RevocationAPI, error) {
		s, err := awsclient.New(ctx, awsclient.Options{
			Config:       inv.Config,
			Region:       region,
			RegionSource: "the signature's signing-profile ARN",
			Logger:       inv.Logger,
			LookupEnv:    lookupEnv,
			UserAgent:    "xsigner/" + version.Get(),
		})
		if err != nil {
			return nil, err
		}
		return s.Signer(), nil
	}}
}
