package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/spoor-dev/spoor/internal/reply"
	"github.com/spoor-dev/spoor/live"
	"github.com/valyala/fasthttp"
)

// MaxSince bounds a look back: the live view is for now, the stores for
// the past.
const MaxSince = time.Hour

// liveTail serves GET /admin/api/tail as server-sent events:
//
//	event: event    data: the event's canonical JSON (personal fields already hashed)
//	event: rate     data: a second's counts, overall, by event name and by endpoint (rates=1)
//	event: dropped  data: {"dropped": n}, the events this viewer missed so far
//	event: ready    data: {}, once every event acknowledged from then on reaches this viewer
//
// Query: app, event, visitor, endpoint (filters, comma lists), since (a
// look back, e.g. 30s, at most MaxSince), rates=1, health=1 (the
// pipeline's counters every second, event: health), max (events a second,
// for a browser). One stream subscription serves every viewer without a
// look back (live.Hub).
func (a *Admin) liveTail(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if a.o.Live.Hub == nil {
		reply.Error(ctx, fasthttp.StatusNotFound, "not_found", "the live view is off")
		return
	}
	if !a.adminGate(ctx) {
		return
	}
	if !ctx.IsGet() {
		reply.Error(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "GET only")
		return
	}
	q, err := url.ParseQuery(string(ctx.URI().QueryString()))
	if err != nil {
		reply.Error(ctx, fasthttp.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	f := live.FilterFrom(q)
	var since time.Duration
	if s := q.Get("since"); s != "" {
		if since, err = time.ParseDuration(s); err != nil || since <= 0 || since > MaxSince {
			reply.Error(ctx, fasthttp.StatusBadRequest, "invalid_since", fmt.Sprintf("since must be a duration up to %s (30s, 5m)", MaxSince))
			return
		}
	}
	max, _ := strconv.Atoi(q.Get("max"))
	ctx.SetContentType("text/event-stream")
	ctx.Response.Header.Set("X-Accel-Buffering", "no") // a proxy in front must not buffer the stream
	if since > 0 {
		max = -1 // the hub gives this viewer the rates only; its events come from its own consumer
	}
	sub := a.o.Live.Hub.Subscribe(f, q.Get("rates") == "1", max)
	items := sub.C
	stopBack := func() {}
	if since > 0 {
		items, stopBack = a.lookBack(f, since, sub)
	}
	conn := ctx.Conn()
	withHealth := q.Get("health") == "1"
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer a.o.Live.Hub.Unsubscribe(sub)
		defer stopBack()
		keep := time.NewTicker(15 * time.Second)
		defer keep.Stop()
		readyC := sub.Ready
		var healthC <-chan time.Time
		if withHealth {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			healthC = t.C
		}
		reported := int64(0)
		write := func(s string) bool {
			_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := w.WriteString(s); err != nil {
				return false
			}
			return w.Flush() == nil
		}
		if !write(": spoor live view\n\n") {
			return
		}
		format := func(it live.Item) string {
			if it.Rate != nil {
				b, _ := json.Marshal(it.Rate)
				out := "event: rate\ndata: " + string(b) + "\n\n"
				if d := sub.Dropped.Load(); d != reported {
					reported = d
					out += fmt.Sprintf("event: dropped\ndata: {\"dropped\":%d}\n\n", d)
				}
				return out
			}
			return "event: event\ndata: " + string(it.Event) + "\n\n"
		}
		for {
			var out string
			select {
			case <-a.done:
				return
			case <-keep.C:
				out = ": keep-alive\n\n"
			case <-readyC:
				readyC = nil
				out = "event: ready\ndata: {}\n\n"
			case <-healthC:
				h := a.sharedHealth(context.Background())
				h.LiveDropped = sub.Dropped.Load()
				b, _ := json.Marshal(h)
				out = "event: health\ndata: " + string(b) + "\n\n"
			case it, ok := <-items:
				if !ok {
					return
				}
				out = format(it)
				// Whatever else is already waiting goes in the same write.
				for n := 0; n < 256; n++ {
					select {
					case it, ok := <-items:
						if !ok {
							return
						}
						out += format(it)
						continue
					default:
					}
					break
				}
			}
			if !write(out) {
				return
			}
		}
	})
}

// lookBack replays the last since of the stream to one viewer from its
// own consumer, then goes on live from it, so nothing between the two is
// missed or doubled; the hub's subscription still gives the rates.
func (a *Admin) lookBack(f live.Filter, since time.Duration, sub *live.Sub) (<-chan live.Item, func()) {
	out := make(chan live.Item, 1024)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		err := a.o.Live.Source.Tail(ctx, since, func(data []byte) {
			for _, line := range bytes.Split(data, []byte{'\n'}) {
				if x, err := live.FieldsOf(line); err == nil && f.MatchFields(x) {
					select {
					case out <- live.Item{Event: line}:
					case <-ctx.Done():
						return
					}
				}
			}
		}, nil)
		if err != nil {
			a.log.Warn().Err(err).Msg("live view: look back failed")
		}
	}()
	merged := make(chan live.Item, 1024)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case it := <-out:
				merged <- it
			case it := <-sub.C: // rates only
				select {
				case merged <- it:
				default:
				}
			}
		}
	}()
	return merged, cancel
}
