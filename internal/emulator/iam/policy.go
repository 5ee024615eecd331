// Package iam parses and evaluates AWS IAM JSON policy documents (identity
// policies, role trust policies and resource policies) the way AWS IAM does,
// so that a permissions setup that works against xsigner-emulator also works
// against AWS.
//
// The parser is strict: anything AWS would reject with MalformedPolicyDocument,
// and anything this package cannot evaluate faithfully (policy variables,
// multi-valued condition set operators, numeric/date/IP operators), is an error
// instead of a silently different decision.
package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Supported policy language versions. An absent Version means "2008-10-17".
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect values.
const (
	EffectAllow = "Allow"
	EffectDeny  = "Deny"
)

// Policy is a parsed IAM policy document (identity policy, role trust policy,
// or resource policy).
type Policy struct {
	Version    string
	ID         string
	Statements []Statement
	raw        []byte
}

// Raw returns the document the policy was parsed from.
func (p *Policy) Raw() []byte { return bytes.Clone(p.raw) }

// Statement is one statement of a policy. Exactly one of Action/NotAction is
// set; at most one of Principal/NotPrincipal and of Resource/NotResource.
type Statement struct {
	Sid, Effect             string
	Principal, NotPrincipal *Principals
	Action, NotAction       []string
	Resource, NotResource   []string
	Conditions              []Condition
}

// Principals is the value of a Principal or NotPrincipal element.
type Principals struct {
	// Any is true for "Principal": "*" (everyone, including anonymous callers).
	Any bool
	// AWS holds the "AWS" entries as written, except that a bare account id
	// is kept as the 12 digits. "*" means any AWS principal.
	AWS []string
	// Service holds service principals such as "ec2.amazonaws.com".
	Service []string
	// Federated holds identity providers: OIDC/SAML provider ARNs or hosts
	// such as "accounts.google.com".
	Federated []string
}

// Condition is one (operator, key) pair of a Condition block. Values are
// ORed; separate Conditions of a statement are ANDed.
type Condition struct {
	// Operator as written, e.g. "StringEquals" or "StringLikeIfExists".
	Operator string
	// Key is the condition key as written, e.g. "sts:ExternalId" (matched
	// case-insensitively).
	Key    string
	Values []string

	op       baseOperator
	ifExists bool
}

// MalformedPolicyError is returned by ParsePolicy and the Validate functions.
// Its message is suitable for an AWS MalformedPolicyDocument error.
type MalformedPolicyError struct {
	Reason string
}

func (e *MalformedPolicyError) Error() string { return "malformed policy document: " + e.Reason }

func malformed(format string, args ...any) error {
	return &MalformedPolicyError{Reason: fmt.Sprintf(format, args...)}
}

var (
	topLevelKeys  = map[string]bool{"Version": true, "Id": true, "Statement": true}
	statementKeys = map[string]bool{
		"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true, "Action": true,
		"NotAction": true, "Resource": true, "NotResource": true, "Condition": true,
	}
	actionPattern    = regexp.MustCompile(`^[A-Za-z0-9-]+:[A-Za-z0-9*?_-]+$`)
	accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)
	servicePattern   = regexp.MustCompile(`^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$`)
	// The prefix may be an OIDC provider host and path (token.actions.githubusercontent.com:sub).
	conditionKeyRegex = regexp.MustCompile(`^[A-Za-z0-9./_-]+:[A-Za-z0-9_./:-]+$`)
)

// ParsePolicy parses a JSON policy document strictly. Statement may be an
// object or an array; Action, Resource and the like may be a string or an
// array; Principal may be "*" or an object with "AWS", "Service" and
// "Federated" entries. It rejects, with a *MalformedPolicyError: malformed or
// trailing JSON, duplicate keys, unknown top-level or statement keys, a
// Version other than "2012-10-17" or "2008-10-17", an Effect other than
// Allow/Deny, a statement with neither or both of Action/NotAction (likewise
// both Resource/NotResource or both Principal/NotPrincipal), empty value
// lists, malformed actions, resources and principals, duplicate Sids, policy
// variables such as ${aws:username}, and unsupported condition operators.
func ParsePolicy(doc []byte) (*Policy, error) {
	if err := checkJSON(doc); err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, malformed("policy must be a JSON object")
	}
	if top == nil {
		return nil, malformed("policy must be a JSON object")
	}
	for k := range top {
		if !topLevelKeys[k] {
			return nil, malformed("unknown field %q at the top level", k)
		}
	}
	p := &Policy{raw: bytes.Clone(doc)}
	if v, ok := top["Version"]; ok {
		if err := json.Unmarshal(v, &p.Version); err != nil {
			return nil, malformed("Version must be a string")
		}
		if p.Version != Version2012 && p.Version != Version2008 {
			return nil, malformed("Version %q is not supported (use %q)", p.Version, Version2012)
		}
	}
	if v, ok := top["Id"]; ok {
		if err := json.Unmarshal(v, &p.ID); err != nil {
			return nil, malformed("Id must be a string")
		}
	}
	rawStmt, ok := top["Statement"]
	if !ok {
		return nil, malformed("missing required field Statement")
	}
	var stmts []json.RawMessage
	switch firstByte(rawStmt) {
	case '{':
		stmts = []json.RawMessage{rawStmt}
	case '[':
		if err := json.Unmarshal(rawStmt, &stmts); err != nil {
			return nil, malformed("Statement must be an object or an array of objects")
		}
	default:
		return nil, malformed("Statement must be an object or an array of objects")
	}
	if len(stmts) == 0 {
		return nil, malformed("Statement must not be empty")
	}
	sids := map[string]bool{}
	for i, raw := range stmts {
		s, err := parseStatement(raw)
		if err != nil {
			var m *MalformedPolicyError
			if errors.As(err, &m) {
				return nil, malformed("statement %d: %s", i, m.Reason)
			}
			return nil, err
		}
		if s.Sid != "" {
			if sids[s.Sid] {
				return nil, malformed("statement ids (Sid) must be unique: %q repeats", s.Sid)
			}
			sids[s.Sid] = true
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func parseStatement(raw json.RawMessage) (Statement, error) {
	var s Statement
	if firstByte(raw) != '{' {
		return s, malformed("statement must be a JSON object")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return s, malformed("statement must be a JSON object")
	}
	for k := range fields {
		if !statementKeys[k] {
			return s, malformed("unknown field %q", k)
		}
	}
	if v, ok := fields["Sid"]; ok {
		if err := json.Unmarshal(v, &s.Sid); err != nil {
			return s, malformed("Sid must be a string")
		}
	}
	v, ok := fields["Effect"]
	if !ok {
		return s, malformed("missing required field Effect")
	}
	if err := json.Unmarshal(v, &s.Effect); err != nil || (s.Effect != EffectAllow && s.Effect != EffectDeny) {
		return s, malformed("Effect must be %q or %q", EffectAllow, EffectDeny)
	}

	var err error
	if s.Action, s.NotAction, err = exclusivePair(fields, "Action", "NotAction", validateAction); err != nil {
		return s, err
	}
	if s.Action == nil && s.NotAction == nil {
		return s, malformed("statement must contain Action or NotAction")
	}
	if s.Resource, s.NotResource, err = exclusivePair(fields, "Resource", "NotResource", validateResource); err != nil {
		return s, err
	}
	_, hasP := fields["Principal"]
	_, hasNP := fields["NotPrincipal"]
	if hasP && hasNP {
		return s, malformed("statement must not contain both Principal and NotPrincipal")
	}
	if hasP {
		if s.Principal, err = parsePrincipals(fields["Principal"], "Principal"); err != nil {
			return s, err
		}
	}
	if hasNP {
		if s.NotPrincipal, err = parsePrincipals(fields["NotPrincipal"], "NotPrincipal"); err != nil {
			return s, err
		}
		if s.NotPrincipal.Any {
			return s, malformed(`NotPrincipal must not be "*"`)
		}
	}
	if v, ok := fields["Condition"]; ok {
		if s.Conditions, err = parseConditions(v); err != nil {
			return s, err
		}
	}
	return s, nil
}

// exclusivePair parses an element and its Not-twin (Action/NotAction,
// Resource/NotResource), rejecting both being present.
func exclusivePair(fields map[string]json.RawMessage, name, notName string, check func(string) error) (pos, neg []string, err error) {
	rp, hasPos := fields[name]
	rn, hasNeg := fields[notName]
	if hasPos && hasNeg {
		return nil, nil, malformed("statement must not contain both %s and %s", name, notName)
	}
	parse := func(raw json.RawMessage, field string) ([]string, error) {
		vals, err := stringOrList(raw, field)
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			if err := check(v); err != nil {
				return nil, err
			}
		}
		return vals, nil
	}
	if hasPos {
		pos, err = parse(rp, name)
	}
	if hasNeg {
		neg, err = parse(rn, notName)
	}
	return pos, neg, err
}

// stringOrList decodes a JSON string or a non-empty array of strings.
func stringOrList(raw json.RawMessage, field string) ([]string, error) {
	switch firstByte(raw) {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, malformed("%s must be a string or an array of strings", field)
		}
		return []string{s}, nil
	case '[':
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, malformed("%s must be a string or an array of strings", field)
		}
		if len(list) == 0 {
			return nil, malformed("%s must not be an empty array", field)
		}
		return list, nil
	default:
		return nil, malformed("%s must be a string or an array of strings", field)
	}
}

func validateAction(a string) error {
	if a == "*" || actionPattern.MatchString(a) {
		return nil
	}
	return malformed("action %q must be \"*\" or prefixed by a service, e.g. \"signer:SignPayload\"", a)
}

func validateResource(r string) error {
	if strings.Contains(r, "${") {
		return malformed("resource %q uses a policy variable; policy variables are not supported by this emulator", r)
	}
	if r == "*" {
		return nil
	}
	if !strings.HasPrefix(r, "arn:") || len(strings.SplitN(r, ":", 6)) < 6 {
		return malformed("resource %q must be \"*\" or an ARN (arn:partition:service:region:account:resource)", r)
	}
	return nil
}

func parsePrincipals(raw json.RawMessage, field string) (*Principals, error) {
	switch firstByte(raw) {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || s != "*" {
			return nil, malformed(`%s must be "*" or an object such as {"AWS": "123456789012"}`, field)
		}
		return &Principals{Any: true}, nil
	case '{':
	default:
		return nil, malformed(`%s must be "*" or an object such as {"AWS": "123456789012"}`, field)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, malformed("%s must be an object", field)
	}
	if len(m) == 0 {
		return nil, malformed("%s must not be empty", field)
	}
	p := &Principals{}
	for _, kind := range slices.Sorted(maps.Keys(m)) {
		v := m[kind]
		vals, err := stringOrList(v, field+"."+kind)
		if err != nil {
			return nil, err
		}
		for _, val := range vals {
			if err := validatePrincipal(kind, val); err != nil {
				return nil, err
			}
		}
		switch kind {
		case "AWS":
			p.AWS = vals
		case "Service":
			p.Service = vals
		case "Federated":
			p.Federated = vals
		}
	}
	return p, nil
}

func validatePrincipal(kind, v string) error {
	switch kind {
	case "AWS":
		if v == "*" || accountIDPattern.MatchString(v) {
			return nil
		}
		if _, ok := parseAWSPrincipalARN(v); ok {
			return nil
		}
		return malformed("invalid principal in policy: \"AWS\":%q (want \"*\", a 12-digit account id, or an account root, user, role or assumed-role ARN without wildcards)", v)
	case "Service":
		if servicePattern.MatchString(v) {
			return nil
		}
		return malformed("invalid principal in policy: \"Service\":%q (want e.g. \"ec2.amazonaws.com\")", v)
	case "Federated":
		if v == "" || strings.ContainsAny(v, "*?") || strings.Contains(v, "${") {
			return malformed("invalid principal in policy: \"Federated\":%q", v)
		}
		return nil
	case "CanonicalUser":
		return malformed("CanonicalUser principals are not supported by this emulator")
	default:
		return malformed("invalid principal type %q (want AWS, Service or Federated)", kind)
	}
}

// awsPrincipalARN is a parsed AWS principal ARN.
type awsPrincipalARN struct {
	account string
	root    bool
}

// parseAWSPrincipalARN accepts arn:PARTITION:iam::ACCOUNT:{root,user/...,role/...}
// and arn:PARTITION:sts::ACCOUNT:{assumed-role/R/S,federated-user/N}. Wildcards
// are not allowed in principals (AWS: "you cannot use a wildcard to match
// part of a principal name or ARN").
func parseAWSPrincipalARN(v string) (awsPrincipalARN, bool) {
	if strings.ContainsAny(v, "*?") || strings.Contains(v, "${") {
		return awsPrincipalARN{}, false
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[3] != "" ||
		!accountIDPattern.MatchString(parts[4]) {
		return awsPrincipalARN{}, false
	}
	res := parts[5]
	switch parts[2] {
	case "iam":
		if res == "root" {
			return awsPrincipalARN{account: parts[4], root: true}, true
		}
		for _, prefix := range []string{"user/", "role/"} {
			if name, ok := strings.CutPrefix(res, prefix); ok && name != "" && !strings.HasSuffix(name, "/") {
				return awsPrincipalARN{account: parts[4]}, true
			}
		}
	case "sts":
		if rest, ok := strings.CutPrefix(res, "assumed-role/"); ok {
			role, sess, found := strings.Cut(rest, "/")
			if found && role != "" && sess != "" && !strings.Contains(sess, "/") {
				return awsPrincipalARN{account: parts[4]}, true
			}
		}
		if name, ok := strings.CutPrefix(res, "federated-user/"); ok && name != "" {
			return awsPrincipalARN{account: parts[4]}, true
		}
	}
	return awsPrincipalARN{}, false
}

func parseConditions(raw json.RawMessage) ([]Condition, error) {
	if firstByte(raw) != '{' {
		return nil, malformed("Condition must be an object")
	}
	var ops map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ops); err != nil {
		return nil, malformed("Condition must be an object")
	}
	if len(ops) == 0 {
		return nil, malformed("Condition must not be empty")
	}
	var out []Condition
	for _, opName := range slices.Sorted(maps.Keys(ops)) {
		body := ops[opName]
		base, ifExists, err := parseOperator(opName)
		if err != nil {
			return nil, err
		}
		if firstByte(body) != '{' {
			return nil, malformed("condition operator %s must map condition keys to values", opName)
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(body, &keys); err != nil {
			return nil, malformed("condition operator %s must map condition keys to values", opName)
		}
		if len(keys) == 0 {
			return nil, malformed("condition operator %s has no condition keys", opName)
		}
		for _, key := range slices.Sorted(maps.Keys(keys)) {
			v := keys[key]
			if strings.Contains(key, "${") || !conditionKeyRegex.MatchString(key) {
				return nil, malformed("condition key %q must be prefixed by a service, e.g. \"aws:PrincipalArn\"", key)
			}
			vals, err := conditionValues(v, opName, key)
			if err != nil {
				return nil, err
			}
			out = append(out, Condition{Operator: opName, Key: key, Values: vals, op: base, ifExists: ifExists})
		}
	}
	return out, nil
}

// conditionValues decodes a condition value: a string, boolean or number, or a
// non-empty array of those (AWS accepts JSON booleans and numbers, e.g.
// {"Bool": {"aws:SecureTransport": true}}).
func conditionValues(raw json.RawMessage, op, key string) ([]string, error) {
	bad := malformed("condition %s %s: value must be a string, boolean or number, or an array of them", op, key)
	var items []json.RawMessage
	if firstByte(raw) == '[' {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, bad
		}
		if len(items) == 0 {
			return nil, malformed("condition %s %s: value must not be an empty array", op, key)
		}
	} else {
		items = []json.RawMessage{raw}
	}
	vals := make([]string, 0, len(items))
	for _, it := range items {
		var s string
		switch b := firstByte(it); {
		case b == '"':
			if err := json.Unmarshal(it, &s); err != nil {
				return nil, bad
			}
		case b == 't' || b == 'f':
			var v bool
			if err := json.Unmarshal(it, &v); err != nil {
				return nil, bad
			}
			s = fmt.Sprint(v)
		case b == '-' || (b >= '0' && b <= '9'):
			var n json.Number
			if err := json.Unmarshal(it, &n); err != nil {
				return nil, bad
			}
			s = n.String()
		default:
			return nil, bad
		}
		if strings.Contains(s, "${") {
			return nil, malformed("condition %s %s: value %q uses a policy variable; policy variables are not supported by this emulator", op, key, s)
		}
		vals = append(vals, s)
	}
	return vals, nil
}

func firstByte(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// checkJSON verifies that doc is exactly one well-formed JSON value with no
// duplicate object keys. encoding/json silently keeps the last duplicate,
// which could make this emulator read a different policy than AWS does.
func checkJSON(doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := walkJSON(dec, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed("unexpected data after the policy document")
	}
	return nil
}

const maxJSONDepth = 32

func walkJSON(dec *json.Decoder, depth int) error {
	if depth > maxJSONDepth {
		return malformed("policy document is nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return malformed("invalid JSON: %v", err)
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch delim {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return malformed("invalid JSON: %v", err)
			}
			k, ok := kt.(string)
			if !ok {
				return malformed("invalid JSON object key")
			}
			if seen[k] {
				return malformed("duplicate key %q", k)
			}
			seen[k] = true
			if err := walkJSON(dec, depth+1); err != nil {
				return err
			}
		}
	case '[':
		for dec.More() {
			if err := walkJSON(dec, depth+1); err != nil {
				return err
			}
		}
	default:
		return malformed("invalid JSON")
	}
	if _, err := dec.Token(); err != nil {
		return malformed("invalid JSON: %v", err)
	}
	return nil
}
