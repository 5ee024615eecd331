package emulator

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/xsigner/xsigner/internal/arn"
)

// stateFileName is the file under --state-dir that holds the Signer state
// changed through the API. The CA keys live next to it (authority package).
const stateFileName = "emulator-state.json"

// signerState is everything the Signer API can change. It starts from the
// world file, is saved to the state dir after every change and is loaded from
// there at start. Sessions are not part of it: they live in memory only.
type signerState struct {
	// Profiles is keyed by profileKey(account, region, name).
	Profiles map[string]*profile `json:"profiles"`
	// Jobs is keyed by job id.
	Jobs map[string]*job `json:"jobs"`
	// RevokedCertificates maps a certificate hash (as sent to
	// GetRevocationStatus) to when it was revoked.
	RevokedCertificates map[string]time.Time `json:"revokedCertificates"`
}

type profile struct {
	Account           string                        `json:"account"`
	Region            string                        `json:"region"`
	Name              string                        `json:"name"`
	PlatformID        string                        `json:"platformId"`
	Validity          ValidityPeriod                `json:"signatureValidityPeriod"`
	Version           string                        `json:"profileVersion"`
	Versions          []string                      `json:"versions"` // every version ever created, oldest first
	Status            string                        `json:"status"`   // Active, Canceled or Revoked
	Permissions       []ProfilePermission           `json:"permissions"`
	RevisionID        string                        `json:"revisionId,omitempty"`
	RevokedVersions   map[string]*versionRevocation `json:"revokedVersions,omitempty"`
	Tags              map[string]string             `json:"tags,omitempty"`
	SigningParameters map[string]string             `json:"signingParameters,omitempty"`
}

type versionRevocation struct {
	EffectiveFrom time.Time `json:"effectiveFrom"`
	RevokedAt     time.Time `json:"revokedAt"`
	RevokedBy     string    `json:"revokedBy"`
	Reason        string    `json:"reason"`
}

type job struct {
	ID                string    `json:"id"`
	Owner             string    `json:"owner"`
	Invoker           string    `json:"invoker"` // caller ARN
	Region            string    `json:"region"`
	ProfileName       string    `json:"profileName"`
	ProfileVersionARN string    `json:"profileVersionArn"`
	SignedAt          time.Time `json:"signedAt"`
	Revoked           bool      `json:"revoked"`
	RevokedAt         time.Time `json:"revokedAt,omitzero"`
	RevokedBy         string    `json:"revokedBy,omitempty"`
	RevocationReason  string    `json:"revocationReason,omitempty"`
}

func profileKey(account, region, name string) string { return account + "/" + region + "/" + name }

func (p *profile) arn() string {
	return fmt.Sprintf("arn:%s:signer:%s:%s:/signing-profiles/%s", arn.RegionPartition(p.Region), p.Region, p.Account, p.Name)
}

func (p *profile) versionARN() string { return p.arn() + "/" + p.Version }

func (j *job) arn() string {
	return fmt.Sprintf("arn:%s:signer:%s:%s:/signing-jobs/%s", arn.RegionPartition(j.Region), j.Region, j.Owner, j.ID)
}

// initialState builds the Signer state described by the world file.
func initialState(w *World) *signerState {
	st := &signerState{Profiles: map[string]*profile{}, Jobs: map[string]*job{}, RevokedCertificates: map[string]time.Time{}}
	for acct, a := range w.Accounts {
		for _, sp := range a.SigningProfiles {
			p := &profile{
				Account: acct, Region: sp.Region, Name: sp.Name, PlatformID: notationPlatformID,
				Validity: ValidityPeriod{Value: 135, Type: "MONTHS"},
				Status:   "Active", Permissions: append([]ProfilePermission(nil), sp.Permissions...),
			}
			if sp.SignatureValidityPeriod != nil {
				p.Validity = *sp.SignatureValidityPeriod
			}
			p.newVersion()
			if len(p.Permissions) > 0 {
				p.RevisionID = newRevisionID()
			}
			st.Profiles[profileKey(acct, sp.Region, sp.Name)] = p
		}
	}
	return st
}

func (p *profile) newVersion() {
	p.Version = randomString(10, alnum)
	p.Versions = append(p.Versions, p.Version)
}

func (p *profile) hasVersion(v string) bool {
	for _, x := range p.Versions {
		if x == v {
			return true
		}
	}
	return false
}

func loadState(dir string) (*signerState, error) {
	if dir == "" {
		return nil, nil
	}
	data, err := os.ReadFile(filepath.Join(dir, stateFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading emulator state: %w", err)
	}
	var st signerState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("parsing emulator state %s: %w", filepath.Join(dir, stateFileName), err)
	}
	if st.Profiles == nil {
		st.Profiles = map[string]*profile{}
	}
	if st.Jobs == nil {
		st.Jobs = map[string]*job{}
	}
	if st.RevokedCertificates == nil {
		st.RevokedCertificates = map[string]time.Time{}
	}
	return &st, nil
}

// saveState writes the state atomically (temporary file, 0600 as
// os.CreateTemp makes it, synced, then renamed), so a crash never leaves a
// half-written file behind.
func saveState(dir string, st *signerState) error {
	if dir == "" {
		return nil
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding emulator state: %w", err)
	}
	tmp, err := os.CreateTemp(dir, stateFileName+".*.tmp")
	if err != nil {
		return fmt.Errorf("saving emulator state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("saving emulator state: %w", err)
	}
	// Without the sync a crash after the rename can leave an empty file
	// under the final name (the rename may reach the disk before the data).
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving emulator state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving emulator state: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, stateFileName)); err != nil {
		return fmt.Errorf("saving emulator state: %w", err)
	}
	return nil
}

const (
	alnum       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// randomString returns n characters drawn uniformly from chars (len(chars)
// must divide 256 evenly or the bias is accepted as harmless for ids).
func randomString(n int, chars string) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // never happens on supported platforms
	}
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b)
}

func newRevisionID() string { return randomString(32, "0123456789abcdef") }
