// Package conformance checks any Notary Project plugin executable against the
// parts of the plugin protocol (contract 1.0) that need no cloud backend: the
// checks of research protocol.md §6, items 1-11 and 17.
//
// Run it with the executable in PLUGIN_BIN:
//
//	PLUGIN_BIN=$PWD/bin/notation-xsigner go test ./spec/conformance/
//
// Without PLUGIN_BIN the tests skip. The executable runs with a clean
// environment (PATH and a temporary HOME only), so no credentials reach it.
package conformance
