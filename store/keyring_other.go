//go:build !linux

package store

// keyringPlausible reports whether the OS keyring is worth trying. macOS and
// Windows always have one.
func keyringPlausible() (bool, string) { return true, "" }
