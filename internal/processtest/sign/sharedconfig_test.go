package sign_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignSharedConfig takes the base credentials from a shared-config
// profile (aws-profile) instead of the environment: static keys, the SDK's
// own role_arn/source_profile (which must also reach sts-endpoint-url; aws.md
// §0.2), and credential_process; then role-arn on top of a profile.
func TestSignSharedConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		config  string // ~/.aws/config; %s is a directory for helper scripts
		profile string
		keyID   string
		cfg     []string
		journal []step
	}{
		{
			name:    "static keys",
			config:  "[profile ci]\naws_access_key_id = " + ciKeyID + "\naws_secret_access_key = " + ciSecret + "\n",
			profile: "ci",
			keyID:   sharedProfile,
			journal: []step{{"SignPayload", 200, ciUserARN}},
		},
		{
			name: "SDK role_arn with source_profile",
			config: "[profile ci]\naws_access_key_id = " + ciKeyID + "\naws_secret_access_key = " + ciSecret + "\n" +
				"[profile signer]\nrole_arn = " + directRole + "\nsource_profile = ci\n",
			profile: "signer",
			keyID:   releaseProfile,
			journal: []step{{"AssumeRole", 200, ciUserARN}, {"SignPayload", 200, assumedRole(acctA, "direct-signer")}},
		},
		{
			name:    "credential_process",
			config:  "[profile proc]\ncredential_process = %s/creds.sh\n",
			profile: "proc",
			keyID:   sharedProfile,
			journal: []step{{"SignPayload", 200, ciUserARN}},
		},
		{
			name:    "role-arn chain on top of a profile",
			config:  "[profile ci]\naws_access_key_id = " + ciKeyID + "\naws_secret_access_key = " + ciSecret + "\n",
			profile: "ci",
			keyID:   releaseProfile,
			cfg:     []string{"role-arn=" + codebuildRole + "," + signerRole, "external-id=" + chainExternalID},
			journal: []step{
				{"AssumeRole", 200, ciUserARN},
				{"AssumeRole", 200, assumedRole(acctB, "codebuild-ci")},
				{"SignPayload", 200, assumedRole(acctA, "xsigner-signer")},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, world, identity{})
			dir := t.TempDir()
			script := fmt.Sprintf("#!/bin/sh\nprintf '{\"Version\":1,\"AccessKeyId\":\"%s\",\"SecretAccessKey\":\"%s\"}'\n", ciKeyID, ciSecret)
			write(t, filepath.Join(dir, "creds.sh"), []byte(script), 0o700)
			cfgFile := filepath.Join(dir, "config")
			body := tc.config
			if strings.Contains(body, "%s") {
				body = fmt.Sprintf(body, dir)
			}
			write(t, cfgFile, []byte(body), 0o600)
			// No base keys in the environment: only the profile supplies them.
			f.env = append(f.env, "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_CONFIG_FILE="+cfgFile)
			cfg := f.config(append([]string{"aws-profile=" + tc.profile}, tc.cfg...)...)
			f.sign(t, request(t, tc.keyID, artifact(nil), cfg))
			checkJournal(t, f.emu.Calls(), tc.journal)
		})
	}
}

// TestSignCredentialProcessGarbage: a credential_process whose output is not
// credentials JSON (here, truncated JSON holding a secret) fails the sign
// with an error that does not quote the output.
func TestSignCredentialProcessGarbage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, world, identity{})
	dir := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\nprintf '{\"Version\":1,\"AccessKeyId\":\"%s\",\"SecretAccessKey\":\"%s\"'\n", ciKeyID, ciSecret)
	write(t, filepath.Join(dir, "creds.sh"), []byte(script), 0o700)
	cfgFile := filepath.Join(dir, "config")
	write(t, cfgFile, []byte("[profile proc]\ncredential_process = "+dir+"/creds.sh\n"), 0o600)
	f.env = append(f.env, "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_CONFIG_FILE="+cfgFile)
	logPath := filepath.Join(t.TempDir(), "debug.log")
	res := f.run(t, request(t, sharedProfile, artifact(nil), f.config("aws-profile=proc", "debug-log="+logPath)))
	e := res.Failed(t)
	if !strings.Contains(e.Message, "credential_process") || !strings.Contains(e.Message, `"proc"`) {
		t.Errorf("message does not say the credential_process of profile proc failed: %s", e.Message)
	}
	for name, text := range map[string][]byte{"stdout/stderr": []byte(res.Stdout + res.Stderr), "debug log": readFile(t, logPath)} {
		if _, found := containsAny(text, []string{ciSecret}); found {
			t.Errorf("%s quotes the credential_process output with its secret", name)
		}
	}
	if calls := f.emu.Calls(); len(calls) != 0 {
		t.Errorf("AWS was called without credentials:%s", journal(calls))
	}
}
