package collector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/spoor-dev/spoor/person"
	"github.com/valyala/fasthttp"
)

// ForgetOptions wire the admin API's forget endpoint to the store.
type ForgetOptions struct {
	// Do forgets one person (person.Store.Forget). nil: the endpoint is
	// off.
	Do    func(ctx context.Context, req person.Request) (person.Report, error)
	Grace time.Duration // person.Request.Grace
}

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
func (c *Collector) forgetAdmin(ctx *fasthttp.RequestCtx, tail string) {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if len(c.cfg.Links.AdminTokens) == 0 || c.cfg.Forget.Do == nil {
		jsonError(ctx, fasthttp.StatusForbidden, "admin_off", "the forget API is off: set links.admin_tokens")
		return
	}
	if !c.adminGate(ctx) {
		return
	}
	id := strings.TrimPrefix(tail, "/")
	switch method := string(ctx.Method()); {
	case id == "" && method == "POST":
		c.forgetStart(ctx)
	case id != "" && method == "GET":
		c.forgets.mu.Lock()
		j := c.forgets.jobs[id]
		var snap forgetJob
		if j != nil {
			snap = *j
		}
		c.forgets.mu.Unlock()
		if j == nil {
			jsonError(ctx, fasthttp.StatusNotFound, "not_found", "no forget request "+id+" in this collector (forget_log in the store lists them all)")
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, snap)
	default:
		jsonError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", method+" "+string(ctx.Path())+" is not part of the forget API")
	}
}

func (c *Collector) forgetStart(ctx *fasthttp.RequestCtx) {
	var body struct {
		App string `json:"app"`
		UID string `json:"uid"`
		VID string `json:"vid"`
		By  string `json:"by"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		jsonError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error())
		return
	}
	req := person.Request{App: body.App, Kind: "user", ID: body.UID, Grace: c.cfg.Forget.Grace, RequestID: person.NewRequestID()}
	if (body.UID == "") == (body.VID == "") {
		jsonError(ctx, fasthttp.StatusBadRequest, "missing_id", "give exactly one of uid and vid")
		return
	}
	if body.VID != "" {
		req.Kind, req.ID = "visitor", body.VID
	}
	tok, _ := strings.CutPrefix(string(ctx.Request.Header.Peek("Authorization")), "Bearer ")
	sum := sha256.Sum256([]byte(tok))
	req.By = "admin-api token " + hex.EncodeToString(sum[:4])
	if body.By != "" {
		req.By += " for " + body.By
	}
	j := &forgetJob{Status: "running", Started: time.Now().UTC()}
	c.forgets.mu.Lock()
	if c.forgets.jobs == nil {
		c.forgets.jobs = map[string]*forgetJob{}
	}
	c.forgets.jobs[req.RequestID] = j
	c.forgets.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		r, err := c.cfg.Forget.Do(ctx, req)
		c.forgets.mu.Lock()
		defer c.forgets.mu.Unlock()
		if err != nil {
			j.Status, j.Error = "failed", err.Error()
			c.log.Error().Err(err).Str("request_id", req.RequestID).Msg("forget failed")
			return
		}
		j.Status, j.Report = "done", &r
		c.log.Info().Str("request_id", req.RequestID).Int64("removed", r.Total()).Msg("forget done")
	}()
	ctx.Response.Header.Set("Location", "/admin/api/forget/"+req.RequestID)
	writeJSON(ctx, fasthttp.StatusAccepted, map[string]string{"request_id": req.RequestID, "status_url": "/admin/api/forget/" + req.RequestID})
}
