package verification

import (
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
)

// CertificateHashes returns the certificateHashes GetRevocationStatus expects
// for chain (leaf first, root last): entry i is hex(SHA-384(TBS_i)) followed by
// hex(SHA-384(TBS_i+1)), the hash of the certificate and of its issuer; the
// root is its own issuer, so the last entry is h(root)+h(root). Hex is lower
// case, 192 characters per entry (research aws.md §1.4; same construction as
// the AWS Signer plugin's hashCertificates).
func CertificateHashes(chain []*x509.Certificate) []string {
	if len(chain) == 0 {
		return nil
	}
	h := make([]string, len(chain))
	for i, c := range chain {
		sum := sha512.Sum384(c.RawTBSCertificate)
		h[i] = hex.EncodeToString(sum[:])
	}
	out := make([]string, len(chain))
	for i := range chain {
		issuer := h[len(h)-1]
		if i+1 < len(h) {
			issuer = h[i+1]
		}
		out[i] = h[i] + issuer
	}
	return out
}
