package collector

import (
	"strconv"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/internal/config"
	"github.com/valyala/fasthttp"
)

// setVisitorCookie sets (or refreshes) the first-party visitor cookie:
// set by the server, so the 7-day cap browsers put on cookies written by
// scripts does not apply; HttpOnly unless configured otherwise; Secure
// whenever the page reached us over HTTPS.
func (c *Collector) setVisitorCookie(ctx *fasthttp.RequestCtx, vid string) {
	if vid == "" || strings.ContainsAny(vid, ";, \"\\") { // nothing a cookie value cannot carry as it is
		return
	}
	attrs := c.cookieAttrs
	if c.https(ctx) {
		attrs = c.cookieAttrsSecure
	}
	ctx.Response.Header.Add("Set-Cookie", "vid="+vid+attrs)
}

// visitorCookieAttrs are the attributes after the value, fixed at start:
// building a fasthttp.Cookie per request cost more than the rest of a
// tracked GET's server fields together.
func visitorCookieAttrs(h config.HTTP, maxAge time.Duration, secure bool) string {
	a := "; Max-Age=" + strconv.Itoa(int(maxAge/time.Second)) + "; Path=/"
	if h.VIDCookieDomain != "" {
		a += "; Domain=" + h.VIDCookieDomain
	}
	if h.VIDCookieHTTPOnly {
		a += "; HttpOnly"
	}
	if secure {
		a += "; Secure"
	}
	return a + "; SameSite=Lax"
}

// https reports whether the client reached us over HTTPS: our own TLS, or
// a trusted proxy's X-Forwarded-Proto.
func (c *Collector) https(ctx *fasthttp.RequestCtx) bool {
	return c.proxies.HTTPS(ctx.IsTLS(), ctx.RemoteIP(), string(ctx.Request.Header.Peek("X-Forwarded-Proto")))
}

// forgetVisitor serves POST /tr/v1/forget: the SDK's consent(false) asks
// for the visitor cookie to be expired, since scripts cannot delete an
// HttpOnly cookie. Nothing is stored.
func (c *Collector) forgetVisitor(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.Add("Set-Cookie", "vid="+visitorCookieAttrs(c.cfg.HTTP, 0, c.https(ctx)))
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"forgotten":true}`)
}
