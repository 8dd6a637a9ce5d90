package collector

import (
	"context"
	"strconv"
	"time"

	"github.com/spoor-dev/spoor/internal/reply"
	"github.com/spoor-dev/spoor/links"
	"github.com/valyala/fasthttp"
)

// linkQR serves GET <prefix>/<slug>.qr: the QR code of the short link with
// ?qr=1 appended, so its scans are told apart from clicks. PNG by default,
// SVG with ?format=svg; ?size= the PNG's width in pixels (64 to 2048). A
// rendering is no click: nothing is recorded.
func (c *Collector) linkQR(ctx *fasthttp.RequestCtx, slug string) {
	if !links.ValidSlug(slug) {
		linkPage(ctx, fasthttp.StatusNotFound, "Link not found", "There is no link at this address.")
		return
	}
	lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	link, _, err := c.cfg.Links.Cache.Lookup(lctx, slug)
	if err != nil || link == nil {
		linkPage(ctx, fasthttp.StatusNotFound, "Link not found", "There is no link at this address.")
		return
	}
	svg := string(ctx.QueryArgs().Peek("format")) == "svg"
	size := 512
	if s := ctx.QueryArgs().Peek("size"); len(s) > 0 {
		if n, err := strconv.Atoi(string(s)); err == nil && n >= 64 && n <= 2048 {
			size = n
		}
	}
	body, err := links.QRCode(c.shortURL(ctx, slug)+"?qr=1", svg, size)
	if err != nil {
		reply.Error(ctx, fasthttp.StatusInternalServerError, "qr", err.Error())
		return
	}
	ctx.Response.Header.Set("Cache-Control", "public, max-age=3600")
	if svg {
		ctx.SetContentType("image/svg+xml")
	} else {
		ctx.SetContentType("image/png")
	}
	ctx.SetBody(body)
}

// shortURL is the public URL of a short link: links.base_url, else the
// scheme and host the request came to.
func (c *Collector) shortURL(ctx *fasthttp.RequestCtx, slug string) string {
	return links.BaseURL(c.cfg.Links.BaseURL, c.https(ctx), string(ctx.Host())) + c.cfg.Links.Prefix + "/" + slug
}
