package collector

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spoor-dev/spoor/collector/spool"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/internal/clock"
	"github.com/spoor-dev/spoor/internal/reply"
	"github.com/spoor-dev/spoor/schema"
	"github.com/valyala/fasthttp"
)

// requestError is a refusal with an HTTP status and a machine-readable reason.
type requestError struct {
	status int
	reason string
	msg    string
}

func (e *requestError) Error() string { return e.msg }

// HTTPStatus and Reason make a requestError a refusal.
func (e *requestError) HTTPStatus() int { return e.status }
func (e *requestError) Reason() string  { return e.reason }

// refusal is an error that says how to answer it: a requestError, or a
// decoder's (segment.Error).
type refusal interface {
	error
	HTTPStatus() int
	Reason() string
}

func badRequest(reason, format string, a ...any) error {
	return &requestError{fasthttp.StatusBadRequest, reason, fmt.Sprintf(format, a...)}
}

// errBlocked: the address or a visitor of the request is on the block list.
var errBlocked = &requestError{fasthttp.StatusForbidden, "blocked", "tracking is refused for this client"}

func tooLarge(reason, format string, a ...any) error {
	return &requestError{fasthttp.StatusRequestEntityTooLarge, reason, fmt.Sprintf(format, a...)}
}

// readEvents turns one request into encoded events: REST-path tuplets and
// query parameters first, then each object of the JSON body (a batch when
// it is an array) over them. clientIDs reports whether the client sent an
// event id of its own for any of them. Nothing from ctx is referenced
// afterwards.
//
// Machine traffic an endpoint does not keep (collector.drop_bots) is left
// out of evs and counted in dropped. In a batch (a JSON array), an event
// that cannot be built is a failed event in failed, the others still go;
// a single event that cannot is the request refused (err).
//
// lk, for clicks and opens, adds what the request alone does not say (the
// short link and its fields) and gets the unique flag computed.
func (c *Collector) readEvents(ctx *fasthttp.RequestCtx, endpoint, tail string, trusted bool, lk *linkHit) (evs []spool.Record, failed []*schema.Failed, dropped int, clientIDs bool, err error) {
	base, err := schema.ParseTuplets(tail)
	if err != nil {
		return nil, nil, 0, false, badRequest("invalid_path", "%s", err)
	}
	ctx.QueryArgs().VisitAll(func(k, v []byte) {
		switch {
		case endpoint == "rdr" && string(k) == "sig": // the link's signature is no field of the click
			return
		case endpoint == "link" && !bytes.HasPrefix(k, []byte("utm_")): // a short link's fields are its own, but campaign tags
			return
		}
		base = append(base, schema.Pair{Key: string(k), Value: string(v)})
	})
	if lk != nil {
		base = append(base, lk.fields...)
	}
	objs, err := c.readBody(ctx, &base)
	if err != nil {
		return nil, nil, 0, false, err
	}
	ip := c.clientIP(ctx)
	info := schema.ServerInfo{
		ReceivedAt: clock.Now(),
		Endpoint:   endpoint,
		VisitorID:  string(ctx.Request.Header.Cookie("vid")),
		Canary:     schema.IsCanary(ctx.Request.Header.Peek(schema.CanaryHeader)),
	}
	// A customer's server is no browser: its own agent (Go-http-client,
	// python-requests, spoor import) says nothing about the user, so on
	// /str/v1/ the agent is the one an event carries (its ua field), which
	// alone can flag it; and there are no header signals.
	server := endpoint == "str"
	if !server {
		info.UserAgent = string(ctx.UserAgent())
	}
	// What the bot signals read, without copying headers they only test.
	r := request{endpoint: endpoint, ip: ip, userAgent: info.UserAgent, acceptLanguage: "-"}
	if !server {
		if ctx.IsHead() {
			r.method = fasthttp.MethodHead
		}
		if len(ctx.Request.Header.Peek("Accept-Language")) == 0 {
			r.acceptLanguage = ""
		}
		if p := ctx.Request.Header.Peek("Sec-Purpose"); len(p) > 0 {
			r.purpose = string(p)
		} else if p := ctx.Request.Header.Peek("Purpose"); len(p) > 0 {
			r.purpose = string(p)
		}
	}
	c.derive(r, &info)
	if lk != nil {
		info.Link, info.QR = lk.slug, lk.qr
		lk.bot = info.Bot
	}
	// The server's visitor cookie (http.vid_cookie): on the browser
	// endpoints it is the visitor of the request's events; without one, the
	// events' own visitor (the SDK's) becomes the cookie, or a new id,
	// drawn only when an event has no visitor of its own.
	browser := c.cfg.HTTP.VIDCookie && !server
	cookieVID, newVID, ipHash := info.VisitorID, "", ""
	if !browser {
		cookieVID = ""
	}
	n := max(len(objs), 1)
	out := make([]spool.Record, 0, n)
	var enc arena
	for i := 0; i < n; i++ {
		b := c.builder()
		for _, p := range base {
			if err := b.Set(p.Key, schema.TextValue(p.Value)); err != nil {
				return nil, nil, 0, false, badRequest("invalid_field", "%s", err)
			}
		}
		// fail keeps event i of a batch as a failed event, or refuses a
		// single one.
		fail := func(err error) error {
			c.release(b)
			var re refusal
			if n == 1 || !errors.As(err, &re) {
				return err
			}
			failed = append(failed, withViolations(failedOf(endpoint, info.ReceivedAt, i, re.Reason(), re.Error(), objs[i]), err))
			return nil
		}
		if len(objs) > 0 {
			obj := objs[i]
			if trusted {
				obj = c.trustedFields(b, obj)
			}
			if err := b.SetObject(obj); err != nil {
				if err := fail(badRequest("invalid_field", "event %d: %s", i, err)); err != nil {
					return nil, nil, 0, false, err
				}
				continue
			}
		}
		clientIDs = clientIDs || b.HasEventID()
		e := b.Finish(info)
		if server {
			c.flagCarriedAgent(e)
		}
		switch {
		case cookieVID != "":
			e.VisitorID = cookieVID
		case browser && e.VisitorID == "":
			if newVID == "" {
				newVID = schema.NewEventID()
			}
			e.VisitorID = newVID
		}
		if c.cfg.Blocked.Visitor(e.VisitorID) {
			c.release(b)
			return nil, nil, 0, false, errBlocked
		}
		if lk != nil && lk.unique != "" {
			who := e.VisitorID
			if who == "" {
				who = c.ips.get(ip)
			}
			first := c.seen.first(lk.unique, who, info.ReceivedAt)
			e.Unique = &first
		}
		c.applyIP(e, ip, &ipHash)
		if c.dropBot(e) {
			dropped++
			c.release(b)
			continue
		}
		data, err := c.checkPlan(e, enc.encode(e, n-i))
		if err != nil {
			if err := fail(err); err != nil {
				return nil, nil, 0, false, err
			}
			continue
		}
		if len(data) > c.cfg.MaxEventBytes {
			err = tooLarge("event_too_large", "event %d is %d bytes encoded, the limit is %d", i, len(data), c.cfg.MaxEventBytes)
		}
		if err != nil {
			if err := fail(err); err != nil {
				return nil, nil, 0, false, err
			}
			continue
		}
		out = append(out, spool.Record{ID: e.EventID, Data: data, Part: c.partition(e)})
		if len(out) == 1 && browser {
			c.setVisitorCookie(ctx, e.VisitorID)
		}
		c.release(b)
	}
	return out, failed, dropped, clientIDs, nil
}

// partition is the bus partition of e (schema.Event.PartitionKey).
func (c *Collector) partition(e *schema.Event) int {
	if c.cfg.Partitions <= 1 {
		return 0
	}
	return bus.Partition(e.PartitionKey(), c.cfg.Partitions)
}

// partitionOf is the partition of an encoded message (one or more event
// lines of one partition): the spool keeps no partition, so the replayer
// derives it again from the first event.
func (c *Collector) partitionOf(rec spool.Record) int {
	if schema.IsFailed(rec.Data) {
		return bus.FailedPart
	}
	if c.cfg.Partitions <= 1 {
		return 0
	}
	line := rec.Data
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	e, err := schema.Decode(line)
	if err != nil {
		return bus.Partition(rec.ID, c.cfg.Partitions) // not one of ours: any partition will do
	}
	return c.partition(e)
}

// trustedFields takes "ua" (the end user's user agent) from a server-side
// event and returns the other members.
func (c *Collector) trustedFields(b *schema.Builder, obj schema.Object) schema.Object {
	out := obj[:0:0]
	for _, m := range obj {
		var ua string
		if m.Key == "ua" && json.Unmarshal(m.Value, &ua) == nil {
			b.SetUserAgent(ua)
			continue
		}
		out = append(out, m)
	}
	return out
}

// readBody returns the JSON objects of the body (nil when there is none).
// Form bodies add to base instead.
func (c *Collector) readBody(ctx *fasthttp.RequestCtx, base *[]schema.Pair) ([]schema.Object, error) {
	body := ctx.PostBody()
	if len(body) == 0 {
		return nil, nil
	}
	switch enc := strings.ToLower(string(ctx.Request.Header.ContentEncoding())); enc {
	case "", "identity":
	case "gzip":
		var err error
		if body, err = gunzip(body, c.cfg.HTTP.MaxDecompressedBytes); err != nil {
			return nil, err
		}
	default:
		return nil, &requestError{fasthttp.StatusUnsupportedMediaType, "unsupported_encoding", "Content-Encoding " + enc + " is not supported (use gzip)"}
	}
	ct := strings.ToLower(string(ctx.Request.Header.ContentType()))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	switch ct {
	case "", "application/json", "text/plain":
	case "application/x-www-form-urlencoded":
		if c := schema.FirstByte(body); c == '{' || c == '[' {
			break // JSON sent with curl's default content type
		}
		args := fasthttp.AcquireArgs()
		defer fasthttp.ReleaseArgs(args)
		args.ParseBytes(body)
		args.VisitAll(func(k, v []byte) { *base = append(*base, schema.Pair{Key: string(k), Value: string(v)}) })
		return nil, nil
	default:
		return nil, &requestError{fasthttp.StatusUnsupportedMediaType, "unsupported_media_type",
			"Content-Type " + ct + " is not supported (use application/json or text/plain)"}
	}
	objs, err := schema.ParseJSONBody(body, c.cfg.MaxBatchEvents)
	var tm *schema.TooManyError
	switch {
	case errors.As(err, &tm):
		return nil, tooLarge("batch_too_large", "%s", err)
	case err != nil:
		return nil, badRequest("invalid_json", "%s", err)
	}
	return objs, nil
}

// gunzip inflates body but never beyond limit bytes: a gzip bomb costs at
// most limit+1 bytes of memory before it is refused.
func gunzip(body []byte, limit int) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, badRequest("invalid_gzip", "body is not valid gzip: %s", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, int64(limit)+1))
	if err != nil {
		return nil, badRequest("invalid_gzip", "body is not valid gzip: %s", err)
	}
	if len(out) > limit {
		return nil, tooLarge("decompressed_too_large", "decompressed body exceeds %d bytes", limit)
	}
	return out, nil
}

// clientIP is the client's address (internal/forwarded).
func (c *Collector) clientIP(ctx *fasthttp.RequestCtx) string {
	return c.proxies.Client(ctx.RemoteIP(), string(ctx.Request.Header.Peek("X-Forwarded-For"))).String()
}

// applyCORS answers for allowed origins only. "*" allows any origin but
// then never with credentials.
func (c *Collector) applyCORS(ctx *fasthttp.RequestCtx) {
	origin := string(ctx.Request.Header.Peek("Origin"))
	if origin == "" {
		return
	}
	h := &ctx.Response.Header
	h.Add("Vary", "Origin")
	switch {
	case c.cors[origin]:
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	case c.corsAny:
		h.Set("Access-Control-Allow-Origin", "*")
	default:
		return
	}
	h.Set("Access-Control-Expose-Headers", "Retry-After") // the SDK honours it
	if ctx.IsOptions() {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type, Content-Encoding")
		h.Set("Access-Control-Max-Age", "86400")
	}
}

func (c *Collector) refuse(ctx *fasthttp.RequestCtx, err error) {
	var re refusal
	if errors.As(err, &re) {
		c.m.Rejected.WithLabelValues(re.Reason()).Inc()
		reply.Error(ctx, re.HTTPStatus(), re.Reason(), re.Error())
		return
	}
	c.m.Rejected.WithLabelValues("internal").Inc()
	reply.Error(ctx, fasthttp.StatusInternalServerError, "internal", err.Error())
}

func (c *Collector) unavailable(ctx *fasthttp.RequestCtx, err error) {
	reason, msg := "unavailable", "events not stored, retry later: "+err.Error()
	if errors.Is(err, spool.ErrFull) { // the spool's own error names its files: logged, not told
		reason, msg = "spool_full", "events not stored, retry later: the collector cannot reach its event bus and its disk spool is full"
	}
	c.m.Rejected.WithLabelValues(reason).Inc()
	ctx.Response.Header.Set("Retry-After", strconv.Itoa(c.cfg.RetryAfterSec))
	reply.Error(ctx, fasthttp.StatusServiceUnavailable, reason, msg)
}
