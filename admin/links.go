package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/internal/reply"
	"github.com/spoor-dev/spoor/links"
	"github.com/valyala/fasthttp"
)

// linksAdmin serves the short links' admin API under /admin/api/links,
// behind an admin token (admin.tokens) (docs/links.md):
//
//	POST   /admin/api/links                 create (slug generated unless given)
//	GET    /admin/api/links?after=&limit=   list, in slug order
//	GET    /admin/api/links/<slug>          one link, with its counts
//	PATCH  /admin/api/links/<slug>          change the fields sent
//	POST   /admin/api/links/<slug>/disable  turn off (kept, answers 410)
//	GET    /admin/api/links/<slug>/stats    clicks: all and human
func (a *Admin) linksAdmin(ctx *fasthttp.RequestCtx, tail string) {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	lo := a.o.Links
	if len(a.o.Tokens) == 0 || lo.Store == nil {
		reply.Error(ctx, fasthttp.StatusForbidden, "admin_off", "the links admin API is off: set admin.tokens")
		return
	}
	if !a.adminGate(ctx) {
		return
	}
	rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	slug, action, _ := strings.Cut(strings.TrimPrefix(tail, "/"), "/")
	method := string(ctx.Method())
	switch {
	case slug == "" && method == "GET":
		a.adminList(rctx, ctx)
	case slug == "" && method == "POST":
		a.adminCreate(rctx, ctx)
	case slug != "" && action == "" && method == "GET":
		a.adminGet(rctx, ctx, slug)
	case slug != "" && action == "" && method == "PATCH":
		a.adminUpdate(rctx, ctx, slug, false)
	case slug != "" && action == "disable" && method == "POST":
		a.adminUpdate(rctx, ctx, slug, true)
	case slug != "" && action == "stats" && method == "GET":
		counts, err := lo.Cache.Stats(rctx, slug)
		if err != nil {
			adminStoreError(ctx, err)
			return
		}
		reply.JSON(ctx, fasthttp.StatusOK, counts)
	default:
		reply.Error(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", method+" "+string(ctx.Path())+" is not part of the links API")
	}
}

// linkView is a link as the API shows it.
type linkView struct {
	links.Link
	ShortURL string        `json:"short_url"`
	QRURL    string        `json:"qr_url"`
	Counts   *links.Counts `json:"counts,omitempty"`
}

func (a *Admin) view(ctx *fasthttp.RequestCtx, l links.Link, counts *links.Counts) linkView {
	u := a.baseURL(ctx) + a.o.Links.Prefix + "/" + l.Slug
	return linkView{Link: l, ShortURL: u, QRURL: u + ".qr", Counts: counts}
}

func (a *Admin) adminList(rctx context.Context, ctx *fasthttp.RequestCtx) {
	limit := 100
	if s := ctx.QueryArgs().Peek("limit"); len(s) > 0 {
		n, err := strconv.Atoi(string(s))
		if err != nil || n < 1 || n > 1000 {
			reply.Error(ctx, fasthttp.StatusBadRequest, "invalid_limit", "limit must be 1..1000")
			return
		}
		limit = n
	}
	page, next, err := a.o.Links.Store.List(rctx, string(ctx.QueryArgs().Peek("after")), limit)
	if err != nil {
		adminStoreError(ctx, err)
		return
	}
	out := struct {
		Links []linkView `json:"links"`
		Next  string     `json:"next,omitempty"`
	}{Links: make([]linkView, 0, len(page)), Next: next}
	for _, l := range page {
		out.Links = append(out.Links, a.view(ctx, l, nil))
	}
	reply.JSON(ctx, fasthttp.StatusOK, out)
}

func (a *Admin) adminCreate(rctx context.Context, ctx *fasthttp.RequestCtx) {
	var l links.Link
	if err := decodeStrict(ctx.PostBody(), &l); err != nil {
		reply.Error(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error())
		return
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	l.CreatedAt, l.UpdatedAt, l.Disabled = now, now, false
	generated := l.Slug == ""
	for attempt := 0; ; attempt++ {
		if generated {
			l.Slug = links.NewSlug(a.o.Links.SlugLength)
		}
		if err := l.Validate(); err != nil {
			reply.Error(ctx, fasthttp.StatusBadRequest, "invalid_link", err.Error())
			return
		}
		err := a.o.Links.Store.Create(rctx, l)
		if errors.Is(err, links.ErrExists) && generated && attempt < 5 {
			continue
		}
		if errors.Is(err, links.ErrExists) {
			reply.Error(ctx, fasthttp.StatusConflict, "slug_taken", "the slug "+l.Slug+" is taken")
			return
		}
		if err != nil {
			adminStoreError(ctx, err)
			return
		}
		break
	}
	a.o.Links.Cache.Invalidate(l.Slug) // an unknown slug cached here is now known
	reply.JSON(ctx, fasthttp.StatusCreated, a.view(ctx, l, nil))
}

func (a *Admin) adminGet(rctx context.Context, ctx *fasthttp.RequestCtx, slug string) {
	l, err := a.o.Links.Store.Get(rctx, slug)
	if err != nil {
		adminStoreError(ctx, err)
		return
	}
	counts, err := a.o.Links.Cache.Stats(rctx, slug)
	if err != nil {
		adminStoreError(ctx, err)
		return
	}
	reply.JSON(ctx, fasthttp.StatusOK, a.view(ctx, l, &counts))
}

// adminUpdate applies the fields in the body (PATCH) to the stored link,
// or turns it off. The slug and the creation time cannot change.
func (a *Admin) adminUpdate(rctx context.Context, ctx *fasthttp.RequestCtx, slug string, disable bool) {
	l, err := a.o.Links.Store.Get(rctx, slug)
	if err != nil {
		adminStoreError(ctx, err)
		return
	}
	created := l.CreatedAt
	var sent map[string]json.RawMessage
	if !disable && json.Unmarshal(ctx.PostBody(), &sent) == nil && sent["fields"] != nil {
		l.Fields = nil // fields sent replace the link's, not merge into them
	}
	if disable {
		l.Disabled = true
	} else if err := decodeStrict(ctx.PostBody(), &l); err != nil {
		reply.Error(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error())
		return
	}
	if l.Slug != slug {
		reply.Error(ctx, fasthttp.StatusBadRequest, "invalid_link", "the slug of a link cannot change")
		return
	}
	l.CreatedAt, l.UpdatedAt = created, time.Now().UTC().Truncate(time.Millisecond)
	if err := l.Validate(); err != nil {
		reply.Error(ctx, fasthttp.StatusBadRequest, "invalid_link", err.Error())
		return
	}
	if err := a.o.Links.Store.Update(rctx, l); err != nil {
		adminStoreError(ctx, err)
		return
	}
	a.o.Links.Cache.Invalidate(slug)
	reply.JSON(ctx, fasthttp.StatusOK, a.view(ctx, l, nil))
}

func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func adminStoreError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, links.ErrNotFound) {
		reply.Error(ctx, fasthttp.StatusNotFound, "no_such_link", err.Error())
		return
	}
	reply.Error(ctx, fasthttp.StatusServiceUnavailable, "store_unavailable", err.Error())
}
