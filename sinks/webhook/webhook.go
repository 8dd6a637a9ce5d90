// Package webhook is the webhook destination: batches of events POSTed as
// JSON to a URL, signed with HMAC-SHA256 over the timestamp and the body
// (Spoor-Signature: t=…,v1=…, one v1 per key so that keys can rotate),
// every event carrying its id as its idempotency key, gzipped when asked
// (docs/destinations.md). In spoor's own canonical JSON, or in Segment's
// spec so that receivers written for Segment's webhooks work unchanged.
package webhook

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/segment"
	"github.com/spoor-dev/spoor/sinks"
)

// Settings are the webhook's keys in its destinations entry.
type Settings struct {
	URL string `mapstructure:"url"` // http:// or https://
	// ForgetURL receives forget notices (spoor forget); "": URL.
	ForgetURL string            `mapstructure:"forget_url"`
	Format    string            `mapstructure:"format"`  // spoor (default) or segment
	Secrets   []string          `mapstructure:"secrets"` // HMAC keys, each at least 16 bytes; none: unsigned
	Headers   map[string]string `mapstructure:"headers"` // added to every request
	Timeout   time.Duration     `mapstructure:"timeout"` // one request's; 0: 10 s
	Gzip      bool              `mapstructure:"gzip"`    // gzip the body (dropped for good on a 415)
	// MaxBodyBytes bounds one request's body before gzip; a batch larger
	// goes in several requests. 0: 512 KiB.
	MaxBodyBytes int `mapstructure:"max_body_bytes"`
}

// SignatureHeader carries t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">
// per key.
const SignatureHeader = "Spoor-Signature"

const defaultBatch = 100

func init() {
	sinks.Register("webhook", sinks.Type{New: New, Sample: `{"name": "crm", "type": "webhook", "url": "https://hooks.example/spoor",
  "format": "spoor", "secrets": ["<32 random bytes, hex>"], "filter": {"events": ["Order *", "identify"]}}`})
}

// Webhook delivers to one URL.
type Webhook struct {
	name    string
	s       Settings
	batch   int
	client  *http.Client
	log     zerolog.Logger
	noGzip  atomic.Bool // the receiver answered 415 to gzip
	encoder func(e *schema.Event) ([]byte, error)
}

var _ sinks.Sink = (*Webhook)(nil)

// New checks the settings and builds the webhook (no I/O).
func New(d sinks.Destination) (sinks.Sink, error) {
	var s Settings
	if err := sinks.DecodeSettings(d.Settings, &s); err != nil {
		return nil, err
	}
	for key, v := range map[string]string{"url": s.URL, "forget_url": s.ForgetURL} {
		if v == "" && key == "forget_url" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s must be an http:// or https:// URL, got %q", key, v)
		}
	}
	w := &Webhook{name: d.Name, s: s, batch: d.BatchSize, log: d.Log}
	switch s.Format {
	case "", "spoor":
		w.encoder = func(e *schema.Event) ([]byte, error) { return e.Encode() }
	case "segment":
		w.encoder = segment.Encode
	default:
		return nil, fmt.Errorf("format must be spoor or segment, got %q", s.Format)
	}
	for i, k := range s.Secrets {
		if len(k) < 16 {
			return nil, fmt.Errorf("secrets: key %d is %d bytes; each must be at least 16", i+1, len(k))
		}
	}
	if w.s.Timeout <= 0 {
		w.s.Timeout = 10 * time.Second
	}
	if w.s.MaxBodyBytes <= 0 {
		w.s.MaxBodyBytes = 512 << 10
	}
	if w.batch <= 0 {
		w.batch = defaultBatch
	}
	w.client = &http.Client{Timeout: w.s.Timeout}
	return w, nil
}

// Open does nothing: a webhook has no connection to keep.
func (w *Webhook) Open(context.Context) error { return nil }

// Close releases idle connections.
func (w *Webhook) Close() error { w.client.CloseIdleConnections(); return nil }

// Write POSTs the events in order, in requests of at most batch_size
// events and max_body_bytes. A request's answer is every one of its
// events' result; once a request fails for a reason a retry may fix, the
// later requests are not sent (their events may be the same visitors'
// later ones) and fail the same way.
func (w *Webhook) Write(ctx context.Context, events []*schema.Event) error {
	errs := make([]error, len(events))
	var stop error // a failure a retry may fix: the rest are not sent
	for start := 0; start < len(events); {
		if stop != nil {
			errs[start] = stop
			start++
			continue
		}
		body, n, err := w.body(events[start:])
		if err != nil { // an event that cannot be encoded never will be
			errs[start] = sinks.Permanent(err)
			start++
			continue
		}
		chunk := events[start : start+n]
		err = w.post(ctx, body, chunk)
		if n > 1 && refusedOne(err) {
			// One event may be what the receiver refuses: send them one by
			// one, so that only the refused ones are dead-lettered.
			err = w.oneByOne(ctx, chunk, errs[start:start+n])
		} else {
			for i := range chunk {
				errs[start+i] = err
			}
		}
		if err != nil && !errors.Is(err, sinks.ErrPermanent) {
			stop = err
		}
		start += n
	}
	for _, err := range errs {
		if err != nil {
			return &sinks.BatchError{Errs: errs}
		}
	}
	return nil
}

// refusedOne reports whether a batch's refusal may be about one of its
// events rather than the request (400, 413, 422): not a wrong URL or key.
func refusedOne(err error) bool {
	var de *sinks.DeliveryError
	return errors.As(err, &de) && de.Permanent && (de.Status == 400 || de.Status == 413 || de.Status == 422)
}

// oneByOne sends events in requests of one, in order, into errs; once one
// fails for a reason a retry may fix, the rest wait (fail the same way).
// It returns that transient error, or nil.
func (w *Webhook) oneByOne(ctx context.Context, events []*schema.Event, errs []error) error {
	for i, e := range events {
		body, _, err := w.body(events[i : i+1])
		if err == nil {
			err = w.post(ctx, body, []*schema.Event{e})
		} else {
			err = sinks.Permanent(err)
		}
		errs[i] = err
		if err != nil && !errors.Is(err, sinks.ErrPermanent) {
			for j := i + 1; j < len(events); j++ {
				errs[j] = err
			}
			return err
		}
	}
	return nil
}

// body encodes as many of events as fit one request: n of them.
func (w *Webhook) body(events []*schema.Event) ([]byte, int, error) {
	var b bytes.Buffer
	if w.s.Format == "segment" {
		b.WriteString(`{"batch":[`)
	} else {
		b.WriteString(`{"events":[`)
	}
	n := 0
	for _, e := range events {
		if n == w.batch {
			break
		}
		j, err := w.encoder(e)
		if err != nil {
			if n == 0 {
				return nil, 0, fmt.Errorf("encoding event %s: %w", e.EventID, err)
			}
			break
		}
		if n > 0 && b.Len()+len(j)+64 > w.s.MaxBodyBytes {
			break
		}
		if n > 0 {
			b.WriteByte(',')
		}
		b.Write(j)
		n++
	}
	fmt.Fprintf(&b, `],"sent_at":%q}`, time.Now().UTC().Format(time.RFC3339Nano))
	return b.Bytes(), n, nil
}

// post sends one request and classifies its answer.
func (w *Webhook) post(ctx context.Context, body []byte, events []*schema.Event) error {
	send := body
	gz := w.s.Gzip && !w.noGzip.Load()
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(body)
		zw.Close()
		send = z.Bytes()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.s.URL, bytes.NewReader(send))
	if err != nil {
		return sinks.Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "spoor-webhook/1")
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	for k, v := range w.s.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Idempotency-Key", IdempotencyKey(events))
	if len(w.s.Secrets) > 0 {
		req.Header.Set(SignatureHeader, Sign(w.s.Secrets, time.Now(), body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return sinks.HTTPResult(0, nil, "", err, time.Now())
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnsupportedMediaType && gz {
		w.noGzip.Store(true)
		w.log.Warn().Str("destination", w.name).Msg("the receiver refuses gzip (415): sending plain JSON from now on")
		return w.post(ctx, body, events)
	}
	return sinks.HTTPResult(resp.StatusCode, answer, resp.Header.Get("Retry-After"), nil, time.Now())
}

// Sign is the Spoor-Signature value for body sent at t: the timestamp and
// one v1 per key, each the hex HMAC-SHA256 of "<t>.<body>" under the key.
// A receiver checks that one of them matches under its key and that t is
// recent (which defeats replays).
func Sign(keys []string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	out := "t=" + ts
	for _, k := range keys {
		m := hmac.New(sha256.New, []byte(k))
		m.Write([]byte(ts))
		m.Write([]byte{'.'})
		m.Write(body)
		out += ",v1=" + hex.EncodeToString(m.Sum(nil))
	}
	return out
}

// IdempotencyKey is the request's Idempotency-Key: the event id of a
// single event; for a batch, a hash of its event ids (each event also
// carries its own id: event_id, or messageId in Segment's format).
func IdempotencyKey(events []*schema.Event) string {
	if len(events) == 1 {
		return events[0].EventID
	}
	h := sha256.New()
	for _, e := range events {
		h.Write([]byte(e.EventID))
		h.Write([]byte{0})
	}
	return "batch-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Forget POSTs the notice, signed as events are, to forget_url (the url
// when unset): {"type": "forget", "app", "request_id", "visitor_ids",
// "user_ids", "at"}. Any 2xx takes it.
func (w *Webhook) Forget(ctx context.Context, n sinks.ForgetNotice) error {
	body, err := json.Marshal(struct {
		Type string `json:"type"`
		sinks.ForgetNotice
	}{"forget", n})
	if err != nil {
		return err
	}
	target := w.s.ForgetURL
	if target == "" {
		target = w.s.URL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "spoor-webhook/1")
	req.Header.Set("Idempotency-Key", "forget-"+n.RequestID)
	for k, v := range w.s.Headers {
		req.Header.Set(k, v)
	}
	if len(w.s.Secrets) > 0 {
		req.Header.Set(SignatureHeader, Sign(w.s.Secrets, time.Now(), body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("telling %s: %w", target, err)
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("telling %s: status %d: %q", target, resp.StatusCode, answer)
	}
	return nil
}

var _ sinks.Forgetter = (*Webhook)(nil)
