// Command revoke revokes an AWS Signer signing job with the AWS SDK, for the
// demo (internal/demo/demo.sh) on machines without the aws CLI:
//
//	revoke --job-arn ARN [--reason TEXT] [--endpoint-url URL]
//
// It is the equivalent of
//
//	aws signer revoke-signature --job-id ID --job-owner ACCOUNT --reason TEXT \
//	  --region REGION [--endpoint-url URL]
//
// The region and the job owner come from the job ARN. The credentials are
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (optional) AWS_SESSION_TOKEN,
// and nothing else: no shared config files, no instance metadata.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/signer"

	"github.com/xsigner/xsigner/internal/arn"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// callTimeout bounds the RevokeSignature call.
const callTimeout = 30 * time.Second

// run is the whole program; it returns the exit code: 0 revoked, 1 the call
// failed, 2 bad usage.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jobARN := fs.String("job-arn", "", "ARN of the signing job to revoke (required)")
	reason := fs.String("reason", "revoked by the xsigner demo", "reason recorded with the revocation (1-500 characters)")
	endpoint := fs.String("endpoint-url", "", "AWS Signer endpoint URL (default: the regional AWS endpoint)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "revoke: unexpected arguments %q\n", fs.Args())
		return 2
	}
	job, err := arn.ParseSigningJob(*jobARN)
	if err != nil {
		fmt.Fprintf(stderr, "revoke: --job-arn: %v\n", err)
		return 2
	}
	keyID, _ := lookupEnv("AWS_ACCESS_KEY_ID")
	secret, _ := lookupEnv("AWS_SECRET_ACCESS_KEY")
	token, _ := lookupEnv("AWS_SESSION_TOKEN")
	if keyID == "" || secret == "" {
		fmt.Fprintln(stderr, "revoke: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to credentials that may call signer:RevokeSignature")
		return 2
	}

	opts := signer.Options{
		Region:           job.Region,
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, token),
		RetryMaxAttempts: 3,
	}
	if *endpoint != "" {
		opts.BaseEndpoint = aws.String(*endpoint)
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err = signer.New(opts).RevokeSignature(ctx, &signer.RevokeSignatureInput{
		JobId:    aws.String(job.ID),
		JobOwner: aws.String(job.Account),
		Reason:   aws.String(*reason),
	})
	if err != nil {
		fmt.Fprintf(stderr, "revoke: revoking signing job %s: %v\n", job, err)
		return 1
	}
	fmt.Fprintf(stdout, "revoked signing job %s\n", job)
	return 0
}
