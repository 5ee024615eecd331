package sign_test

// The emulated AWS the signing tests run against. It extends the example
// world (emulator.ExampleWorldTwoAccounts: ci user in account B, role
// codebuild-ci, role xsigner-signer in account A trusting codebuild-ci with
// ExternalId xsigner-release-7f3a) with one identity per way of signing:
//
//	account A 111111111111 (profile owner, us-west-2)
//	  user releaser        same-account signing; may sign with and read any profile
//	  role xsigner-signer  trusts codebuild-ci with ExternalId (the documented two-role chain)
//	  role direct-signer   trusts user ci, no ExternalId (one role)
//	  role direct-ext      trusts user ci with ExternalId direct-7f3a (one role + ExternalId)
//	  role chain-noext     trusts codebuild-ci, no ExternalId (two-role chain without ExternalId)
//	  profile release_signer  permission for role codebuild-ci
//	  profile shared_signer   permission for the whole account B (profile permission only, no role)
//	  profile locked_signer   no permissions: nobody outside account A may sign
//	account B 222222222222 (the CI account)
//	  user ci              may assume codebuild-ci and A's roles, may sign with shared_signer and locked_signer
//	  role codebuild-ci    trusts ci, sessions up to 2h; may assume xsigner-signer and chain-noext, sign with release_signer
const (
	region = "us-west-2"
	acctA  = "111111111111"
	acctB  = "222222222222"

	ciKeyID       = "AKIACIUSER222222EXMP"
	ciSecret      = "ci-secret-222222222222-example-key000000"
	releaserKeyID = "AKIARELEASER1111EXMP"
	releaserSec   = "releaser-secret-111111111111-example-000"

	ciUserARN       = "arn:aws:iam::222222222222:user/ci"
	releaserARN     = "arn:aws:iam::111111111111:user/releaser"
	codebuildRole   = "arn:aws:iam::222222222222:role/codebuild-ci"
	signerRole      = "arn:aws:iam::111111111111:role/xsigner-signer"
	directRole      = "arn:aws:iam::111111111111:role/direct-signer"
	directExtRole   = "arn:aws:iam::111111111111:role/direct-ext"
	chainNoExtRole  = "arn:aws:iam::111111111111:role/chain-noext"
	chainExternalID = "xsigner-release-7f3a"
	directExtID     = "direct-7f3a"

	releaseProfile = "arn:aws:signer:us-west-2:111111111111:/signing-profiles/release_signer"
	sharedProfile  = "arn:aws:signer:us-west-2:111111111111:/signing-profiles/shared_signer"
	lockedProfile  = "arn:aws:signer:us-west-2:111111111111:/signing-profiles/locked_signer"
	missingProfile = "arn:aws:signer:us-west-2:111111111111:/signing-profiles/no_such_profile"
)

const world = `{
  "accounts": {
    "111111111111": {
      "users": {
        "releaser": {
          "accessKeys": [{"accessKeyId": "AKIARELEASER1111EXMP", "secretAccessKey": "releaser-secret-111111111111-example-000"}],
          "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["signer:SignPayload", "signer:GetSigningProfile"], "Resource": "*"}
          ]}]
        }
      },
      "roles": {
        "xsigner-signer": {
          "maxSessionDuration": 7200,
          "trustPolicy": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:role/codebuild-ci"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "xsigner-release-7f3a"}}
          }]},
          "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "signer:SignPayload", "Resource": "arn:aws:signer:us-west-2:111111111111:/signing-profiles/release_signer"}
          ]}]
        },
        "direct-signer": {
          "trustPolicy": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:user/ci"}, "Action": "sts:AssumeRole"
          }]},
          "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "signer:SignPayload", "Resource": "arn:aws:signer:us-west-2:111111111111:/signing-profiles/release_signer"}
          ]}]
        },
        "direct-ext": {
          "trustPolicy": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:user/ci"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "direct-7f3a"}}
          }]},
          "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "signer:SignPayload", "Resource": "arn:aws:signer:us-west-2:111111111111:/signing-profiles/release_signer"}
          ]}]
        },
        "chain-noext": {
          "trustPolicy": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:role/codebuild-ci"}, "Action": "sts:AssumeRole"
          }]},
          "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "signer:SignPayload", "Resource": "arn:aws:signer:us-west-2:111111111111:/signing-profiles/release_signer"}
          ]}]
        }
      },
      "signingProfiles": [
        {"name": "release_signer", "region": "us-west-2", "signatureValidityPeriod": {"value": 135, "type": "MONTHS"},
         "permissions": [{"statementId": "ci-sign", "action": "signer:SignPayload", "principal": "arn:aws:iam::222222222222:role/codebuild-ci"}]},
        {"name": "shared_signer", "region": "us-west-2",
         "permissions": [{"statementId": "account-b", "action": "signer:SignPayload", "principal": "222222222222"}]},
        {"name": "locked_signer", "region": "us-west-2"}
      ]
    },
    "222222222222": {
      "users": {
        "ci": {
          "accessKeys": [{"accessKeyId": "AKIACIUSER222222EXMP", "secretAccessKey": "ci-secret-222222222222-example-key000000"}],
          "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": [
              "arn:aws:iam::222222222222:role/codebuild-ci",
              "arn:aws:iam::111111111111:role/direct-signer",
              "arn:aws:iam::111111111111:role/direct-ext",
              "arn:aws:iam::111111111111:role/xsigner-signer"
            ]},
            {"Effect": "Allow", "Action": "signer:SignPayload", "Resource": [
              "arn:aws:signer:us-west-2:111111111111:/signing-profiles/shared_signer",
              "arn:aws:signer:us-west-2:111111111111:/signing-profiles/locked_signer"
            ]}
          ]}]
        }
      },
      "roles": {
        "codebuild-ci": {
          "maxSessionDuration": 7200,
          "trustPolicy": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:user/ci"}, "Action": "sts:AssumeRole"
          }]},
          "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": [
              "arn:aws:iam::111111111111:role/xsigner-signer", "arn:aws:iam::111111111111:role/chain-noext"
            ]},
            {"Effect": "Allow", "Action": "signer:SignPayload", "Resource": [
              "arn:aws:signer:us-west-2:111111111111:/signing-profiles/release_signer",
              "arn:aws:signer:us-west-2:111111111111:/signing-profiles/locked_signer"
            ]}
          ]}]
        }
      }
    }
  }
}`
