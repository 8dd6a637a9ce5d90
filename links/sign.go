package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Field is one tracked field of a link: a REST-path tuplet or a query
// parameter of the redirect URL.
type Field struct{ Key, Value string }

// Signer signs redirect links and verifies them. The first key signs;
// every key verifies, so a new key can be put first while mail signed with
// the old one still redirects (links.signing_keys).
type Signer struct{ keys [][]byte }

// MinKeyLen is the shortest signing key accepted, in bytes.
const MinKeyLen = 16

// NewSigner takes the keys in order, the signing one first. No keys: a
// Signer that verifies nothing.
func NewSigner(keys []string) (*Signer, error) {
	s := &Signer{}
	for i, k := range keys {
		if len(k) < MinKeyLen {
			return nil, fmt.Errorf("signing key %d is %d bytes; at least %d", i+1, len(k), MinKeyLen)
		}
		s.keys = append(s.keys, []byte(k))
	}
	return s, nil
}

// ErrNoKey: signing needs links.signing_keys.
var ErrNoKey = errors.New("no signing key configured (links.signing_keys)")

// Sign returns the signature of target with its fields.
func (s *Signer) Sign(target string, fields []Field) (string, error) {
	if s == nil || len(s.keys) == 0 {
		return "", ErrNoKey
	}
	return mac(s.keys[0], target, fields), nil
}

// Verify reports whether sig is the signature of target with exactly
// these fields under one of the keys. The order of the fields does not
// matter; adding, removing or changing one does.
func (s *Signer) Verify(target string, fields []Field, sig string) bool {
	if s == nil || sig == "" {
		return false
	}
	for _, k := range s.keys {
		if hmac.Equal([]byte(mac(k, target, fields)), []byte(sig)) {
			return true
		}
	}
	return false
}

// mac: HMAC-SHA256 over a canonical form (version, target, then the fields
// sorted, each length-prefixed so no two field lists encode alike), its
// first 16 bytes in unpadded base64url: 22 characters in a link.
func mac(key []byte, target string, fields []Field) string {
	sorted := append([]Field(nil), fields...)
	sort.Slice(sorted, func(a, b int) bool {
		if sorted[a].Key != sorted[b].Key {
			return sorted[a].Key < sorted[b].Key
		}
		return sorted[a].Value < sorted[b].Value
	})
	var b strings.Builder
	b.WriteString("spoor-link-v1\n")
	for _, s := range append([]string{target}, flatten(sorted)...) {
		fmt.Fprintf(&b, "%d:%s\n", len(s), s)
	}
	h := hmac.New(sha256.New, key)
	h.Write([]byte(b.String()))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

func flatten(fields []Field) []string {
	out := make([]string, 0, 2*len(fields))
	for _, f := range fields {
		out = append(out, f.Key, f.Value)
	}
	return out
}
