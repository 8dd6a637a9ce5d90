// Package admin is the operator surface, behind the admin tokens: the
// dashboard and its login, the short links' admin API, signed links, the
// forget API and the live tail. The collector mounts it at /admin on its
// own port (app/ wires it); it shares nothing else with the collector and
// never takes an event in.
package admin

import (
	"context"
	"github.com/spoor-dev/spoor/loss"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/forwarded"
	"github.com/spoor-dev/spoor/internal/reply"
	"github.com/spoor-dev/spoor/internal/secret"
	"github.com/spoor-dev/spoor/links"
	"github.com/spoor-dev/spoor/live"
	"github.com/spoor-dev/spoor/person"
	"github.com/spoor-dev/spoor/plan"
	"github.com/valyala/fasthttp"
)

// Options are what the operator surface needs.
type Options struct {
	// Tokens are the admin tokens (admin.tokens, and the one `spoor run`
	// keeps in its data dir); none: every endpoint is off.
	Tokens  []string
	HashKey []byte // keys the dashboard's session cookie
	// Trusted are the proxies whose X-Forwarded-Proto is believed (the
	// session cookie's Secure flag, printed URLs).
	Trusted forwarded.Trust
	Links   Links
	Signer  *links.Signer // signs redirect links for the link builder; nil: none
	Forget  Forget
	Live    Live
	Plans   *plan.Plans // the tracking plans the collector checks; nil: the plans API is off
}

// Links are the short links' store and how their URLs are printed.
type Links struct {
	Cache      *links.Cache // nil: no short links
	Store      links.Store  // what the admin API changes
	Prefix     string       // "/l": GET /l/<slug>
	SlugLength int
	BaseURL    string // what printed short links start with; "": the request's host
}

// Forget wires the forget endpoint to the store.
type Forget struct {
	// Do forgets one person (person.Store.Forget). nil: the endpoint is
	// off.
	Do    func(ctx context.Context, req person.Request) (person.Report, error)
	Grace time.Duration // person.Request.Grace
}

// Live wires the live view (live.Hub) to the stream, and the health panel
// to what it reads.
type Live struct {
	Hub    *live.Hub   // nil: the live endpoints answer 404
	Source live.Source // for a look back (since): one consumer per such viewer
	// What the dashboard's health panel reads (summary.go); each may be nil.
	Gatherer  prometheus.Gatherer                       // the process's metrics, as /metrics serves them
	Lag       func(ctx context.Context) (uint64, error) // messages in the stream the sink has not stored
	Connected func() bool                               // the collector's NATS connection
	// DestinationLag is a destination's messages not yet delivered.
	DestinationLag func(ctx context.Context, name string) (uint64, error)
	// Loss is each app's browser message counts of today (loss/), and
	// LossThreshold the share quality.loss_threshold accepts.
	Loss          func(ctx context.Context) (map[string]loss.Counts, error)
	LossThreshold float64
}

// Admin serves the operator surface.
type Admin struct {
	o         Options
	log       zerolog.Logger
	done      chan struct{}
	closeOnce sync.Once
	forgets   forgetJobs
	healthC   healthCache
}

// New builds the operator surface.
func New(o Options, log zerolog.Logger) *Admin {
	return &Admin{o: o, log: log, done: make(chan struct{})}
}

// Serve answers one request whose path is /admin or below it:
//
//	/admin/api/sign       signed redirect links (sign.go)
//	/admin/api/tail       the live tail (tail.go)
//	/admin/api/forget…    the forget API (forget.go)
//	/admin/api/links…     the short links' API (links.go)
//	/admin/api/plans…     the tracking plans' API (plans.go)
//	/admin/…              the dashboard and its login (dashboard.go)
func (a *Admin) Serve(ctx *fasthttp.RequestCtx) {
	path := string(ctx.Request.URI().PathOriginal())
	switch {
	case path == "/admin/api/sign":
		a.signLink(ctx)
	case path == "/admin/api/tail":
		a.liveTail(ctx)
	case under(path, "/admin/api/forget"):
		a.forgetAdmin(ctx, path[len("/admin/api/forget"):])
	case under(path, "/admin/api/plans"):
		a.plansAdmin(ctx, path[len("/admin/api/plans"):])
	case under(path, "/admin/api/links"):
		a.linksAdmin(ctx, path[len("/admin/api/links"):])
	case under(path, "/admin"):
		a.dashboard(ctx, path[len("/admin"):])
	default:
		reply.Error(ctx, fasthttp.StatusNotFound, "not_found", "no such endpoint: "+path)
	}
}

// Close ends the long-lived answers (live tails); the collector calls it
// as it stops serving.
func (a *Admin) Close() { a.closeOnce.Do(func() { close(a.done) }) }

func under(path, p string) bool {
	return path == p || len(path) > len(p) && path[:len(p)] == p && path[len(p)] == '/'
}

// https reports whether the admin reached us over HTTPS.
func (a *Admin) https(ctx *fasthttp.RequestCtx) bool {
	return a.o.Trusted.HTTPS(ctx.IsTLS(), ctx.RemoteIP(), string(ctx.Request.Header.Peek("X-Forwarded-Proto")))
}

// baseURL is what printed links start with (links.base_url, else this
// request's scheme and host).
func (a *Admin) baseURL(ctx *fasthttp.RequestCtx) string {
	return links.BaseURL(a.o.Links.BaseURL, a.https(ctx), string(ctx.Host()))
}

// tokenValid compares a token with every admin token in constant time.
func (a *Admin) tokenValid(tok []byte) bool { return secret.Match(tok, a.o.Tokens) }

// adminAuthorized: the request's bearer token is an admin token. Tokens
// are taken from the header only, never the URL.
func (a *Admin) adminAuthorized(ctx *fasthttp.RequestCtx) bool {
	got, ok := secret.Bearer(ctx.Request.Header.Peek("Authorization"))
	return ok && a.tokenValid(got)
}
