package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/spoor-dev/spoor/collector/spool"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/schema"
	"github.com/valyala/fasthttp"
)

// Nothing refused is lost: a message that cannot become an event is kept
// as a failed event (schema.Failed) with its reason, on the same durable
// path as events (JetStream's failed stream, or the spool), and the sinks
// store it apart (data/failed, the failed_events table). A batch's valid
// events are stored and its invalid ones kept as failed; only a request
// that cannot be read at all is refused whole, and it is kept too. No
// refusal is a 5xx: a retry would change nothing.

// failedRecord is f ready for accept, counted by its reason.
func (c *Collector) failedRecord(f *schema.Failed) (spool.Record, bool) {
	data, err := f.Encode()
	if err != nil {
		c.m.FailedLost.Inc()
		return spool.Record{}, false
	}
	c.m.Failed.WithLabelValues(f.Endpoint, f.Reason).Inc()
	return spool.Record{ID: f.EventID, Data: data, Part: bus.FailedPart}, true
}

// keepRefused reports whether it kept a request refused whole for what it holds (a 400, 413
// or 415: bad JSON, a bad field, too large) as one failed event, its
// payload the body (or the path and query when it has none). It waits for
// durability like any event; when that fails it counts the loss: the
// client is answered 4xx either way.
func (c *Collector) keepRefused(ctx *fasthttp.RequestCtx, endpoint, app string, err error) bool {
	var re refusal
	if !errors.As(err, &re) {
		return false
	}
	switch re.HTTPStatus() {
	case fasthttp.StatusBadRequest, fasthttp.StatusRequestEntityTooLarge, fasthttp.StatusUnsupportedMediaType:
	default:
		return false // not about what it holds: auth, limits, the block list
	}
	payload := ctx.PostBody()
	if len(payload) == 0 {
		payload = ctx.Request.URI().RequestURI()
	}
	f := withViolations(schema.NewFailed(endpoint, app, time.Now(), 0, re.Reason(), re.Error(), payload), err)
	c.keepFailed([]*schema.Failed{f})
	return true
}

// keepFailed makes failed events durable on their own (a refused request's,
// or a pixel's and a redirect's, whose answers never wait).
func (c *Collector) keepFailed(fs []*schema.Failed) {
	recs := make([]spool.Record, 0, len(fs))
	for _, f := range fs {
		if rec, ok := c.failedRecord(f); ok {
			recs = append(recs, rec)
		}
	}
	if len(recs) == 0 {
		return
	}
	if err := c.accept(context.Background(), recs, false); err != nil {
		c.m.FailedLost.Add(float64(len(recs)))
		c.log.Warn().Err(err).Int("failed_events", len(recs)).Msg("failed events not kept")
	}
}

// maxListed bounds the failures an answer lists (all are kept).
const maxListed = 100

// answerBatch answers a batch: 200 with the events accepted and, when some
// failed, how many and which (index, reason, error); 400 when none was
// accepted. prefix opens the JSON object ({"accepted":N or
// {"success":true,"accepted":N).
func answerBatch(ctx *fasthttp.RequestCtx, prefix []byte, accepted int, failed []*schema.Failed) {
	ctx.SetContentType("application/json")
	if accepted == 0 && len(failed) > 0 {
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		b := append([]byte(nil), `{"error":"no message of the request is valid: each is kept as a failed event with its reason","reason":"invalid_events"`...)
		ctx.SetBody(appendFailures(b, failed))
		return
	}
	b := append([]byte(nil), prefix...)
	b = strconv.AppendInt(b, int64(accepted), 10)
	if len(failed) == 0 {
		ctx.SetBody(append(b, '}'))
		return
	}
	ctx.SetBody(appendFailures(b, failed))
}

func appendFailures(b []byte, failed []*schema.Failed) []byte {
	b = append(b, `,"failed":`...)
	b = strconv.AppendInt(b, int64(len(failed)), 10)
	b = append(b, `,"failures":[`...)
	for i, f := range failed {
		if i == maxListed {
			break
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(f.Index), 10)
		reason, _ := json.Marshal(f.Reason)
		msg, _ := json.Marshal(f.Error)
		b = append(append(b, `,"reason":`...), reason...)
		b = append(append(b, `,"error":`...), msg...)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// failedOf is a failed event of one message of a request (src, as sent),
// with the app, event name and person read from it where it names them,
// so that counts and spoor forget find it.
func failedOf(endpoint string, at time.Time, index int, reason, msg string, src schema.Object) *schema.Failed {
	f := schema.NewFailed(endpoint, "", at, index, reason, msg, src.JSON())
	for _, m := range src {
		var to *string
		switch m.Key {
		case "app":
			to = &f.App
		case "event", "ename", "event_name":
			to = &f.EventName
		case "userId", "uid", "user_id":
			to = &f.UserID
		case "anonymousId", "vid", "visitor_id":
			to = &f.VisitorID
		}
		if to != nil && *to == "" {
			*to = textOf(m.Value)
		}
	}
	return f
}

// textOf is a JSON string's text, or a number as written (Segment allows
// numeric ids), else "".
func textOf(raw []byte) string {
	switch c := schema.FirstByte(raw); {
	case c == '"':
		return schema.Text(raw)
	case c == '-' || c >= '0' && c <= '9':
		return string(bytes.TrimSpace(raw))
	}
	return ""
}
