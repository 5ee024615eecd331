package emulator

import (
	"encoding/xml"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xsigner/xsigner/internal/arn"
	"github.com/xsigner/xsigner/internal/emulator/iam"
)

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

var (
	roleSessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]*$`)
	externalIDPattern      = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
)

// serveSTS answers an awsQuery request: POST / with a form body.
func (e *Emulator) serveSTS(x *exchange) {
	form, ae := stsForm(x)
	if ae != nil {
		e.writeError(x, ae)
		return
	}
	action := form.Get("Action")
	x.operation = action
	if v := form.Get("Version"); v != "" && v != "2011-06-15" {
		e.writeError(x, errorf(400, "InvalidAction", "Could not find operation %s for version %s", action, v))
		return
	}
	var handler func(*exchange, url.Values) *apiError
	switch action {
	case "AssumeRole":
		handler = e.assumeRole
	case "AssumeRoleWithWebIdentity":
		handler = e.assumeRoleWithWebIdentity
	case "GetCallerIdentity":
		handler = e.getCallerIdentity
	default:
		x.operation = ""
		if action == "" {
			e.writeError(x, errorf(400, "MissingAction", "Missing Action"))
			return
		}
		e.writeError(x, errorf(400, "InvalidAction", "Could not find operation %s for version 2011-06-15", action))
		return
	}
	// AssumeRoleWithWebIdentity is anonymous (aws.md §2.1): the token is the
	// credential. Everything else must be signed.
	admit := e.admit
	if action == "AssumeRoleWithWebIdentity" {
		admit = e.applyFault
	}
	if ae := admit(x); ae != nil {
		e.writeError(x, ae)
		return
	}
	if ae := handler(x, form); ae != nil {
		e.writeError(x, ae)
	}
}

func stsForm(x *exchange) (url.Values, *apiError) {
	if x.r.Method == http.MethodGet {
		return x.r.URL.Query(), nil
	}
	if x.r.Method != http.MethodPost {
		return nil, errorf(405, "InvalidAction", "STS accepts POST / with a form body")
	}
	mt, _, _ := mime.ParseMediaType(x.r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return nil, errorf(400, "InvalidAction", "Could not find operation: the request is not a form (Content-Type %q)", mt)
	}
	form, err := url.ParseQuery(string(x.body))
	if err != nil {
		return nil, errorf(400, "MalformedQueryString", "The query string is malformed: %v", err)
	}
	return form, nil
}

// violations collects AWS-style constraint messages ("1 validation error
// detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: ...").
type violations []string

func (v *violations) null(field string) {
	*v = append(*v, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", field))
}

func (v *violations) bad(field, value, constraint string) {
	*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must %s", value, field, constraint))
}

// length checks utf-8 length bounds (max 0 = unbounded).
func (v *violations) length(field, value string, min, max int) bool {
	n := utf8.RuneCountInString(value)
	if n < min {
		v.bad(field, value, fmt.Sprintf("have length greater than or equal to %d", min))
		return false
	}
	if max > 0 && n > max {
		v.bad(field, value, fmt.Sprintf("have length less than or equal to %d", max))
		return false
	}
	return true
}

func (v *violations) pattern(field, value string, re *regexp.Regexp, shown string) {
	if !re.MatchString(value) {
		v.bad(field, value, "satisfy regular expression pattern: "+shown)
	}
}

func (v violations) err(code string) *apiError {
	if len(v) == 0 {
		return nil
	}
	noun := "error"
	if len(v) > 1 {
		noun = "errors"
	}
	return errorf(400, code, "%d validation %s detected: %s", len(v), noun, strings.Join(v, "; "))
}

// durationParam validates DurationSeconds (900..43200, default 3600).
func durationParam(v *violations, form url.Values) int {
	s := form.Get("DurationSeconds")
	if s == "" {
		return defaultMaxSessionDuration
	}
	d, err := strconv.Atoi(s)
	switch {
	case err != nil:
		v.bad("durationSeconds", s, "be an integer")
	case d < 900:
		v.bad("durationSeconds", s, "have value greater than or equal to 900")
	case d > 43200:
		v.bad("durationSeconds", s, "have value less than or equal to 43200")
	}
	return d
}

func roleParams(v *violations, form url.Values) (roleARN, sessionName string) {
	roleARN, sessionName = form.Get("RoleArn"), form.Get("RoleSessionName")
	if !form.Has("RoleArn") {
		v.null("roleArn")
	} else {
		v.length("roleArn", roleARN, 20, 2048)
	}
	if !form.Has("RoleSessionName") {
		v.null("roleSessionName")
	} else if v.length("roleSessionName", sessionName, 2, 64) {
		v.pattern("roleSessionName", sessionName, roleSessionNamePattern, `[\w+=,.@-]*`)
	}
	return roleARN, sessionName
}

// checkRoleRequest ends the validation AssumeRole and
// AssumeRoleWithWebIdentity share: the constraint violations collected, the
// parameters not emulated, the shape of the role ARN.
func checkRoleRequest(v violations, form url.Values, roleARN string) *apiError {
	if ae := v.err("ValidationError"); ae != nil {
		return ae
	}
	if ae := unsupportedSTSParams(form); ae != nil {
		return ae
	}
	if _, err := arn.ParseRole(roleARN); err != nil {
		// AWS's exact text for a malformed role ARN is not documented.
		return errorf(400, "ValidationError", "%s is invalid", roleARN)
	}
	return nil
}

// unsupportedSTSParams rejects inputs the emulator does not model. Ignoring
// a session policy would grant more than AWS does, so it is an error.
func unsupportedSTSParams(form url.Values) *apiError {
	for key := range form {
		for _, p := range []string{"Policy", "PolicyArns.", "Tags.", "TransitiveTagKeys.", "ProvidedContexts.", "ProviderId"} {
			if key == p || (strings.HasSuffix(p, ".") && strings.HasPrefix(key, p)) {
				return errorf(400, "ValidationError", "xsigner-emulator does not emulate the %s parameter; remove it", strings.TrimSuffix(p, "."))
			}
		}
	}
	return nil
}

func (e *Emulator) assumeRole(x *exchange, form url.Values) *apiError {
	var v violations
	roleARN, sessionName := roleParams(&v, form)
	duration := durationParam(&v, form)
	externalID, hasExternalID := form.Get("ExternalId"), form.Has("ExternalId")
	if hasExternalID && v.length("externalId", externalID, 2, 1224) {
		v.pattern("externalId", externalID, externalIDPattern, `[\w+=,.@:\/-]*`)
	}
	if s := form.Get("SourceIdentity"); form.Has("SourceIdentity") && v.length("sourceIdentity", s, 2, 64) {
		v.pattern("sourceIdentity", s, roleSessionNamePattern, `[\w+=,.@-]*`)
	}
	if ae := checkRoleRequest(v, form, roleARN); ae != nil {
		return ae
	}
	caller := x.caller
	x.resource = roleARN
	denied := errorf(403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, roleARN)
	if form.Has("SerialNumber") || form.Has("TokenCode") {
		// MFA is not emulated; refusing is the stricter choice.
		return errorf(403, "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code. (xsigner-emulator does not emulate MFA)")
	}
	role := e.roles[roleARN]
	if role == nil || role.partition != arn.RegionPartition(x.region) {
		// AWS does not reveal whether the role exists; a role of another
		// partition does not exist for this partition's STS.
		return denied
	}
	ctx := map[string]string{
		"aws:PrincipalAccount": caller.Account,
		"aws:PrincipalArn":     caller.principalARN(),
		"aws:RequestedRegion":  x.region,
		"sts:RoleSessionName":  sessionName,
	}
	if hasExternalID {
		ctx["sts:ExternalId"] = externalID
	}
	if s := form.Get("SourceIdentity"); s != "" {
		ctx["sts:SourceIdentity"] = s
	}
	res := iam.Authorize(iam.Request{Action: "sts:AssumeRole", Resource: roleARN, Principal: caller.principal(), Context: ctx},
		caller.policies, role.trust, role.account, true)
	if !res.Allowed {
		return denied
	}
	if caller.Session && duration > 3600 {
		return errorf(400, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if duration > role.maxSession {
		return errorf(400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	creds, user := e.newSession(role, sessionName, duration)
	type result struct {
		Credentials      stsCredentials
		AssumedRoleUser  stsAssumedRoleUser
		PackedPolicySize int    `xml:",omitempty"`
		SourceIdentity   string `xml:",omitempty"`
	}
	writeSTS(x, "AssumeRole", result{Credentials: creds, AssumedRoleUser: user, SourceIdentity: form.Get("SourceIdentity")})
	return nil
}

func (e *Emulator) assumeRoleWithWebIdentity(x *exchange, form url.Values) *apiError {
	var v violations
	roleARN, sessionName := roleParams(&v, form)
	duration := durationParam(&v, form)
	token := form.Get("WebIdentityToken")
	if !form.Has("WebIdentityToken") {
		v.null("webIdentityToken")
	} else if len(token) < 4 || len(token) > 20000 {
		// The token is a secret: never echo it.
		v = append(v, "Value at 'webIdentityToken' failed to satisfy constraint: Member must have length between 4 and 20000")
	}
	if ae := checkRoleRequest(v, form, roleARN); ae != nil {
		return ae
	}
	claims, ae := e.verifyWebIdentityToken(token)
	if ae != nil {
		return ae
	}
	x.resource = roleARN
	denied := errorf(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	role := e.roles[roleARN]
	if role == nil {
		return denied
	}
	host, _ := providerHost(claims.Issuer)
	// A web identity is not an AWS principal: the trust policy alone decides.
	principal := iam.Principal{Federated: "arn:" + role.partition + ":iam::" + role.account + ":oidc-provider/" + host}
	ctx := map[string]string{
		host + ":sub":           claims.Subject,
		host + ":aud":           claims.Audience,
		"aws:FederatedProvider": principal.Federated,
		"sts:RoleSessionName":   sessionName,
	}
	res := iam.Authorize(iam.Request{Action: "sts:AssumeRoleWithWebIdentity", Resource: roleARN, Principal: principal, Context: ctx},
		nil, role.trust, role.account, true)
	if !res.Allowed {
		return denied
	}
	if duration > role.maxSession {
		return errorf(400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	creds, user := e.newSession(role, sessionName, duration)
	type result struct {
		Credentials                 stsCredentials
		SubjectFromWebIdentityToken string
		AssumedRoleUser             stsAssumedRoleUser
		PackedPolicySize            int `xml:",omitempty"`
		Provider                    string
		Audience                    string
	}
	writeSTS(x, "AssumeRoleWithWebIdentity", result{Credentials: creds, SubjectFromWebIdentityToken: claims.Subject,
		AssumedRoleUser: user, Provider: claims.Issuer, Audience: claims.Audience})
	return nil
}

func (e *Emulator) getCallerIdentity(x *exchange, _ url.Values) *apiError {
	type result struct {
		Arn     string
		UserId  string
		Account string
	}
	writeSTS(x, "GetCallerIdentity", result{Arn: x.caller.ARN, UserId: x.caller.UserID, Account: x.caller.Account})
	return nil
}

type stsCredentials struct {
	AccessKeyId     string
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

type stsAssumedRoleUser struct {
	Arn           string
	AssumedRoleId string
}

// newSession issues temporary credentials (ASIA...) for role.
func (e *Emulator) newSession(role *roleInfo, sessionName string, duration int) (stsCredentials, stsAssumedRoleUser) {
	now := e.now()
	s := &session{
		secret:  randomString(40, secretChars),
		token:   "IQoJb3JpZ2luX2VjE" + randomString(300, secretChars),
		expires: now.Add(time.Duration(duration) * time.Second).Truncate(time.Second),
		identity: &identity{
			ARN:       fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", role.partition, role.account, role.name, sessionName),
			Account:   role.account,
			Partition: role.partition,
			UserID:    role.id + ":" + sessionName,
			RoleARN:   role.arn,
			Session:   true,
			policies:  role.policies,
		},
	}
	keyID := "ASIA" + randomString(16, upperAlnum)
	e.mu.Lock()
	for k, old := range e.sessions { // forget sessions expired for a day
		if now.Sub(old.expires) > 24*time.Hour {
			delete(e.sessions, k)
		}
	}
	e.sessions[keyID] = s
	e.mu.Unlock()
	return stsCredentials{AccessKeyId: keyID, SecretAccessKey: s.secret, SessionToken: s.token,
			Expiration: s.expires.UTC().Format("2006-01-02T15:04:05Z")},
		stsAssumedRoleUser{Arn: s.identity.ARN, AssumedRoleId: s.identity.UserID}
}

// writeSTS writes <OpResponse xmlns=...><OpResult>result</OpResult><ResponseMetadata>.
func writeSTS(x *exchange, op string, result any) {
	type metadata struct {
		RequestId string
	}
	body, err := xml.Marshal(struct {
		XMLName          xml.Name
		Result           resultWrapper
		ResponseMetadata metadata
	}{
		XMLName:          xml.Name{Space: stsNamespace, Local: op + "Response"},
		Result:           resultWrapper{name: op + "Result", v: result},
		ResponseMetadata: metadata{RequestId: x.requestID},
	})
	if err != nil {
		writeSTSError(x, errorf(500, "InternalFailure", "encoding response: %v", err))
		return
	}
	x.w.Header().Set("Content-Type", "text/xml")
	x.w.WriteHeader(http.StatusOK)
	_, _ = x.w.Write(append([]byte(xml.Header), body...))
}

// resultWrapper marshals v as an element with a dynamic name.
type resultWrapper struct {
	name string
	v    any
}

func (r resultWrapper) MarshalXML(enc *xml.Encoder, _ xml.StartElement) error {
	return enc.EncodeElement(r.v, xml.StartElement{Name: xml.Name{Local: r.name}})
}

func writeSTSError(x *exchange, ae *apiError) {
	type errElem struct {
		Type    string
		Code    string
		Message string
	}
	typ := "Sender"
	if ae.Status >= 500 {
		typ = "Receiver"
	}
	body, _ := xml.Marshal(struct {
		XMLName   xml.Name
		Error     errElem
		RequestId string
	}{
		XMLName:   xml.Name{Space: stsNamespace, Local: "ErrorResponse"},
		Error:     errElem{Type: typ, Code: ae.Code, Message: ae.Message},
		RequestId: x.requestID,
	})
	x.w.Header().Set("Content-Type", "text/xml")
	x.w.WriteHeader(ae.Status)
	_, _ = x.w.Write(append([]byte(xml.Header), body...))
}
