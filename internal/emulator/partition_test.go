package emulator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/xsigner/xsigner/internal/emulator"
)

// partitionWorld has an account in aws-us-gov next to one in aws (no
// "partition" field: aws, because another account sets one).
const partitionWorld = `{
  "accounts": {
    "333333333333": {
      "partition": "aws-us-gov",
      "users": {"gov": {
        "accessKeys": [{"accessKeyId": "AKIAGOVUSER33333EXMP", "secretAccessKey": "gov-secret"}],
        "policies": [{"Version": "2012-10-17", "Statement": [
          {"Effect": "Allow", "Action": ["signer:*", "sts:AssumeRole"], "Resource": "*"}]}]
      }},
      "roles": {"gov-role": {
        "trustPolicy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
          "Principal": {"AWS": ["arn:aws-us-gov:iam::333333333333:user/gov", "111111111111"]}}]},
        "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "signer:*", "Resource": "*"}]}]
      }},
      "signingProfiles": [{"name": "gov_signer", "region": "us-gov-west-1"}]
    },
    "111111111111": {
      "users": {"admin": {
        "accessKeys": [{"accessKeyId": "AKIAADMIN1111111EXMP", "secretAccessKey": "admin-secret"}],
        "policies": [{"Version": "2012-10-17", "Statement": [
          {"Effect": "Allow", "Action": ["signer:*", "sts:AssumeRole", "ecr:*"], "Resource": "*"}]}]
      }},
      "signingProfiles": [{"name": "release_signer", "region": "us-west-2"}]
    }
  }
}`

var (
	govKeys      = aws.Credentials{AccessKeyID: "AKIAGOVUSER33333EXMP", SecretAccessKey: "gov-secret"}
	awsAdminKeys = aws.Credentials{AccessKeyID: "AKIAADMIN1111111EXMP", SecretAccessKey: "admin-secret"}
)

const (
	govRegion  = "us-gov-west-1"
	govRoleARN = "arn:aws-us-gov:iam::333333333333:role/gov-role"
	invalidTok = "The security token included in the request is invalid."
)

func (e *env) stsIn(reg string, c aws.Credentials) *sts.Client {
	return sts.New(sts.Options{Region: reg, Credentials: static(c), BaseEndpoint: aws.String(e.URL), RetryMaxAttempts: 1})
}

// TestPartitionIsCredentialBoundary: an account belongs to one partition;
// its keys and sessions are unknown in the others, and its ARNs carry it.
func TestPartitionIsCredentialBoundary(t *testing.T) {
	t.Parallel()
	e := startWorld(t, partitionWorld)
	ctx := context.Background()

	id, err := e.stsIn(govRegion, govKeys).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *id.Arn != "arn:aws-us-gov:iam::333333333333:user/gov" {
		t.Errorf("gov user ARN %s", *id.Arn)
	}
	_, err = e.stsIn("us-west-2", govKeys).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, 403, "InvalidClientTokenId", invalidTok)
	_, err = e.stsIn("cn-north-1", awsAdminKeys).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, 403, "InvalidClientTokenId", invalidTok)
	_, err = e.signerIn(govRegion, awsAdminKeys).GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: aws.String("gov_signer"), ProfileOwner: aws.String("333333333333")})
	wantAPIError(t, err, 403, "UnrecognizedClientException", invalidTok)
	_, err = ecr.New(ecr.Options{Region: govRegion, Credentials: static(awsAdminKeys), BaseEndpoint: aws.String(e.URL), RetryMaxAttempts: 1}).
		GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	wantAPIError(t, err, 403, "UnrecognizedClientException", invalidTok)

	// Sessions inherit the role's partition.
	out, err := e.stsIn(govRegion, govKeys).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(govRoleARN), RoleSessionName: aws.String("gov-sess")})
	if err != nil {
		t.Fatal(err)
	}
	if got := *out.AssumedRoleUser.Arn; got != "arn:aws-us-gov:sts::333333333333:assumed-role/gov-role/gov-sess" {
		t.Errorf("session ARN %s", got)
	}
	sess := aws.Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey, SessionToken: *out.Credentials.SessionToken}
	_, err = e.stsIn("us-east-1", sess).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, 403, "InvalidClientTokenId", invalidTok)
	if _, err := e.signerIn(govRegion, sess).GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: aws.String("gov_signer")}); err != nil {
		t.Errorf("gov session in its partition: %v", err)
	}

	// The trust policy names account 111111111111, but that account's STS
	// is in partition aws and cannot hand out a role of aws-us-gov.
	_, err = e.stsIn("us-west-2", awsAdminKeys).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(govRoleARN), RoleSessionName: aws.String("gov-sess")})
	wantAPIError(t, err, 403, "AccessDenied", "User: arn:aws:iam::111111111111:user/admin is not authorized to perform: sts:AssumeRole on resource: "+govRoleARN)

	// Signing in the account's partition gives ARNs of that partition.
	so, err := e.signerIn(govRegion, govKeys).SignPayload(ctx, &signer.SignPayloadInput{ProfileName: aws.String("gov_signer"),
		Payload: notaryPayload(t), PayloadFormat: aws.String(payloadType)})
	if err != nil {
		t.Fatal(err)
	}
	if got := so.Metadata[emulator.MetadataSigningJob]; !strings.HasPrefix(got, "arn:aws-us-gov:signer:us-gov-west-1:333333333333:/signing-jobs/") {
		t.Errorf("job ARN %s", got)
	}

	// Revocation checks stay partition-isolated: a gov caller asking about
	// an aws signature gets ValidationException (aws.md §1.4).
	_, err = e.signerIn(govRegion, govKeys).GetRevocationStatus(ctx, &signer.GetRevocationStatusInput{
		SignatureTimestamp: aws.Time(e.clock.Now()), PlatformId: aws.String("Notation-OCI-SHA384-ECDSA"),
		ProfileVersionArn: aws.String("arn:aws:signer:us-west-2:111111111111:/signing-profiles/release_signer/abcdefghij"),
		JobArn:            aws.String("arn:aws:signer:us-west-2:111111111111:/signing-jobs/00000000-0000-0000-0000-000000000000"),
		CertificateHashes: []string{"ab"}})
	wantAPIError(t, err, 400, "ValidationException", "Cross-partition revocation checks are not supported: the request is in partition aws-us-gov")
}

// TestPartitionExampleWorld: a world in one partition is confined to it
// without saying so.
func TestPartitionExampleWorld(t *testing.T) {
	t.Parallel()
	e := start(t)
	_, err := e.stsIn("cn-north-1", ciKeys).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, 403, "InvalidClientTokenId", invalidTok)
	_, err = e.stsIn("nowhere", ciKeys).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, 403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region, not 'nowhere'. ")
}

// TestPartitionLegacyWorld: a world that puts one account's profiles in
// several partitions and sets no "partition" (written before the field
// existed) keeps its old meaning: the account works everywhere, ARNs in aws.
func TestPartitionLegacyWorld(t *testing.T) {
	t.Parallel()
	world := strings.Replace(strings.Replace(partitionWorld, `"partition": "aws-us-gov",`, "", 1),
		`"signingProfiles": [{"name": "release_signer", "region": "us-west-2"}]`,
		`"signingProfiles": [{"name": "release_signer", "region": "us-west-2"}, {"name": "gov_signer", "region": "us-gov-west-1"}]`, 1)
	e := startWorld(t, world)
	id, err := e.stsIn(govRegion, awsAdminKeys).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *id.Arn != "arn:aws:iam::111111111111:user/admin" {
		t.Errorf("ARN %s", *id.Arn)
	}
}

func TestPartitionWorldValidation(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ from, to, want string }{
		"unknown partition": {`"partition": "aws-us-gov"`, `"partition": "aws-iso"`, `partition "aws-iso" must be`},
		"profile outside the account's partition": {`{"name": "release_signer", "region": "us-west-2"}`, `{"name": "release_signer", "region": "cn-north-1"}`,
			`accounts["111111111111"]: signingProfiles[0] is in region cn-north-1 of partition aws-cn, but the account is in partition aws`},
		"gov profile in an aws account": {`{"name": "gov_signer", "region": "us-gov-west-1"}`, `{"name": "gov_signer", "region": "us-east-1"}`,
			`signingProfiles[0] is in region us-east-1 of partition aws, but the account is in partition aws-us-gov`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(partitionWorld, c.from) {
				t.Fatalf("world has no %s", c.from)
			}
			_, err := emulator.ParseWorld([]byte(strings.Replace(partitionWorld, c.from, c.to, 1)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
}
