package admin

import (
	"strings"
	"testing"
	"time"
)

func TestDashboardSession(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a := &Admin{o: Options{HashKey: []byte("hash-key"), Tokens: []string{"tok-a", "tok-b"}}}
	v := a.newSession(now)
	if strings.Contains(v, "tok-") {
		t.Fatal("the token is in the cookie")
	}
	exp, mac, _ := strings.Cut(v, ".")
	other := &Admin{o: Options{HashKey: []byte("hash-key"), Tokens: []string{"tok-a"}}}
	none := &Admin{o: Options{HashKey: []byte("hash-key")}}
	for _, c2 := range []struct {
		name string
		a    *Admin
		v    string
		at   time.Time
		ok   bool
	}{
		{"fresh", a, v, now, true},
		{"just before expiry", a, v, now.Add(sessionTTL - time.Second), true},
		{"expired", a, v, now.Add(sessionTTL + time.Second), false},
		{"a later expiry, same MAC", a, "99999999999." + mac, now, false},
		{"a flipped MAC", a, exp + "." + strings.Repeat("0", len(mac)), now, false},
		{"no MAC", a, exp, now, false},
		{"empty", a, "", now, false},
		{"a token was removed", other, v, now, false},
		{"no tokens at all", none, v, now, false},
		{"another hash key", &Admin{o: Options{HashKey: []byte("other"), Tokens: a.o.Tokens}}, v, now, false},
	} {
		if got := c2.a.sessionValid(c2.v, c2.at); got != c2.ok {
			t.Errorf("%s: valid = %v, want %v", c2.name, got, c2.ok)
		}
	}
}

func TestTokenValid(t *testing.T) {
	a := &Admin{o: Options{Tokens: []string{"tok-a", "tok-b"}}}
	for tok, want := range map[string]bool{"tok-a": true, "tok-b": true, "tok-": false, "tok-ab": false, "": false, "TOK-A": false} {
		if got := a.tokenValid([]byte(tok)); got != want {
			t.Errorf("tokenValid(%q) = %v", tok, got)
		}
	}
}
