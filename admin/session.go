package admin

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// The dashboard's session: after a login with an admin token, a cookie
// holding an expiry and an HMAC over it, keyed from the hash key and the
// configured tokens (removing a token ends the sessions it could have
// opened). The token itself is never in a URL or a cookie.
const (
	sessionCookie = "spoor_admin"
	sessionTTL    = 12 * time.Hour
)

func (a *Admin) sessionMAC(expiry string) string {
	k := hmac.New(sha256.New, a.o.HashKey)
	k.Write([]byte("spoor admin session\x00"))
	for _, t := range a.o.Tokens {
		sum := sha256.Sum256([]byte(t))
		k.Write(sum[:])
	}
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(expiry))
	return hex.EncodeToString(m.Sum(nil))
}

// newSession returns a session cookie's value.
func (a *Admin) newSession(now time.Time) string {
	exp := strconv.FormatInt(now.Add(sessionTTL).Unix(), 10)
	return exp + "." + a.sessionMAC(exp)
}

// sessionValid checks a session cookie's value.
func (a *Admin) sessionValid(v string, now time.Time) bool {
	exp, mac, ok := strings.Cut(v, ".")
	if !ok || len(a.o.Tokens) == 0 {
		return false
	}
	t, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() > t {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(mac), []byte(a.sessionMAC(exp))) == 1
}

// adminAllowed: a bearer admin token, or a dashboard session.
func (a *Admin) adminAllowed(ctx *fasthttp.RequestCtx) bool {
	return a.adminAuthorized(ctx) || a.sessionOK(ctx)
}
