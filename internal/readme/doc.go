// Package readme holds no code: its tests keep README.md true to the code.
// They run the README's example world file and client environment against
// the emulator (and the aws CLI when installed), check that every emulator
// flag and admin endpoint is documented, that the configuration table
// matches internal/config's keys, and that every Troubleshooting message
// occurs in the Go sources.
package readme
