package e2e

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/links"
)

// Signed redirects through the running collector: a link signed with the
// current key or the previous one goes to a host off the allow-list and
// its click is stored without the signature; a tampered target or field
// goes to the fallback and stores nothing; campaign fields are copied into
// the target's query.
func TestSignedRedirects(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Links.SigningKeys = []string{"current-key-0123456789", "previous-key-0123456789"}
	cfg.Links.AppendFields = []string{"utm_campaign"}
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	current, _ := links.NewSigner(cfg.Links.SigningKeys[:1])
	previous, _ := links.NewSigner(cfg.Links.SigningKeys[1:])
	fields := []links.Field{{Key: "ename", Value: "mail_click"}, {Key: "utm_campaign", Value: "spring"}, {Key: "vid", Value: "v-1"}}

	good, err := current.SignedURL(base, "https://partner-off-list.example/offer?x=1", fields)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := previous.SignedURL(base, "https://partner-off-list.example/old", fields)
	tamperedTarget := strings.Replace(good, "partner-off-list.example", "evil.example", 1)
	tamperedField := strings.Replace(good, "/spring", "/autumn", 1)
	addedField := good + "&vid=v-2"
	unsigned := base + "/rdr/v1/ename/mail_click?url=" + url.QueryEscape("https://partner-off-list.example/offer")
	for _, tc := range []struct {
		name, link, location string
	}{
		{"signed with the current key", good, "https://partner-off-list.example/offer?utm_campaign=spring&x=1"},
		{"signed with the previous key", old, "https://partner-off-list.example/old?utm_campaign=spring"},
		{"tampered target", tamperedTarget, "/"},
		{"tampered field", tamperedField, "/"},
		{"field added", addedField, "/"},
		{"unsigned, off the list", unsigned, "/"},
	} {
		r := do(t, "GET", tc.link, nil, nil)
		if r.status != 302 || r.header.Get("Location") != tc.location && r.header.Get("Location") != base+tc.location {
			t.Errorf("%s: %d Location %q, want %q", tc.name, r.status, r.header.Get("Location"), tc.location)
		}
	}
	evs := waitStored(t, dir, 2, 10*time.Second)
	for _, e := range evs {
		if e.EventName != "mail_click" || e.Campaign != "spring" || e.VisitorID != "v-1" || e.Props["sig"] != nil ||
			!strings.HasPrefix(e.URL, "https://partner-off-list.example/") {
			t.Errorf("stored click %+v", e)
		}
	}
	// A refused link stores nothing, even late: a marker click through the
	// same endpoint is stored after anything they could have made.
	marker := func(t *testing.T, marker string) {
		t.Helper()
		if r := do(t, "GET", base+"/rdr/v1/ename/"+marker+"?url=%2F", nil, nil); r.status != 302 {
			t.Fatalf("marker: %d %s", r.status, r.body)
		}
	}
	if evs := settled(t, dir, marker); len(evs) != 2 {
		t.Errorf("%d events stored", len(evs))
	}
}
