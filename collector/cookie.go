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
func visitorCookieAttrs(h config.HTTP, secure bool) string {
	a := "; Max-Age=" + strconv.Itoa(int(h.VIDCookieMaxAge/time.Second)) + "; Path=/"
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
	if ctx.IsTLS() {
		return true
	}
	return c.trusted(ctx.RemoteIP()) && string(ctx.Request.Header.Peek("X-Forwarded-Proto")) == "https"
}

// forgetVisitor serves POST /tr/v1/forget: the SDK's consent(false) asks
// for the visitor cookie to be expired, since scripts cannot delete an
// HttpOnly cookie. Nothing is stored.
func (c *Collector) forgetVisitor(ctx *fasthttp.RequestCtx) {
	h := c.cfg.HTTP
	ck := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(ck)
	ck.SetKey("vid")
	ck.SetValue("")
	ck.SetPath("/")
	ck.SetMaxAge(-1) // Max-Age=0: delete now
	ck.SetHTTPOnly(h.VIDCookieHTTPOnly)
	ck.SetSameSite(fasthttp.CookieSameSiteLaxMode)
	ck.SetSecure(c.https(ctx))
	if h.VIDCookieDomain != "" {
		ck.SetDomain(h.VIDCookieDomain)
	}
	ctx.Response.Header.SetCookie(ck)
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"forgotten":true}`)
}
