package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The CloudFormation templates of spec/cloudformation create the same IAM
// documents as spec/iam. These tests resolve the templates' intrinsic
// functions (Ref, Fn::Sub, Fn::GetAtt, Fn::If) with the placeholder values of
// the other spec tests and require every policy document to equal its
// spec/iam file, so the proof of iam_test.go (each statement is needed,
// together they work) carries over to the templates, and an edit of one
// without the other fails here.

const (
	fileTemplateA = "account-a.yaml"
	fileTemplateB = "account-b.yaml"
)

// cfnTemplate is a parsed template, short-form tags (!Sub, !Ref, !GetAtt,
// !If, ...) turned into their long form ({"Fn::Sub": ...}, {"Ref": ...}).
type cfnTemplate struct {
	file string
	root map[string]any
}

func (tp cfnTemplate) section(name string) map[string]any {
	s, _ := tp.root[name].(map[string]any)
	return s
}

func (tp cfnTemplate) resource(name string) map[string]any {
	r, _ := tp.section("Resources")[name].(map[string]any)
	return r
}

func loadTemplate(t testing.TB, file string) cfnTemplate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("cloudformation", file))
	if err != nil {
		t.Fatal(err)
	}
	tp, err := parseTemplate(file, data)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func parseTemplate(file string, data []byte) (cfnTemplate, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return cfnTemplate{}, fmt.Errorf("%s: %w", file, err)
	}
	v, err := cfnValue(&doc)
	if err != nil {
		return cfnTemplate{}, fmt.Errorf("%s: %w", file, err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return cfnTemplate{}, fmt.Errorf("%s: not a mapping", file)
	}
	return cfnTemplate{file: file, root: root}, nil
}

// cfnValue converts a YAML node to JSON-like values, the way CloudFormation
// reads short-form tags: !Ref x is {"Ref": x}, !GetAtt a.b is
// {"Fn::GetAtt": [a, b]}, !Condition c is {"Condition": c}, any other !Name
// is {"Fn::Name": value}.
func cfnValue(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.DocumentNode:
		return cfnValue(n.Content[0])
	case yaml.AliasNode:
		return cfnValue(n.Alias)
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: unsupported mapping key", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			val, err := cfnValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		v = m
	case yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			val, err := cfnValue(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str", "!!timestamp", "!!binary":
			v = n.Value
		case "!!int", "!!float", "!!bool", "!!null":
			if err := n.Decode(&v); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
		default: // a short-form tag on a scalar
			v = n.Value
		}
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return v, nil
	}
	name := n.Tag[1:]
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			res, attr, ok := strings.Cut(s, ".")
			if !ok {
				return nil, fmt.Errorf("line %d: !GetAtt %q is not Resource.Attribute", n.Line, s)
			}
			v = []any{res, attr}
		}
	}
	return map[string]any{"Fn::" + name: v}, nil
}

// noValue is what Ref AWS::NoValue resolves to: the enclosing property or
// list item is dropped.
type noValueT struct{}

var noValue = noValueT{}

// cfnEval resolves a template for one set of parameter values, as
// CloudFormation would when creating the stack: conditions, Ref, Fn::Sub,
// Fn::GetAtt (with the attribute values AWS returns, computed from the
// resolved properties), Fn::If and Fn::Join. Anything else is an error, so
// a template that starts using another function makes the tests fail until
// it is supported here.
type cfnEval struct {
	tp     cfnTemplate
	params map[string]string
	pseudo map[string]string
	conds  map[string]bool
	props  map[string]map[string]any // resolved properties by resource
	active map[string]bool           // resources being resolved (cycle check)
}

// pseudoParams are the pseudo parameters of a stack in account, in the
// partition and region of l: AWS::Partition and AWS::Region take the values
// of AWS_PARTITION and AWS_REGION in the spec documents of l.
func pseudoParams(l layout, account string) map[string]string {
	suffix := "amazonaws.com"
	if l.partition == "aws-cn" {
		suffix = "amazonaws.com.cn"
	}
	return map[string]string{"AWS::Partition": l.partition, "AWS::Region": l.region, "AWS::AccountId": account,
		"AWS::URLSuffix": suffix, "AWS::StackName": "xsigner", "AWS::StackId": "arn:" + l.partition +
			":cloudformation:" + l.region + ":" + account + ":stack/xsigner/00000000-0000-0000-0000-000000000000"}
}

func newEval(tp cfnTemplate, params, pseudo map[string]string) (*cfnEval, error) {
	e := &cfnEval{tp: tp, params: map[string]string{}, pseudo: pseudo, conds: map[string]bool{},
		props: map[string]map[string]any{}, active: map[string]bool{}}
	decl := tp.section("Parameters")
	for name := range params {
		if _, ok := decl[name]; !ok {
			return nil, fmt.Errorf("parameter %s is not declared", name)
		}
	}
	for name, d := range decl {
		d := d.(map[string]any)
		v, ok := params[name]
		if !ok {
			def, has := d["Default"]
			if !has {
				return nil, fmt.Errorf("parameter %s has no value and no default", name)
			}
			v = fmt.Sprint(def)
		}
		if err := checkParameter(name, d, v); err != nil {
			return nil, err
		}
		e.params[name] = v
	}
	for name := range tp.section("Conditions") {
		b, err := e.condition(name, nil)
		if err != nil {
			return nil, fmt.Errorf("condition %s: %w", name, err)
		}
		e.conds[name] = b
	}
	return e, nil
}

// checkParameter applies a parameter's constraints to a value, as
// CloudFormation does before it creates anything.
func checkParameter(name string, d map[string]any, v string) error {
	if av, ok := d["AllowedValues"].([]any); ok && !slices.ContainsFunc(av, func(a any) bool { return fmt.Sprint(a) == v }) {
		return fmt.Errorf("parameter %s: %q is not one of %v", name, v, av)
	}
	if p, ok := d["AllowedPattern"].(string); ok {
		re, err := regexp.Compile(`^(?:` + p + `)$`)
		if err != nil {
			return fmt.Errorf("parameter %s: AllowedPattern: %w", name, err)
		}
		if !re.MatchString(v) {
			return fmt.Errorf("parameter %s: %q does not match %s", name, v, p)
		}
	}
	if n, ok := d["MinLength"].(int); ok && len(v) < n {
		return fmt.Errorf("parameter %s: %q is shorter than %d", name, v, n)
	}
	if n, ok := d["MaxLength"].(int); ok && len(v) > n {
		return fmt.Errorf("parameter %s: %q is longer than %d", name, v, n)
	}
	if d["Type"] == "Number" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("parameter %s: %q is not a number", name, v)
		}
		if m, ok := d["MinValue"].(int); ok && f < float64(m) {
			return fmt.Errorf("parameter %s: %v is below %d", name, f, m)
		}
		if m, ok := d["MaxValue"].(int); ok && f > float64(m) {
			return fmt.Errorf("parameter %s: %v is above %d", name, f, m)
		}
	}
	return nil
}

// condition evaluates the named condition of the Conditions section.
func (e *cfnEval) condition(name string, seen []string) (bool, error) {
	if b, ok := e.conds[name]; ok {
		return b, nil
	}
	if slices.Contains(seen, name) {
		return false, fmt.Errorf("condition cycle %v", append(seen, name))
	}
	def, ok := e.tp.section("Conditions")[name]
	if !ok {
		return false, fmt.Errorf("no condition %q", name)
	}
	return e.condExpr(def, append(seen, name))
}

// condExpr evaluates a condition function (Fn::Equals, Fn::Not, Fn::And,
// Fn::Or, Condition), as in Conditions, Fn::If and Rules.
func (e *cfnEval) condExpr(v any, seen []string) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("not a condition function: %v", v)
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Condition":
			s, _ := arg.(string)
			return e.condition(s, seen)
		case "Fn::Equals":
			if len(args) != 2 {
				return false, fmt.Errorf("Fn::Equals needs 2 values: %v", arg)
			}
			a, err := e.resolve(args[0])
			if err != nil {
				return false, err
			}
			b, err := e.resolve(args[1])
			if err != nil {
				return false, err
			}
			return fmt.Sprint(a) == fmt.Sprint(b), nil
		case "Fn::Not":
			if len(args) != 1 {
				return false, fmt.Errorf("Fn::Not needs 1 condition: %v", arg)
			}
			b, err := e.condExpr(args[0], seen)
			return !b, err
		case "Fn::And", "Fn::Or":
			if len(args) < 2 {
				return false, fmt.Errorf("%s needs 2 or more conditions: %v", fn, arg)
			}
			and := fn == "Fn::And"
			for _, a := range args {
				b, err := e.condExpr(a, seen)
				if err != nil {
					return false, err
				}
				if b != and {
					return b, nil
				}
			}
			return and, nil
		}
		return false, fmt.Errorf("unsupported condition function %s", fn)
	}
	panic("unreachable")
}

// exists says whether a resource is created with these parameters.
func (e *cfnEval) exists(name string) (bool, error) {
	r := e.tp.resource(name)
	if r == nil {
		return false, fmt.Errorf("no resource %q", name)
	}
	c, ok := r["Condition"].(string)
	if !ok {
		return true, nil
	}
	b, ok := e.conds[c]
	if !ok {
		return false, fmt.Errorf("resource %s: no condition %q", name, c)
	}
	return b, nil
}

// properties resolves a created resource's properties.
func (e *cfnEval) properties(name string) (map[string]any, error) {
	if p, ok := e.props[name]; ok {
		return p, nil
	}
	ok, err := e.exists(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("resource %s is not created with SigningModel %s (condition %v)", name, e.params["SigningModel"], e.tp.resource(name)["Condition"])
	}
	if e.active[name] {
		return nil, fmt.Errorf("resource %s refers to itself", name)
	}
	e.active[name] = true
	defer delete(e.active, name)
	v, err := e.resolve(e.tp.resource(name)["Properties"])
	if err != nil {
		return nil, fmt.Errorf("resource %s: %w", name, err)
	}
	p, _ := v.(map[string]any)
	if p == nil {
		p = map[string]any{}
	}
	e.props[name] = p
	return p, nil
}

// testProfileVersion stands in for the version AWS Signer gives a new
// profile.
const testProfileVersion = "AbCdEfGhIj"

// attribute returns what Ref (attr "") or Fn::GetAtt of a resource yields,
// built from its resolved properties as AWS builds it. Resources must be
// named by their properties: a generated name could not appear in the
// other account's policies.
func (e *cfnEval) attribute(name, attr string) (string, error) {
	p, err := e.properties(name)
	if err != nil {
		return "", err
	}
	prop := func(k string) (string, error) {
		s, ok := p[k].(string)
		if !ok || s == "" {
			return "", fmt.Errorf("resource %s has no %s: the physical name must be set", name, k)
		}
		return s, nil
	}
	part, reg, acct := e.pseudo["AWS::Partition"], e.pseudo["AWS::Region"], e.pseudo["AWS::AccountId"]
	typ, _ := e.tp.resource(name)["Type"].(string)
	switch typ + "." + attr {
	case "AWS::Signer::SigningProfile.", "AWS::Signer::SigningProfile.Arn", "AWS::Signer::SigningProfile.ProfileVersionArn":
		n, err := prop("ProfileName")
		if err != nil {
			return "", err
		}
		arn := "arn:" + part + ":signer:" + reg + ":" + acct + ":/signing-profiles/" + n
		if attr == "ProfileVersionArn" {
			arn += "/" + testProfileVersion
		}
		return arn, nil
	case "AWS::Signer::SigningProfile.ProfileName":
		return prop("ProfileName")
	case "AWS::Signer::SigningProfile.ProfileVersion":
		return testProfileVersion, nil
	case "AWS::IAM::Role.", "AWS::IAM::Role.Arn":
		n, err := prop("RoleName")
		if err != nil || attr == "" {
			return n, err
		}
		path, _ := p["Path"].(string)
		if path == "" {
			path = "/"
		}
		return "arn:" + part + ":iam::" + acct + ":role" + path + n, nil
	case "AWS::ECR::Repository.", "AWS::ECR::Repository.Arn", "AWS::ECR::Repository.RepositoryUri":
		n, err := prop("RepositoryName")
		if err != nil || attr == "" {
			return n, err
		}
		if attr == "Arn" {
			return "arn:" + part + ":ecr:" + reg + ":" + acct + ":repository/" + n, nil
		}
		return acct + ".dkr.ecr." + reg + "." + e.pseudo["AWS::URLSuffix"] + "/" + n, nil
	}
	if attr == "" {
		return "", fmt.Errorf("Ref of %s (%s) is not modelled by this test", name, typ)
	}
	return "", fmt.Errorf("Fn::GetAtt %s.%s (%s) is not modelled by this test", name, attr, typ)
}

// ref resolves Ref name: a pseudo parameter, a parameter or a resource.
func (e *cfnEval) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue, nil
	}
	if strings.HasPrefix(name, "AWS::") {
		v, ok := e.pseudo[name]
		if !ok {
			return nil, fmt.Errorf("unknown pseudo parameter %s", name)
		}
		return v, nil
	}
	if v, ok := e.params[name]; ok {
		return v, nil
	}
	if e.tp.resource(name) != nil {
		return e.attribute(name, "")
	}
	return nil, fmt.Errorf("Ref %s: no such parameter or resource", name)
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// sub implements Fn::Sub: ${Name} (local variable, parameter, pseudo
// parameter or resource), ${Resource.Attribute}, ${!Literal}.
func (e *cfnEval) sub(arg any) (any, error) {
	var text string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		text = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::Sub: want [text, variables], got %v", a)
		}
		s, ok := a[0].(string)
		m, ok2 := a[1].(map[string]any)
		if !ok || !ok2 {
			return nil, fmt.Errorf("Fn::Sub: want [text, variables], got %v", a)
		}
		text = s
		for k, v := range m {
			r, err := e.resolve(v)
			if err != nil {
				return nil, err
			}
			vars[k] = r
		}
	default:
		return nil, fmt.Errorf("Fn::Sub: want text, got %v", arg)
	}
	var errs []error
	out := subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		var v any
		var err error
		if lv, ok := vars[name]; ok {
			v = lv
		} else if res, attr, ok := strings.Cut(name, "."); ok {
			v, err = e.attribute(res, attr)
		} else {
			v, err = e.ref(name)
		}
		if err == nil {
			if _, ok := v.(string); !ok {
				err = fmt.Errorf("Fn::Sub %s: not a string: %v", m, v)
			}
		}
		if err != nil {
			errs = append(errs, err)
			return m
		}
		return v.(string)
	})
	return out, errors.Join(errs...)
}

// resolve evaluates the intrinsic functions in v and drops AWS::NoValue.
// It returns noValue when v itself resolves to AWS::NoValue.
func (e *cfnEval) resolve(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := []any{}
		for _, item := range x {
			r, err := e.resolve(item)
			if err != nil {
				return nil, err
			}
			if r != noValue {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" {
					s, _ := arg.(string)
					return e.ref(s)
				}
				if strings.HasPrefix(k, "Fn::") {
					return e.function(k, arg)
				}
			}
		}
		out := map[string]any{}
		for k, item := range x {
			r, err := e.resolve(item)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if r != noValue {
				out[k] = r
			}
		}
		return out, nil
	}
	return v, nil
}

func (e *cfnEval) function(fn string, arg any) (any, error) {
	args, _ := arg.([]any)
	switch fn {
	case "Fn::Sub":
		return e.sub(arg)
	case "Fn::GetAtt":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt: want [resource, attribute], got %v", arg)
		}
		res, _ := args[0].(string)
		attr, _ := args[1].(string)
		return e.attribute(res, attr)
	case "Fn::If":
		if len(args) != 3 {
			return nil, fmt.Errorf("Fn::If: want [condition, then, else], got %v", arg)
		}
		name, _ := args[0].(string)
		b, ok := e.conds[name]
		if !ok {
			return nil, fmt.Errorf("Fn::If: no condition %q", name)
		}
		if b {
			return e.resolve(args[1])
		}
		return e.resolve(args[2])
	case "Fn::Join":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Join: want [delimiter, list], got %v", arg)
		}
		list, err := e.resolve(args[1])
		if err != nil {
			return nil, err
		}
		items, _ := list.([]any)
		parts := make([]string, len(items))
		for i, it := range items {
			s, ok := it.(string)
			if !ok {
				return nil, fmt.Errorf("Fn::Join: not a string: %v", it)
			}
			parts[i] = s
		}
		return strings.Join(parts, fmt.Sprint(args[0])), nil
	}
	return nil, fmt.Errorf("%s is not supported by this test", fn)
}

// stack is a template resolved for one set of parameters: the resources
// created, with resolved properties, and the outputs.
type stack struct {
	resources map[string]map[string]any
	types     map[string]string
	outputs   map[string]string
	ruleErrs  []string
}

func (e *cfnEval) stack() (*stack, error) {
	s := &stack{resources: map[string]map[string]any{}, types: map[string]string{}, outputs: map[string]string{}}
	for name, r := range e.tp.section("Resources") {
		ok, err := e.exists(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		for _, dep := range dependsOn(r.(map[string]any)) {
			if ok, err := e.exists(dep); err != nil || !ok {
				return nil, fmt.Errorf("resource %s depends on %s, which is not created (%v)", name, dep, err)
			}
		}
		p, err := e.properties(name)
		if err != nil {
			return nil, err
		}
		s.resources[name] = p
		s.types[name], _ = r.(map[string]any)["Type"].(string)
	}
	for name, o := range e.tp.section("Outputs") {
		o := o.(map[string]any)
		if c, ok := o["Condition"].(string); ok {
			b, ok := e.conds[c]
			if !ok {
				return nil, fmt.Errorf("output %s: no condition %q", name, c)
			}
			if !b {
				continue
			}
		}
		v, err := e.resolve(o["Value"])
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", name, err)
		}
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("output %s: not a string: %v", name, v)
		}
		s.outputs[name] = str
	}
	for name, r := range e.tp.section("Rules") {
		r := r.(map[string]any)
		if c, ok := r["RuleCondition"]; ok {
			b, err := e.condExpr(c, nil)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", name, err)
			}
			if !b {
				continue
			}
		}
		for _, a := range r["Assertions"].([]any) {
			b, err := e.condExpr(a.(map[string]any)["Assert"], nil)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", name, err)
			}
			if !b {
				s.ruleErrs = append(s.ruleErrs, name)
			}
		}
	}
	return s, nil
}

func dependsOn(r map[string]any) []string {
	switch d := r["DependsOn"].(type) {
	case string:
		return []string{d}
	case []any:
		var out []string
		for _, x := range d {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// Signing models, as the templates' SigningModel parameter names them.
const (
	modelRole              = "role"
	modelProfilePermission = "profile-permission"
)

// templateParams are the parameters of each template for a model, the
// placeholder values of the other spec tests.
func templateParams(file, model string) map[string]string {
	p := placeholders
	if file == fileTemplateA {
		ext := ""
		if model == modelRole {
			ext = p["EXTERNAL_ID"]
		}
		return map[string]string{"SigningModel": model, "AccountBId": p["ACCOUNT_B_ID"], "CodeBuildRoleName": p["CODEBUILD_ROLE_NAME"],
			"DeployRoleName": p["DEPLOY_ROLE_NAME"], "RepositoryName": p["REPO_NAME"], "SigningProfileName": p["SIGNING_PROFILE_NAME"],
			"SigningRoleName": p["SIGNING_ROLE_NAME"], "ExternalId": ext}
	}
	return map[string]string{"SigningModel": model, "AccountAId": p["ACCOUNT_A_ID"], "CodeBuildRoleName": p["CODEBUILD_ROLE_NAME"],
		"DeployRoleName": p["DEPLOY_ROLE_NAME"], "RepositoryName": p["REPO_NAME"], "SigningProfileName": p["SIGNING_PROFILE_NAME"],
		"SigningRoleName": p["SIGNING_ROLE_NAME"]}
}

// codebuildServiceTrust is the trust policy of account B's roles: only the
// CodeBuild service assumes them. It has no spec/iam file (the emulator's
// world stands a user in for the service), so it is pinned here.
var codebuildServiceTrust = map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
	"Effect": "Allow", "Principal": map[string]any{"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}}}

// expectedDocs are the documents a template must create for a model, keyed
// by where they are ("Resource.Property" or "Resource.Policies[name]"), as
// spec/iam files filled with values: a template's ${AWS::Partition} and
// ${AWS::Region} are the documents' ${AWS_PARTITION} and ${AWS_REGION}, so
// no ARN is rewritten.
func expectedDocs(t testing.TB, file, model string, values map[string]string) map[string]any {
	t.Helper()
	doc := func(f string) map[string]any { return loadIAMWith(t, values, f).doc }
	if file == fileTemplateA {
		want := map[string]any{"Repository.RepositoryPolicyText": doc(fileRepoPolicy)}
		if model == modelRole {
			want["SigningRole.AssumeRolePolicyDocument"] = doc(fileSigningTrust)
			want["SigningRole.Policies[sign-with-the-release-profile]"] = doc(fileSigningPolicy)
		}
		return want
	}
	codebuild := doc(fileCodebuildPolicy)
	want := map[string]any{
		"CodeBuildRole.AssumeRolePolicyDocument":                     codebuildServiceTrust,
		"CodeBuildRole.Policies[sign-images-of-account-a]":           codebuild,
		"DeployRole.AssumeRolePolicyDocument":                        codebuildServiceTrust,
		"DeployRole.Policies[verify-images-of-account-a]":            doc(fileDeployPolicy),
		"CodeBuildRole.Policies[sign-with-the-profile-of-account-a]": doc(fileCodebuildProfile),
	}
	if model == modelRole {
		delete(want, "CodeBuildRole.Policies[sign-with-the-profile-of-account-a]")
	} else {
		// The profile-permission model needs no role in account A: the
		// statement that assumes it is left out (spec/README.md, model 2).
		stmts := slices.DeleteFunc(slices.Clone(codebuild["Statement"].([]any)), func(s any) bool {
			return s.(map[string]any)["Sid"] == "AssumeTheSigningRoleOfAccountA"
		})
		if len(stmts) != len(codebuild["Statement"].([]any))-1 {
			t.Fatalf("%s has no statement AssumeTheSigningRoleOfAccountA", fileCodebuildPolicy)
		}
		want["CodeBuildRole.Policies[sign-images-of-account-a]"] = map[string]any{"Version": codebuild["Version"], "Statement": stmts}
	}
	return want
}

// templateDocs collects the policy documents and profile permissions a
// resolved stack creates. Any resource type or property that could grant
// access and is not collected is reported, so a template cannot grant more
// than the compared documents.
func templateDocs(s *stack) (docs map[string]any, perms []profilePermission, profiles []string, problems []string) {
	docs = map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(s.resources)) {
		p := s.resources[name]
		switch s.types[name] {
		case "AWS::ECR::Repository":
			if d, ok := p["RepositoryPolicyText"]; ok {
				docs[name+".RepositoryPolicyText"] = d
			}
			for k := range p {
				if !slices.Contains([]string{"RepositoryName", "RepositoryPolicyText"}, k) {
					problems = append(problems, fmt.Sprintf("%s: property %s is not checked by this test", name, k))
				}
			}
		case "AWS::IAM::Role":
			docs[name+".AssumeRolePolicyDocument"] = p["AssumeRolePolicyDocument"]
			pols, _ := p["Policies"].([]any)
			for _, pol := range pols {
				pol, _ := pol.(map[string]any)
				docs[fmt.Sprintf("%s.Policies[%v]", name, pol["PolicyName"])] = pol["PolicyDocument"]
			}
			for k := range p {
				if !slices.Contains([]string{"RoleName", "Description", "AssumeRolePolicyDocument", "Policies"}, k) {
					problems = append(problems, fmt.Sprintf("%s: property %s is not checked by this test (it may grant access)", name, k))
				}
			}
		case "AWS::Signer::ProfilePermission":
			perms = append(perms, profilePermission{StatementID: fmt.Sprint(p["StatementId"]), Action: fmt.Sprint(p["Action"]), Principal: fmt.Sprint(p["Principal"])})
			profiles = append(profiles, fmt.Sprint(p["ProfileName"]))
			if _, ok := p["ProfileVersion"]; ok {
				problems = append(problems, name+": ProfileVersion limits the permission to one version; sign.yml signs with the current one")
			}
		case "AWS::Signer::SigningProfile":
			if p["PlatformId"] != "Notation-OCI-SHA384-ECDSA" {
				problems = append(problems, fmt.Sprintf("%s: PlatformId %v, want Notation-OCI-SHA384-ECDSA", name, p["PlatformId"]))
			}
		default:
			problems = append(problems, fmt.Sprintf("%s: resource type %s is not checked by this test", name, s.types[name]))
		}
	}
	return docs, perms, profiles, problems
}

// normalize makes values from YAML and JSON comparable (numbers).
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return err.Error()
	}
	return out
}

// docDiff describes how policy document got differs from want: the
// statements only one of them has, or both documents whole.
func docDiff(got, want any) string {
	g, _ := got.(map[string]any)
	w, _ := want.(map[string]any)
	gs, ok1 := g["Statement"].([]any)
	ws, ok2 := w["Statement"].([]any)
	if !ok1 || !ok2 || !reflect.DeepEqual(g["Version"], w["Version"]) || len(g) != len(w) {
		return fmt.Sprintf("\n  template: %s\n  spec:     %s", indent(got), indent(want))
	}
	var out string
	for _, st := range ws {
		if !slices.ContainsFunc(gs, func(x any) bool { return reflect.DeepEqual(x, st) }) {
			out += "\n  only in the spec:     " + indent(st)
		}
	}
	for _, st := range gs {
		if !slices.ContainsFunc(ws, func(x any) bool { return reflect.DeepEqual(x, st) }) {
			out += "\n  only in the template: " + indent(st)
		}
	}
	if out == "" {
		out = "\n  same statements in another order"
	}
	return out
}

func indent(v any) string {
	b, _ := json.MarshalIndent(v, "    ", "  ")
	return string(b)
}

// checkTemplate resolves a template for a model in the partition and
// region of l and returns every difference from the spec documents filled
// for l.
func checkTemplate(t testing.TB, tp cfnTemplate, model string, l layout) []string {
	t.Helper()
	return checkTemplateWith(t, tp, model, l, l.values())
}

// checkTemplateWith is checkTemplate with the spec documents filled with
// values, which may be those of another layout.
func checkTemplateWith(t testing.TB, tp cfnTemplate, model string, l layout, values map[string]string) []string {
	t.Helper()
	account := accountA
	if tp.file == fileTemplateB {
		account = accountB
	}
	e, err := newEval(tp, templateParams(tp.file, model), pseudoParams(l, account))
	if err != nil {
		return []string{err.Error()}
	}
	s, err := e.stack()
	if err != nil {
		return []string{err.Error()}
	}
	var diffs []string
	for _, r := range s.ruleErrs {
		diffs = append(diffs, "rule "+r+" fails for the test parameters")
	}
	docs, perms, profiles, problems := templateDocs(s)
	diffs = append(diffs, problems...)
	want := expectedDocs(t, tp.file, model, values)
	for _, k := range slices.Sorted(maps.Keys(want)) {
		got, ok := docs[k]
		if !ok {
			diffs = append(diffs, k+": missing from the template")
			continue
		}
		if g, w := normalize(got), normalize(want[k]); !reflect.DeepEqual(g, w) {
			diffs = append(diffs, fmt.Sprintf("%s differs from the spec document:%s", k, docDiff(g, w)))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(docs)) {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: policy document not in spec/iam (so not proven needed by iam_test.go): %s", k, indent(normalize(docs[k]))))
		}
	}
	var wantPerms []profilePermission
	if tp.file == fileTemplateA && model == modelProfilePermission {
		wantPerms = loadProfilePermissionsWith(t, values)
	}
	if !reflect.DeepEqual(normalize(perms), normalize(wantPerms)) {
		diffs = append(diffs, fmt.Sprintf("profile permissions: template %+v, %s %+v", perms, fileProfilePermissions, wantPerms))
	}
	for _, p := range profiles {
		if p != profileName {
			diffs = append(diffs, fmt.Sprintf("profile permission on profile %q, want %q", p, profileName))
		}
	}
	var wantOut map[string]string
	if tp.file == fileTemplateA {
		wantOut = map[string]string{
			"SigningProfileArn":        l.profileARN(),
			"SigningProfileVersionArn": l.profileARN() + "/" + testProfileVersion,
			"RepositoryUri":            accountA + ".dkr.ecr." + l.region + "." + e.pseudo["AWS::URLSuffix"] + "/" + repoName,
			"RepositoryArn":            "arn:" + l.partition + ":ecr:" + l.region + ":" + accountA + ":repository/" + repoName,
		}
		if model == modelRole {
			wantOut["SigningRoleArn"] = l.signingRole()
		}
	} else {
		wantOut = map[string]string{"CodeBuildRoleArn": l.codebuildRole(), "DeployRoleArn": l.deployRole()}
	}
	if !reflect.DeepEqual(s.outputs, wantOut) {
		diffs = append(diffs, fmt.Sprintf("outputs %v, want %v", s.outputs, wantOut))
	}
	return diffs
}

var (
	cfnModels  = []string{modelRole, modelProfilePermission}
	cfnLayouts = []layout{awsLayout, govLayout, cnLayout}
)

// TestCloudFormationMatchesSpecIAM: for both signing models and in the
// aws, aws-us-gov and aws-cn partitions (a region of each), every policy
// document the templates create equals its spec/iam file with the
// placeholders filled for that partition and region, the profile
// permission equals
// profile-permissions.sh, there is no other policy, and the outputs are the
// ARNs and URI the buildspecs and trustpolicy.json need.
func TestCloudFormationMatchesSpecIAM(t *testing.T) {
	t.Parallel()
	for _, file := range []string{fileTemplateA, fileTemplateB} {
		tp := loadTemplate(t, file)
		for _, model := range cfnModels {
			for _, l := range cfnLayouts {
				t.Run(file+"/"+model+"/"+l.partition, func(t *testing.T) {
					for _, d := range checkTemplate(t, tp, model, l) {
						t.Error(d)
					}
				})
			}
		}
	}
}

// TestCloudFormationComparisonCatchesEdits: the comparison above is not
// vacuous. Removing any one statement from any policy of a template,
// adding a statement that grants everything, or removing any resource makes
// it report a difference in some model; writing aws for any
// ${AWS::Partition} of a template makes it report one in another
// partition.
func TestCloudFormationComparisonCatchesEdits(t *testing.T) {
	t.Parallel()
	for _, file := range []string{fileTemplateA, fileTemplateB} {
		tp := loadTemplate(t, file)
		edits := statementEdits(tp.root, "")
		for _, name := range slices.Sorted(maps.Keys(tp.section("Resources"))) {
			edits = append(edits, statementEdit{"remove resource " + name, func(root any) any {
				c := maps.Clone(root.(map[string]any))
				res := maps.Clone(c["Resources"].(map[string]any))
				delete(res, name)
				c["Resources"] = res
				return c
			}})
		}
		if len(edits) < 6 {
			t.Fatalf("%s: only %d statement edits found; the walk misses policies", file, len(edits))
		}
		partEdits := partitionEdits(tp.root, nil)
		if len(partEdits) < 3 {
			t.Fatalf("%s: only %d ${AWS::Partition} found; the walk misses ARNs", file, len(partEdits))
		}
		for _, ed := range append(edits, partEdits...) {
			t.Run(file+"/"+ed.name, func(t *testing.T) {
				mutated := cfnTemplate{file: file, root: ed.apply(tp.root).(map[string]any)}
				var diffs []string
				for _, model := range cfnModels {
					for _, l := range cfnLayouts {
						diffs = append(diffs, checkTemplate(t, mutated, model, l)...)
					}
				}
				if len(diffs) == 0 {
					t.Fatalf("%s of %s goes unnoticed", ed.name, file)
				}
			})
		}
	}
}

// TestCloudFormationComparisonCatchesPartitionDrift: documents filled for
// another partition than the stack's (as a spec/iam file that wrote
// arn:aws: instead of arn:${AWS_PARTITION}: would be) differ from both
// templates in every model.
func TestCloudFormationComparisonCatchesPartitionDrift(t *testing.T) {
	t.Parallel()
	for _, file := range []string{fileTemplateA, fileTemplateB} {
		tp := loadTemplate(t, file)
		for _, model := range cfnModels {
			for _, l := range []layout{govLayout, cnLayout} {
				values := l.values()
				values["AWS_PARTITION"] = "aws"
				if diffs := checkTemplateWith(t, tp, model, l, values); len(diffs) == 0 {
					t.Errorf("%s, model %s: documents with arn:aws: match the stack in %s", file, model, l.partition)
				} else {
					first, _, _ := strings.Cut(diffs[0], "\n")
					t.Logf("%s, model %s, %s: %d differences, the first: %s", file, model, l.partition, len(diffs), first)
				}
			}
		}
	}
}

// partitionEdits returns, for every string of the template that uses
// ${AWS::Partition}, an edit that writes the aws partition there instead.
func partitionEdits(v any, path []any) []statementEdit {
	var out []statementEdit
	switch x := v.(type) {
	case string:
		if strings.Contains(x, "${AWS::Partition}") {
			p := slices.Clone(path)
			out = append(out, statementEdit{fmt.Sprintf("aws for ${AWS::Partition} at %v", p), func(root any) any {
				return replaceAt(root, p, strings.ReplaceAll(x, "${AWS::Partition}", "aws"))
			}})
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			out = append(out, partitionEdits(x[k], append(slices.Clone(path), k))...)
		}
	case []any:
		for i, item := range x {
			out = append(out, partitionEdits(item, append(slices.Clone(path), i))...)
		}
	}
	return out
}

// replaceAt copies a tree with the value at path (map keys and list
// indexes) replaced by to.
func replaceAt(v any, path []any, to any) any {
	if len(path) == 0 {
		return to
	}
	switch x := v.(type) {
	case map[string]any:
		c := maps.Clone(x)
		k := path[0].(string)
		c[k] = replaceAt(x[k], path[1:], to)
		return c
	case []any:
		c := slices.Clone(x)
		i := path[0].(int)
		c[i] = replaceAt(x[i], path[1:], to)
		return c
	}
	panic(fmt.Sprintf("replaceAt: bad path %v", path))
}

type statementEdit struct {
	name  string
	apply func(root any) any
}

// statementEdits finds every "Statement" list of the template and returns,
// for each, edits that remove one item or append an allow-everything
// statement.
func statementEdits(v any, path string) []statementEdit {
	var out []statementEdit
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			p := path + "/" + k
			if list, ok := x[k].([]any); ok && k == "Statement" {
				for i := range list {
					out = append(out, statementEdit{fmt.Sprintf("remove %s/%d", p, i), editAt(p, func(l []any) []any {
						return slices.Delete(slices.Clone(l), i, i+1)
					})})
				}
				out = append(out, statementEdit{"add allow-all to " + p, editAt(p, func(l []any) []any {
					return append(slices.Clone(l), map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*",
						"Principal": map[string]any{"AWS": "*"}})
				})})
			}
			out = append(out, statementEdits(x[k], p)...)
		}
	case []any:
		for i, item := range x {
			out = append(out, statementEdits(item, fmt.Sprintf("%s/%d", path, i))...)
		}
	}
	return out
}

// editAt returns a function that copies a tree and replaces the list at
// path with f(list).
func editAt(path string, f func([]any) []any) func(any) any {
	keys := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var walk func(v any, keys []string) any
	walk = func(v any, keys []string) any {
		if len(keys) == 0 {
			return f(v.([]any))
		}
		switch x := v.(type) {
		case map[string]any:
			c := maps.Clone(x)
			c[keys[0]] = walk(x[keys[0]], keys[1:])
			return c
		case []any:
			i, _ := strconv.Atoi(keys[0])
			c := slices.Clone(x)
			c[i] = walk(x[i], keys[1:])
			return c
		}
		panic("editAt: bad path " + path)
	}
	return func(root any) any { return walk(root, keys) }
}

// TestCloudFormationWiring: every Ref, Fn::Sub variable and Fn::GetAtt names
// a declared parameter, pseudo parameter or resource (with an attribute
// this test models), every condition used is declared, every parameter and
// condition is used, and the two templates take the same names with the
// same constraints, so one set of values deploys both.
func TestCloudFormationWiring(t *testing.T) {
	t.Parallel()
	tps := map[string]cfnTemplate{fileTemplateA: loadTemplate(t, fileTemplateA), fileTemplateB: loadTemplate(t, fileTemplateB)}
	for file, tp := range tps {
		refs, conds := map[string]bool{}, map[string]bool{}
		var problems []string
		walkRefs(tp.root, func(kind, name string) {
			switch kind {
			case "cond":
				conds[name] = true
				if _, ok := tp.section("Conditions")[name]; !ok {
					problems = append(problems, "condition "+name+" is not declared")
				}
			case "ref":
				refs[name] = true
				_, isParam := tp.section("Parameters")[name]
				if !isParam && tp.resource(name) == nil && !strings.HasPrefix(name, "AWS::") {
					problems = append(problems, "Ref "+name+": no such parameter or resource")
				}
			case "getatt":
				res, _, _ := strings.Cut(name, ".")
				if tp.resource(res) == nil {
					problems = append(problems, "Fn::GetAtt "+name+": no such resource")
				}
			}
		})
		for name, r := range tp.section("Resources") {
			if c, ok := r.(map[string]any)["Condition"].(string); ok {
				conds[c] = true
				if _, ok := tp.section("Conditions")[c]; !ok {
					problems = append(problems, "resource "+name+": condition "+c+" is not declared")
				}
			}
			for _, d := range dependsOn(r.(map[string]any)) {
				if tp.resource(d) == nil {
					problems = append(problems, "resource "+name+" depends on "+d+", which does not exist")
				}
			}
		}
		for name, o := range tp.section("Outputs") {
			if c, ok := o.(map[string]any)["Condition"].(string); ok {
				conds[c] = true
				if _, ok := tp.section("Conditions")[c]; !ok {
					problems = append(problems, "output "+name+": condition "+c+" is not declared")
				}
			}
		}
		for name := range tp.section("Parameters") {
			if !refs[name] {
				problems = append(problems, "parameter "+name+" is never used")
			}
		}
		for name := range tp.section("Conditions") {
			if !conds[name] {
				problems = append(problems, "condition "+name+" is never used")
			}
		}
		// Every GetAtt and Ref must also resolve, in every model: the
		// stack() of checkTemplate does that; here the undeclared names.
		slices.Sort(problems)
		for _, p := range problems {
			t.Errorf("%s: %s", file, p)
		}
	}
	a, b := tps[fileTemplateA].section("Parameters"), tps[fileTemplateB].section("Parameters")
	for name, pa := range a {
		if pb, ok := b[name]; ok {
			for _, k := range []string{"Type", "AllowedValues", "AllowedPattern", "MinLength", "MaxLength", "Default"} {
				va, vb := pa.(map[string]any)[k], pb.(map[string]any)[k]
				if !reflect.DeepEqual(va, vb) {
					t.Errorf("parameter %s: %s is %v in %s, %v in %s", name, k, va, fileTemplateA, vb, fileTemplateB)
				}
			}
		}
	}
	shared := []string{"SigningModel", "CodeBuildRoleName", "DeployRoleName", "RepositoryName", "SigningProfileName", "SigningRoleName"}
	for _, name := range shared {
		if a[name] == nil || b[name] == nil {
			t.Errorf("parameter %s must be in both templates", name)
		}
	}
}

// walkRefs calls f for each Ref ("ref"), Fn::Sub variable ("ref" or
// "getatt"), Fn::GetAtt ("getatt") and condition name used by Fn::If or
// Condition ("cond") in v.
func walkRefs(v any, f func(kind, name string)) {
	switch x := v.(type) {
	case []any:
		for _, item := range x {
			walkRefs(item, f)
		}
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				switch k {
				case "Ref":
					f("ref", fmt.Sprint(arg))
				case "Condition":
					if s, ok := arg.(string); ok {
						f("cond", s)
					}
				case "Fn::GetAtt":
					if l, ok := arg.([]any); ok && len(l) == 2 {
						f("getatt", fmt.Sprintf("%v.%v", l[0], l[1]))
					}
				case "Fn::If":
					if l, ok := arg.([]any); ok && len(l) > 0 {
						f("cond", fmt.Sprint(l[0]))
					}
				case "Fn::Sub":
					text := arg
					if l, ok := arg.([]any); ok && len(l) == 2 {
						text = l[0]
						vars, _ := l[1].(map[string]any)
						for name := range vars {
							f("subvar", name)
						}
					}
					s, _ := text.(string)
					for _, m := range subVar.FindAllStringSubmatch(s, -1) {
						name := m[1]
						if strings.HasPrefix(name, "!") {
							continue
						}
						if strings.Contains(name, ".") {
							f("getatt", name)
						} else {
							f("ref", name)
						}
					}
				}
			}
		}
		for _, item := range x {
			walkRefs(item, f)
		}
	}
}

// TestCloudFormationExternalIdRule: the role model refuses an empty
// ExternalId (the trust policy would then match only an empty external id);
// the profile-permission model does not need one.
func TestCloudFormationExternalIdRule(t *testing.T) {
	t.Parallel()
	tp := loadTemplate(t, fileTemplateA)
	for _, tc := range []struct {
		model, externalID string
		wantFail          bool
	}{
		{modelRole, "", true},
		{modelRole, externalID, false},
		{modelProfilePermission, "", false},
	} {
		params := templateParams(fileTemplateA, tc.model)
		params["ExternalId"] = tc.externalID
		e, err := newEval(tp, params, pseudoParams(awsLayout, accountA))
		if err != nil {
			t.Fatal(err)
		}
		s, err := e.stack()
		if err != nil {
			t.Fatal(err)
		}
		if failed := len(s.ruleErrs) > 0; failed != tc.wantFail {
			t.Errorf("model %s, external id %q: rules failed %v, want %v", tc.model, tc.externalID, s.ruleErrs, tc.wantFail)
		}
	}
	params := templateParams(fileTemplateA, modelRole)
	params["ExternalId"] = "x" // STS wants 2 to 1224 characters
	if _, err := newEval(tp, params, pseudoParams(awsLayout, accountA)); err == nil {
		t.Error("a 1-character ExternalId is accepted")
	}
}

// TestCloudFormationLint runs cfn-lint (regions from each template's
// Metadata) with informational checks on: no finding of any level passes.
func TestCloudFormationLint(t *testing.T) {
	t.Parallel()
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint is not on PATH (pip install cfn-lint): spec/cloudformation is not linted")
	}
	if out, err := exec.CommandContext(t.Context(), lint, "--version").CombinedOutput(); err == nil {
		t.Logf("%s", strings.TrimSpace(string(out)))
	}
	for _, file := range []string{fileTemplateA, fileTemplateB} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			out, err := exec.CommandContext(t.Context(), lint, "--include-checks", "I", "--", filepath.Join("cloudformation", file)).CombinedOutput()
			if err != nil {
				t.Errorf("cfn-lint %s: %v\n%s", file, err, out)
			}
		})
	}
}
