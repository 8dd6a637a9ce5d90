// Package secret holds spoor's two ways of handling a secret: a random one
// kept in a file of the data dir (the hash key, the local admin token),
// and a presented token checked against the configured ones.
package secret

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// File returns the secret kept in dir/name, creating it (32 random bytes,
// hex, mode 0600, dir 0750) the first time.
func File(dir, name string) (string, error) {
	if s, err := Read(dir, name); err == nil {
		return s, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return "", fmt.Errorf("generating %s: %w", name, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("creating data dir: %w", err)
	}
	s := hex.EncodeToString(k[:])
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing %s: %w", p, err)
	}
	return s, nil
}

// Read reads the secret in dir/name (surrounding white space removed); an
// absent file is an error wrapping os.ErrNotExist, an empty one an error.
func Read(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("reading %s: %w", p, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", p)
	}
	return s, nil
}

// Match reports whether tok is one of tokens, comparing with every one of
// them in constant time (how many there are and which matched does not
// show in the time taken). An empty tok never matches.
func Match(tok []byte, tokens []string) bool {
	if len(tok) == 0 {
		return false
	}
	match := 0
	for _, t := range tokens {
		match |= subtle.ConstantTimeCompare(tok, []byte(t))
	}
	return match == 1
}

// Bearer is the token of an "Authorization: Bearer <token>" header value.
func Bearer(header []byte) ([]byte, bool) {
	return bytes.CutPrefix(header, []byte("Bearer "))
}
