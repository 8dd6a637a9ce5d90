package admin

import (
	"embed"
	"html"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/internal/reply"
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
func (a *Admin) dashboard(ctx *fasthttp.RequestCtx, tail string) {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Response.Header.Set("X-Frame-Options", "DENY")
	ctx.Response.Header.Set("Referrer-Policy", "no-referrer")
	ctx.Response.Header.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	switch {
	case tail == "" && ctx.IsGet():
		ctx.Redirect("/admin/", fasthttp.StatusMovedPermanently)
	case tail == "/" && ctx.IsGet():
		if a.sessionOK(ctx) {
			a.dashboardFile(ctx, "index.html")
			return
		}
		a.loginPage(ctx, fasthttp.StatusOK, "")
	case tail == "/login" && ctx.IsPost():
		if !a.tokenValid(ctx.PostArgs().Peek("token")) {
			a.loginPage(ctx, fasthttp.StatusUnauthorized, "That token is not one of the admin tokens.")
			return
		}
		a.setSession(ctx, a.newSession(time.Now()), int(sessionTTL/time.Second))
		ctx.Redirect("/admin/", fasthttp.StatusSeeOther)
	case tail == "/logout" && ctx.IsPost():
		a.setSession(ctx, "", -1)
		ctx.Redirect("/admin/", fasthttp.StatusSeeOther)
	case ctx.IsGet() && (tail == "/app.js" || tail == "/style.css"):
		a.dashboardFile(ctx, strings.TrimPrefix(tail, "/"))
	default:
		reply.Error(ctx, fasthttp.StatusNotFound, "not_found", "no such page: "+string(ctx.Path()))
	}
}

func (a *Admin) sessionOK(ctx *fasthttp.RequestCtx) bool {
	v := ctx.Request.Header.Cookie(sessionCookie)
	return len(v) > 0 && a.sessionValid(string(v), time.Now())
}

func (a *Admin) setSession(ctx *fasthttp.RequestCtx, v string, maxAge int) {
	attrs := "; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=" + strconv.Itoa(max(maxAge, 0))
	if a.https(ctx) {
		attrs += "; Secure"
	}
	ctx.Response.Header.Add("Set-Cookie", sessionCookie+"="+v+attrs)
}

func (a *Admin) dashboardFile(ctx *fasthttp.RequestCtx, name string) {
	b, err := dashboardFiles.ReadFile(path.Join("dashboard", name))
	if err != nil {
		reply.Error(ctx, fasthttp.StatusNotFound, "not_found", "no such file")
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

func (a *Admin) loginPage(ctx *fasthttp.RequestCtx, status int, msg string) {
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
func (a *Admin) adminGate(ctx *fasthttp.RequestCtx) bool {
	if a.adminRequest(ctx) {
		return true
	}
	ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="spoor"`)
	reply.Error(ctx, fasthttp.StatusUnauthorized, "unauthorized", "a valid admin token is required (Authorization: Bearer …)")
	return false
}

// adminRequest: a GET needs a token or a session; anything else
// adminWrite.
func (a *Admin) adminRequest(ctx *fasthttp.RequestCtx) bool {
	if ctx.IsGet() || ctx.IsHead() {
		return a.adminAllowed(ctx)
	}
	return a.adminWrite(ctx)
}

// adminWrite allows a request that changes something: a bearer token, or
// a session with the X-Spoor-Admin header, which a page of another site
// cannot send (CSRF).
func (a *Admin) adminWrite(ctx *fasthttp.RequestCtx) bool {
	if a.adminAuthorized(ctx) {
		return true
	}
	return a.sessionOK(ctx) && string(ctx.Request.Header.Peek("X-Spoor-Admin")) == "1"
}
