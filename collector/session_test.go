package collector

import (
	"strings"
	"testing"
	"time"
)

func TestDashboardSession(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := &Collector{cfg: Options{HashKey: []byte("hash-key"), Links: LinkOptions{AdminTokens: []string{"tok-a", "tok-b"}}}}
	v := c.newSession(now)
	if strings.Contains(v, "tok-") {
		t.Fatal("the token is in the cookie")
	}
	exp, mac, _ := strings.Cut(v, ".")
	other := &Collector{cfg: Options{HashKey: []byte("hash-key"), Links: LinkOptions{AdminTokens: []string{"tok-a"}}}}
	none := &Collector{cfg: Options{HashKey: []byte("hash-key")}}
	for _, c2 := range []struct {
		name string
		c    *Collector
		v    string
		at   time.Time
		ok   bool
	}{
		{"fresh", c, v, now, true},
		{"just before expiry", c, v, now.Add(sessionTTL - time.Second), true},
		{"expired", c, v, now.Add(sessionTTL + time.Second), false},
		{"a later expiry, same MAC", c, "99999999999." + mac, now, false},
		{"a flipped MAC", c, exp + "." + strings.Repeat("0", len(mac)), now, false},
		{"no MAC", c, exp, now, false},
		{"empty", c, "", now, false},
		{"a token was removed", other, v, now, false},
		{"no tokens at all", none, v, now, false},
		{"another hash key", &Collector{cfg: Options{HashKey: []byte("other"), Links: c.cfg.Links}}, v, now, false},
	} {
		if got := c2.c.sessionValid(c2.v, c2.at); got != c2.ok {
			t.Errorf("%s: valid = %v, want %v", c2.name, got, c2.ok)
		}
	}
}

func TestTokenValid(t *testing.T) {
	c := &Collector{cfg: Options{Links: LinkOptions{AdminTokens: []string{"tok-a", "tok-b"}}}}
	for tok, want := range map[string]bool{"tok-a": true, "tok-b": true, "tok-": false, "tok-ab": false, "": false, "TOK-A": false} {
		if got := c.tokenValid([]byte(tok)); got != want {
			t.Errorf("tokenValid(%q) = %v", tok, got)
		}
	}
}
