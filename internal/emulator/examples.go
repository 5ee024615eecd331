package emulator

import _ "embed" // for the example world files

// The example world files of testdata, embedded so that tests of other
// packages (and the README) use exactly what this package tests.
var (
	//go:embed testdata/world-two-accounts.json
	exampleTwoAccounts []byte
	//go:embed testdata/world-web-identity.json
	exampleWebIdentity []byte
)

// ExampleWorldTwoAccounts returns testdata/world-two-accounts.json: account
// 111111111111 owns signing profile release_signer (us-west-2), user admin
// (signer:*) and role xsigner-signer, trusted by account 222222222222's role
// codebuild-ci with external id xsigner-release-7f3a; account 222222222222
// has user ci (may assume codebuild-ci) and role codebuild-ci (may assume
// xsigner-signer, and sign cross-account through the profile permission).
func ExampleWorldTwoAccounts() []byte { return append([]byte(nil), exampleTwoAccounts...) }

// ExampleWorldWebIdentity returns testdata/world-web-identity.json: the two
// accounts plus OIDC provider https://oidc.xsigner.example (audience
// sts.amazonaws.com), trusted by codebuild-ci for subjects repo:xsigner/*.
func ExampleWorldWebIdentity() []byte { return append([]byte(nil), exampleWebIdentity...) }
