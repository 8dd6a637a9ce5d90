package collector

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"strconv"
	"strings"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
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
	body, err := QRCode(c.shortURL(ctx, slug)+"?qr=1", svg, size)
	if err != nil {
		jsonError(ctx, fasthttp.StatusInternalServerError, "qr", err.Error())
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
	base := c.cfg.Links.BaseURL
	if base == "" {
		scheme := "http://"
		if ctx.IsTLS() || string(ctx.Request.Header.Peek("X-Forwarded-Proto")) == "https" && c.proxies.Contains(ctx.RemoteIP()) {
			scheme = "https://"
		}
		base = scheme + string(ctx.Host())
	}
	return base + c.cfg.Links.Prefix + "/" + slug
}

// QRCode renders text as a QR code (error correction M, a 4-module quiet
// zone): an SVG of one path, or a PNG about size pixels wide.
func QRCode(text string, svg bool, size int) ([]byte, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("encoding the qr code: %w", err)
	}
	n := code.Bounds().Dx()
	const quiet = 4
	if svg {
		var b strings.Builder
		fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n+2*quiet, n+2*quiet)
		fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/><path fill="#000" d="`)
		for y := range n {
			for x := range n {
				if r, _, _, _ := code.At(x, y).RGBA(); r == 0 {
					fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
				}
			}
		}
		b.WriteString(`"/></svg>`)
		return []byte(b.String()), nil
	}
	px := max(size/(n+2*quiet), 1) // whole pixels per module: a sharp code
	scaled, err := barcode.Scale(code, n*px, n*px)
	if err != nil {
		return nil, fmt.Errorf("scaling the qr code: %w", err)
	}
	img := withQuietZone(scaled, quiet*px)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("writing the png: %w", err)
	}
	return buf.Bytes(), nil
}
