package collector

import (
	"context"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/links"
	"github.com/spoor-dev/spoor/schema"
	"github.com/valyala/fasthttp"
)

// LinkOptions are the short links' (links/, docs/links.md).
type LinkOptions struct {
	Cache        *links.Cache // nil: no short links
	Prefix       string       // "/l": GET /l/<slug>
	Hosts        []string     // hosts where every path is a slug
	BaseURL      string       // what QR codes' links start with; "": the request's host
	UniqueWindow time.Duration
}

// linkHit is what a click or an open adds to its event beyond the
// request: the short link and its fields, and what the unique flag is
// counted per. bot comes back set when the request was machine traffic.
type linkHit struct {
	slug   string
	qr     bool
	fields []schema.Pair // applied after the request's own, so they win
	unique string        // the link, for the unique flag ("": no flag)
	bot    bool
}

// shortLink serves GET <prefix>/<slug>: the click is made durable, then
// answered with the link's redirect. Unknown, disabled and used-up links
// answer a small page and are recorded as orphan visits.
func (c *Collector) shortLink(ctx *fasthttp.RequestCtx, slug string) {
	if s, ok := strings.CutSuffix(slug, ".qr"); ok {
		c.linkQR(ctx, s)
		return
	}
	qr := string(ctx.QueryArgs().Peek("qr")) == "1"
	if !links.ValidSlug(slug) { // not even a slug: no store read
		c.orphan(ctx, slug, "unknown", qr)
		linkPage(ctx, fasthttp.StatusNotFound, "Link not found", "There is no link at this address.")
		return
	}
	lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	link, human, err := c.cfg.Links.Cache.Lookup(lctx, slug)
	switch {
	case err != nil:
		c.log.Warn().Err(err).Str("slug", slug).Msg("short link unreadable: link store unavailable")
		c.orphan(ctx, slug, "unavailable", qr)
		ctx.Response.Header.Set("Retry-After", "5")
		linkPage(ctx, fasthttp.StatusServiceUnavailable, "Try again in a moment", "This link cannot be followed right now.")
		return
	case link == nil:
		c.orphan(ctx, slug, "unknown", qr)
		linkPage(ctx, fasthttp.StatusNotFound, "Link not found", "There is no link at this address.")
		return
	case link.Disabled:
		c.orphan(ctx, slug, "disabled", qr)
		linkPage(ctx, fasthttp.StatusGone, "Link no longer active", "This link has been turned off.")
		return
	}
	used := ""
	switch {
	case link.ExpiresAt != nil && !time.Now().Before(*link.ExpiresAt):
		used = "expired"
	case link.MaxClicks > 0 && human >= link.MaxClicks:
		used = "max_clicks"
	}
	if used != "" {
		c.orphan(ctx, slug, used, qr)
		if link.ExpiredTo != "" {
			ctx.Response.Header.Set("Cache-Control", "no-store")
			ctx.Redirect(link.ExpiredTo, fasthttp.StatusFound)
			return
		}
		linkPage(ctx, fasthttp.StatusGone, "Link expired", "This link has expired.")
		return
	}
	target := linkTarget(link, ctx)
	fields := append(make([]schema.Pair, 0, len(link.Fields)+2), schema.Pair{Key: "ename", Value: "link_click"})
	for _, k := range sortedKeys(link.Fields) {
		fields = append(fields, schema.Pair{Key: k, Value: link.Fields[k]})
	}
	fields = append(fields, schema.Pair{Key: "url", Value: target})
	lk := &linkHit{slug: slug, qr: qr, fields: fields, unique: "l " + slug}
	if c.record(ctx, "link", "", lk) {
		c.cfg.Links.Cache.Click(slug, !lk.bot)
	}
	ctx.ResetBody()
	if code := link.Code(); code == fasthttp.StatusFound || code == fasthttp.StatusTemporaryRedirect {
		ctx.Response.Header.Set("Cache-Control", "no-store")
	}
	ctx.Redirect(target, link.Code())
}

// orphan records a visit to a short link that did not redirect.
func (c *Collector) orphan(ctx *fasthttp.RequestCtx, slug, why string, qr bool) {
	c.m.Rejected.WithLabelValues("link_" + why).Inc()
	c.record(ctx, "link", "", &linkHit{slug: slug, qr: qr,
		fields: []schema.Pair{{Key: "ename", Value: "orphan_visit"}, {Key: "orphan", Value: why}}})
}

// linkTarget picks the link's target for this request: the device's own
// when set, with the click's query appended when the link forwards it.
func linkTarget(l *links.Link, ctx *fasthttp.RequestCtx) string {
	target := l.To
	ua := string(ctx.UserAgent())
	switch {
	case l.IOS != "" && (strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad") || strings.Contains(ua, "iPod")):
		target = l.IOS
	case l.Android != "" && strings.Contains(ua, "Android"):
		target = l.Android
	}
	if !l.ForwardQuery || ctx.QueryArgs().Len() == 0 {
		return target
	}
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	q := u.Query()
	ctx.QueryArgs().VisitAll(func(k, v []byte) {
		if key := string(k); key != "qr" && !q.Has(key) {
			q.Add(key, string(v))
		}
	})
	u.RawQuery = q.Encode()
	return u.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// linkPage answers a short, plain page: a person followed the link.
func linkPage(ctx *fasthttp.RequestCtx, status int, title, text string) {
	ctx.ResetBody()
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetBodyString(`<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
		`<title>` + title + `</title><body style="font:16px/1.5 system-ui,sans-serif;max-width:32em;margin:4em auto;padding:0 1em">` +
		`<h1 style="font-size:1.4em">` + title + `</h1><p>` + text + `</p></body></html>`)
}

// linkHost reports whether the request's host is dedicated to short links.
func (c *Collector) linkHost(ctx *fasthttp.RequestCtx) bool {
	if len(c.cfg.Links.Hosts) == 0 || c.cfg.Links.Cache == nil {
		return false
	}
	host := string(ctx.Host())
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	return links.HostAllowed(host, c.cfg.Links.Hosts)
}
