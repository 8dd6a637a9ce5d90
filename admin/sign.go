package admin

import (
	"errors"
	"sort"

	"github.com/spoor-dev/spoor/internal/reply"
	"github.com/spoor-dev/spoor/links"
	"github.com/valyala/fasthttp"
)

// signLink serves POST /admin/api/sign {"to": URL, "fields": {k: v}}: a
// signed redirect link (links.signing_keys' first key), for the link
// builder.
func (a *Admin) signLink(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if !ctx.IsPost() {
		reply.Error(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "POST only")
		return
	}
	if !a.adminGate(ctx) {
		return
	}
	var body struct {
		To     string            `json:"to"`
		Fields map[string]string `json:"fields"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		reply.Error(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error())
		return
	}
	s := a.o.Signer
	if s == nil {
		s = &links.Signer{}
	}
	var fields []links.Field
	for k, v := range body.Fields {
		fields = append(fields, links.Field{Key: k, Value: v})
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].Key < fields[j].Key })
	u, err := s.SignedURL(a.baseURL(ctx), body.To, fields)
	if errors.Is(err, links.ErrNoKey) {
		reply.Error(ctx, fasthttp.StatusConflict, "signing_off", "no signing key: set links.signing_keys")
		return
	}
	if err != nil {
		reply.Error(ctx, fasthttp.StatusBadRequest, "invalid_link", err.Error())
		return
	}
	reply.JSON(ctx, fasthttp.StatusOK, map[string]string{"url": u})
}
