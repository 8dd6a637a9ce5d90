package admin

import (
	"errors"
	"strings"

	"github.com/spoor-dev/spoor/internal/reply"
	"github.com/spoor-dev/spoor/plan"
	"github.com/valyala/fasthttp"
)

// plansAdmin serves the tracking plans' admin API under /admin/api/plans,
// behind an admin token (docs/plans.md):
//
//	GET /admin/api/plans        the plans in force: app, version, the file's error
//	PUT /admin/api/plans/<app>  replace the app's plan (the body: its file); in
//	                            force at once once it parses, written to plans.dir
//
// A plan kept as a directory is changed in its files, not here (409).
func (a *Admin) plansAdmin(ctx *fasthttp.RequestCtx, tail string) {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if len(a.o.Tokens) == 0 || a.o.Plans == nil {
		reply.Error(ctx, fasthttp.StatusForbidden, "admin_off", "the plans admin API is off: set admin.tokens")
		return
	}
	if !a.adminGate(ctx) {
		return
	}
	app := strings.TrimPrefix(tail, "/")
	method := string(ctx.Method())
	switch {
	case app == "" && method == "GET":
		reply.JSON(ctx, fasthttp.StatusOK, map[string]any{"plans": a.o.Plans.Statuses()})
	case app != "" && !strings.Contains(app, "/") && method == "PUT":
		p, err := a.o.Plans.Set(app, ctx.PostBody())
		switch {
		case errors.Is(err, plan.ErrDirectory):
			reply.Error(ctx, fasthttp.StatusConflict, "plan_is_directory", err.Error())
		case errors.Is(err, plan.ErrWrite):
			a.log.Error().Err(err).Str("app", app).Msg("writing a plan")
			reply.Error(ctx, fasthttp.StatusInternalServerError, "plan_not_written", err.Error())
		case err != nil:
			reply.Error(ctx, fasthttp.StatusBadRequest, "invalid_plan", err.Error())
		default:
			a.log.Info().Str("app", app).Str("version", p.Version).Msg("tracking plan set through the admin API")
			reply.JSON(ctx, fasthttp.StatusOK, map[string]any{"app": p.App, "version": p.Version, "events": len(p.EventModes())})
		}
	default:
		reply.Error(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", method+" "+string(ctx.Path())+" is not part of the plans API")
	}
}
