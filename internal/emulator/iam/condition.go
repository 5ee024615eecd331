package iam

import (
	"strings"
)

// baseOperator is a condition operator without its IfExists suffix.
type baseOperator int

const (
	opStringEquals baseOperator = iota + 1
	opStringNotEquals
	opStringEqualsIgnoreCase
	opStringNotEqualsIgnoreCase
	opStringLike
	opStringNotLike
	opArnEquals
	opArnNotEquals
	opArnLike
	opArnNotLike
	opBool
	opNull
)

var operators = map[string]baseOperator{
	"StringEquals":              opStringEquals,
	"StringNotEquals":           opStringNotEquals,
	"StringEqualsIgnoreCase":    opStringEqualsIgnoreCase,
	"StringNotEqualsIgnoreCase": opStringNotEqualsIgnoreCase,
	"StringLike":                opStringLike,
	"StringNotLike":             opStringNotLike,
	"ArnEquals":                 opArnEquals,
	"ArnNotEquals":              opArnNotEquals,
	"ArnLike":                   opArnLike,
	"ArnNotLike":                opArnNotLike,
	"Bool":                      opBool,
	"Null":                      opNull,
}

// negated reports whether the operator is a Not-operator. AWS evaluates a
// negated operator as NOT(any value matches), and treats a missing key as a
// match (the key's value is "not equal" to anything).
func (o baseOperator) negated() bool {
	switch o {
	case opStringNotEquals, opStringNotEqualsIgnoreCase, opStringNotLike, opArnNotEquals, opArnNotLike:
		return true
	}
	return false
}

// parseOperator splits "StringEqualsIfExists" into its base operator and the
// IfExists flag. Set operators (ForAnyValue:/ForAllValues:) and the numeric,
// date, IP and binary operators are rejected: this emulator cannot evaluate
// them faithfully, and a silent mis-evaluation would let a policy pass here
// and fail on AWS.
func parseOperator(name string) (baseOperator, bool, error) {
	if strings.HasPrefix(name, "ForAnyValue:") || strings.HasPrefix(name, "ForAllValues:") {
		return 0, false, malformed("condition operator %s: ForAnyValue:/ForAllValues: set operators are not supported by this emulator", name)
	}
	base, ifExists := strings.CutSuffix(name, "IfExists")
	op, ok := operators[base]
	if !ok || (ifExists && op == opNull) {
		return 0, false, malformed("condition operator %s is not supported by this emulator (supported: String*, Arn*, Bool, Null, with optional IfExists)", name)
	}
	return op, ifExists, nil
}

// evaluate reports whether the condition holds for the given context
// (lower-cased keys).
//
// Missing keys: a positive operator (StringEquals, StringLike, ArnLike, Bool,
// ...) is false; a negated operator (StringNotEquals, StringNotLike,
// ArnNotEquals, ...) is true, as in AWS; any operator with IfExists is true;
// Null is true exactly when the key is missing and the value is "true".
func (c Condition) evaluate(ctx map[string]string) bool {
	actual, present := ctx[strings.ToLower(c.Key)]
	if c.op == opNull {
		for _, v := range c.Values {
			if strings.EqualFold(v, "true") == !present {
				return true
			}
		}
		return false
	}
	if !present {
		return c.ifExists || c.op.negated()
	}
	any := false
	for _, want := range c.Values {
		if matchValue(c.op, want, actual) {
			any = true
			break
		}
	}
	if c.op.negated() {
		return !any
	}
	return any
}

// matchValue compares one policy value with the request value using the
// positive form of op.
func matchValue(op baseOperator, want, actual string) bool {
	switch op {
	case opStringEquals, opStringNotEquals:
		return want == actual
	case opStringEqualsIgnoreCase, opStringNotEqualsIgnoreCase:
		return strings.EqualFold(want, actual)
	case opStringLike, opStringNotLike:
		return globMatch(want, actual, false)
	case opArnEquals, opArnNotEquals, opArnLike, opArnNotLike:
		// AWS: ArnEquals and ArnLike both match each of the six
		// colon-delimited components separately, with * and ? wildcards.
		return arnMatch(want, actual)
	case opBool:
		return strings.EqualFold(want, actual)
	}
	return false
}
