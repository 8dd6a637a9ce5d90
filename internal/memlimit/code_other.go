//go:build !linux

package memlimit

// ReleaseCode does nothing outside Linux (see code_linux.go).
func ReleaseCode() (uint64, error) { return 0, nil }
