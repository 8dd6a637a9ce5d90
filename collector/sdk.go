package collector

import (
	"strings"

	"github.com/spoor-dev/spoor/internal/reply"
	"github.com/spoor-dev/spoor/sdk"
	"github.com/valyala/fasthttp"
)

// sdkFiles serves the browser SDK. /sdk/spoor.js and /sdk/spoor.mjs may
// change with a deploy, so browsers revalidate them after an hour (ETag);
// /sdk/<version>/spoor.js never changes and is cached for a year.
func (c *Collector) sdkFiles(ctx *fasthttp.RequestCtx, tail string) {
	if !ctx.IsGet() && !ctx.IsHead() {
		reply.Error(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "use GET")
		return
	}
	cache := "public, max-age=3600, stale-while-revalidate=86400"
	if v, rest, ok := strings.Cut(strings.TrimPrefix(tail, "/"), "/"); ok {
		if v != sdk.Version() && v != "v"+sdk.Version() {
			reply.Error(ctx, fasthttp.StatusNotFound, "not_found", "this collector serves SDK version "+sdk.Version())
			return
		}
		cache, tail = "public, max-age=31536000, immutable", "/"+rest
	}
	var f sdk.File
	switch tail {
	case "/spoor.js", "/spoor.min.js":
		f = sdk.Script()
	case "/spoor.mjs":
		f = sdk.Module()
	default:
		reply.Error(ctx, fasthttp.StatusNotFound, "not_found", "no such SDK file: /sdk"+tail)
		return
	}
	h := &ctx.Response.Header
	h.Set("Cache-Control", cache)
	h.Set("ETag", f.ETag)
	h.Set("Access-Control-Allow-Origin", "*") // a cross-origin <script type=module> needs it
	h.Set("X-Content-Type-Options", "nosniff")
	if string(ctx.Request.Header.Peek("If-None-Match")) == f.ETag {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	ctx.SetContentType("text/javascript; charset=utf-8")
	ctx.SetBody(f.Body)
}
