package verify_test

// The emulated AWS the verification tests run against. It is the example
// world's account A (user admin with signer:*, profile release_signer in
// us-west-2) plus what verifying needs: a second-region profile, in the
// deploy account B one identity per way of reaching GetRevocationStatus,
// and a GovCloud account G. As in AWS, an account belongs to one partition
// and its credentials are unknown in the others, so an aws-us-gov signature
// is made and checked by identities of an aws-us-gov account:
//
//	account A 111111111111 (profile owner, partition aws)
//	  user admin                 signer:* on *: signs, revokes, checks revocation
//	  role revocation-checker    trusts B's deployer; signer:GetRevocationStatus only
//	  role signer-only           trusts B's deployer; signer:GetSigningProfile only (no revocation check)
//	  profile release_signer     us-west-2
//	  profile eu_signer          eu-west-1
//	account B 222222222222 (the deploy account, where images are verified, partition aws)
//	  user verifier              signer:GetRevocationStatus on * (allowed: the action has no resource)
//	  user deployer              sts:AssumeRole on A's two roles, no Signer permission of its own
//	account G 333333333333 (partition aws-us-gov)
//	  user gov-signer            signer:SignPayload on gov_signer only
//	  user gov-verifier          signer:GetRevocationStatus on *
//	  profile gov_signer         us-gov-west-1
const (
	acctA      = "111111111111"
	acctB      = "222222222222"
	regionUS   = "us-west-2"
	regionEU   = "eu-west-1"
	releaseV   = "arn:aws:signer:us-west-2:111111111111:/signing-profiles/release_signer"
	euProfile  = "arn:aws:signer:eu-west-1:111111111111:/signing-profiles/eu_signer"
	govProfile = "arn:aws-us-gov:signer:us-gov-west-1:333333333333:/signing-profiles/gov_signer"

	checkerRole    = "arn:aws:iam::111111111111:role/revocation-checker"
	signerOnlyRole = "arn:aws:iam::111111111111:role/signer-only"
	verifierARN    = "arn:aws:iam::222222222222:user/verifier"
	deployerARN    = "arn:aws:iam::222222222222:user/deployer"
	adminARN       = "arn:aws:iam::111111111111:user/admin"
	govVerifierARN = "arn:aws-us-gov:iam::333333333333:user/gov-verifier"
)

// identity is a pair of base credentials, given to a process in the
// environment as the SDK default chain reads them.
type identity struct{ keyID, secret string }

var (
	admin    = identity{"AKIAADMIN1111111EXMP", "admin-secret-111111111111-example-key000"}
	verifier = identity{"AKIAVERIFIER2222EXMP", "verifier-secret-222222222222-example-000"}
	deployer = identity{"AKIADEPLOYER2222EXMP", "deployer-secret-222222222222-example-000"}

	govSigner   = identity{"AKIAGOVSIGNER333EXMP", "gov-signer-secret-333333333333-example-0"}
	govVerifier = identity{"AKIAGOVVERIFY333EXMP", "gov-verifier-secret-333333333333-example"}
)

const world = `{
  "accounts": {
    "111111111111": {
      "users": {
        "admin": {
          "accessKeys": [{"accessKeyId": "AKIAADMIN1111111EXMP", "secretAccessKey": "admin-secret-111111111111-example-key000"}],
          "policies": [{"Version": "2012-10-17", "Statement": [
            {"Sid": "ManageSigner", "Effect": "Allow", "Action": "signer:*", "Resource": "*"}
          ]}]
        }
      },
      "roles": {
        "revocation-checker": {
          "trustPolicy": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:user/deployer"}, "Action": "sts:AssumeRole"
          }]},
          "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "signer:GetRevocationStatus", "Resource": "*"}
          ]}]
        },
        "signer-only": {
          "trustPolicy": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:user/deployer"}, "Action": "sts:AssumeRole"
          }]},
          "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "signer:GetSigningProfile", "Resource": "*"}
          ]}]
        }
      },
      "signingProfiles": [
        {"name": "release_signer", "region": "us-west-2", "signatureValidityPeriod": {"value": 135, "type": "MONTHS"}},
        {"name": "eu_signer", "region": "eu-west-1"}
      ]
    },
    "222222222222": {
      "users": {
        "verifier": {
          "accessKeys": [{"accessKeyId": "AKIAVERIFIER2222EXMP", "secretAccessKey": "verifier-secret-222222222222-example-000"}],
          "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "signer:GetRevocationStatus", "Resource": "*"}
          ]}]
        },
        "deployer": {
          "accessKeys": [{"accessKeyId": "AKIADEPLOYER2222EXMP", "secretAccessKey": "deployer-secret-222222222222-example-000"}],
          "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": [
              "arn:aws:iam::111111111111:role/revocation-checker", "arn:aws:iam::111111111111:role/signer-only"
            ]}
          ]}]
        }
      }
    },
    "333333333333": {
      "partition": "aws-us-gov",
      "users": {
        "gov-signer": {
          "accessKeys": [{"accessKeyId": "AKIAGOVSIGNER333EXMP", "secretAccessKey": "gov-signer-secret-333333333333-example-0"}],
          "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "signer:SignPayload", "Resource": "arn:aws-us-gov:signer:us-gov-west-1:333333333333:/signing-profiles/gov_signer"}
          ]}]
        },
        "gov-verifier": {
          "accessKeys": [{"accessKeyId": "AKIAGOVVERIFY333EXMP", "secretAccessKey": "gov-verifier-secret-333333333333-example"}],
          "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "signer:GetRevocationStatus", "Resource": "*"}
          ]}]
        }
      },
      "signingProfiles": [
        {"name": "gov_signer", "region": "us-gov-west-1"}
      ]
    }
  }
}`
