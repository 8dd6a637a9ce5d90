package collector

import (
	"time"

	"github.com/valyala/fasthttp"
)

// setVisitorCookie sets (or refreshes) the first-party visitor cookie:
// set by the server, so the 7-day cap browsers put on cookies written by
// scripts does not apply; HttpOnly unless configured otherwise; Secure
// whenever the page reached us over HTTPS.
func (c *Collector) setVisitorCookie(ctx *fasthttp.RequestCtx, vid string) {
	if vid == "" {
		return
	}
	h := c.cfg.HTTP
	ck := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(ck)
	ck.SetKey("vid")
	ck.SetValue(vid)
	ck.SetPath("/")
	ck.SetMaxAge(int(h.VIDCookieMaxAge / time.Second))
	ck.SetHTTPOnly(h.VIDCookieHTTPOnly)
	ck.SetSameSite(fasthttp.CookieSameSiteLaxMode)
	ck.SetSecure(c.https(ctx))
	if h.VIDCookieDomain != "" {
		ck.SetDomain(h.VIDCookieDomain)
	}
	ctx.Response.Header.SetCookie(ck)
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
