package sinks

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

func TestDeliverySchedule(t *testing.T) {
	o := &DeliveryOptions{Destination: "hooks"}
	for attempt, want := range map[uint64]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second,
		5: 160 * time.Second, 6: 5 * time.Minute, 40: 5 * time.Minute} {
		if got := o.backoff(attempt); got != want {
			t.Errorf("backoff(%d) = %v, want %v", attempt, got, want)
		}
		if j := o.jittered(attempt); j < want || j > want+want/5 {
			t.Errorf("jittered(%d) = %v, want %v to +20%%", attempt, j, want)
		}
	}
	if got := o.retried(1); got != 0 {
		t.Errorf("retried(1) = %v", got)
	}
	if got := o.retried(4); got != 70*time.Second {
		t.Errorf("retried(4) = %v, want 10+20+40 s", got)
	}
}

// One verdict per delivery result: a refusal is dead-lettered at once with
// the destination and the answer; a transient failure is retried on the
// schedule, at least as long as Retry-After says, until the retry window
// is used up; an event waiting behind its visitor's is retried at the
// first delay whatever its count.
func TestDeliveryDecide(t *testing.T) {
	o := &DeliveryOptions{Destination: "hooks", RetryWindow: time.Hour}
	down := &DeliveryError{Status: 503, Excerpt: "maintenance"}
	slow := &DeliveryError{Status: 429, RetryAfter: 2 * time.Minute}
	for _, c := range []struct {
		name      string
		err       error
		delivered uint64
		verdict   Verdict
		delay     [2]time.Duration // at least, at most
		reason    string
	}{
		{"delivered", nil, 1, Ack, [2]time.Duration{}, ""},
		{"refused", &DeliveryError{Status: 400, Excerpt: "bad event", Permanent: true}, 1, DeadLetter, [2]time.Duration{}, `destination hooks: status 400: "bad event"`},
		{"down, first time", down, 1, Retry, [2]time.Duration{10 * time.Second, 12 * time.Second}, ""},
		{"down, third time", down, 3, Retry, [2]time.Duration{40 * time.Second, 48 * time.Second}, ""},
		{"429 asks for longer", slow, 1, Retry, [2]time.Duration{2 * time.Minute, 2 * time.Minute}, ""},
		{"window used up", down, 20, DeadLetter, [2]time.Duration{}, "retried for 1h0m0s, the retry window: last: status 503"},
		{"waiting behind its visitor", errWaiting, 50, Retry, [2]time.Duration{10 * time.Second, 10 * time.Second}, ""},
	} {
		d := o.decide(c.err, c.delivered)
		if d.Verdict != c.verdict || d.Delay < c.delay[0] || d.Delay > c.delay[1] || !strings.Contains(d.Reason, c.reason) {
			t.Errorf("%s: %+v", c.name, d)
		}
	}
}

func TestHTTPResult(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		status     int
		retryAfter string
		err        error
		permanent  bool
		ok         bool
		after      time.Duration
	}{
		{200, "", nil, false, true, 0},
		{204, "", nil, false, true, 0},
		{400, "", nil, true, false, 0},
		{401, "", nil, true, false, 0},
		{404, "", nil, true, false, 0},
		{408, "", nil, false, false, 0},
		{429, "30", nil, false, false, 30 * time.Second},
		{503, "Fri, 04 Dec 2026 12:01:00 GMT", nil, false, false, time.Minute},
		{500, "99999", nil, false, false, time.Hour},
		{0, "", errors.New("dial tcp: connection refused"), false, false, 0},
	} {
		err := HTTPResult(c.status, []byte("answer"), c.retryAfter, c.err, now)
		var de *DeliveryError
		switch {
		case c.ok && err != nil, !c.ok && !errors.As(err, &de):
			t.Errorf("%d: %v", c.status, err)
		case !c.ok && (errors.Is(err, ErrPermanent) != c.permanent || de.RetryAfter != c.after):
			t.Errorf("%d: permanent %v, retry after %v", c.status, errors.Is(err, ErrPermanent), de.RetryAfter)
		}
	}
}

// A visitor's later events wait while an earlier one is retried, and go
// once it is delivered or dead-lettered; other visitors never wait.
func TestOrderPerVisitor(t *testing.T) {
	var o order
	ev := func(id, vid string) *schema.Event { return &schema.Event{EventID: id, App: "shop", VisitorID: vid} }
	a1, a2, b1 := ev("a1", "A"), ev("a2", "A"), ev("b1", "B")
	o.settled(a1, &DeliveryError{Status: 503})
	if !o.waits(a2) || o.waits(a1) || o.waits(b1) {
		t.Fatal("after a1 failed: a2 must wait, a1 and b1 not")
	}
	o.settled(a2, errWaiting) // a waiting event does not take the block over
	o.settled(a1, nil)
	if o.waits(a2) {
		t.Fatal("a1 delivered: a2 still waits")
	}
	o.settled(a1, &DeliveryError{Status: 503})
	o.unblockDead(a1)
	if o.waits(a2) {
		t.Fatal("a1 dead-lettered: a2 still waits")
	}
	if o.waits(&schema.Event{EventID: "x"}) {
		t.Fatal("an event of nobody waited")
	}
}

func TestFilter(t *testing.T) {
	yes := true
	ev := func(app, name, endpoint string, bot bool, consent string) *schema.Event {
		e := &schema.Event{App: app, EventName: name, Endpoint: endpoint}
		if bot {
			e.Bot = &yes
		}
		if consent != "" {
			e.Props = map[string]json.RawMessage{"consent": json.RawMessage(consent)}
		}
		return e
	}
	f := &Filter{Apps: []string{"shop"}, Events: []string{"Order *", "identify"}, Consent: "analytics"}
	for _, c := range []struct {
		e    *schema.Event
		keep bool
		why  string
	}{
		{ev("shop", "Order Completed", "segment", false, `{"analytics":true}`), true, ""},
		{ev("shop", "identify", "tr", false, `{"analytics":true,"ads":false}`), true, ""},
		{ev("blog", "Order Completed", "segment", false, `{"analytics":true}`), false, "filter"},
		{ev("shop", "Product Viewed", "segment", false, `{"analytics":true}`), false, "filter"},
		{ev("shop", "Order Completed", "segment", true, `{"analytics":true}`), false, "bot"},
		{ev("shop", "Order Completed", "segment", false, `{"analytics":false}`), false, "consent"},
		{ev("shop", "Order Completed", "segment", false, ""), false, "consent"},
		{ev("shop", "Order Completed", "segment", false, `"yes"`), false, "consent"},
	} {
		if keep, why := f.Keep(c.e); keep != c.keep || why != c.why {
			t.Errorf("%+v: keep %v %q, want %v %q", c.e, keep, why, c.keep, c.why)
		}
	}
	all := &Filter{KeepBots: true}
	if keep, _ := all.Keep(ev("x", "y", "z", true, "")); !keep {
		t.Error("an empty filter that keeps bots left an event out")
	}
}
