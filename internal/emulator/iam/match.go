package iam

import (
	"strings"
	"unicode/utf8"
)

// globMatch reports whether s matches pattern, where * matches any run of
// characters (including none) and ? matches exactly one character. With
// foldCase the comparison is case-insensitive (as for actions). It runs in
// O(len(pattern)*len(s)) without recursion.
func globMatch(pattern, s string, foldCase bool) bool {
	if foldCase {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	p, r := runesOf(pattern), runesOf(s)
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(r) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == r[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			starP, starS = pi, si
			pi++
		case starP >= 0:
			starS++
			pi, si = starP+1, starS
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// arnMatch matches an ARN against an ARN pattern component by component
// (partition, service, region, account, resource), as AWS does for Resource
// elements and the Arn* condition operators: a wildcard never spans a colon
// in the first five components, while the resource component (everything
// after the fifth colon) may itself contain colons. A pattern of "*" matches
// anything; a value that is not an ARN matches only "*".
func arnMatch(pattern, value string) bool {
	if pattern == "*" {
		return true
	}
	pp := strings.SplitN(pattern, ":", 6)
	vp := strings.SplitN(value, ":", 6)
	if len(pp) != 6 || len(vp) != 6 {
		return false
	}
	for i := range pp {
		if !globMatch(pp[i], vp[i], false) {
			return false
		}
	}
	return true
}

// runesOf splits s into characters; invalid UTF-8 is split into bytes so
// that distinct invalid bytes never compare equal.
func runesOf(s string) []rune {
	if utf8.ValidString(s) {
		return []rune(s)
	}
	out := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = rune(s[i])
		if s[i] >= utf8.RuneSelf {
			out[i] |= 0x40000000 // outside Unicode: equal only to the same invalid byte
		}
	}
	return out
}
