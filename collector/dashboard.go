package collector

import (
	"embed"
	"errors"
	"html"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/links"
	"github.com/valyala/fasthttp"
)

//go:embed dashboard
var dashboardFiles embed.FS

// dashboard serves the admin page under /admin/ (docs/dashboard.md):
//
//	GET  /admin/          the dashboard with a session, else the login form
//	POST /admin/login     token=…: a session cookie, then back to /admin/
//	POST /admin/logout    ends the session
//	GET  /admin/<file>    the page's script and style (no secrets in them)
//
// The token is posted once in a form body and never appears in a URL; the
// session cookie is HttpOnly, SameSite=Strict, Secure over HTTPS, scoped
// to /admin.
func (c *Collector) dashboard(ctx *fasthttp.RequestCtx, tail string) {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Response.Header.Set("X-Frame-Options", "DENY")
	ctx.Response.Header.Set("Referrer-Policy", "no-referrer")
	ctx.Response.Header.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	switch {
	case tail == "" && ctx.IsGet():
		ctx.Redirect("/admin/", fasthttp.StatusMovedPermanently)
	case tail == "/" && ctx.IsGet():
		if c.sessionOK(ctx) {
			c.dashboardFile(ctx, "index.html")
			return
		}
		c.loginPage(ctx, fasthttp.StatusOK, "")
	case tail == "/login" && ctx.IsPost():
		if !c.tokenValid(ctx.PostArgs().Peek("token")) {
			c.loginPage(ctx, fasthttp.StatusUnauthorized, "That token is not one of the admin tokens.")
			return
		}
		c.setSession(ctx, c.newSession(time.Now()), int(sessionTTL/time.Second))
		ctx.Redirect("/admin/", fasthttp.StatusSeeOther)
	case tail == "/logout" && ctx.IsPost():
		c.setSession(ctx, "", -1)
		ctx.Redirect("/admin/", fasthttp.StatusSeeOther)
	case ctx.IsGet() && (tail == "/app.js" || tail == "/style.css"):
		c.dashboardFile(ctx, strings.TrimPrefix(tail, "/"))
	default:
		jsonError(ctx, fasthttp.StatusNotFound, "not_found", "no such page: "+string(ctx.Path()))
	}
}

func (c *Collector) sessionOK(ctx *fasthttp.RequestCtx) bool {
	v := ctx.Request.Header.Cookie(sessionCookie)
	return len(v) > 0 && c.sessionValid(string(v), time.Now())
}

func (c *Collector) setSession(ctx *fasthttp.RequestCtx, v string, maxAge int) {
	a := "; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=" + strconv.Itoa(max(maxAge, 0))
	if c.https(ctx) {
		a += "; Secure"
	}
	ctx.Response.Header.Add("Set-Cookie", sessionCookie+"="+v+a)
}

func (c *Collector) dashboardFile(ctx *fasthttp.RequestCtx, name string) {
	b, err := dashboardFiles.ReadFile(path.Join("dashboard", name))
	if err != nil {
		jsonError(ctx, fasthttp.StatusNotFound, "not_found", "no such file")
		return
	}
	switch path.Ext(name) {
	case ".html":
		ctx.SetContentType("text/html; charset=utf-8")
	case ".js":
		ctx.SetContentType("text/javascript; charset=utf-8")
	case ".css":
		ctx.SetContentType("text/css; charset=utf-8")
	}
	ctx.SetBody(b)
}

func (c *Collector) loginPage(ctx *fasthttp.RequestCtx, status int, msg string) {
	b, _ := dashboardFiles.ReadFile("dashboard/login.html")
	page := strings.Replace(string(b), "<!--error-->", func() string {
		if msg == "" {
			return ""
		}
		return `<p class="error" role="alert">` + html.EscapeString(msg) + `</p>`
	}(), 1)
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.SetBodyString(page)
}

// adminGate answers 401 unless the request is an admin's (adminRequest),
// and reports whether it may go on.
func (c *Collector) adminGate(ctx *fasthttp.RequestCtx) bool {
	if c.adminRequest(ctx) {
		return true
	}
	ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="spoor"`)
	jsonError(ctx, fasthttp.StatusUnauthorized, "unauthorized", "a valid admin token is required (Authorization: Bearer …)")
	return false
}

// adminRequest: a GET needs a token or a session; anything else
// adminWrite.
func (c *Collector) adminRequest(ctx *fasthttp.RequestCtx) bool {
	if ctx.IsGet() || ctx.IsHead() {
		return c.adminAllowed(ctx)
	}
	return c.adminWrite(ctx)
}

// adminWrite allows a request that changes something: a bearer token, or
// a session with the X-Spoor-Admin header, which a page of another site
// cannot send (CSRF).
func (c *Collector) adminWrite(ctx *fasthttp.RequestCtx) bool {
	if c.adminAuthorized(ctx) {
		return true
	}
	return c.sessionOK(ctx) && string(ctx.Request.Header.Peek("X-Spoor-Admin")) == "1"
}

// signLink serves POST /admin/api/sign {"to": URL, "fields": {k: v}}: a
// signed redirect link (links.signing_keys' first key), for the link
// builder.
func (c *Collector) signLink(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if !ctx.IsPost() {
		jsonError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "POST only")
		return
	}
	if !c.adminGate(ctx) {
		return
	}
	var body struct {
		To     string            `json:"to"`
		Fields map[string]string `json:"fields"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		jsonError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error())
		return
	}
	s := c.cfg.Redirects.Signer
	if s == nil {
		s = &links.Signer{}
	}
	var fields []links.Field
	for k, v := range body.Fields {
		fields = append(fields, links.Field{Key: k, Value: v})
	}
	sort.Slice(fields, func(a, b int) bool { return fields[a].Key < fields[b].Key })
	base := c.cfg.Links.BaseURL
	if base == "" {
		scheme := "http://"
		if c.https(ctx) {
			scheme = "https://"
		}
		base = scheme + string(ctx.Host())
	}
	u, err := s.SignedURL(base, body.To, fields)
	if errors.Is(err, links.ErrNoKey) {
		jsonError(ctx, fasthttp.StatusConflict, "signing_off", "no signing key: set links.signing_keys")
		return
	}
	if err != nil {
		jsonError(ctx, fasthttp.StatusBadRequest, "invalid_link", err.Error())
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]string{"url": u})
}
