package links

import (
	"net/url"
)

// Policy decides where a tracked redirect may go (/rdr/v1/…?url=…&sig=…).
type Policy struct {
	// Allowed hosts need no signature (collector.redirect_hosts).
	Allowed []string
	// Signer verifies signed links to any host; nil or keyless: none.
	Signer *Signer
	// AppendFields are tracked fields copied into the target's query
	// when it lacks them (links.append_fields: utm_campaign, …).
	AppendFields []string
}

// Why a redirect went to the fallback (the metrics label).
const (
	RefusedUnsafe       = "redirect_unsafe"
	RefusedNotAllowed   = "redirect_not_allowed"
	RefusedBadSignature = "redirect_bad_signature"
)

// Resolve returns the URL to redirect to, or the reason the target is
// refused. A signature, when present, must verify over the target and
// exactly these fields, whatever the host: a tampered link is refused even
// to an allowed host. Without one, the target must be a local path or on
// the allow-list. Either way it must pass Target's checks.
func (p Policy) Resolve(raw string, fields []Field, sig string) (target string, refused string) {
	if LocalPath(raw) {
		// A local path needs no signature; a signed one (SignedURL makes
		// them) must still verify, its fields being part of it.
		if sig != "" && !p.Signer.Verify(raw, fields, sig) {
			return "", RefusedBadSignature
		}
		return raw, ""
	}
	u, err := Target(raw)
	if err != nil {
		return "", RefusedUnsafe
	}
	switch {
	case sig != "":
		if !p.Signer.Verify(raw, fields, sig) {
			return "", RefusedBadSignature
		}
	case !HostAllowed(u.Hostname(), p.Allowed):
		return "", RefusedNotAllowed
	}
	return p.appendFields(u, fields), ""
}

func (p Policy) appendFields(u *url.URL, fields []Field) string {
	if len(p.AppendFields) == 0 {
		return u.String()
	}
	q := u.Query()
	changed := false
	for _, name := range p.AppendFields {
		if q.Has(name) {
			continue
		}
		for _, f := range fields {
			if f.Key == name {
				q.Set(name, f.Value)
				changed = true
				break
			}
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// SignedURL builds a signed redirect link: base (the collector's public
// URL), the fields as REST-path tuplets, the target and its signature.
func (s *Signer) SignedURL(base, target string, fields []Field) (string, error) {
	if _, err := Target(target); err != nil && !LocalPath(target) {
		return "", err
	}
	sig, err := s.Sign(target, fields)
	if err != nil {
		return "", err
	}
	path := "/rdr/v1"
	for _, f := range fields {
		path += "/" + url.PathEscape(f.Key) + "/" + url.PathEscape(f.Value)
	}
	return base + path + "?" + url.Values{"url": {target}, "sig": {sig}}.Encode(), nil
}
