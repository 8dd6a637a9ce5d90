// Package links is spoor's tracked links: redirect targets checked against
// open-redirect tricks, redirects signed with rotating keys, and short
// links with their store, cache and admin API.
package links

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrUnsafeTarget: a redirect target that is not a plain absolute http(s)
// URL, or that a browser could read as another host than the one checked.
var ErrUnsafeTarget = errors.New("unsafe redirect target")

// Target parses a redirect target and refuses what browsers and URL
// parsers read differently: a target must be an absolute http or https URL
// with a host, no user info (`https://allowed@evil`), no backslash (a
// browser reads `https://evil\@allowed` as evil), no whitespace or control
// characters, no scheme-relative or opaque form (`//evil`, `https:evil`).
// The URL returned is the one to send: re-encoded by net/url.
func Target(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("%w: empty", ErrUnsafeTarget)
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f || r == '\\' {
			return nil, fmt.Errorf("%w: %q holds a space, control character or backslash", ErrUnsafeTarget, raw)
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsafeTarget, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w: scheme %q (only http and https)", ErrUnsafeTarget, u.Scheme)
	case u.Opaque != "" || u.Host == "" || !strings.HasPrefix(raw[len(u.Scheme)+1:], "//"):
		return nil, fmt.Errorf("%w: %q has no host", ErrUnsafeTarget, raw)
	case u.User != nil:
		return nil, fmt.Errorf("%w: %q carries user info", ErrUnsafeTarget, raw)
	case strings.Contains(authority(raw), "%"):
		return nil, fmt.Errorf("%w: %q has a percent-encoded host", ErrUnsafeTarget, raw)
	}
	return u, nil
}

// LocalPath reports whether raw is a path on the collector's own site
// ("/thanks"), which needs no allow-list; "//host" and "/\host" are not.
func LocalPath(raw string) bool {
	if !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") || strings.ContainsAny(raw, "\\") {
		return false
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// HostAllowed reports whether host is on the allow-list: an entry matches
// itself, and an entry with a leading dot matches its subdomains too
// (".example.com": example.com, www.example.com). Hosts are compared as
// ASCII, lower-cased: an IDN look-alike is another host.
func HostAllowed(host string, allowed []string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range allowed {
		h = strings.ToLower(h)
		if host == h || (strings.HasPrefix(h, ".") && (host == h[1:] || strings.HasSuffix(host, h))) {
			return true
		}
	}
	return false
}

// authority is the raw "host[:port]" part of an absolute URL, as written.
func authority(raw string) string {
	_, rest, _ := strings.Cut(raw, "//")
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}
