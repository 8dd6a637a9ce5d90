// Package forwarded finds a request's client address behind the proxies
// the operator trusts (http.trusted_proxies), for the collector and the
// proxy alike: X-Forwarded-For is believed only as far as trusted hops
// wrote it.
package forwarded

import (
	"fmt"
	"net"
	"strings"
)

// Trust is a set of trusted proxy networks.
type Trust []*net.IPNet

// Parse reads CIDRs, or single addresses.
func Parse(list []string) (Trust, error) {
	var t Trust
	for _, s := range list {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			ip := net.ParseIP(s)
			if ip == nil {
				return nil, fmt.Errorf("parsing http.trusted_proxies %q: %w", s, err)
			}
			n = &net.IPNet{IP: ip, Mask: net.CIDRMask(len(ip)*8, len(ip)*8)}
		}
		t = append(t, n)
	}
	return t, nil
}

// Contains reports whether ip is a trusted proxy.
func (t Trust) Contains(ip net.IP) bool {
	if ip == nil {
		return false
	}
	for _, n := range t {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// Client is the peer, unless the peer is a trusted proxy: then the
// right-most address of xff (the X-Forwarded-For values, joined) that is
// not itself trusted. Headers from untrusted peers are ignored.
func (t Trust) Client(peer net.IP, xff string) net.IP {
	if !t.Contains(peer) {
		return peer
	}
	ip := peer
	parts := strings.Split(xff, ",")
	for i := len(parts) - 1; i >= 0; i-- {
		cand := net.ParseIP(strings.TrimSpace(parts[i]))
		if cand == nil {
			break
		}
		if !t.Contains(cand) {
			return cand
		}
		ip = cand
	}
	return ip
}

// HTTPS reports whether a client reached us over HTTPS: our own TLS, or a
// trusted peer's "X-Forwarded-Proto: https".
func (t Trust) HTTPS(tls bool, peer net.IP, proto string) bool {
	return tls || proto == "https" && t.Contains(peer)
}
