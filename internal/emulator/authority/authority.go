// Package authority is the emulator's AWS-Signer-like certificate authority:
// a root CA, an intermediate CA and one issuing CA per region, all ECDSA
// P-384, that issue a fresh P-384 leaf for every signature and wrap the
// Notary payload in a JWS envelope shaped like a real AWS Signer signature
// (aws.md §3): scheme notary.x509.signingAuthority, alg ES384, the
// authenticSigningTime, an optional expiry, and the critical extended
// attributes io.cncf.notary.verificationPlugin,
// com.amazonaws.signer.signingProfileVersion and
// com.amazonaws.signer.signingJob. Subjects say "xsigner emulator" so the
// certificates cannot be mistaken for AWS ones. No certificate carries OCSP
// or CRL URLs: revocation is GetRevocationStatus's job.
package authority

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/jws"
)

// PayloadType is the only payload type AWS Signer signs.
const PayloadType = "application/vnd.cncf.notary.payload.v1+json"

// Signed attribute names and the verification plugin AWS Signer envelopes
// name (aws.md §3).
const (
	AttrVerificationPlugin    = "io.cncf.notary.verificationPlugin"
	AttrSigningProfileVersion = "com.amazonaws.signer.signingProfileVersion"
	AttrSigningJob            = "com.amazonaws.signer.signingJob"
	VerificationPlugin        = "com.amazonaws.signer.notation.plugin"
)

// Validity periods. The leaf mirrors AWS (~3 days, aws.md §3); the leaf
// starts a minute before the signing time to absorb clock skew.
const (
	leafBackdate     = time.Minute
	leafValidity     = 72 * time.Hour
	regionalValidity = 365 * 24 * time.Hour
	caBackdate       = time.Hour
	// The root and intermediate start a year back so that signatures with
	// signing times somewhat in the past (fake clocks in tests) still fall
	// inside every certificate of the chain.
	rootBackdate         = 365 * 24 * time.Hour
	rootValidity         = 100 * 365 * 24 * time.Hour
	intermediateValidity = 10 * 365 * 24 * time.Hour
)

const (
	rootFile         = "ca-root.pem"
	intermediateFile = "ca-intermediate.pem"
	regionFilePrefix = "ca-region-"
)

// regionPattern matches AWS region names (us-east-1, us-gov-west-1,
// ap-southeast-2); it also keeps region names safe as file names.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

// issuer is a CA certificate with its private key.
type issuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// Authority issues leaf certificates and signs Notary envelopes. It is safe
// for concurrent use.
type Authority struct {
	dir          string
	now          func() time.Time
	root         issuer
	intermediate issuer
	rootPEM      []byte

	mu      sync.RWMutex
	regions map[string]*issuer
}

// Open loads the CA keys and certificates from stateDir, creating and
// storing the missing ones (directory 0700, PEM files 0600, holding the
// certificate and its PKCS#8 key). stateDir "" gives an ephemeral in-memory
// CA. now is the clock used to date new CA certificates (nil: time.Now).
func Open(stateDir string, now func() time.Time) (*Authority, error) {
	if now == nil {
		now = time.Now
	}
	a := &Authority{dir: stateDir, now: now, regions: map[string]*issuer{}}
	if stateDir != "" {
		if err := os.MkdirAll(stateDir, 0o700); err != nil {
			return nil, fmt.Errorf("creating CA state directory: %w", err)
		}
		// The directory holds private keys.
		if err := os.Chmod(stateDir, 0o700); err != nil {
			return nil, fmt.Errorf("restricting CA state directory: %w", err)
		}
	}
	t := now().UTC()
	root, err := a.loadOrCreate(rootFile, nil, func() (*issuer, error) {
		return newCA(caSubject("xsigner emulator Signer Code Signing Root CA G1"), t.Add(-rootBackdate), t.Add(rootValidity), -1, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("root CA: %w", err)
	}
	a.root = *root
	inter, err := a.loadOrCreate(intermediateFile, root, func() (*issuer, error) {
		return newCA(caSubject("xsigner emulator Signer Code Signing Int CA G1"), t.Add(-rootBackdate), t.Add(intermediateValidity), 1, root)
	})
	if err != nil {
		return nil, fmt.Errorf("intermediate CA: %w", err)
	}
	a.intermediate = *inter
	a.rootPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.cert.Raw})
	return a, nil
}

// RootPEM is the root certificate in PEM, for a signingAuthority trust store.
func (a *Authority) RootPEM() []byte { return bytes.Clone(a.rootPEM) }

// Root is the self-signed root certificate.
func (a *Authority) Root() *x509.Certificate { return a.root.cert }

// SignRequest is what Signer SignPayload needs to produce an envelope.
type SignRequest struct {
	Region string
	// Payload is the Notary payload JSON ({"targetArtifact":...}) as received.
	Payload []byte
	// PayloadType must be PayloadType.
	PayloadType string
	// SigningTime is the authenticSigningTime (truncated to the second).
	SigningTime time.Time
	// Expiry is the signature expiry; zero means none.
	Expiry time.Time
	// ProfileVersionARN becomes com.amazonaws.signer.signingProfileVersion.
	ProfileVersionARN string
	// JobARN becomes com.amazonaws.signer.signingJob.
	JobARN string
}

// Sign returns the JWS envelope (flattened JSON serialization) and its
// certificate chain, leaf first, root last.
func (a *Authority) Sign(req SignRequest) ([]byte, []*x509.Certificate, error) {
	if err := validate(&req); err != nil {
		return nil, nil, err
	}
	signingTime := req.SigningTime.UTC().Truncate(time.Second)
	regional, err := a.regionCA(req.Region, signingTime)
	if err != nil {
		return nil, nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating leaf key: %w", err)
	}
	leaf, err := issue(&x509.Certificate{
		Subject: pkix.Name{
			CommonName: "xsigner emulator Signer", OrganizationalUnit: []string{"xsigner emulator Cryptography"},
			Organization: []string{"xsigner emulator"}, Locality: []string{"Seattle"}, Province: []string{"WA"}, Country: []string{"US"},
		},
		NotBefore:             signingTime.Add(-leafBackdate),
		NotAfter:              signingTime.Add(leafValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
	}, &leafKey.PublicKey, regional)
	if err != nil {
		return nil, nil, fmt.Errorf("issuing leaf certificate: %w", err)
	}
	chain := []*x509.Certificate{leaf, regional.cert, a.intermediate.cert, a.root.cert}
	localSigner, err := signature.NewLocalSigner(chain, leafKey)
	if err != nil {
		return nil, nil, fmt.Errorf("creating leaf signer: %w", err)
	}
	env, err := signature.NewEnvelope(jws.MediaTypeEnvelope)
	if err != nil {
		return nil, nil, fmt.Errorf("creating JWS envelope: %w", err)
	}
	var expiry time.Time
	if !req.Expiry.IsZero() {
		expiry = req.Expiry.UTC().Truncate(time.Second)
	}
	envelope, err := env.Sign(&signature.SignRequest{
		Payload:       signature.Payload{ContentType: req.PayloadType, Content: req.Payload},
		Signer:        localSigner,
		SigningTime:   signingTime,
		Expiry:        expiry,
		SigningScheme: signature.SigningSchemeX509SigningAuthority,
		ExtendedSignedAttributes: []signature.Attribute{
			{Key: AttrVerificationPlugin, Critical: true, Value: VerificationPlugin},
			{Key: AttrSigningProfileVersion, Critical: true, Value: req.ProfileVersionARN},
			{Key: AttrSigningJob, Critical: true, Value: req.JobARN},
		},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("signing envelope: %w", err)
	}
	// notation-core-go re-encodes the payload (it goes through a JSON map):
	// make sure nothing but the byte layout changed, e.g. no number lost
	// precision, since notation compares the descriptor it asked for.
	if err := samePayload(envelope, req.Payload); err != nil {
		return nil, nil, err
	}
	return envelope, chain, nil
}

func validate(req *SignRequest) error {
	switch {
	case !regionPattern.MatchString(req.Region):
		return fmt.Errorf("invalid region %q", req.Region)
	case req.PayloadType != PayloadType:
		return fmt.Errorf("unsupported payload type %q, want %q", req.PayloadType, PayloadType)
	case len(req.Payload) == 0:
		return errors.New("empty payload")
	case req.SigningTime.IsZero():
		return errors.New("missing signing time")
	case !req.Expiry.IsZero() && !req.Expiry.Truncate(time.Second).After(req.SigningTime.Truncate(time.Second)):
		return fmt.Errorf("expiry %s is not after signing time %s", req.Expiry.UTC().Format(time.RFC3339), req.SigningTime.UTC().Format(time.RFC3339))
	case req.ProfileVersionARN == "":
		return errors.New("missing signing profile version ARN")
	case req.JobARN == "":
		return errors.New("missing signing job ARN")
	}
	return nil
}

// CertificateHashes returns the GetRevocationStatus certificateHashes of a
// chain (leaf first): entry i is hex(SHA-384(TBS of chain[i])) followed by
// hex(SHA-384(TBS of chain[i+1])); the root is its own issuer (aws.md §1.4).
func CertificateHashes(chain []*x509.Certificate) []string {
	hashes := make([]string, len(chain))
	for i, cert := range chain {
		parent := cert
		if i+1 < len(chain) {
			parent = chain[i+1]
		}
		hashes[i] = tbsHash(cert) + tbsHash(parent)
	}
	return hashes
}

func tbsHash(cert *x509.Certificate) string {
	sum := sha512.Sum384(cert.RawTBSCertificate)
	return hex.EncodeToString(sum[:])
}

// regionCA returns the issuing CA of region, creating (or rotating) it when
// it does not cover the leaf validity around signingTime.
func (a *Authority) regionCA(region string, signingTime time.Time) (*issuer, error) {
	from, to := signingTime.Add(-leafBackdate), signingTime.Add(leafValidity)
	covers := func(ca *issuer) bool {
		return ca != nil && !from.Before(ca.cert.NotBefore) && !to.After(ca.cert.NotAfter)
	}
	a.mu.RLock()
	ca := a.regions[region]
	a.mu.RUnlock()
	if covers(ca) {
		return ca, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if ca := a.regions[region]; covers(ca) {
		return ca, nil
	}
	for _, c := range []*x509.Certificate{a.root.cert, a.intermediate.cert} {
		if from.Before(c.NotBefore) || to.After(c.NotAfter) {
			return nil, fmt.Errorf("signing time %s is outside the validity of %q (%s to %s)",
				signingTime.Format(time.RFC3339), c.Subject.CommonName, c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339))
		}
	}
	name := regionFilePrefix + region + ".pem"
	if a.dir != "" {
		stored, err := a.load(name, &a.intermediate)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("regional CA %s: %w", region, err)
		}
		if err == nil && covers(stored) {
			a.regions[region] = stored
			return stored, nil
		}
	}
	start := a.now().UTC()
	if signingTime.Before(start) || start.Add(regionalValidity).Before(to) {
		// Signing times in the past (or far ahead, with a fake clock) get a
		// CA dated from the signing time.
		start = signingTime
	}
	notAfter := start.Add(regionalValidity)
	if notAfter.After(a.intermediate.cert.NotAfter) {
		notAfter = a.intermediate.cert.NotAfter
	}
	subject := caSubject(fmt.Sprintf("xsigner emulator Signer %s Code Signing CA G1", region))
	created, err := newCA(subject, start.Add(-caBackdate), notAfter, 0, &a.intermediate)
	if err != nil {
		return nil, fmt.Errorf("regional CA %s: %w", region, err)
	}
	if !covers(created) {
		return nil, fmt.Errorf("regional CA %s cannot cover signing time %s", region, signingTime.Format(time.RFC3339))
	}
	if a.dir != "" {
		if err := a.store(name, created, true); err != nil {
			return nil, fmt.Errorf("regional CA %s: %w", region, err)
		}
	}
	a.regions[region] = created
	return created, nil
}

func caSubject(cn string) pkix.Name {
	return pkix.Name{
		CommonName: cn, OrganizationalUnit: []string{"xsigner emulator Cryptography"},
		Organization: []string{"xsigner emulator"}, Province: []string{"WA"}, Country: []string{"US"},
	}
}

// newCA creates a CA key and certificate. maxPathLen -1 leaves the path
// length unconstrained; parent nil makes it self-signed.
func newCA(subject pkix.Name, notBefore, notAfter time.Time, maxPathLen int, parent *issuer) (*issuer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	tmpl := &x509.Certificate{
		Subject:               subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            maxPathLen,
		MaxPathLenZero:        maxPathLen == 0,
	}
	self := &issuer{key: key}
	if parent == nil {
		parent = self
	}
	cert, err := issue(tmpl, &key.PublicKey, parent)
	if err != nil {
		return nil, err
	}
	self.cert = cert
	return self, nil
}

// issue signs tmpl for pub with parent (parent.cert nil: self-signed).
func issue(tmpl *x509.Certificate, pub *ecdsa.PublicKey, parent *issuer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating serial number: %w", err)
	}
	tmpl.SerialNumber = serial.Add(serial, big.NewInt(1))
	parentCert := parent.cert
	if parentCert == nil {
		parentCert = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, pub, parent.key)
	if err != nil {
		return nil, fmt.Errorf("creating certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// loadOrCreate loads name from the state directory or creates it with
// create and stores it there (without replacing a file another process
// stored meanwhile). parent nil means the certificate must be self-signed.
func (a *Authority) loadOrCreate(name string, parent *issuer, create func() (*issuer, error)) (*issuer, error) {
	if a.dir != "" {
		ca, err := a.load(name, parent)
		if err == nil {
			return ca, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	ca, err := create()
	if err != nil {
		return nil, err
	}
	if a.dir == "" {
		return ca, nil
	}
	if err := a.store(name, ca, false); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return a.load(name, parent)
		}
		return nil, err
	}
	return ca, nil
}

// load reads a certificate and key PEM file and checks that the key matches
// and that parent (or the certificate itself, when parent is nil) issued it.
func (a *Authority) load(name string, parent *issuer) (*issuer, error) {
	path := filepath.Join(a.dir, name)
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %04o; it holds a private key and must not be readable by others (chmod 600)", path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ca := &issuer{}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			ca.cert, err = x509.ParseCertificate(block.Bytes)
		case "PRIVATE KEY":
			var key any
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
			if err == nil {
				var ok bool
				if ca.key, ok = key.(*ecdsa.PrivateKey); !ok {
					err = fmt.Errorf("key is %T, want ECDSA", key)
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", path, err)
		}
	}
	if ca.cert == nil || ca.key == nil {
		return nil, fmt.Errorf("%s must hold a CERTIFICATE and a PRIVATE KEY block", path)
	}
	if !ca.key.PublicKey.Equal(ca.cert.PublicKey) {
		return nil, fmt.Errorf("%s: the private key does not match the certificate", path)
	}
	issuerCert := ca.cert
	if parent != nil {
		issuerCert = parent.cert
	}
	if err := ca.cert.CheckSignatureFrom(issuerCert); err != nil || !bytes.Equal(ca.cert.RawIssuer, issuerCert.RawSubject) {
		return nil, fmt.Errorf("%s was not issued by %q; remove the CA files of the state directory to start a new CA", path, issuerCert.Subject.CommonName)
	}
	return ca, nil
}

// store writes ca to name with mode 0600 through a temporary file. With
// replace false it fails with fs.ErrExist if name already exists.
func (a *Authority) store(name string, ca *issuer, replace bool) error {
	der, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		return fmt.Errorf("encoding key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})...)
	tmp, err := os.CreateTemp(a.dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("storing %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("storing %s: %w", name, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("storing %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("storing %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("storing %s: %w", name, err)
	}
	final := filepath.Join(a.dir, name)
	if replace {
		err = os.Rename(tmp.Name(), final)
	} else {
		err = os.Link(tmp.Name(), final)
	}
	if err != nil {
		return fmt.Errorf("storing %s: %w", name, err)
	}
	return nil
}
