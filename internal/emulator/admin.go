package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// The admin API lives under /_xsigner/ and answers loopback callers only,
// because it is unauthenticated (it can mint tokens and revoke anything):
//
//	GET  /_xsigner/calls                 the journal, JSON array of Call
//	POST /_xsigner/faults                add a Fault (JSON object)
//	POST /_xsigner/reset                 clear journal, faults, sessions and ECR tokens; Signer state back to the world file
//	GET  /_xsigner/ca.pem                the root CA certificate (PEM)
//	POST /_xsigner/error-message-field   {"field":"message"|"Message"}
//	POST /_xsigner/web-identity-token    {"issuer","subject","audience","ttlSeconds"} → {"token"}
//	POST /_xsigner/revoke-certificate    {"certificateHash"}
//
// revoke-certificate exists because AWS has no public API to revoke a
// certificate: AWS revokes its own CA certificates, and GetRevocationStatus
// then reports their hashes. Admin errors are {"error": "..."}.
//
// Loopback is not enough on its own: a web page open in the developer's
// browser also connects from loopback. A cross-site POST needs no CORS
// preflight when its body is text/plain (CSRF), and a DNS-rebinding page
// reaches 127.0.0.1 under its own host name and may then read the answers.
// So the Host must be a loopback address or localhost, and requests that a
// browser marks as coming from another origin (Origin, Sec-Fetch-Site) are
// refused. curl, SDKs and test clients send neither header.
func (e *Emulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if !isLoopback(r.RemoteAddr) {
		adminError(w, http.StatusForbidden, "the admin API answers loopback clients only")
		return
	}
	if msg := browserRefusal(r); msg != "" {
		adminError(w, http.StatusForbidden, msg)
		return
	}
	op := strings.TrimPrefix(r.URL.Path, adminPrefix)
	type route struct {
		method string
		fn     func(http.ResponseWriter, *http.Request)
	}
	routes := map[string]route{
		"calls":               {http.MethodGet, e.adminCalls},
		"faults":              {http.MethodPost, e.adminFaults},
		"reset":               {http.MethodPost, e.adminReset},
		"ca.pem":              {http.MethodGet, e.adminCA},
		"error-message-field": {http.MethodPost, e.adminMessageField},
		"web-identity-token":  {http.MethodPost, e.adminToken},
		"revoke-certificate":  {http.MethodPost, e.adminRevokeCertificate},
	}
	rt, ok := routes[op]
	if !ok {
		adminError(w, http.StatusNotFound, fmt.Sprintf("unknown admin endpoint %q", r.URL.Path))
		return
	}
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		adminError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s needs %s", r.URL.Path, rt.method))
		return
	}
	rt.fn(w, r)
}

// browserRefusal returns why an admin request that passed the loopback
// check is refused anyway, or "".
func browserRefusal(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip := net.ParseIP(host); !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
		return fmt.Sprintf("the admin API answers requests for a loopback host (127.0.0.1, [::1] or localhost) only, not %q", r.Host)
	}
	if o := r.Header.Values("Origin"); len(o) > 1 || (len(o) == 1 && o[0] != "http://"+r.Host && o[0] != "https://"+r.Host) {
		return "the admin API refuses cross-origin browser requests"
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return "the admin API refuses cross-origin browser requests"
	}
	return ""
}

func adminError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func adminJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// adminDecode strictly decodes a small JSON body.
func adminDecode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		adminError(w, http.StatusBadRequest, fmt.Sprintf("invalid JSON body: %v", err))
		return false
	}
	return true
}

func (e *Emulator) adminCalls(w http.ResponseWriter, _ *http.Request) {
	adminJSON(w, e.Calls())
}

func (e *Emulator) adminFaults(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if !adminDecode(w, r, &f) {
		return
	}
	if err := e.InjectFault(f); err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	adminJSON(w, map[string]string{"status": "ok"})
}

func (e *Emulator) adminReset(w http.ResponseWriter, _ *http.Request) {
	if err := e.Reset(); err != nil {
		adminError(w, http.StatusInternalServerError, err.Error())
		return
	}
	adminJSON(w, map[string]string{"status": "ok"})
}

// Reset clears the journal, the faults and all sessions, and puts the Signer
// state and the error message field back to what the world file says.
func (e *Emulator) Reset() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = nil
	e.faults = nil
	for i := range e.world.Faults {
		f := e.world.Faults[i]
		e.faults = append(e.faults, &f)
	}
	e.sessions = map[string]*session{}
	e.ecrTokens = map[string]*ecrToken{}
	e.messageField = e.world.ErrorMessageField
	if e.messageField == "" {
		e.messageField = "message"
	}
	e.st = initialState(e.world)
	return saveState(e.opts.StateDir, e.st)
}

func (e *Emulator) adminCA(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(e.RootPEM())
}

// SetErrorMessageField switches the key of the message in Signer error
// bodies: "message" (what the SDK reads) or "Message" (aws.md §0.3).
func (e *Emulator) SetErrorMessageField(field string) error {
	if field != "message" && field != "Message" {
		return fmt.Errorf("error message field %q must be \"message\" or \"Message\"", field)
	}
	e.mu.Lock()
	e.messageField = field
	e.mu.Unlock()
	return nil
}

func (e *Emulator) adminMessageField(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Field string `json:"field"`
	}
	if !adminDecode(w, r, &req) {
		return
	}
	if err := e.SetErrorMessageField(req.Field); err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	adminJSON(w, map[string]string{"status": "ok"})
}

// WebIdentityToken mints an ES256 ID token for a provider of the world file,
// as POST /_xsigner/web-identity-token does. ttl <= 0 means one hour.
func (e *Emulator) WebIdentityToken(issuer, subject, audience string, ttl time.Duration) (string, error) {
	return e.mintToken(issuer, subject, audience, ttl)
}

func (e *Emulator) adminToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Issuer     string `json:"issuer"`
		Subject    string `json:"subject"`
		Audience   string `json:"audience"`
		TTLSeconds int    `json:"ttlSeconds"`
	}
	if !adminDecode(w, r, &req) {
		return
	}
	tok, err := e.mintToken(req.Issuer, req.Subject, req.Audience, time.Duration(req.TTLSeconds)*time.Second)
	if err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	adminJSON(w, map[string]string{"token": tok})
}

// RevokeCertificate marks a certificate hash (as GetRevocationStatus
// receives it) revoked, as POST /_xsigner/revoke-certificate does.
func (e *Emulator) RevokeCertificate(hash string) error {
	if hash == "" {
		return fmt.Errorf("certificate hash is empty")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.st.RevokedCertificates[hash] = e.now().UTC()
	return saveState(e.opts.StateDir, e.st)
}

func (e *Emulator) adminRevokeCertificate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CertificateHash string `json:"certificateHash"`
	}
	if !adminDecode(w, r, &req) {
		return
	}
	if err := e.RevokeCertificate(req.CertificateHash); err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	adminJSON(w, map[string]string{"status": "ok"})
}
