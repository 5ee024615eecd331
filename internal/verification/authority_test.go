package verification

import (
	"slices"
	"testing"
	"time"

	"github.com/xsigner/xsigner/internal/emulator/authority"
)

// TestCertificateHashesAgreeWithEmulator checks that the hashes the plugin
// sends are the ones the emulator's GetRevocationStatus compares against,
// for the emulator's own four-certificate AWS-like chain.
func TestCertificateHashesAgreeWithEmulator(t *testing.T) {
	t.Parallel()
	auth, err := authority.Open("", time.Now)
	if err != nil {
		t.Fatalf("authority.Open: %v", err)
	}
	_, chain, err := auth.Sign(authority.SignRequest{
		Region:            "eu-central-1",
		Payload:           []byte(`{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:00","size":1}}`),
		PayloadType:       "application/vnd.cncf.notary.payload.v1+json",
		SigningTime:       time.Now(),
		ProfileVersionARN: "arn:aws:signer:eu-central-1:111122223333:/signing-profiles/Prod_Images/a1b2c3d4e5",
		JobARN:            "arn:aws:signer:eu-central-1:111122223333:/signing-jobs/j-1",
	})
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if got, want := CertificateHashes(chain), authority.CertificateHashes(chain); !slices.Equal(got, want) {
		t.Errorf("CertificateHashes = %q, emulator computes %q", got, want)
	}
}
