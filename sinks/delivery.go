package sinks

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

// DeliveryOptions make a Worker a destination's (a webhook, Kafka, GA4…):
// its events leave the pipeline, so it picks which may go, keeps each
// visitor's events in order, and retries on a schedule of its own within
// a window instead of forever. A store's worker has none.
type DeliveryOptions struct {
	Destination string // its name, in metrics and dead letters
	// Keep reports whether an event may go, or why not ("filter",
	// "consent", "bot", "forgotten"): an event left out is acknowledged
	// and counted, never sent.
	Keep func(e *schema.Event) (bool, string)
	// RetryWindow is how long an event is retried before it is
	// dead-lettered with its last answer (0: 3h).
	RetryWindow time.Duration
	// Forgotten, when set, reads the store's forgotten people (spoor
	// forget): their events never leave, however old. The worker reloads
	// it every ForgottenRefresh before a batch; while it cannot, nothing
	// is sent (the batch is redelivered).
	Forgotten func(ctx context.Context) (map[[3]string]bool, error)
	// MinBackoff and MaxBackoff bound the retry delays, which double from
	// the first to the last (0: 10 s and 5 min), each with up to 20%
	// jitter so that retries of many visitors do not come back at once.
	MinBackoff, MaxBackoff time.Duration
	// Seen, when set, is told of each canary event (spoor canary) the
	// destination has taken: "delivered", or "left_out" by its filter.
	Seen func(e *schema.Event, outcome string)
}

func (o *DeliveryOptions) window() time.Duration {
	if o.RetryWindow > 0 {
		return o.RetryWindow
	}
	return 3 * time.Hour
}

func (o *DeliveryOptions) bounds() (time.Duration, time.Duration) {
	lo, hi := o.MinBackoff, o.MaxBackoff
	if lo <= 0 {
		lo = 10 * time.Second
	}
	if hi < lo {
		hi = max(5*time.Minute, lo)
	}
	return lo, hi
}

// backoff is the delay after the attempt-th failed delivery (1 on the
// first), without jitter.
func (o *DeliveryOptions) backoff(attempt uint64) time.Duration {
	lo, hi := o.bounds()
	d := lo
	for i := uint64(1); i < attempt && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// Backoff is the delay after the attempt-th failed delivery (1 on the
// first), jittered: for the commands that retry on the destination's
// schedule themselves.
func (o *DeliveryOptions) Backoff(attempt uint64) time.Duration { return o.jittered(attempt) }

// jittered is backoff with up to 20% added.
func (o *DeliveryOptions) jittered(attempt uint64) time.Duration {
	d := o.backoff(attempt)
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

// retried is about how long an event has been retried when it is
// delivered for the delivered-th time: the delays before it, by the
// schedule (a message carries its delivery count through restarts, so
// the window needs no state of its own).
func (o *DeliveryOptions) retried(delivered uint64) time.Duration {
	var total time.Duration
	for i := uint64(1); i < delivered; i++ {
		total += o.backoff(i)
	}
	return total
}

// decide is a destination's verdict for one event's delivery result: as
// Decide, but a transient failure is retried on the destination's own
// schedule (the receiver's Retry-After when longer) only within its retry
// window, then dead-lettered with the last answer; an event waiting behind
// an earlier one of its visitor is redelivered at the first delay, with no
// window of its own.
func (o *DeliveryOptions) decide(err error, delivered uint64) Decision {
	switch {
	case err == nil:
		return Decision{Verdict: Ack}
	case errors.Is(err, errWaiting):
		lo, _ := o.bounds()
		return Decision{Verdict: Retry, Delay: lo, Reason: err.Error()}
	case errors.Is(err, ErrPermanent):
		return Decision{Verdict: DeadLetter, Reason: "destination " + o.Destination + ": " + err.Error()}
	}
	if o.retried(delivered) >= o.window() {
		return Decision{Verdict: DeadLetter, Reason: fmt.Sprintf("destination %s: retried for %s, the retry window: last: %v",
			o.Destination, o.window(), err)}
	}
	d := o.jittered(delivered)
	var de *DeliveryError
	if errors.As(err, &de) && de.RetryAfter > d {
		d = de.RetryAfter
	}
	return Decision{Verdict: Retry, Delay: d, Reason: err.Error()}
}

// DeliveryError is a destination's answer to one event that was not a
// success: what the dead letter records, and whether a retry may help.
type DeliveryError struct {
	Status     int           // the HTTP status (or the protocol's code); 0: no answer (timeout, refused)
	Excerpt    string        // the answer's first bytes
	RetryAfter time.Duration // the receiver asked to wait this long
	Permanent  bool          // no retry can help (a 4xx other than 408 and 429, a rule broken)
	Err        error         // what went wrong, when there was no answer
}

func (e *DeliveryError) Error() string {
	var b strings.Builder
	if e.Status != 0 {
		fmt.Fprintf(&b, "status %d", e.Status)
	}
	if e.Err != nil {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	if e.Excerpt != "" {
		fmt.Fprintf(&b, ": %q", e.Excerpt)
	}
	return b.String()
}

// Unwrap makes a permanent DeliveryError an ErrPermanent.
func (e *DeliveryError) Unwrap() []error {
	var out []error
	if e.Permanent {
		out = append(out, ErrPermanent)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// excerptBytes is how much of an answer a dead letter keeps.
const excerptBytes = 512

// HTTPResult classifies an HTTP answer: nil for 2xx; retried for 408, 429
// and 5xx (with Retry-After, in seconds or as a date, honoured); any other
// status is permanent. A transport error (no answer) is retried.
func HTTPResult(status int, body []byte, retryAfter string, err error, now time.Time) error {
	if err != nil {
		return &DeliveryError{Err: err}
	}
	if status >= 200 && status < 300 {
		return nil
	}
	e := &DeliveryError{Status: status, Excerpt: excerpt(body)}
	switch {
	case status == 408 || status == 429 || status >= 500:
		e.RetryAfter = parseRetryAfter(retryAfter, now)
	default:
		e.Permanent = true
	}
	return e
}

func excerpt(b []byte) string {
	if len(b) > excerptBytes {
		b = b[:excerptBytes]
	}
	return strings.ToValidUTF8(string(b), "")
}

// parseRetryAfter reads Retry-After: seconds, or an HTTP date; at most an
// hour is believed.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := time.Parse(time.RFC1123, v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), time.Hour)
}

// errWaiting marks an event held back because an earlier event of its
// visitor is being retried: it goes only after that one did.
var errWaiting = errors.New("waiting behind an earlier event of its visitor that is being retried")

// order keeps each visitor's events in order at a destination: once an
// event of a visitor fails transiently, the visitor's later events wait
// (are redelivered later, unsent) until that event is delivered or dead-
// lettered. It lives in memory: a restart during a retry forgets it.
type order struct {
	mu      sync.Mutex
	blocked map[string]string // visitor key → the event id it waits on
}

// key is what order is kept per: the visitor, else the user, else none.
func orderKey(e *schema.Event) string {
	switch {
	case e.VisitorID != "":
		return e.App + "\x00v\x00" + e.VisitorID
	case e.UserID != "":
		return e.App + "\x00u\x00" + e.UserID
	}
	return ""
}

// waits reports whether e must wait behind an earlier event.
func (o *order) waits(e *schema.Event) bool {
	k := orderKey(e)
	if k == "" {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	id, ok := o.blocked[k]
	return ok && id != e.EventID
}

// settled records e's delivery result: a transient failure blocks its
// visitor; the blocking event's delivery or dead letter unblocks it.
func (o *order) settled(e *schema.Event, err error) {
	k := orderKey(e)
	if k == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	transient := err != nil && !errors.Is(err, ErrPermanent) && !errors.Is(err, errWaiting)
	switch id, ok := o.blocked[k]; {
	case transient && !ok:
		if o.blocked == nil {
			o.blocked = map[string]string{}
		}
		o.blocked[k] = e.EventID
	case !transient && ok && id == e.EventID:
		delete(o.blocked, k)
	}
}

// unblockDead frees the visitor of an event that was dead-lettered.
func (o *order) unblockDead(e *schema.Event) {
	k := orderKey(e)
	o.mu.Lock()
	defer o.mu.Unlock()
	if id, ok := o.blocked[k]; ok && id == e.EventID {
		delete(o.blocked, k)
	}
}
