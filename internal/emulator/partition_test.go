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

// TestPartitionSpanningWorldRefused: a world that puts one account's
// signing profiles or repositories in several partitions is refused at load,
// whether or not it sets "partition" (AWS has no account that spans
// partitions, and the emulator has no mode that pretends otherwise). The
// message names the place and says how to fix it.
func TestPartitionSpanningWorldRefused(t *testing.T) {
	t.Parallel()
	// partitionWorld without the gov account's "partition" field, its gov
	// profile moved into the aws account: no account sets a partition.
	noPartition := strings.Replace(strings.Replace(partitionWorld, `"partition": "aws-us-gov",`, "", 1),
		`"signingProfiles": [{"name": "release_signer", "region": "us-west-2"}]`,
		`"signingProfiles": [{"name": "release_signer", "region": "us-west-2"}, {"name": "gov_signer", "region": "us-gov-west-1"}]`, 1)
	noPartition = strings.Replace(noPartition, `"signingProfiles": [{"name": "gov_signer", "region": "us-gov-west-1"}]`, `"signingProfiles": []`, 1)
	cases := map[string]struct{ world, want string }{
		"profiles in aws and aws-us-gov, no partition set": {noPartition,
			`invalid world file: accounts["111111111111"].signingProfiles[1]: region us-gov-west-1 is in partition aws-us-gov, but the account sets no "partition", so it is in partition aws ` +
				`(an AWS account belongs to one partition: set "partition": "aws-us-gov" on the account, or move the resource to an account of partition aws-us-gov)`},
		"repository in aws-cn, no partition set": {`{"accounts": {"111111111111": {"repositories": {"team/app": {"region": "cn-northwest-1"}}}}}`,
			`invalid world file: accounts["111111111111"].repositories["team/app"]: region cn-northwest-1 is in partition aws-cn, but the account sets no "partition", so it is in partition aws ` +
				`(an AWS account belongs to one partition: set "partition": "aws-cn" on the account, or move the resource to an account of partition aws-cn)`},
		"repository in aws, account in aws-us-gov": {`{"accounts": {"333333333333": {"partition": "aws-us-gov", "repositories": {"team/app": {"region": "us-east-1"}}}}}`,
			`invalid world file: accounts["333333333333"].repositories["team/app"]: region us-east-1 is in partition aws, but the account is in partition aws-us-gov ` +
				`(an AWS account belongs to one partition: set "partition": "aws" on the account, or move the resource to an account of partition aws)`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := emulator.ParseWorld([]byte(c.world))
			if err == nil || err.Error() != c.want {
				t.Errorf("ParseWorld error\n got: %v\nwant: %s", err, c.want)
			}
		})
	}
	// The same world with each profile in an account of its partition loads.
	if _, err := emulator.ParseWorld([]byte(partitionWorld)); err != nil {
		t.Errorf("the partitioned world is refused: %v", err)
	}
}

func TestPartitionWorldValidation(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ from, to, want string }{
		"unknown partition": {`"partition": "aws-us-gov"`, `"partition": "aws-iso"`, `partition "aws-iso" must be`},
		"profile outside the account's partition": {`{"name": "release_signer", "region": "us-west-2"}`, `{"name": "release_signer", "region": "cn-north-1"}`,
			`accounts["111111111111"].signingProfiles[0]: region cn-north-1 is in partition aws-cn, but the account sets no "partition", so it is in partition aws`},
		"gov profile in an aws account": {`{"name": "gov_signer", "region": "us-gov-west-1"}`, `{"name": "gov_signer", "region": "us-east-1"}`,
			`accounts["333333333333"].signingProfiles[0]: region us-east-1 is in partition aws, but the account is in partition aws-us-gov`},
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
