package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/xsigner/xsigner/internal/arn"
	"github.com/xsigner/xsigner/internal/emulator/authority"
	"github.com/xsigner/xsigner/internal/emulator/iam"
)

// notationPayloadFormat is the only SignPayload payloadFormat (aws.md §1.3).
const notationPayloadFormat = "application/vnd.cncf.notary.payload.v1+json"

// SignPayload response metadata keys. AWS does not document its keys
// (aws.md §1.3, "treat as opaque"); these reuse the names of the signed
// attributes, which cannot collide with notation's io.cncf.notary.* keys.
const (
	MetadataSigningJob            = "com.amazonaws.signer.signingJob"
	MetadataSigningProfileVersion = "com.amazonaws.signer.signingProfileVersion"
)

var (
	twelveDigits          = regexp.MustCompile(`^[0-9]{12}$`)
	profileNameModel      = regexp.MustCompile(`^[a-zA-Z0-9_]{2,}$`)
	profileVersionPattern = regexp.MustCompile(`^[a-zA-Z0-9]{10}$`)
	// notationActions are the profile-permission actions AWS allows for the
	// Notation platform (aws.md §1.7).
	notationActions = []string{"signer:SignPayload", "signer:GetSigningProfile", "signer:RevokeSignature"}
)

// signerOperation names the Signer operation of a method and path.
func signerOperation(method string, segs []string) string {
	n := len(segs)
	if n == 0 {
		return ""
	}
	switch {
	case n == 2 && segs[0] == "signing-jobs" && segs[1] == "with-payload" && method == http.MethodPost:
		return "SignPayload"
	case n == 1 && segs[0] == "revocations" && method == http.MethodGet:
		return "GetRevocationStatus"
	case n == 2 && segs[0] == "signing-profiles":
		switch method {
		case http.MethodGet:
			return "GetSigningProfile"
		case http.MethodPut:
			return "PutSigningProfile"
		case http.MethodDelete:
			return "CancelSigningProfile"
		}
	case n == 3 && segs[0] == "signing-profiles" && segs[2] == "permissions":
		switch method {
		case http.MethodPost:
			return "AddProfilePermission"
		case http.MethodGet:
			return "ListProfilePermissions"
		}
	case n == 4 && segs[0] == "signing-profiles" && segs[2] == "permissions" && method == http.MethodDelete:
		return "RemoveProfilePermission"
	case n == 3 && segs[0] == "signing-jobs" && segs[2] == "revoke" && method == http.MethodPut:
		return "RevokeSignature"
	case n == 3 && segs[0] == "signing-profiles" && segs[2] == "revoke" && method == http.MethodPut:
		return "RevokeSigningProfile"
	}
	return ""
}

// serveSigner answers a restJson1 Signer request.
func (e *Emulator) serveSigner(x *exchange) {
	// authenticate answers unsigned and presigned (query-string) requests
	// with MissingAuthenticationTokenException.
	if ae := e.authenticate(x); ae != nil {
		e.writeError(x, ae)
		return
	}
	if x.operation == "" {
		e.writeError(x, errorf(404, "UnknownOperationException", "No operation matches %s %s", x.r.Method, x.r.URL.Path))
		return
	}
	if ae := e.applyFault(x); ae != nil {
		e.writeError(x, ae)
		return
	}
	segs := splitPath(x.r.URL.EscapedPath())
	var ae *apiError
	switch x.operation {
	case "SignPayload":
		ae = e.signPayload(x)
	case "GetRevocationStatus":
		ae = e.getRevocationStatus(x)
	case "GetSigningProfile":
		ae = e.getSigningProfile(x, segs[1])
	case "PutSigningProfile":
		ae = e.putSigningProfile(x, segs[1])
	case "CancelSigningProfile":
		ae = e.cancelSigningProfile(x, segs[1])
	case "AddProfilePermission":
		ae = e.addProfilePermission(x, segs[1])
	case "ListProfilePermissions":
		ae = e.listProfilePermissions(x, segs[1])
	case "RemoveProfilePermission":
		ae = e.removeProfilePermission(x, segs[1], segs[3])
	case "RevokeSignature":
		ae = e.revokeSignature(x, segs[1])
	case "RevokeSigningProfile":
		ae = e.revokeSigningProfile(x, segs[1])
	}
	if ae != nil {
		e.writeError(x, ae)
	}
}

// decodeBody decodes a JSON request body (Signer, ECR); an empty body is
// {}. Unknown members are ignored, as AWS services do for forward
// compatibility.
func decodeBody(x *exchange, v any) *apiError {
	if len(bytes.TrimSpace(x.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(x.body, v); err != nil {
		// AWS JSON services answer malformed bodies with
		// SerializationException; Signer does not model it, so the SDK
		// shows a generic API error.
		return errorf(400, "SerializationException", "The request body is not valid JSON for this operation: %v", err)
	}
	return nil
}

func (e *Emulator) profileARN(region, owner, name string) string {
	return fmt.Sprintf("arn:%s:signer:%s:%s:/signing-profiles/%s", arn.RegionPartition(region), region, owner, name)
}

// authorizeSigner evaluates the caller's identity policies and, if the
// profile has permissions, those permissions as a resource-based policy.
// Cross-account calls need both sides (iam.Authorize).
func (e *Emulator) authorizeSigner(x *exchange, action, resource, resourceAccount string, perms []ProfilePermission) *apiError {
	x.resource = resource
	var resPolicy *iam.Policy
	if len(perms) > 0 {
		resPolicy = permissionsPolicy(perms, resource)
	}
	c := x.caller
	res := iam.Authorize(iam.Request{Action: action, Resource: resource, Principal: c.principal(), Context: map[string]string{
		"aws:PrincipalAccount": c.Account,
		"aws:PrincipalArn":     c.principalARN(),
		"aws:RequestedRegion":  x.region,
	}}, c.policies, resPolicy, resourceAccount, false)
	if res.Allowed {
		return nil
	}
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", c.ARN, action, resource)
	if res.Reason != "" {
		msg += " because " + res.Reason
	}
	return errorf(403, "AccessDeniedException", "%s", msg)
}

// permissionsPolicy converts profile permissions into the resource-based
// policy they are in AWS: one Allow statement per permission, for the
// resource being accessed.
func permissionsPolicy(perms []ProfilePermission, resource string) *iam.Policy {
	doc, _ := json.Marshal(permissionsDocument(perms, resource))
	p, err := iam.ParsePolicy(doc)
	if err != nil {
		return nil // cannot happen for validated permissions; nil grants nothing
	}
	return p
}

func permissionsDocument(perms []ProfilePermission, resource string) map[string]any {
	stmts := make([]map[string]any, 0, len(perms))
	for _, p := range perms {
		stmts = append(stmts, map[string]any{
			"Sid": p.StatementID, "Effect": "Allow", "Principal": map[string]string{"AWS": p.Principal},
			"Action": p.Action, "Resource": resource,
		})
	}
	return map[string]any{"Version": "2012-10-17", "Statement": stmts}
}

// validatePermission returns AWS's message for an invalid profile permission,
// or "" (aws.md §1.7: the action list and the principal message are quoted
// from real errors).
func validatePermission(action, principal, statementID string) string {
	ok := false
	for _, a := range notationActions {
		ok = ok || a == action
	}
	if !ok {
		return fmt.Sprintf("Action %s not supported for platform %s. Action must be one of [%s]", action, notationPlatformID, strings.Join(notationActions, ", "))
	}
	if !twelveDigits.MatchString(principal) {
		r, err := arn.ParseRole(principal)
		if err != nil || r.Path != "/" {
			return "Principal is not a valid AWS account id or IAM Role Arn"
		}
	}
	// AWS does not document the statementId charset; this is the stricter
	// choice that matches Lambda-style statement ids.
	if !statementIDPattern.MatchString(statementID) {
		return fmt.Sprintf("Statement id %q must be 1 to 64 letters, digits, underscores or hyphens", statementID)
	}
	return ""
}

// lookupProfile returns a copy of the profile (nil if none); the copy may be
// read without the lock.
func (e *Emulator) lookupProfile(owner, region, name string) *profile {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.st.Profiles[profileKey(owner, region, name)]
	if p == nil {
		return nil
	}
	cp := *p
	cp.Permissions = slices.Clone(p.Permissions)
	cp.Versions = slices.Clone(p.Versions)
	cp.Tags = maps.Clone(p.Tags)
	cp.SigningParameters = maps.Clone(p.SigningParameters)
	cp.RevokedVersions = make(map[string]*versionRevocation, len(p.RevokedVersions))
	for v, r := range p.RevokedVersions {
		rc := *r
		cp.RevokedVersions[v] = &rc
	}
	return &cp
}

// permsOf returns the profile's permissions that apply to the profile's
// current version: those without a profileVersion and those for it. A
// permission added for another version grants nothing here (AWS does not
// document how it treats them; ignoring them is the stricter reading).
func permsOf(p *profile) []ProfilePermission {
	if p == nil {
		return nil
	}
	return permsForVersion(p.Permissions, p.Version)
}

func permsForVersion(perms []ProfilePermission, version string) []ProfilePermission {
	var out []ProfilePermission
	for _, pp := range perms {
		if pp.ProfileVersion == "" || pp.ProfileVersion == version {
			out = append(out, pp)
		}
	}
	return out
}

// The texts of ResourceNotFoundException are not documented (aws.md §5).
func profileNotFound(profileARN string) *apiError {
	return errorf(404, "ResourceNotFoundException", "Signing profile %s does not exist.", profileARN)
}

// commit saves the state; the caller holds e.mu.
func (e *Emulator) commit() *apiError {
	if err := saveState(e.opts.StateDir, e.st); err != nil {
		return errorf(500, "InternalServiceErrorException", "saving emulator state failed: %v", err)
	}
	return nil
}

func (e *Emulator) signPayload(x *exchange) *apiError {
	var req struct {
		ProfileName   *string `json:"profileName"`
		ProfileOwner  *string `json:"profileOwner"`
		Payload       []byte  `json:"payload"`
		PayloadFormat *string `json:"payloadFormat"`
	}
	if ae := decodeBody(x, &req); ae != nil {
		return ae
	}
	var v violations
	if req.ProfileName == nil {
		v.null("profileName")
	} else if v.length("profileName", *req.ProfileName, 2, 64) {
		v.pattern("profileName", *req.ProfileName, profileNameModel, "^[a-zA-Z0-9_]{2,}$")
	}
	if req.ProfileOwner != nil && v.length("profileOwner", *req.ProfileOwner, 12, 12) {
		v.pattern("profileOwner", *req.ProfileOwner, twelveDigits, "^[0-9]{12}$")
	}
	switch {
	case req.Payload == nil:
		v.null("payload")
	case len(req.Payload) < 1:
		v = append(v, "Value at 'payload' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case len(req.Payload) > 4096:
		v = append(v, "Value at 'payload' failed to satisfy constraint: Member must have length less than or equal to 4096")
	}
	if req.PayloadFormat == nil {
		v.null("payloadFormat")
	}
	if ae := v.err("ValidationException"); ae != nil {
		return ae
	}
	if *req.PayloadFormat != notationPayloadFormat {
		// AWS's text is not documented; the model says it is the single valid type.
		return errorf(400, "ValidationException", "Payload format %s is not supported. The single valid payload format is %s", *req.PayloadFormat, notationPayloadFormat)
	}
	owner := x.caller.Account
	if req.ProfileOwner != nil {
		owner = *req.ProfileOwner
	}
	name := *req.ProfileName
	profARN := e.profileARN(x.region, owner, name)
	p := e.lookupProfile(owner, x.region, name)
	if ae := e.authorizeSigner(x, "signer:SignPayload", profARN, owner, permsOf(p)); ae != nil {
		return ae
	}
	if p == nil {
		return profileNotFound(profARN)
	}
	if p.Status != "Active" {
		return errorf(400, "ValidationException", "Signing profile %s is not active: its status is %s.", profARN, p.Status)
	}
	j := &job{ID: uuid.NewString(), Owner: owner, Invoker: x.caller.ARN, Region: x.region, ProfileName: name,
		ProfileVersionARN: p.versionARN(), SignedAt: e.now().UTC().Truncate(time.Second)}
	sreq := authority.SignRequest{
		Region: x.region, Payload: req.Payload, PayloadType: notationPayloadFormat,
		SigningTime: j.SignedAt, Expiry: addValidity(j.SignedAt, p.Validity),
		ProfileVersionARN: j.ProfileVersionARN, JobARN: j.arn(),
	}
	var env []byte
	var err error
	if x.tamper != authority.TamperNone {
		env, _, err = e.authority.SignTampered(sreq, x.tamper)
	} else {
		env, _, err = e.authority.Sign(sreq)
	}
	if err != nil {
		return errorf(500, "InternalServiceErrorException", "signing failed: %v", err)
	}
	e.mu.Lock()
	e.st.Jobs[j.ID] = j
	ae := e.commit()
	e.mu.Unlock()
	if ae != nil {
		return ae
	}
	writeJSON(x, map[string]any{
		"jobId":     j.ID,
		"jobOwner":  owner,
		"metadata":  map[string]string{MetadataSigningJob: j.arn(), MetadataSigningProfileVersion: j.ProfileVersionARN},
		"signature": env,
	})
	return nil
}

// addValidity adds a signature validity period to t.
func addValidity(t time.Time, v ValidityPeriod) time.Time {
	switch v.Type {
	case "DAYS":
		return t.AddDate(0, 0, v.Value)
	case "YEARS":
		return t.AddDate(v.Value, 0, 0)
	default:
		return t.AddDate(0, v.Value, 0)
	}
}

func (e *Emulator) getRevocationStatus(x *exchange) *apiError {
	q := x.r.URL.Query()
	var v violations
	required := func(field string) string {
		if !q.Has(field) {
			v.null(field)
		}
		return q.Get(field)
	}
	tsText := required("signatureTimestamp")
	platform := required("platformId")
	versionARN := required("profileVersionArn")
	jobARN := required("jobArn")
	hashes := q["certificateHashes"]
	if len(hashes) == 0 {
		v.null("certificateHashes")
	}
	if q.Has("profileVersionArn") {
		v.length("profileVersionArn", versionARN, 20, 2048)
	}
	if q.Has("jobArn") {
		v.length("jobArn", jobARN, 20, 2048)
	}
	if ae := v.err("ValidationException"); ae != nil {
		return ae
	}
	ts, err := time.Parse(time.RFC3339Nano, tsText)
	if err != nil {
		return errorf(400, "ValidationException", "signatureTimestamp %s is not an RFC 3339 date-time", tsText)
	}
	if platform != notationPlatformID {
		return errorf(400, "ValidationException", "Platform %s is not supported. The only supported platform is %s", platform, notationPlatformID)
	}
	pv, err := arn.ParseSigningProfile(versionARN)
	if err != nil || pv.Version == "" {
		return errorf(400, "ValidationException", "profileVersionArn %s is not a valid signing profile version ARN", versionARN)
	}
	jb, err := arn.ParseSigningJob(jobARN)
	if err != nil {
		return errorf(400, "ValidationException", "jobArn %s is not a valid signing job ARN", jobARN)
	}
	// Signatures are partition-isolated (aws.md §1.4); AWS answers 400.
	part := arn.RegionPartition(x.region)
	if pv.Partition != part || jb.Partition != part {
		return errorf(400, "ValidationException", "Cross-partition revocation checks are not supported: the request is in partition %s", part)
	}
	if ae := e.authorizeSigner(x, "signer:GetRevocationStatus", "*", x.caller.Account, nil); ae != nil {
		return ae
	}
	revoked := []string{}
	e.mu.Lock()
	if j := e.st.Jobs[jb.ID]; j != nil && j.Revoked && j.arn() == jb.String() {
		revoked = append(revoked, jobARN)
	}
	if p := e.st.Profiles[profileKey(pv.Account, pv.Region, pv.Name)]; p != nil && p.arn() == pv.ProfileARN() {
		if r := p.RevokedVersions[pv.Version]; r != nil && !r.EffectiveFrom.After(ts) {
			revoked = append(revoked, versionARN)
		}
	}
	for _, h := range hashes {
		if _, ok := e.st.RevokedCertificates[h]; ok {
			revoked = append(revoked, h)
		}
	}
	e.mu.Unlock()
	writeJSON(x, map[string]any{"revokedEntities": revoked})
	return nil
}

func (e *Emulator) getSigningProfile(x *exchange, name string) *apiError {
	owner := x.caller.Account
	if q := x.r.URL.Query(); q.Has("profileOwner") {
		owner = q.Get("profileOwner")
		if !twelveDigits.MatchString(owner) {
			var v violations
			v.pattern("profileOwner", owner, twelveDigits, "^[0-9]{12}$")
			return v.err("ValidationException")
		}
	}
	profARN := e.profileARN(x.region, owner, name)
	p := e.lookupProfile(owner, x.region, name)
	if ae := e.authorizeSigner(x, "signer:GetSigningProfile", profARN, owner, permsOf(p)); ae != nil {
		return ae
	}
	if p == nil {
		return profileNotFound(profARN)
	}
	resp := map[string]any{
		"arn":                     p.arn(),
		"profileName":             p.Name,
		"profileVersion":          p.Version,
		"profileVersionArn":       p.versionARN(),
		"platformId":              p.PlatformID,
		"platformDisplayName":     notationPlatformDisplayName,
		"signatureValidityPeriod": map[string]any{"value": p.Validity.Value, "type": p.Validity.Type},
		"status":                  p.Status,
	}
	if len(p.SigningParameters) > 0 {
		resp["signingParameters"] = p.SigningParameters
	}
	if len(p.Tags) > 0 {
		resp["tags"] = p.Tags
	}
	if r := p.RevokedVersions[p.Version]; r != nil {
		resp["revocationRecord"] = map[string]any{
			"revocationEffectiveFrom": r.EffectiveFrom.Unix(), "revokedAt": r.RevokedAt.Unix(), "revokedBy": r.RevokedBy,
		}
		resp["statusReason"] = r.Reason
	}
	writeJSON(x, resp)
	return nil
}

func validateProfileName(name string) *apiError {
	var v violations
	if v.length("profileName", name, 2, 64) {
		v.pattern("profileName", name, profileNameModel, "^[a-zA-Z0-9_]{2,}$")
	}
	return v.err("ValidationException")
}

func (e *Emulator) putSigningProfile(x *exchange, name string) *apiError {
	var req struct {
		PlatformID              *string           `json:"platformId"`
		SignatureValidityPeriod *ValidityPeriod   `json:"signatureValidityPeriod"`
		SigningMaterial         json.RawMessage   `json:"signingMaterial"`
		Overrides               json.RawMessage   `json:"overrides"`
		SigningParameters       map[string]string `json:"signingParameters"`
		Tags                    map[string]string `json:"tags"`
	}
	if ae := validateProfileName(name); ae != nil {
		return ae
	}
	if ae := decodeBody(x, &req); ae != nil {
		return ae
	}
	if req.PlatformID == nil {
		var v violations
		v.null("platformId")
		return v.err("ValidationException")
	}
	if *req.PlatformID != notationPlatformID {
		return errorf(400, "ValidationException", "Platform %s is not supported by xsigner-emulator; use %s", *req.PlatformID, notationPlatformID)
	}
	if len(req.SigningMaterial) > 0 && string(req.SigningMaterial) != "null" {
		return errorf(400, "ValidationException", "Signing material is not supported for platform %s", notationPlatformID)
	}
	validity := ValidityPeriod{Value: 135, Type: "MONTHS"}
	if req.SignatureValidityPeriod != nil {
		validity = *req.SignatureValidityPeriod
		if err := validateValidity(validity); err != nil {
			return errorf(400, "ValidationException", "Invalid signatureValidityPeriod: %v", err)
		}
	}
	if len(req.Tags) > 200 {
		return errorf(400, "ValidationException", "A signing profile can have at most 200 tags")
	}
	owner := x.caller.Account
	profARN := e.profileARN(x.region, owner, name)
	if ae := e.authorizeSigner(x, "signer:PutSigningProfile", profARN, owner, nil); ae != nil {
		return ae
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	key := profileKey(owner, x.region, name)
	p := e.st.Profiles[key]
	switch {
	case p == nil:
		p = &profile{Account: owner, Region: x.region, Name: name, PlatformID: notationPlatformID, Status: "Active"}
		e.st.Profiles[key] = p
	case p.Status != "Active":
		// Canceled names cannot be reused (aws.md §1.6); the exact error is not documented.
		return errorf(400, "ValidationException", "Signing profile %s is %s; its name cannot be reused", profARN, strings.ToLower(p.Status))
	}
	p.Validity, p.SigningParameters, p.Tags = validity, req.SigningParameters, req.Tags
	p.newVersion()
	if ae := e.commit(); ae != nil {
		return ae
	}
	writeJSON(x, map[string]any{"arn": p.arn(), "profileVersion": p.Version, "profileVersionArn": p.versionARN()})
	return nil
}

func (e *Emulator) cancelSigningProfile(x *exchange, name string) *apiError {
	owner := x.caller.Account
	profARN := e.profileARN(x.region, owner, name)
	if ae := e.authorizeSigner(x, "signer:CancelSigningProfile", profARN, owner, nil); ae != nil {
		return ae
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.st.Profiles[profileKey(owner, x.region, name)]
	if p == nil {
		return profileNotFound(profARN)
	}
	p.Status = "Canceled"
	if ae := e.commit(); ae != nil {
		return ae
	}
	writeJSON(x, nil)
	return nil
}

func (e *Emulator) addProfilePermission(x *exchange, name string) *apiError {
	var req struct {
		Action         *string `json:"action"`
		Principal      *string `json:"principal"`
		StatementID    *string `json:"statementId"`
		ProfileVersion *string `json:"profileVersion"`
		RevisionID     *string `json:"revisionId"`
	}
	if ae := decodeBody(x, &req); ae != nil {
		return ae
	}
	var v violations
	if req.Action == nil {
		v.null("action")
	}
	if req.Principal == nil {
		v.null("principal")
	}
	if req.StatementID == nil {
		v.null("statementId")
	}
	if req.ProfileVersion != nil {
		v.pattern("profileVersion", *req.ProfileVersion, profileVersionPattern, "^[a-zA-Z0-9]{10}$")
	}
	if ae := v.err("ValidationException"); ae != nil {
		return ae
	}
	owner := x.caller.Account
	profARN := e.profileARN(x.region, owner, name)
	if ae := e.authorizeSigner(x, "signer:AddProfilePermission", profARN, owner, nil); ae != nil {
		return ae
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.st.Profiles[profileKey(owner, x.region, name)]
	if p == nil {
		return profileNotFound(profARN)
	}
	if req.RevisionID != nil && *req.RevisionID != p.RevisionID {
		return errorf(409, "ConflictException", "The revisionId %s does not match the current revision of the signing profile permissions", *req.RevisionID)
	}
	if msg := validatePermission(*req.Action, *req.Principal, *req.StatementID); msg != "" {
		return errorf(400, "ValidationException", "%s", msg)
	}
	perm := ProfilePermission{StatementID: *req.StatementID, Action: *req.Action, Principal: *req.Principal}
	if req.ProfileVersion != nil {
		if !p.hasVersion(*req.ProfileVersion) {
			return errorf(400, "ValidationException", "Profile version %s does not exist for signing profile %s", *req.ProfileVersion, profARN)
		}
		perm.ProfileVersion = *req.ProfileVersion
	}
	for _, existing := range p.Permissions {
		if existing.StatementID == perm.StatementID {
			return errorf(409, "ConflictException", "A permission with statement id %s already exists for signing profile %s", perm.StatementID, profARN)
		}
	}
	p.Permissions = append(p.Permissions, perm)
	p.RevisionID = newRevisionID()
	if ae := e.commit(); ae != nil {
		return ae
	}
	writeJSON(x, map[string]any{"revisionId": p.RevisionID})
	return nil
}

func (e *Emulator) listProfilePermissions(x *exchange, name string) *apiError {
	owner := x.caller.Account
	profARN := e.profileARN(x.region, owner, name)
	if ae := e.authorizeSigner(x, "signer:ListProfilePermissions", profARN, owner, nil); ae != nil {
		return ae
	}
	p := e.lookupProfile(owner, x.region, name)
	if p == nil {
		return profileNotFound(profARN)
	}
	perms := make([]map[string]string, 0, len(p.Permissions))
	for _, pp := range p.Permissions {
		m := map[string]string{"action": pp.Action, "principal": pp.Principal, "statementId": pp.StatementID}
		if pp.ProfileVersion != "" {
			m["profileVersion"] = pp.ProfileVersion
		}
		perms = append(perms, m)
	}
	resp := map[string]any{"permissions": perms, "policySizeBytes": 0}
	if len(p.Permissions) > 0 {
		doc, _ := json.Marshal(permissionsDocument(p.Permissions, p.arn()))
		resp["policySizeBytes"] = len(doc)
	}
	if p.RevisionID != "" {
		resp["revisionId"] = p.RevisionID
	}
	writeJSON(x, resp)
	return nil
}

func (e *Emulator) removeProfilePermission(x *exchange, name, statementID string) *apiError {
	q := x.r.URL.Query()
	if !q.Has("revisionId") {
		var v violations
		v.null("revisionId")
		return v.err("ValidationException")
	}
	revision := q.Get("revisionId")
	owner := x.caller.Account
	profARN := e.profileARN(x.region, owner, name)
	if ae := e.authorizeSigner(x, "signer:RemoveProfilePermission", profARN, owner, nil); ae != nil {
		return ae
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.st.Profiles[profileKey(owner, x.region, name)]
	if p == nil {
		return profileNotFound(profARN)
	}
	if revision != p.RevisionID {
		return errorf(409, "ConflictException", "The revisionId %s does not match the current revision of the signing profile permissions", revision)
	}
	idx := -1
	for i, pp := range p.Permissions {
		if pp.StatementID == statementID {
			idx = i
		}
	}
	if idx < 0 {
		return errorf(404, "ResourceNotFoundException", "No permission with statement id %s exists for signing profile %s", statementID, profARN)
	}
	p.Permissions = append(p.Permissions[:idx:idx], p.Permissions[idx+1:]...)
	p.RevisionID = newRevisionID()
	if ae := e.commit(); ae != nil {
		return ae
	}
	writeJSON(x, map[string]any{"revisionId": p.RevisionID})
	return nil
}

func (e *Emulator) revokeSignature(x *exchange, jobID string) *apiError {
	var req struct {
		Reason   *string `json:"reason"`
		JobOwner *string `json:"jobOwner"`
	}
	if ae := decodeBody(x, &req); ae != nil {
		return ae
	}
	var v violations
	if req.Reason == nil {
		v.null("reason")
	} else {
		v.length("reason", *req.Reason, 1, 500)
	}
	if req.JobOwner != nil && v.length("jobOwner", *req.JobOwner, 12, 12) {
		v.pattern("jobOwner", *req.JobOwner, twelveDigits, "^[0-9]{12}$")
	}
	if ae := v.err("ValidationException"); ae != nil {
		return ae
	}
	owner := x.caller.Account
	if req.JobOwner != nil {
		owner = *req.JobOwner
	}
	jobARN := fmt.Sprintf("arn:%s:signer:%s:%s:/signing-jobs/%s", arn.RegionPartition(x.region), x.region, owner, jobID)
	e.mu.Lock()
	j := e.st.Jobs[jobID]
	if j != nil && (j.Owner != owner || j.Region != x.region) {
		j = nil
	}
	var perms []ProfilePermission
	if j != nil {
		if p := e.st.Profiles[profileKey(j.Owner, j.Region, j.ProfileName)]; p != nil {
			// The permissions for the version the job signed with.
			perms = permsForVersion(p.Permissions, j.ProfileVersionARN[strings.LastIndex(j.ProfileVersionARN, "/")+1:])
		}
	}
	e.mu.Unlock()
	// The permission to revoke is granted on the signing profile (profile
	// permission signer:RevokeSignature), so the job's profile supplies the
	// resource-based policy; the resource named is the job.
	if ae := e.authorizeSigner(x, "signer:RevokeSignature", jobARN, owner, perms); ae != nil {
		return ae
	}
	if j == nil {
		return errorf(404, "ResourceNotFoundException", "Signing job %s does not exist.", jobARN)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	j = e.st.Jobs[jobID]
	if j == nil { // a reset between the two locks
		return errorf(404, "ResourceNotFoundException", "Signing job %s does not exist.", jobARN)
	}
	if !j.Revoked {
		j.Revoked, j.RevokedAt, j.RevokedBy, j.RevocationReason = true, e.now().UTC(), x.caller.ARN, *req.Reason
	}
	if ae := e.commit(); ae != nil {
		return ae
	}
	writeJSON(x, nil)
	return nil
}

func (e *Emulator) revokeSigningProfile(x *exchange, name string) *apiError {
	var req struct {
		ProfileVersion *string  `json:"profileVersion"`
		Reason         *string  `json:"reason"`
		EffectiveTime  *float64 `json:"effectiveTime"`
	}
	if ae := decodeBody(x, &req); ae != nil {
		return ae
	}
	var v violations
	if req.ProfileVersion == nil {
		v.null("profileVersion")
	} else if v.length("profileVersion", *req.ProfileVersion, 10, 10) {
		v.pattern("profileVersion", *req.ProfileVersion, profileVersionPattern, "^[a-zA-Z0-9]{10}$")
	}
	if req.Reason == nil {
		v.null("reason")
	} else {
		v.length("reason", *req.Reason, 1, 500)
	}
	if req.EffectiveTime == nil {
		v.null("effectiveTime")
	}
	if ae := v.err("ValidationException"); ae != nil {
		return ae
	}
	owner := x.caller.Account
	profARN := e.profileARN(x.region, owner, name)
	if ae := e.authorizeSigner(x, "signer:RevokeSigningProfile", profARN, owner, nil); ae != nil {
		return ae
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.st.Profiles[profileKey(owner, x.region, name)]
	if p == nil {
		return profileNotFound(profARN)
	}
	if !p.hasVersion(*req.ProfileVersion) {
		return errorf(400, "ValidationException", "Profile version %s does not exist for signing profile %s", *req.ProfileVersion, profARN)
	}
	sec := *req.EffectiveTime
	eff := time.Unix(int64(sec), int64((sec-float64(int64(sec)))*1e9)).UTC()
	if p.RevokedVersions == nil {
		p.RevokedVersions = map[string]*versionRevocation{}
	}
	p.RevokedVersions[*req.ProfileVersion] = &versionRevocation{EffectiveFrom: eff, RevokedAt: e.now().UTC(), RevokedBy: x.caller.ARN, Reason: *req.Reason}
	p.Status = "Revoked"
	if ae := e.commit(); ae != nil {
		return ae
	}
	writeJSON(x, nil)
	return nil
}
