package collector

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

func (c *Collector) sessionMAC(expiry string) string {
	k := hmac.New(sha256.New, c.cfg.HashKey)
	k.Write([]byte("spoor admin session\x00"))
	for _, t := range c.cfg.Links.AdminTokens {
		sum := sha256.Sum256([]byte(t))
		k.Write(sum[:])
	}
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(expiry))
	return hex.EncodeToString(m.Sum(nil))
}

// newSession returns a session cookie's value.
func (c *Collector) newSession(now time.Time) string {
	exp := strconv.FormatInt(now.Add(sessionTTL).Unix(), 10)
	return exp + "." + c.sessionMAC(exp)
}

// sessionValid checks a session cookie's value.
func (c *Collector) sessionValid(v string, now time.Time) bool {
	exp, mac, ok := strings.Cut(v, ".")
	if !ok || len(c.cfg.Links.AdminTokens) == 0 {
		return false
	}
	t, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() > t {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(mac), []byte(c.sessionMAC(exp))) == 1
}

// adminAllowed: a bearer admin token, or a dashboard session.
func (c *Collector) adminAllowed(ctx *fasthttp.RequestCtx) bool {
	return c.adminAuthorized(ctx) || c.sessionOK(ctx)
}

// tokenValid compares a token with every configured one in constant time.
func (c *Collector) tokenValid(tok []byte) bool {
	if len(tok) == 0 {
		return false
	}
	match := 0
	for _, t := range c.cfg.Links.AdminTokens {
		match |= subtle.ConstantTimeCompare(tok, []byte(t))
	}
	return match == 1
}
