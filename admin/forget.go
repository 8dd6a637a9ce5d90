package admin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/spoor-dev/spoor/internal/reply"
	"github.com/spoor-dev/spoor/internal/secret"
	"github.com/spoor-dev/spoor/person"
	"github.com/valyala/fasthttp"
)

// forgetJob is one forget running or done in this process; forget_log in
// the store is the lasting record.
type forgetJob struct {
	Status  string         `json:"status"` // running, done, failed
	Report  *person.Report `json:"report,omitempty"`
	Error   string         `json:"error,omitempty"`
	Started time.Time      `json:"started"`
}

type forgetJobs struct {
	mu   sync.Mutex
	jobs map[string]*forgetJob
}

// forgetAdmin serves
//
//	POST /admin/api/forget        {"app":…, "uid":… | "vid":…, "by":…}: 202 and the request id
//	GET  /admin/api/forget/<id>   the request's status and, once done, what it removed
//
// A forget waits its grace before deleting, longer than a request should
// hang, so it runs in the background; the token (as a short hash, never
// the token) and the "by" it sent go to forget_log.
func (a *Admin) forgetAdmin(ctx *fasthttp.RequestCtx, tail string) {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if len(a.o.Tokens) == 0 || a.o.Forget.Do == nil {
		reply.Error(ctx, fasthttp.StatusForbidden, "admin_off", "the forget API is off: set admin.tokens")
		return
	}
	if !a.adminGate(ctx) {
		return
	}
	id := strings.TrimPrefix(tail, "/")
	switch method := string(ctx.Method()); {
	case id == "" && method == "POST":
		a.forgetStart(ctx)
	case id != "" && method == "GET":
		a.forgets.mu.Lock()
		j := a.forgets.jobs[id]
		var snap forgetJob
		if j != nil {
			snap = *j
		}
		a.forgets.mu.Unlock()
		if j == nil {
			reply.Error(ctx, fasthttp.StatusNotFound, "not_found", "no forget request "+id+" in this collector (forget_log in the store lists them all)")
			return
		}
		reply.JSON(ctx, fasthttp.StatusOK, snap)
	default:
		reply.Error(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", method+" "+string(ctx.Path())+" is not part of the forget API")
	}
}

func (a *Admin) forgetStart(ctx *fasthttp.RequestCtx) {
	var body struct {
		App string `json:"app"`
		UID string `json:"uid"`
		VID string `json:"vid"`
		By  string `json:"by"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		reply.Error(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error())
		return
	}
	req := person.Request{App: body.App, Kind: "user", ID: body.UID, Grace: a.o.Forget.Grace, RequestID: person.NewRequestID()}
	if (body.UID == "") == (body.VID == "") {
		reply.Error(ctx, fasthttp.StatusBadRequest, "missing_id", "give exactly one of uid and vid")
		return
	}
	if body.VID != "" {
		req.Kind, req.ID = "visitor", body.VID
	}
	tok, _ := secret.Bearer(ctx.Request.Header.Peek("Authorization"))
	sum := sha256.Sum256(tok)
	req.By = "admin-api token " + hex.EncodeToString(sum[:4])
	if body.By != "" {
		req.By += " for " + body.By
	}
	j := &forgetJob{Status: "running", Started: time.Now().UTC()}
	a.forgets.mu.Lock()
	if a.forgets.jobs == nil {
		a.forgets.jobs = map[string]*forgetJob{}
	}
	a.forgets.jobs[req.RequestID] = j
	a.forgets.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		r, err := a.o.Forget.Do(ctx, req)
		a.forgets.mu.Lock()
		defer a.forgets.mu.Unlock()
		if err != nil {
			j.Status, j.Error = "failed", err.Error()
			a.log.Error().Err(err).Str("request_id", req.RequestID).Msg("forget failed")
			return
		}
		j.Status, j.Report = "done", &r
		a.log.Info().Str("request_id", req.RequestID).Int64("removed", r.Total()).Msg("forget done")
	}()
	ctx.Response.Header.Set("Location", "/admin/api/forget/"+req.RequestID)
	reply.JSON(ctx, fasthttp.StatusAccepted, map[string]string{"request_id": req.RequestID, "status_url": "/admin/api/forget/" + req.RequestID})
}
