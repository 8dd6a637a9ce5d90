// Package demo simulates a shop's traffic with a known truth: visitors
// arriving from campaigns, sessions of product views and clicks, carts,
// a checkout form some abandon at a chosen field, purchases (server side),
// an A/B experiment whose arm B converts better by a set lift, newsletter
// opens and link clicks, bots, and browser messages lost on the way at a
// set rate. Everything is deterministic from the seed: visitor i's traffic
// depends only on (seed, i), so the truth does not depend on how many
// senders run at once. `spoor demo` sends it through the real collector
// and writes the truth beside it; analytics/ must find the same answers.
package demo

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Options shape the simulation.
type Options struct {
	Seed     uint64
	Visitors int
	Days     int       // simulated days, each event's client time falls in them
	Start    time.Time // the first simulated day (UTC midnight)
	App      string
	Drop     float64 // share of browser messages lost between page and collector
	BotShare float64 // share of visitors that are bots (running the SDK, as bots do)
	BaseConv float64 // arm A's conversion once at checkout
	Lift     float64 // arm B converts at BaseConv × (1 + Lift)
}

// Defaults for a CI-sized run: about 28 events per visitor, 20k events in all.
func Defaults() Options {
	return Options{Seed: 1, Visitors: 700, Days: 7, App: "shop", Drop: 0.03, BotShare: 0.05, BaseConv: 0.30, Lift: 0.25}
}

type product struct {
	SKU, Category string
	Cents         int64 // EUR price
}

var catalog = []product{
	{"sneaker-runner", "shoes", 8999}, {"sneaker-court", "shoes", 7499}, {"boot-hiker", "shoes", 12999},
	{"tee-basic", "tops", 1499}, {"tee-print", "tops", 2499}, {"hoodie-zip", "tops", 4999},
	{"jeans-slim", "bottoms", 5999}, {"shorts-run", "bottoms", 2999}, {"cap-logo", "accessories", 1999},
	{"socks-3pack", "accessories", 999}, {"bag-tote", "accessories", 3499}, {"jacket-rain", "outerwear", 9999},
}

// Popularity of products in views (the first ones are seen most).
var productWeights = []float64{14, 9, 5, 12, 8, 7, 9, 5, 6, 10, 4, 3}

type campaign struct{ Source, Medium, Campaign, Referrer string }

var campaigns = []campaign{
	{"google", "cpc", "black_friday", "https://www.google.com/"},
	{"newsletter", "email", "nov_week4", ""},
	{"facebook", "social", "winter_drop", "https://m.facebook.com/"},
	{"", "", "", "https://www.bing.com/"}, // organic search: a referrer, no utm
	{"", "", "", ""},                      // direct
}
var campaignWeights = []float64{30, 15, 20, 15, 20}

// Clickable elements of the pages (data-spoor-click names) and how often
// a human clicks each on a product page.
var elements = []string{"product_image", "size_select", "add_to_cart_button", "nav_search", "banner_black_friday", "reviews_tab"}
var elementWeights = []float64{30, 20, 0, 12, 8, 10} // add_to_cart_button is clicked when adding to the cart

// The checkout form's fields, in page order; the field people click first
// (most start at the top, some where autofill left a gap, some jump to the
// card); and where those who do not buy give up.
var formFields = []string{"email", "name", "address", "city", "zip", "card"}
var startWeights = []float64{78, 12, 4, 0, 0, 6}
var abandonWeights = []float64{10, 5, 25, 5, 15, 40}

var humanAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
}

// BotAgents are the user agents of the simulated bots; analyses tell bots
// apart by such agents (BotPattern).
var botAgents = []string{
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0 Safari/537.36",
	"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
}

// BotPattern is the case-insensitive regular expression analyses use to
// throw out bots by user agent.
const BotPattern = `(?i)(bot|crawl|spider|headless)`

// Request is one HTTP request of a visitor, sent in order after the
// visitor's previous one.
type Request struct {
	Method, Path, ContentType, UserAgent string
	Body                                 []byte
}

// visitor simulates visitor i: its requests, in order, and its share of
// the truth.
//
// The app is part of the stream: two apps sent with one seed (the
// benchmark's sizes, say) must not share event ids, or JetStream's and the
// sinks' dedup would rightly store the second app's copies once.
func (o Options) visitor(i int) ([]Request, *Truth) {
	app := fnv.New64a()
	app.Write([]byte(o.App))
	rng := rand.New(rand.NewPCG(o.Seed^app.Sum64(), uint64(i)*0x9E3779B97F4A7C15+1))
	v := &sim{o: o, rng: rng, t: newTruth(), vid: o.uuid(rng).String()}
	v.bot = rng.Float64() < o.BotShare
	if v.bot {
		v.ua = botAgents[rng.IntN(len(botAgents))]
		v.truth().Bots++
		v.simulateBot()
	} else {
		v.ua = humanAgents[rng.IntN(len(humanAgents))]
		v.truth().Humans++
		v.simulateHuman()
	}
	v.finishLoss()
	if v.uid != "" {
		v.t.Identity.People, v.t.Identity.Events = 1, v.t.Events
	}
	return v.reqs, v.t
}

// uuid draws a version-4 UUID from rng: the same seed gives the same ids,
// so a rerun stores nothing twice.
func (o Options) uuid(rng *rand.Rand) uuid.UUID {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], rng.Uint64())
	binary.BigEndian.PutUint64(b[8:], rng.Uint64())
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return uuid.UUID(b)
}

type sim struct {
	o    Options
	rng  *rand.Rand
	t    *Truth
	vid  string
	ua   string
	bot  bool
	cidx int64
	// browser messages in order: client index, day, sent or dropped
	msgs  []msg
	batch []string // events of the page's current batch (JSON), not yet sent
	reqs  []Request
	uid   string
	cur   string // currency
	// what an analysis can see of the current session: the campaign key of
	// its first delivered event, and of the checkout form's first delivered focus
	sessKey   string
	firstForm string
}

type msg struct {
	idx  int64
	day  string
	sent bool
}

func (v *sim) truth() *Truth { return v.t }

func pick(rng *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := rng.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// sessionStart is a random moment of a random simulated day, 7:00 to 22:00 UTC.
func (v *sim) sessionStart() time.Time {
	d := v.o.Start.AddDate(0, 0, v.rng.IntN(max(v.o.Days, 1)))
	return d.Add(7*time.Hour + time.Duration(v.rng.Int64N(int64(15*time.Hour))))
}

// browser queues one SDK event (as the browser SDK builds it) at time t.
// It is lost on the way with probability Drop; its client index counts
// anyway, so the gap shows the loss.
func (v *sim) browser(t time.Time, name string, fields map[string]any, props map[string]any) {
	v.cidx++
	lost := v.rng.Float64() < v.o.Drop
	v.msgs = append(v.msgs, msg{idx: v.cidx, day: day(t), sent: !lost})
	if lost {
		return
	}
	ev := map[string]any{"eid": v.o.uuid(v.rng).String(), "ename": name, "created": t.UnixMilli(), "vid": v.vid,
		"cidx": v.cidx, "lv": "0.1.0", "app": v.o.App, "lang": "en-US", "tz": "Europe/Berlin", "w": 1280, "h": 800}
	if v.uid != "" {
		ev["uid"] = v.uid
	}
	for k, val := range fields {
		ev[k] = val
	}
	if len(props) > 0 {
		ev["props"] = props
	}
	v.batch = append(v.batch, jsonOf(ev))
	v.count(name, t)
	v.observe(name, fields, props)
	if len(v.batch) == 20 {
		v.flushBatch()
	}
}

// flushBatch sends the page's queued events as the SDK does: one
// text/plain POST of a JSON array.
func (v *sim) flushBatch() {
	if len(v.batch) == 0 {
		return
	}
	body := "[" + strings.Join(v.batch, ",") + "]"
	v.reqs = append(v.reqs, Request{Method: "POST", Path: "/tr/v1/", ContentType: "text/plain;charset=UTF-8", UserAgent: v.ua, Body: []byte(body)})
	v.batch = v.batch[:0]
}

// observe keeps what analyses will find of a delivered browser event: the
// campaign of a session's first event, clicks, the first field focused.
func (v *sim) observe(name string, fields, props map[string]any) {
	if v.sessKey == "" {
		v.sessKey = keyOf(fields)
	}
	switch name {
	case "click":
		v.t.Clicks[props["element"].(string)]++
	case "form_focus":
		if v.firstForm == "" {
			v.firstForm = props["field"].(string)
		}
	case "form_abandon":
		v.t.Form.AbandonField[props["field"].(string)]++
	}
}

// keyOf is the campaign key analyses give an event: its utm source,
// medium and campaign; else its referrer's host when the referrer is
// another site; else direct.
func keyOf(fields map[string]any) string {
	c := campaign{}
	c.Source, _ = fields["source"].(string)
	c.Medium, _ = fields["medium"].(string)
	c.Campaign, _ = fields["campaign"].(string)
	c.Referrer, _ = fields["last"].(string)
	return c.key()
}

func (v *sim) count(name string, t time.Time) {
	v.t.Events++
	v.t.EventsByName[name]++
	if v.bot {
		v.t.BotEvents++
	}
	v.t.EventsByDay[day(t)]++
}

// finishLoss records the visitor's lost messages: all of them (the true
// loss) and those an analysis can see, the gaps before a message that
// arrived, counted on the day of that next message.
func (v *sim) finishLoss() {
	lastSent := -1
	for i, m := range v.msgs {
		v.t.Loss.Generated[m.day]++
		if !m.sent {
			v.t.Loss.Dropped[m.day]++
		} else {
			lastSent = i
		}
	}
	for i := 0; i <= lastSent; i++ {
		m := v.msgs[i]
		if !m.sent {
			continue
		}
		// m arrived; the ones lost right before it are visible as its gap
		gap := 0
		for j := i - 1; j >= 0 && !v.msgs[j].sent; j-- {
			gap++
		}
		v.t.Loss.VisibleExpected[m.day] += int64(gap + 1)
		v.t.Loss.VisibleLost[m.day] += int64(gap)
	}
}

func (v *sim) simulateBot() {
	t := v.sessionStart()
	sid := v.o.uuid(v.rng).String()
	n := 20 + v.rng.IntN(31)
	for k := 0; k < n; k++ {
		p := catalog[v.rng.IntN(len(catalog))]
		v.browser(t, "page_view", map[string]any{"sid": sid, "url": "https://shop.example/p/" + p.SKU,
			"pvid": v.o.uuid(v.rng).String()}, nil)
		t = t.Add(time.Duration(300+v.rng.IntN(700)) * time.Millisecond)
	}
	v.flushBatch()
}

func (v *sim) simulateHuman() {
	o, rng := v.o, v.rng
	v.cur = "EUR"
	if rng.Float64() < 0.3 {
		v.cur = "USD"
	}
	arm := "A"
	if rng.IntN(2) == 1 {
		arm = "B"
	}
	first := campaigns[pick(rng, campaignWeights)]
	sessions := 1 + rng.IntN(3)
	starts := make([]time.Time, sessions)
	for s := range starts {
		starts[s] = v.sessionStart()
	}
	sortTimes(starts)
	checkedOut := false
	for s, t := range starts {
		src := campaign{}
		if s == 0 {
			src = first
		} else if rng.Float64() < 0.3 {
			src = campaigns[1] // came back from the newsletter
		}
		v.sessKey, v.firstForm = "", ""
		converted := false
		sid := o.uuid(rng).String()
		pv := o.uuid(rng).String()
		land := map[string]any{"sid": sid, "url": "https://shop.example/" + src.query(), "pvid": pv}
		if s == 0 {
			land["first"] = true
		}
		if src.Referrer != "" {
			land["last"] = src.Referrer
		}
		if src.Source != "" {
			land["source"], land["medium"], land["campaign"] = src.Source, src.Medium, src.Campaign
		}
		v.browser(t, "page_view", land, nil)
		var cart []product
		views := 1 + rng.IntN(6)
		for k := 0; k < views; k++ {
			t = t.Add(time.Duration(10+rng.IntN(80)) * time.Second)
			p := catalog[pick(rng, productWeights)]
			pv = o.uuid(rng).String()
			v.browser(t, "page_view", map[string]any{"sid": sid, "url": "https://shop.example/p/" + p.SKU, "pvid": pv, "ptyp": "product"},
				map[string]any{"product": p.SKU, "category": p.Category})
			for c := rng.IntN(3); c > 0; c-- {
				t = t.Add(time.Duration(2+rng.IntN(20)) * time.Second)
				el := elements[pick(rng, elementWeights)]
				v.browser(t, "click", map[string]any{"sid": sid, "url": "https://shop.example/p/" + p.SKU, "pvid": pv},
					map[string]any{"element": el, "product": p.SKU})
			}
			if rng.Float64() < 0.35 {
				t = t.Add(time.Duration(2+rng.IntN(20)) * time.Second)
				v.browser(t, "click", map[string]any{"sid": sid, "pvid": pv}, map[string]any{"element": "add_to_cart_button", "product": p.SKU})
				v.browser(t, "add_to_cart", map[string]any{"sid": sid, "pvid": pv},
					map[string]any{"product": p.SKU, "price": v.price(p), "currency": v.cur, "qty": 1})
				cart = append(cart, p)
			}
		}
		if len(cart) > 0 && !checkedOut && rng.Float64() < 0.6 {
			checkedOut = true
			t, converted = v.checkout(t, sid, arm, cart)
		}
		v.flushBatch() // the page's batch goes out (or on exit, by beacon)
		if v.sessKey == "" && converted {
			v.sessKey = "direct" // only the server's purchase arrived
		}
		if v.sessKey != "" {
			v.t.Sessions[v.sessKey]++
			if converted {
				v.t.Converting[v.sessKey]++
			}
		}
		if v.firstForm != "" {
			v.t.Form.FirstField[v.firstForm]++
		}
	}
	if rng.Float64() < 0.3 { // a newsletter: opened (pixel), maybe clicked (redirect)
		t := v.sessionStart()
		issue := fmt.Sprintf("newsletter-%d", 40+rng.IntN(4))
		v.reqs = append(v.reqs, Request{Method: "GET", UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Microsoft Outlook 16.0)",
			Path: fmt.Sprintf("/img/v1/ename/email_open/app/%s/vid/%s/created/%d/content/%s", o.App, v.vid, t.UnixMilli(), issue)})
		v.count("email_open", t)
		v.t.Email.Opens[issue]++
		if rng.Float64() < 0.4 {
			t = t.Add(time.Duration(5+rng.IntN(120)) * time.Second)
			v.reqs = append(v.reqs, Request{Method: "GET", UserAgent: v.ua,
				Path: fmt.Sprintf("/rdr/v1/ename/link_click/app/%s/vid/%s/created/%d/content/%s?url=/deals", o.App, v.vid, t.UnixMilli(), issue)})
			v.count("link_click", t)
			v.t.Email.Clicks[issue]++
		}
	}
}

func (v *sim) price(p product) float64 { return float64(v.cents(p)) / 100 }

func (v *sim) cents(p product) int64 {
	if v.cur == "USD" {
		return int64(math.Round(float64(p.Cents) * 1.1))
	}
	return p.Cents
}

// checkout: the experiment's exposure, the form field by field (focus,
// change, blur; never a value), then a purchase (server side) or the
// abandonment at a chosen field.
func (v *sim) checkout(t time.Time, sid, arm string, cart []product) (time.Time, bool) {
	o, rng := v.o, v.rng
	pv := o.uuid(rng).String()
	t = t.Add(time.Duration(5+rng.IntN(30)) * time.Second)
	v.browser(t, "page_view", map[string]any{"sid": sid, "url": "https://shop.example/checkout", "pvid": pv, "ptyp": "checkout"}, nil)
	v.browser(t, "experiment_view", map[string]any{"sid": sid, "pvid": pv, "xid": "checkout_v2", "split": arm}, nil)
	seen := v.msgs[len(v.msgs)-1].sent
	v.t.Experiment.Exposed[arm]++
	conv := o.BaseConv
	if arm == "B" {
		conv *= 1 + o.Lift
	}
	buys := rng.Float64() < conv
	if seen || buys { // an analysis finds the exposure, or the purchase that carries the arm
		v.t.Experiment.Observed[arm]++
	}
	stop := -1 // buyers fill every field
	if !buys {
		stop = pick(rng, abandonWeights) // gives up on this field
	}
	// The first field clicked, then the others in page order.
	start := pick(rng, startWeights)
	fieldOrder := []int{start}
	for i := range formFields {
		if i != start {
			fieldOrder = append(fieldOrder, i)
		}
	}
	for _, i := range fieldOrder {
		field := map[string]any{"form": "checkout", "field": formFields[i], "pos": i + 1}
		t = t.Add(time.Duration(2+rng.IntN(10)) * time.Second)
		v.browser(t, "form_focus", map[string]any{"sid": sid, "pvid": pv}, field)
		if i == stop {
			break // focused, then left the page
		}
		v.browser(t.Add(3*time.Second), "form_change", map[string]any{"sid": sid, "pvid": pv}, field)
		v.browser(t.Add(4*time.Second), "form_blur", map[string]any{"sid": sid, "pvid": pv}, field)
	}
	t = t.Add(5 * time.Second)
	if !buys {
		v.browser(t, "form_abandon", map[string]any{"sid": sid, "pvid": pv},
			map[string]any{"form": "checkout", "field": formFields[stop], "pos": stop + 1})
		v.t.Form.Abandoned++ // as generated; AbandonField counts what arrived
		return t, false
	}
	v.browser(t, "form_submit", map[string]any{"sid": sid, "pvid": pv}, map[string]any{"form": "checkout"})
	// The purchase is recorded by the shop's server: it is never lost.
	if v.uid == "" {
		v.uid = "u-" + v.vid[:8]
	}
	var items []map[string]any
	var total int64
	qty := 0
	for _, p := range cart {
		items = append(items, map[string]any{"product": p.SKU, "category": p.Category, "price": v.price(p), "qty": 1})
		total += v.cents(p)
		qty++
		v.t.Products[p.SKU]++
	}
	d := day(t)
	order := "o-" + o.uuid(rng).String()[:13]
	body := jsonOf(map[string]any{"eid": o.uuid(rng).String(), "ename": "purchase", "app": o.App, "vid": v.vid, "sid": sid, "uid": v.uid,
		"created": t.UnixMilli(), "xid": "checkout_v2", "split": arm,
		"props": map[string]any{"order_id": order, "total": float64(total) / 100, "currency": v.cur, "items": items}})
	v.reqs = append(v.reqs, Request{Method: "POST", Path: "/str/v1/", ContentType: "application/json", UserAgent: "shop-backend/2.3", Body: []byte(body)})
	v.count("purchase", t)
	v.t.Experiment.Converted[arm]++
	v.t.Orders[d]++
	v.t.ItemsSold[d] += int64(qty)
	if v.t.RevenueCents[d] == nil {
		v.t.RevenueCents[d] = map[string]int64{}
	}
	v.t.RevenueCents[d][v.cur] += total
	return t, true
}

func (c campaign) key() string {
	switch {
	case c.Source != "":
		return c.Source + "/" + c.Medium + "/" + c.Campaign
	case c.Referrer != "":
		return "referral/" + strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(c.Referrer, "https://"), "www."), "/")
	}
	return "direct"
}

func (c campaign) query() string {
	if c.Source == "" {
		return ""
	}
	return fmt.Sprintf("?utm_source=%s&utm_medium=%s&utm_campaign=%s", c.Source, c.Medium, c.Campaign)
}

func sortTimes(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}
