// Command worldinfo prints a short, readable summary of an xsigner-emulator
// world file (accounts, users, roles with whom they trust and what they may
// do, signing profiles with their permissions), for the demo:
//
//	worldinfo WORLD.json
//
// Secret access keys are never printed.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/xsigner/xsigner/internal/arn"
	"github.com/xsigner/xsigner/internal/emulator"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "usage: worldinfo WORLD.json")
		return 2
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "worldinfo: %v\n", err)
		return 1
	}
	w, err := emulator.ParseWorld(data)
	if err != nil {
		fmt.Fprintf(stderr, "worldinfo: %s: %v\n", args[0], err)
		return 1
	}
	fmt.Fprint(stdout, summarize(w))
	return 0
}

// summarize describes the world, one block per account in id order.
func summarize(w *emulator.World) string {
	var b strings.Builder
	for _, id := range sortedKeys(w.Accounts) {
		acct := w.Accounts[id]
		fmt.Fprintf(&b, "account %s\n", id)
		for _, name := range sortedKeys(acct.Users) {
			u := acct.Users[name]
			keys := make([]string, 0, len(u.AccessKeys))
			for _, k := range u.AccessKeys {
				keys = append(keys, k.AccessKeyID)
			}
			fmt.Fprintf(&b, "  user %s (arn:aws:iam::%s:user/%s, access key %s)\n", name, id, name, strings.Join(keys, ", "))
			for _, line := range permissionLines(u.Policies) {
				fmt.Fprintf(&b, "    may %s\n", line)
			}
		}
		for _, name := range sortedKeys(acct.Roles) {
			r := acct.Roles[name]
			path := r.Path
			if path == "" {
				path = "/"
			}
			fmt.Fprintf(&b, "  role %s (arn:aws:iam::%s:role%s%s)\n", name, id, path, name)
			for _, line := range trustLines(r.TrustPolicy) {
				fmt.Fprintf(&b, "    trusts %s\n", line)
			}
			for _, line := range permissionLines(r.Policies) {
				fmt.Fprintf(&b, "    may %s\n", line)
			}
		}
		for _, p := range acct.SigningProfiles {
			fmt.Fprintf(&b, "  signing profile %s (arn:%s:signer:%s:%s:/signing-profiles/%s, %s)\n",
				p.Name, arn.RegionPartition(p.Region), p.Region, id, p.Name, p.PlatformID)
			for _, perm := range p.Permissions {
				fmt.Fprintf(&b, "    grants %s to %s (statement %s)\n", perm.Action, perm.Principal, perm.StatementID)
			}
		}
	}
	return b.String()
}

// statement is the part of an IAM policy statement the summary shows.
type statement struct {
	Effect    string                                `json:"Effect"`
	Principal json.RawMessage                       `json:"Principal"`
	Action    json.RawMessage                       `json:"Action"`
	Resource  json.RawMessage                       `json:"Resource"`
	Condition map[string]map[string]json.RawMessage `json:"Condition"`
}

// statements decodes a policy document's Statement (an object or a list).
// The emulator has validated the document already; anything undecodable
// gives no statements.
func statements(doc json.RawMessage) []statement {
	var p struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if json.Unmarshal(doc, &p) != nil {
		return nil
	}
	var list []statement
	if json.Unmarshal(p.Statement, &list) == nil {
		return list
	}
	var one statement
	if json.Unmarshal(p.Statement, &one) == nil {
		return []statement{one}
	}
	return nil
}

// permissionLines renders the statements of identity policies as
// "[not] ACTIONS on RESOURCES".
func permissionLines(policies []json.RawMessage) []string {
	var out []string
	for _, doc := range policies {
		for _, s := range statements(doc) {
			line := strings.Join(stringList(s.Action), ", ") + " on " + strings.Join(stringList(s.Resource), ", ")
			if s.Effect == "Deny" {
				line = "NOT " + line
			}
			out = append(out, line)
		}
	}
	return out
}

// trustLines renders a trust policy's statements as
// "PRINCIPALS to ACTIONS [if CONDITIONS]".
func trustLines(doc json.RawMessage) []string {
	var out []string
	for _, s := range statements(doc) {
		line := strings.Join(principals(s.Principal), ", ") + " to " + strings.Join(stringList(s.Action), ", ")
		if conds := conditions(s.Condition); conds != "" {
			line += " if " + conds
		}
		if s.Effect == "Deny" {
			line = "NOT " + line
		}
		out = append(out, line)
	}
	return out
}

// principals lists a Principal element: "*", or the values of its AWS,
// Federated and Service keys.
func principals(raw json.RawMessage) []string {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		return []string{star}
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	var out []string
	for _, k := range sortedKeys(m) {
		out = append(out, stringList(m[k])...)
	}
	return out
}

// conditions renders a Condition block as "OP key=value[|value] and ...".
func conditions(c map[string]map[string]json.RawMessage) string {
	var parts []string
	for _, op := range sortedKeys(c) {
		for _, key := range sortedKeys(c[op]) {
			parts = append(parts, fmt.Sprintf("%s %s=%s", op, key, strings.Join(stringList(c[op][key]), "|")))
		}
	}
	return strings.Join(parts, " and ")
}

// stringList decodes a JSON string or list of strings.
func stringList(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
