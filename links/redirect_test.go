package links

import (
	"net/url"
	"strings"
	"testing"
)

// The open-redirect battery: each of these must land on the fallback,
// signed or not, and each allowed or signed target must land where it says.
func TestResolve(t *testing.T) {
	signer, err := NewSigner([]string{"new-key-0123456789abcdef", "old-key-0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	oldOnly, _ := NewSigner([]string{"old-key-0123456789abcdef"})
	otherKey, _ := NewSigner([]string{"someone-elses-key-0123456789"})
	fields := []Field{{"ename", "click"}, {"utm_campaign", "spring"}}
	sign := func(s *Signer, target string, f []Field) string {
		sig, err := s.Sign(target, f)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	p := Policy{Allowed: []string{"allowed.example", ".shop.example"}, Signer: signer}
	for _, tc := range []struct {
		name, raw string
		fields    []Field
		sig       string
		want      string // "" for refused
		why       string
	}{
		{"allowed host", "https://allowed.example/a?b=1", nil, "", "https://allowed.example/a?b=1", ""},
		{"allowed, mixed case", "https://ALLOWED.Example/a", nil, "", "https://ALLOWED.Example/a", ""},
		{"allowed subdomain", "https://www.shop.example/", nil, "", "https://www.shop.example/", ""},
		{"dot entry covers its apex", "https://shop.example/", nil, "", "https://shop.example/", ""},
		{"local path", "/thanks", nil, "", "/thanks", ""},
		{"other host", "https://evil.example/", nil, "", "", RefusedNotAllowed},
		{"suffix without a dot", "https://evilallowed.example/", nil, "", "", RefusedNotAllowed},
		{"allowed as a subdomain of evil", "https://allowed.example.evil.example/", nil, "", "", RefusedNotAllowed},
		{"scheme-relative", "//evil.example/", nil, "", "", RefusedUnsafe},
		{"slash backslash", "/\\evil.example", nil, "", "", RefusedUnsafe},
		{"opaque https", "https:evil.example", nil, "", "", RefusedUnsafe},
		{"one slash", "https:/evil.example", nil, "", "", RefusedUnsafe},
		{"user info", "https://allowed.example@evil.example/", nil, "", "", RefusedUnsafe},
		{"backslash before at", "https://evil.example\\@allowed.example/", nil, "", "", RefusedUnsafe},
		{"percent-encoded host", "https://%65vil.example/", nil, "", "", RefusedUnsafe},
		{"percent-encoded allowed host", "https://%61llowed.example/", nil, "", "", RefusedUnsafe},
		{"IDN look-alike (Cyrillic a)", "https://\u0430llowed.example/", nil, "", "", RefusedNotAllowed},
		{"IDN look-alike, encoded", "https://%D0%B0llowed.example/", nil, "", "", RefusedUnsafe},
		{"javascript", "javascript:alert(1)", nil, "", "", RefusedUnsafe},
		{"javascript, mixed case", "JaVaScRiPt:alert(1)", nil, "", "", RefusedUnsafe},
		{"data", "data:text/html,<script>alert(1)</script>", nil, "", "", RefusedUnsafe},
		{"tab in the scheme", "java\tscript:alert(1)", nil, "", "", RefusedUnsafe},
		{"newline in the host", "https://allowed.example\n.evil.example/", nil, "", "", RefusedUnsafe},
		{"empty", "", nil, "", "", RefusedUnsafe},
		{"ftp", "ftp://allowed.example/", nil, "", "", RefusedUnsafe},
		// Signed links.
		{"signed, any host", "https://partner.example/x", fields, sign(signer, "https://partner.example/x", fields), "https://partner.example/x", ""},
		{"signed with the old key", "https://partner.example/x", fields, sign(oldOnly, "https://partner.example/x", fields), "https://partner.example/x", ""},
		{"fields reordered", "https://partner.example/x", []Field{fields[1], fields[0]}, sign(signer, "https://partner.example/x", fields), "https://partner.example/x", ""},
		{"signed by another key", "https://partner.example/x", fields, sign(otherKey, "https://partner.example/x", fields), "", RefusedBadSignature},
		{"tampered target", "https://evil.example/x", fields, sign(signer, "https://partner.example/x", fields), "", RefusedBadSignature},
		{"tampered target path", "https://partner.example/y", fields, sign(signer, "https://partner.example/x", fields), "", RefusedBadSignature},
		{"tampered field", "https://partner.example/x", []Field{{"ename", "click"}, {"utm_campaign", "autumn"}}, sign(signer, "https://partner.example/x", fields), "", RefusedBadSignature},
		{"field added", "https://partner.example/x", append([]Field{{"vid", "x"}}, fields...), sign(signer, "https://partner.example/x", fields), "", RefusedBadSignature},
		{"field removed", "https://partner.example/x", fields[:1], sign(signer, "https://partner.example/x", fields), "", RefusedBadSignature},
		{"tampered, to an allowed host", "https://allowed.example/", fields, sign(signer, "https://partner.example/x", fields), "", RefusedBadSignature},
		{"garbage signature", "https://partner.example/x", fields, "AAAAAAAAAAAAAAAAAAAAAA", "", RefusedBadSignature},
		{"signed javascript", "javascript:alert(1)", nil, sign(signer, "javascript:alert(1)", nil), "", RefusedUnsafe},
		{"signed user info", "https://a@evil.example/", nil, sign(signer, "https://a@evil.example/", nil), "", RefusedUnsafe},
		{"signed local path still checked", "//evil.example", nil, sign(signer, "//evil.example", nil), "", RefusedUnsafe},
		// SignedURL signs local paths too: such a link must work, and its
		// fields stay covered by the signature.
		{"signed local path", "/thanks", fields, sign(signer, "/thanks", fields), "/thanks", ""},
		{"signed local path, tampered field", "/thanks", fields[:1], sign(signer, "/thanks", fields), "", RefusedBadSignature},
		{"key/value boundary moved", "https://partner.example/x", []Field{{"a", "b=c"}}, sign(signer, "https://partner.example/x", []Field{{"a=b", "c"}}), "", RefusedBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := p.Resolve(tc.raw, tc.fields, tc.sig)
			if got != tc.want || why != tc.why {
				t.Errorf("Resolve(%q) = %q, %q; want %q, %q", tc.raw, got, why, tc.want, tc.why)
			}
		})
	}
}

func TestResolveWithoutKeysRefusesSignatures(t *testing.T) {
	var p Policy // no keys, no hosts
	if got, why := p.Resolve("https://partner.example/", nil, "AAAAAAAAAAAAAAAAAAAAAA"); got != "" || why != RefusedBadSignature {
		t.Errorf("got %q %q", got, why)
	}
}

func TestAppendFields(t *testing.T) {
	p := Policy{Allowed: []string{"shop.example"}, AppendFields: []string{"utm_campaign", "utm_source"}}
	got, why := p.Resolve("https://shop.example/p?utm_source=keep", []Field{{"utm_campaign", "spring sale"}, {"utm_source", "mail"}, {"vid", "v1"}}, "")
	if why != "" {
		t.Fatal(why)
	}
	u, _ := url.Parse(got)
	if q := u.Query(); q.Get("utm_campaign") != "spring sale" || q.Get("utm_source") != "keep" || q.Has("vid") {
		t.Errorf("target %s: want the campaign added, the target's own source kept, vid not copied", got)
	}
}

func TestSignedURLRoundTrip(t *testing.T) {
	s, _ := NewSigner([]string{"new-key-0123456789abcdef"})
	link, err := s.SignedURL("https://t.example", "https://partner.example/a%20b?x=1", []Field{{"ename", "click"}, {"utm_campaign", "a/b c"}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link)
	if !strings.HasPrefix(u.Path, "/rdr/v1/ename/click/utm_campaign/") {
		t.Fatalf("link %s", link)
	}
	// What the collector reads back: the tuplets and the query.
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/rdr/v1/"), "/")
	var fields []Field
	for i := 0; i+1 < len(segs); i += 2 {
		k, _ := url.PathUnescape(segs[i])
		v, _ := url.PathUnescape(segs[i+1])
		fields = append(fields, Field{k, v})
	}
	if got, why := (Policy{Signer: s}).Resolve(u.Query().Get("url"), fields, u.Query().Get("sig")); why != "" || got == "" {
		t.Errorf("own link refused: %q %q", got, why)
	}
	if _, err := NewSigner([]string{"short"}); err == nil {
		t.Error("a 5-byte key was accepted")
	}
	if _, err := (&Signer{}).Sign("https://x.example", nil); err == nil {
		t.Error("signed without a key")
	}
}

// Whatever the input, an unsigned redirect lands on a local path or an
// allowed host as a browser would read it, never elsewhere.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"https://allowed.example/", "//evil.example", "/\\evil", "https://a@evil.example", "https:evil.example",
		"https://%65vil.example", "javascript:alert(1)", "/ok", "https://allowed.example\\@evil.example", "HTTPS://ALLOWED.EXAMPLE:443/"} {
		f.Add(s)
	}
	p := Policy{Allowed: []string{"allowed.example"}}
	f.Fuzz(func(t *testing.T, raw string) {
		got, why := p.Resolve(raw, nil, "")
		if why != "" {
			if got != "" {
				t.Fatalf("refused %q but returned %q", raw, got)
			}
			return
		}
		if LocalPath(got) {
			return
		}
		u, err := url.Parse(got)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || !HostAllowed(u.Hostname(), p.Allowed) || strings.ContainsAny(got, "\\\t\r\n ") {
			t.Fatalf("Resolve(%q) = %q: not a plain URL on an allowed host", raw, got)
		}
	})
}
