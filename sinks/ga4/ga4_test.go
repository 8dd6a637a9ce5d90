package ga4

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
	"github.com/spoor-dev/spoor/sinks/deliverytest"
)

// receiver is a local Measurement Protocol endpoint that checks every
// request against the documented limits, on its own (written from the
// documentation, not from the destination's code): a request that breaks
// one is recorded as a violation, as GA4's /debug/mp/collect would report
// it. Like GA4 it answers 2xx to anything; the test fails on a violation.
type receiver struct {
	srv        *httptest.Server
	mu         sync.Mutex
	fail       map[string]deliverytest.Failure
	got        []deliverytest.Delivered
	requests   []map[string]any
	violations []string
}

var (
	nameRule = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,39}$`)
	reserved = []string{"ad_activeview", "ad_click", "ad_exposure", "ad_query", "ad_reward", "adunit_exposure", "app_background",
		"app_clear_data", "app_exception", "app_remove", "app_store_refund", "app_store_subscription_cancel",
		"app_store_subscription_convert", "app_store_subscription_renew", "app_update", "app_upgrade", "dynamic_link_app_open",
		"dynamic_link_app_update", "dynamic_link_first_open", "error", "first_open", "first_visit", "in_app_purchase",
		"notification_dismiss", "notification_foreground", "notification_open", "notification_receive", "os_update",
		"session_start", "user_engagement"}
)

func newReceiver(t *testing.T) *receiver {
	r := &receiver{fail: map[string]deliverytest.Failure{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) violate(format string, a ...any) {
	r.violations = append(r.violations, fmt.Sprintf(format, a...))
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	q := req.URL.Query()
	if q.Get("measurement_id") != "G-TEST1234" || q.Get("api_secret") != "secret-abc" {
		r.violate("wrong measurement_id or api_secret: %s", req.URL.RawQuery)
	}
	if len(body) >= 130_000 {
		r.violate("body of %d bytes", len(body))
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		r.violate("not JSON: %v", err)
		w.WriteHeader(204)
		return
	}
	r.requests = append(r.requests, m)
	cid, _ := m["client_id"].(string)
	if cid == "" {
		r.violate("no client_id")
	}
	if ts, ok := m["timestamp_micros"].(float64); ok && time.Since(time.UnixMicro(int64(ts))) > 72*time.Hour {
		r.violate("timestamp_micros older than 72 hours")
	}
	ups, _ := m["user_properties"].(map[string]any)
	if len(ups) > 25 {
		r.violate("%d user properties", len(ups))
	}
	for k, v := range ups {
		if len(k) > 24 || !nameRule.MatchString(k) || reservedPrefix(k) {
			r.violate("user property name %q", k)
		}
		if s, ok := v.(map[string]any)["value"].(string); ok && len([]rune(s)) > 36 {
			r.violate("user property %s value of %d characters", k, len([]rune(s)))
		}
	}
	events, _ := m["events"].([]any)
	if len(events) == 0 || len(events) > 25 {
		r.violate("%d events in a request", len(events))
	}
	var keys []string
	for _, x := range events {
		e, _ := x.(map[string]any)
		name, _ := e["name"].(string)
		if !nameRule.MatchString(name) {
			r.violate("event name %q", name)
		}
		for _, n := range reserved {
			if name == n {
				r.violate("reserved event name %q", name)
			}
		}
		params, _ := e["params"].(map[string]any)
		if len(params) > 25 {
			r.violate("%s: %d params", name, len(params))
		}
		for k, v := range params {
			if !nameRule.MatchString(k) || reservedPrefix(k) {
				r.violate("%s: param name %q", name, k)
			}
			if s, ok := v.(string); ok && len([]rune(s)) > 100 {
				r.violate("%s: param %s of %d characters", name, k, len([]rune(s)))
			}
		}
		if items, ok := params["items"].([]any); ok && len(items) > 200 {
			r.violate("%s: %d items", name, len(items))
		}
		if _, ok := params["value"]; ok && params["currency"] == nil {
			r.violate("%s: value without currency", name)
		}
		if name == "purchase" && params["transaction_id"] == nil {
			r.violate("purchase without transaction_id")
		}
		id, _ := params["event_id"].(string)
		keys = append(keys, id)
	}
	for _, k := range keys {
		switch r.fail[k] {
		case deliverytest.Transient:
			http.Error(w, "try later", 503)
			return
		}
	}
	for _, k := range keys {
		r.got = append(r.got, deliverytest.Delivered{Key: k, Visitor: cid})
	}
	w.WriteHeader(204)
}

func reservedPrefix(name string) bool {
	for _, p := range []string{"_", "firebase_", "ga_", "google_", "gtag."} {
		if strings.HasPrefix(strings.ToLower(name), p) {
			return true
		}
	}
	return false
}

func (r *receiver) Received(t *testing.T) []deliverytest.Delivered {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.violations) > 0 {
		t.Fatalf("requests that break GA4's rules: %q", r.violations)
	}
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

func newGA4(t *testing.T, endpoint string, extra map[string]any) sinks.Sink {
	t.Helper()
	s := map[string]any{"measurement_id": "G-TEST1234", "api_secret": "secret-abc", "endpoint": endpoint}
	for k, v := range extra {
		s[k] = v
	}
	g, err := New(sinks.Destination{Name: "ga", Settings: s, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestDeliveryContract(t *testing.T) {
	deliverytest.Run(t, deliverytest.Harness{New: func(t *testing.T) (sinks.Sink, deliverytest.Receiver) {
		r := newReceiver(t)
		return newGA4(t, r.srv.URL, nil), r
	}})
}

// segmentEvent is an event as the Segment API stores it: the message's
// properties as props.
func segmentEvent(t *testing.T, name, props string) *schema.Event {
	t.Helper()
	e := &schema.Event{EventID: schema.NewEventID(), ReceivedAt: time.Now().UTC(), App: "shop", VisitorID: "anon-1", UserID: "u-1",
		EventName: name, EventType: "track", Endpoint: "segment", SessionID: "s-1"}
	if props != "" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(props), &m); err != nil {
			t.Fatal(err)
		}
		e.Props = m
	}
	return e
}

// The e-commerce spec's own examples (segment-docs src/connections/spec/
// ecommerce/v2.md) arrive as GA4's recommended events, field by field.
func TestEcommerceMapping(t *testing.T) {
	r := newReceiver(t)
	g := newGA4(t, r.srv.URL, map[string]any{"consent_ad_user_data": "Advertising", "consent_ad_personalization": "Advertising"})
	events := []*schema.Event{
		segmentEvent(t, "Product Viewed", `{"product_id":"507f1f77bcf86cd799439011","sku":"G-32","category":"Games","name":"Monopoly: 3rd Edition",
			"brand":"Hasbro","variant":"200 pieces","price":18.99,"quantity":1,"coupon":"MAYDEALS","currency":"usd","position":3,"value":18.99,
			"url":"https://www.example.com/product/path","image_url":"https://www.example.com/product/path.jpg",
			"consent":{"Advertising":true}}`),
		segmentEvent(t, "Product Added", `{"cart_id":"skdjsidjsdkdj29j","product_id":"507f1f77bcf86cd799439011","sku":"G-32","category":"Games",
			"name":"Monopoly: 3rd Edition","brand":"Hasbro","variant":"200 pieces","price":18.99,"quantity":1,"coupon":"MAYDEALS","position":3}`),
		segmentEvent(t, "Checkout Started", `{"order_id":"50314b8e9bcf000000000000","affiliation":"Google Store","value":30,"revenue":25.00,
			"shipping":3,"tax":2,"discount":2.5,"coupon":"hasbros","currency":"USD","products":[{"product_id":"507f1f77bcf86cd799439011",
			"sku":"45790-32","name":"Monopoly: 3rd Edition","price":19,"quantity":1,"category":"Games"},{"product_id":"505bd76785ebb509fc183733",
			"sku":"46493-32","name":"Uno Card Game","price":3,"quantity":2,"category":"Games"}]}`),
		segmentEvent(t, "Order Completed", `{"checkout_id":"fksdjfsdjfisjf9sdfjsd9f","order_id":"50314b8e9bcf000000000000",
			"affiliation":"Google Store","total":27.50,"subtotal":22.50,"revenue":25.00,"shipping":3,"tax":2,"discount":2.5,"coupon":"hasbros",
			"currency":"usd","products":[{"product_id":"507f1f77bcf86cd799439011","sku":"45790-32","name":"Monopoly: 3rd Edition","price":19,
			"quantity":1,"category":"Games","url":"https://www.example.com/product/path","image_url":"https:///www.example.com/product/path.jpg"},
			{"product_id":"505bd76785ebb509fc183733","sku":"46493-32","name":"Uno Card Game","price":3,"quantity":2,"category":"Games"}]}`),
		{EventID: schema.NewEventID(), ReceivedAt: time.Now().UTC(), App: "shop", VisitorID: "anon-1", UserID: "u-1", EventName: "page_view",
			EventType: "page", URL: "https://shop.example/mono", Referrer: "https://search.example/", Source: "news", Medium: "email"},
	}
	if err := g.Write(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	r.Received(t) // no violation
	if len(r.requests) != 1 {
		t.Fatalf("%d requests for one client's five events, want 1", len(r.requests))
	}
	req := r.requests[0]
	if req["client_id"] != "anon-1" || req["user_id"] != "u-1" {
		t.Fatalf("ids: %v %v", req["client_id"], req["user_id"])
	}
	if c := req["consent"].(map[string]any); c["ad_user_data"] != "GRANTED" || c["ad_personalization"] != "GRANTED" {
		t.Fatalf("consent: %v", c)
	}
	evs := req["events"].([]any)
	p := func(i int) map[string]any { return evs[i].(map[string]any)["params"].(map[string]any) }
	names := []string{}
	for _, e := range evs {
		names = append(names, e.(map[string]any)["name"].(string))
	}
	if strings.Join(names, " ") != "view_item add_to_cart begin_checkout purchase page_view" {
		t.Fatalf("names: %v", names)
	}
	item := p(0)["items"].([]any)[0].(map[string]any)
	if p(0)["currency"] != "USD" || p(0)["value"] != 18.99 || item["item_id"] != "507f1f77bcf86cd799439011" || item["item_name"] != "Monopoly: 3rd Edition" ||
		item["item_brand"] != "Hasbro" || item["item_category"] != "Games" || item["item_variant"] != "200 pieces" || item["price"] != 18.99 ||
		item["quantity"] != 1.0 || item["index"] != 3.0 || item["coupon"] != "MAYDEALS" {
		t.Errorf("view_item: %v, item %v", p(0), item)
	}
	if _, ok := p(1)["cart_id"]; ok {
		t.Errorf("add_to_cart kept cart_id: %v", p(1))
	}
	if _, ok := p(1)["value"]; ok || p(1)["currency"] != nil {
		t.Errorf("add_to_cart without a currency got a value or a currency: %v", p(1))
	}
	if p(2)["value"] != 30.0 || len(p(2)["items"].([]any)) != 2 || p(2)["coupon"] != "hasbros" {
		t.Errorf("begin_checkout: %v", p(2))
	}
	if pp := p(3); pp["transaction_id"] != "50314b8e9bcf000000000000" || pp["value"] != 27.5 || pp["currency"] != "USD" ||
		pp["shipping"] != 3.0 || pp["tax"] != 2.0 || pp["coupon"] != "hasbros" || len(pp["items"].([]any)) != 2 {
		t.Errorf("purchase: %v", pp)
	}
	if pp := p(4); pp["page_location"] != "https://shop.example/mono" || pp["page_referrer"] != "https://search.example/" ||
		pp["source"] != "news" || pp["session_id"] != nil {
		t.Errorf("page_view: %v", pp)
	}
	if p(0)["session_id"] == nil || p(0)["engagement_time_msec"] == nil {
		t.Errorf("session_id and engagement_time_msec are needed for Realtime: %v", p(0))
	}
}

// Every rule GA4 documents is checked before sending: an event that
// breaks one is refused with the rule; the others of the batch go.
func TestRulesRefuseBeforeSending(t *testing.T) {
	r := newReceiver(t)
	g := newGA4(t, r.srv.URL, nil)
	long := strings.Repeat("x", 101)
	many := map[string]json.RawMessage{}
	for i := 0; i < 30; i++ {
		many[fmt.Sprintf("p%d", i)] = json.RawMessage(`1`)
	}
	ok := segmentEvent(t, "Video Played", `{"video_id":"v1"}`)
	cases := []struct {
		e    *schema.Event
		rule string
	}{
		{segmentEvent(t, "session_start", ""), "reserved"},
		{segmentEvent(t, "Order Completed", `{"total":10,"currency":"EUR"}`), "order_id"},
		{segmentEvent(t, "Video Played", `{"title":"`+long+`"}`), "101 characters"},
		{segmentEvent(t, "Video Played", `{"_private":"x"}`), "must start with a letter"},
		{segmentEvent(t, "Video Played", `{"ga_thing":"x"}`), "reserved prefix"},
		{segmentEvent(t, "Vidéo Jouée", ""), "which GA4 names cannot"},
		{segmentEvent(t, strings.Repeat("a", 41), ""), "41 characters"},
		{&schema.Event{EventID: schema.NewEventID(), ReceivedAt: time.Now().Add(-73 * time.Hour), App: "shop", VisitorID: "v", EventName: "late"}, "72 hours"},
		{&schema.Event{EventID: schema.NewEventID(), ReceivedAt: time.Now(), App: "shop", EventName: "nobody"}, "client_id"},
		{&schema.Event{EventID: schema.NewEventID(), ReceivedAt: time.Now(), App: "shop", VisitorID: "v", EventName: "busy", Props: many}, "parameters"},
		{&schema.Event{EventID: schema.NewEventID(), ReceivedAt: time.Now(), App: "shop", VisitorID: "v", UserID: "u", EventName: "identify",
			Props: map[string]json.RawMessage{"plan_with_a_very_long_name": json.RawMessage(`"pro"`)}}, "user property name"},
	}
	events := []*schema.Event{ok}
	for _, c := range cases {
		events = append(events, c.e)
	}
	err := g.Write(t.Context(), events)
	var be *sinks.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("Write: %v", err)
	}
	if be.Errs[0] != nil {
		t.Fatalf("the valid event failed: %v", be.Errs[0])
	}
	for i, c := range cases {
		e := be.Errs[i+1]
		if !errors.Is(e, sinks.ErrPermanent) || !strings.Contains(e.Error(), c.rule) {
			t.Errorf("%s: %v, want a refusal naming %q", c.e.EventName, e, c.rule)
		}
	}
	if got := r.Received(t); len(got) != 1 || got[0].Key != ok.EventID {
		t.Fatalf("received %v, want only the valid event", got)
	}
}

func TestSettings(t *testing.T) {
	for _, c := range []struct {
		settings map[string]any
		want     string
	}{
		{map[string]any{"measurement_id": "UA-123", "api_secret": "x"}, "measurement_id"},
		{map[string]any{"measurement_id": "G-ABCD1234"}, "api_secret"},
		{map[string]any{"measurement_id": "G-ABCD1234", "api_secret": "x", "endpoint": "ftp://x"}, "endpoint"},
		{map[string]any{"measurement_id": "G-ABCD1234", "api_secret": "x", "debug": true}, "debug"},
	} {
		if _, err := New(sinks.Destination{Name: "ga", Settings: c.settings}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error naming %q", c.settings, err, c.want)
		}
	}
}

// With a default currency, an e-commerce event without one gets it, and
// its value (price × quantity for one product).
func TestDefaultCurrency(t *testing.T) {
	r := newReceiver(t)
	g := newGA4(t, r.srv.URL, map[string]any{"currency": "EUR"})
	e := segmentEvent(t, "Product Added", `{"product_id":"p1","price":4.5,"quantity":2}`)
	if err := g.Write(t.Context(), []*schema.Event{e}); err != nil {
		t.Fatal(err)
	}
	r.Received(t)
	p := r.requests[0]["events"].([]any)[0].(map[string]any)["params"].(map[string]any)
	if p["currency"] != "EUR" || p["value"] != 9.0 {
		t.Fatalf("params %v", p)
	}
	if _, err := New(sinks.Destination{Name: "ga", Settings: map[string]any{"measurement_id": "G-ABCD1234", "api_secret": "x", "currency": "euro"}}); err == nil {
		t.Fatal("currency euro accepted")
	}
}

// Interleaved visitors (how traffic arrives) go out one request per
// client of up to 25 events, each client's events in their order.
func TestRequestsGroupedByClient(t *testing.T) {
	r := newReceiver(t)
	g := newGA4(t, r.srv.URL, nil)
	var events []*schema.Event
	for i := 0; i < 60; i++ {
		e := &schema.Event{EventID: schema.NewEventID(), ReceivedAt: time.Now().Add(time.Duration(i) * time.Millisecond), App: "shop",
			VisitorID: fmt.Sprintf("v%d", i%3), EventName: fmt.Sprintf("step_%d", i)}
		events = append(events, e)
	}
	if err := g.Write(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.violations) > 0 {
		t.Fatalf("violations: %v", r.violations)
	}
	// 3 visitors × 20 events: one request each (20 ≤ 25).
	if len(r.requests) != 3 {
		t.Fatalf("%d requests, want 3", len(r.requests))
	}
	for _, req := range r.requests {
		evs := req["events"].([]any)
		last := -1
		for _, e := range evs {
			var n int
			fmt.Sscanf(e.(map[string]any)["name"].(string), "step_%d", &n)
			if n <= last || n%3 != last%3 && last >= 0 {
				t.Fatalf("client %v: events out of order or mixed: %v", req["client_id"], evs)
			}
			last = n
		}
	}
}
