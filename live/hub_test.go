package live

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/schema"
)

// realBus starts an embedded JetStream (a real server) with partitions
// streams.
func realBus(t *testing.T, partitions int) *bus.Bus {
	t.Helper()
	emb, err := bus.StartEmbedded(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Shutdown)
	b, err := bus.Connect(bus.Options{Name: "test", Stream: "EV", Subject: "ev", DLQStream: "DLQ", DLQSubject: "dlq",
		Replicas: 1, Partitions: partitions, MaxAge: time.Hour, MaxBytes: 64 << 20, DedupWindow: time.Minute, MaxPending: 256,
		ConnectTimeout: 5 * time.Second}, emb, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatal(err)
	}
	return b
}

// publish puts one message of events on the bus and waits for its ack.
func publish(t *testing.T, b *bus.Bus, evs ...*schema.Event) {
	t.Helper()
	var data []byte
	for i, e := range evs {
		if i > 0 {
			data = append(data, '\n')
		}
		data = e.AppendJSON(data)
	}
	p, err := b.Publish(bus.Partition(evs[0].VisitorID, b.Partitions()), evs[0].EventID, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func waitReady(t *testing.T, s *Sub) {
	t.Helper()
	select {
	case <-s.Ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the hub's subscription never became ready")
	}
}

func ev(app, name, visitor, endpoint string) *schema.Event {
	return &schema.Event{EventID: schema.NewEventID(), ReceivedAt: time.Now().UTC(), App: app, EventName: name, VisitorID: visitor, Endpoint: endpoint}
}

// next waits for the next event (skipping rates) on s.
func next(t *testing.T, s *Sub) *schema.Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case it := <-s.C:
			if it.Event == nil {
				continue
			}
			e, err := schema.Decode(it.Event)
			if err != nil {
				t.Fatal(err)
			}
			return e
		case <-deadline:
			t.Fatal("no event within 5 s")
		}
	}
}

func TestHubFansOutWithFiltersAndRates(t *testing.T) {
	b := realBus(t, 3)
	h := NewHub(b, zerolog.Nop())
	all := h.Subscribe(Filter{}, true, 0)
	clicks := h.Subscribe(Filter{Event: "click", App: "shop"}, false, 0)
	v2 := h.Subscribe(Filter{Visitor: "v2", Endpoint: "img,rdr"}, false, 0)
	waitReady(t, all)
	publish(t, b, ev("shop", "click", "v1", "tr"), ev("shop", "page_view", "v1", "tr"))
	publish(t, b, ev("blog", "click", "v2", "img"))
	publish(t, b, ev("shop", "click", "v3", "str"))
	yes := true
	canary := ev("shop", "canary_json", "v1", "tr")
	canary.Canary = &yes
	publish(t, b, canary)
	got := map[string]int{}
	for range 5 {
		e := next(t, all)
		got[e.App+"/"+e.EventName]++
	}
	if fmt.Sprint(got) != "map[blog/click:1 shop/canary_json:1 shop/click:2 shop/page_view:1]" {
		t.Fatalf("all: %v", got)
	}
	// v1 and v3 are in different partitions: no order between them.
	clicked := map[string]bool{}
	for range 2 {
		e := next(t, clicks)
		if e.EventName != "click" || e.App != "shop" {
			t.Fatalf("clicks: got %s/%s/%s", e.App, e.EventName, e.VisitorID)
		}
		clicked[e.VisitorID] = true
	}
	if !clicked["v1"] || !clicked["v3"] {
		t.Fatalf("clicks: got %v, want v1 and v3", clicked)
	}
	if e := next(t, v2); e.VisitorID != "v2" || e.Endpoint != "img" {
		t.Fatalf("v2: %+v", e)
	}
	// Within two ticks the rates have counted all four, whatever the
	// filters, and the canary's event apart.
	total, canaries, byEvent := 0, 0, map[string]int{}
	deadline := time.After(3 * time.Second)
	for total < 4 || canaries < 1 {
		select {
		case it := <-all.C:
			if it.Rate != nil {
				total += it.Rate.Total
				canaries += it.Rate.Canary
				for k, v := range it.Rate.ByEvent {
					byEvent[k] += v
				}
			}
		case <-deadline:
			t.Fatalf("rates counted %d of 4", total)
		}
	}
	if total != 4 || canaries != 1 || byEvent["click"] != 3 || byEvent["page_view"] != 1 || byEvent["canary_json"] != 0 {
		t.Fatalf("rates: %d %v", total, byEvent)
	}
	for _, s := range []*Sub{all, clicks, v2} {
		h.Unsubscribe(s)
	}
	if h.Viewers() != 0 {
		t.Fatal("viewers left")
	}
}

// A viewer that does not read loses events, counted; the others get
// every one; max caps a viewer's events a second.
func TestHubSlowAndCappedViewers(t *testing.T) {
	b := realBus(t, 1)
	h := NewHub(b, zerolog.Nop())
	slow := h.Subscribe(Filter{}, false, 0)
	capped := h.Subscribe(Filter{}, false, 10)
	fast := h.Subscribe(Filter{}, false, 0)
	defer h.Unsubscribe(slow)
	defer h.Unsubscribe(capped)
	waitReady(t, fast)
	const n = 1500 // more than a viewer's buffer (1024)
	got := make(chan int)
	go func() {
		// Count until the stream goes quiet: fewer than n, or more, is
		// reported as it is, not waited on forever.
		c := 0
		for {
			select {
			case it := <-fast.C:
				if it.Event != nil {
					c++
				}
			case <-time.After(2 * time.Second):
				got <- c
				return
			}
		}
	}()
	for i := 0; i < n; i += 100 {
		var evs []*schema.Event
		for j := 0; j < 100; j++ {
			evs = append(evs, ev("shop", "e", fmt.Sprint("v", i+j), "tr"))
		}
		publish(t, b, evs...)
	}
	select {
	case c := <-got:
		if c != n {
			t.Fatalf("fast viewer got %d of %d", c, n)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the fast viewer was held up by the slow one")
	}
	h.Unsubscribe(fast)
	if d := slow.Dropped.Load(); d != n-1024 {
		t.Fatalf("slow viewer dropped %d, want %d", d, n-1024)
	}
	// 10 a second: the test spans at most three seconds' caps.
	if q, d := len(capped.C), capped.Dropped.Load(); q > 30 || int64(q)+d != n {
		t.Fatalf("capped viewer: %d queued, %d dropped, of %d", q, d, n)
	}
}
