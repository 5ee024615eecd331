package emulator_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/signer"

	"github.com/xsigner/xsigner/internal/emulator"
	"github.com/xsigner/xsigner/internal/emulator/emulatortest"
)

// TestStateDirSurvivesRestart changes state through the API, restarts the
// emulator on the same state dir and checks that profiles, permissions,
// revocations and the CA are still there.
func TestStateDirSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	world, err := emulator.ParseWorld([]byte(exampleWorld(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	boot := func() (*env, func()) {
		em, err := emulator.New(world, emulator.Options{StateDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(em)
		srv := &env{clock: &testClock{}}
		srv.Server = &emulatortest.Server{URL: hs.URL, Emulator: em}
		return srv, func() { em.Close(); hs.Close() }
	}

	first, stop := boot()
	admin := first.signer(adminKeys)
	put, err := admin.PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: aws.String("kept_signer"), PlatformId: aws.String("Notation-OCI-SHA384-ECDSA")})
	if err != nil {
		t.Fatal(err)
	}
	perm, err := admin.AddProfilePermission(ctx, &signer.AddProfilePermissionInput{ProfileName: aws.String("kept_signer"), Action: aws.String("signer:SignPayload"),
		Principal: aws.String(accountB), StatementId: aws.String("b")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := admin.SignPayload(ctx, signInput("", notaryPayload(t)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RevokeSignature(ctx, &signer.RevokeSignatureInput{JobId: out.JobId, Reason: aws.String("test")}); err != nil {
		t.Fatal(err)
	}
	in := revocationInput(t, out, time.Now())
	if err := first.RevokeCertificate(in.CertificateHashes[2]); err != nil {
		t.Fatal(err)
	}
	rootBefore := first.RootPEM()
	stop()
	if _, err := os.Stat(filepath.Join(dir, "emulator-state.json")); err != nil {
		t.Fatalf("state file: %v", err)
	}
	// Everything in the state dir (CA keys, state) is the owner's only, and
	// no temporary file is left behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range entries {
		info, err := de.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm()&0o077 != 0 || strings.Contains(de.Name(), "tmp") {
			t.Errorf("state dir entry %s has mode %v", de.Name(), info.Mode())
		}
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode: %v %v", info.Mode(), err)
	}

	second, stop2 := boot()
	defer stop2()
	if !bytes.Equal(second.RootPEM(), rootBefore) {
		t.Error("root CA changed across restart")
	}
	admin = second.signer(adminKeys)
	got, err := admin.GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: aws.String("kept_signer")})
	if err != nil || *got.ProfileVersion != *put.ProfileVersion {
		t.Fatalf("profile after restart: %v %v", got, err)
	}
	list, err := admin.ListProfilePermissions(ctx, &signer.ListProfilePermissionsInput{ProfileName: aws.String("kept_signer")})
	if err != nil || *list.RevisionId != *perm.RevisionId || len(list.Permissions) != 1 {
		t.Fatalf("permissions after restart: %+v %v", list, err)
	}
	res, err := second.signer(adminKeys).GetRevocationStatus(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !contains(res.RevokedEntities, *in.JobArn) || !contains(res.RevokedEntities, in.CertificateHashes[2]) {
		t.Errorf("revocations after restart: %v", res.RevokedEntities)
	}
	// The new instance signs with the same root.
	out2, err := admin.SignPayload(ctx, signInput("", notaryPayload(t)))
	if err != nil {
		t.Fatal(err)
	}
	verifyEnvelope(t, second, out2, notaryPayload(t))
}
