package webhook

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
	"github.com/spoor-dev/spoor/sinks/deliverytest"
)

// receiver is a webhook receiver (a real HTTP server on loopback) that
// fails what the suite tells it to.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	fail    map[string]deliverytest.Failure
	got     []deliverytest.Delivered
	headers []http.Header
	bodies  [][]byte
	status  func(r *http.Request) int // a fixed answer, for the tests beside the suite
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{fail: map[string]deliverytest.Failure{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.status != nil {
		if code := r.status(req); code != 0 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(code)
			io.WriteString(w, "not now")
			return
		}
	}
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			http.Error(w, "bad gzip", 400)
			return
		}
		body, _ = io.ReadAll(zr)
	}
	r.headers, r.bodies = append(r.headers, req.Header.Clone()), append(r.bodies, body)
	var batch struct {
		Events []struct {
			ID      string `json:"event_id"`
			Visitor string `json:"visitor_id"`
		} `json:"events"`
	}
	if err := json.Unmarshal(body, &batch); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	for _, e := range batch.Events {
		switch r.fail[e.ID] {
		case deliverytest.Transient:
			http.Error(w, "overloaded", 503)
			return
		case deliverytest.Refuse:
			http.Error(w, `{"error":"event `+e.ID+` refused"}`, 422)
			return
		}
	}
	for _, e := range batch.Events {
		r.got = append(r.got, deliverytest.Delivered{Key: e.ID, Visitor: e.Visitor})
	}
	w.WriteHeader(204)
}

func (r *receiver) Received(*testing.T) []deliverytest.Delivered {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]deliverytest.Delivered(nil), r.got...)
}

func (r *receiver) FailOn(id string, f deliverytest.Failure) {
	r.mu.Lock()
	r.fail[id] = f
	r.mu.Unlock()
}

func (r *receiver) Heal() {
	r.mu.Lock()
	r.fail = map[string]deliverytest.Failure{}
	r.mu.Unlock()
}

func newWebhook(t *testing.T, settings map[string]any, batch int) sinks.Sink {
	t.Helper()
	s, err := New(sinks.Destination{Name: "hooks", Settings: settings, BatchSize: batch, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDeliveryContract(t *testing.T) {
	for _, batch := range []int{1, 3, 100} {
		t.Run(fmt.Sprintf("batch_size %d", batch), func(t *testing.T) {
			deliverytest.Run(t, deliverytest.Harness{Refusable: true, New: func(t *testing.T) (sinks.Sink, deliverytest.Receiver) {
				r := newReceiver(t)
				return newWebhook(t, map[string]any{"url": r.srv.URL, "gzip": true}, batch), r
			}})
		})
	}
}

// A receiver checks the signature with any of the keys (rotation), the
// body is gzipped when asked and plain after a 415, the idempotency key
// is the event's id, and Retry-After reaches the worker.
func TestSignatureGzipAndAnswers(t *testing.T) {
	r := newReceiver(t)
	s := newWebhook(t, map[string]any{"url": r.srv.URL, "gzip": true, "secrets": []any{"new-key-0123456789", "old-key-0123456789"},
		"headers": map[string]any{"X-Team": "growth"}}, 10)
	ev := &schema.Event{EventID: schema.NewEventID(), ReceivedAt: time.Now(), App: "shop", VisitorID: "v1", EventName: "signup"}
	if err := s.Write(t.Context(), []*schema.Event{ev}); err != nil {
		t.Fatal(err)
	}
	h, body := r.headers[0], r.bodies[0]
	if h.Get("Content-Encoding") != "gzip" || h.Get("Idempotency-Key") != ev.EventID || h.Get("X-Team") != "growth" {
		t.Fatalf("headers %v", h)
	}
	sig := h.Get(SignatureHeader)
	ts := strings.TrimPrefix(strings.Split(sig, ",")[0], "t=")
	for _, key := range []string{"new-key-0123456789", "old-key-0123456789"} {
		want := Sign([]string{key}, time.Unix(mustInt(t, ts), 0), body)
		if !strings.Contains(sig, strings.Split(want, ",")[1]) {
			t.Fatalf("signature %q does not verify with %s", sig, key)
		}
	}
	if strings.Contains(sig, Sign([]string{"another-key-0123456789"}, time.Unix(mustInt(t, ts), 0), body)[len("t="+ts+","):]) {
		t.Fatal("a signature verified with a key it was not made with")
	}
	// 415 to gzip: the same request again in plain JSON, and plain from then on.
	r.status = func(req *http.Request) int {
		if req.Header.Get("Content-Encoding") == "gzip" {
			return 415
		}
		return 0
	}
	if err := s.Write(t.Context(), []*schema.Event{ev}); err != nil {
		t.Fatalf("after a 415: %v", err)
	}
	if last := r.headers[len(r.headers)-1]; last.Get("Content-Encoding") != "" {
		t.Fatal("still gzipped after a 415")
	}
	r.status = func(*http.Request) int { return 429 }
	err := first(s.Write(t.Context(), []*schema.Event{ev}))
	var de *sinks.DeliveryError
	if !errors.As(err, &de) || de.Status != 429 || de.RetryAfter != 7*time.Second || errors.Is(err, sinks.ErrPermanent) {
		t.Fatalf("429: %v", err)
	}
	r.status = func(*http.Request) int { return 404 }
	if err := first(s.Write(t.Context(), []*schema.Event{ev})); !errors.Is(err, sinks.ErrPermanent) || !strings.Contains(err.Error(), "not now") {
		t.Fatalf("404: %v, want permanent with the answer", err)
	}
}

// first is the first event's error of a Write result.
func first(err error) error {
	var be *sinks.BatchError
	if errors.As(err, &be) {
		return be.Errs[0]
	}
	return err
}

func mustInt(t *testing.T, s string) int64 {
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("%q is no timestamp", s)
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// Settings are checked strictly: unknown keys, a URL that is none, short
// keys, an unknown format.
func TestSettings(t *testing.T) {
	for _, c := range []struct {
		settings map[string]any
		want     string
	}{
		{map[string]any{"url": "ftp://x"}, "url must be"},
		{map[string]any{}, "url must be"},
		{map[string]any{"url": "https://x.example", "secrets": []any{"short"}}, "at least 16"},
		{map[string]any{"url": "https://x.example", "format": "xml"}, "format must be"},
		{map[string]any{"url": "https://x.example", "retires": 3}, "retires"},
		{map[string]any{"url": "https://x.example", "timeout": "soon"}, "timeout"},
	} {
		_, err := New(sinks.Destination{Name: "x", Settings: c.settings})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error naming %q", c.settings, err, c.want)
		}
	}
}
