package e2e

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/config"
)

const hookSecret = "hook-secret-0123456789abcdef"

// receiver is a webhook receiver the way a customer writes one: it checks
// Spoor-Signature, reads the batch, keeps each event once by its id, and
// answers as the test tells it: 503 while down, 400 to an event named
// "refuse_me".
type receiver struct {
	srv      *httptest.Server
	down     atomic.Bool
	takeAll  atomic.Bool // refuse_me taken too
	mu       sync.Mutex
	arrivals []delivered // every event received, in order, duplicates included
	requests int
	badSig   int
	forgets  []string // forget notices: "app request visitors users"
}

type delivered struct{ id, visitor, name string }

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			http.Error(w, "bad gzip", 400)
			return
		}
		body, _ = io.ReadAll(zr)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if !validSignature(req.Header.Get("Spoor-Signature"), body) {
		r.badSig++
		http.Error(w, "bad signature", 401)
		return
	}
	if r.down.Load() {
		w.Header().Set("Retry-After", "0")
		http.Error(w, "down for maintenance", 503)
		return
	}
	var notice struct {
		Type, App, RequestID string
		Visitors             []string `json:"visitor_ids"`
		Users                []string `json:"user_ids"`
	}
	if json.Unmarshal(body, &notice) == nil && notice.Type == "forget" {
		r.forgets = append(r.forgets, fmt.Sprint(notice.App, " ", notice.Visitors, " ", notice.Users))
		w.WriteHeader(204)
		return
	}
	var batch struct {
		Events []struct {
			ID      string `json:"event_id"`
			Visitor string `json:"visitor_id"`
			Name    string `json:"event_name"`
		} `json:"events"`
	}
	if err := json.Unmarshal(body, &batch); err != nil {
		http.Error(w, "bad json: "+err.Error(), 400)
		return
	}
	for _, e := range batch.Events {
		if e.Name == "refuse_me" && !r.takeAll.Load() {
			http.Error(w, `{"error":"we do not take refuse_me"}`, 400)
			return
		}
	}
	for _, e := range batch.Events {
		r.arrivals = append(r.arrivals, delivered{e.ID, e.Visitor, e.Name})
	}
	w.WriteHeader(204)
}

// validSignature checks t=…,v1=… as a receiver does, with the shared secret.
func validSignature(h string, body []byte) bool {
	var ts string
	var sigs []string
	for _, part := range strings.Split(h, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)) > 5*time.Minute {
		return false
	}
	m := hmac.New(sha256.New, []byte(hookSecret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := hex.EncodeToString(m.Sum(nil))
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

// got returns each event id once, in the order of first arrival, and how
// many arrivals there were in all.
func (r *receiver) got() (first []delivered, arrivals int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, d := range r.arrivals {
		if !seen[d.id] {
			seen[d.id] = true
			first = append(first, d)
		}
	}
	return first, len(r.arrivals)
}

func (r *receiver) wait(t *testing.T, n int) []delivered {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		first, _ := r.got()
		if len(first) >= n {
			return first
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver has %d of %d events (%d requests, %d with a bad signature)", len(first), n, r.requests, r.badSig)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func webhookDestination(url string, batch int) config.Destination {
	return config.Destination{Name: "hooks", Type: "webhook", BatchSize: batch, MinBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond,
		Filter:   config.DestinationFilter{Apps: []string{"shop"}},
		Settings: map[string]any{"url": url, "secrets": []any{"old-secret-0123456789abc", hookSecret}, "gzip": true}}
}

// A webhook destination next to the store: every event of the app it
// wants arrives signed, once per id, each visitor's in order, through an
// outage of the receiver; an event the receiver refuses is dead-lettered
// with its answer; what the filter leaves out never arrives; the store
// keeps everything whatever the destination does.
func TestWebhookDestination(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	rcv := newReceiver(t)
	cfg.Destinations = []config.Destination{webhookDestination(rcv.srv.URL, 5)}
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	browser := map[string]string{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
		"Accept-Language": "en"}
	send := func(body string) {
		t.Helper()
		if r := do(t, "POST", base+"/tr/v1/", []byte(body), browser); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	// One request per event, so that each visitor's order is the order sent.
	var sent []string
	for i := 0; i < 10; i++ {
		for _, v := range []string{"va", "vb", "vc"} {
			send(fmt.Sprintf(`{"app":"shop","ename":"step_%02d","vid":%q}`, i, v))
			sent = append(sent, v)
		}
	}
	send(`{"app":"blog","ename":"not_for_hooks","vid":"vz"}`)
	if r := do(t, "POST", base+"/tr/v1/", []byte(`{"app":"shop","ename":"crawl","vid":"vbot"}`),
		map[string]string{"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	rcv.wait(t, 30)

	// Down: the events wait (the store takes them meanwhile), then all arrive.
	rcv.down.Store(true)
	for i := 10; i < 20; i++ {
		for _, v := range []string{"va", "vb", "vc"} {
			send(fmt.Sprintf(`{"app":"shop","ename":"step_%02d","vid":%q}`, i, v))
		}
	}
	waitStored(t, dir, 62, 10*time.Second)
	time.Sleep(500 * time.Millisecond) // a few refused attempts
	rcv.down.Store(false)
	first := rcv.wait(t, 60)

	// Refused by the receiver: dead-lettered with the destination and the answer.
	send(`{"app":"shop","ename":"refuse_me","vid":"vd"}`)
	send(`{"app":"shop","ename":"after_refusal","vid":"vd"}`)
	first = rcv.wait(t, 61)
	dl := deadLetters(t, a)
	if len(dl) != 1 || !strings.Contains(dl[0], "destination hooks: status 400") || !strings.Contains(dl[0], "we do not take refuse_me") {
		t.Fatalf("dead letters: %q", dl)
	}

	_, arrivals := rcv.got()
	steps := map[string][]string{}
	for _, d := range first {
		if d.name == "not_for_hooks" || d.name == "crawl" || d.name == "refuse_me" {
			t.Fatalf("%s reached the receiver", d.name)
		}
		steps[d.visitor] = append(steps[d.visitor], d.name)
	}
	for _, v := range []string{"va", "vb", "vc"} {
		if len(steps[v]) != 20 {
			t.Fatalf("%s: %d events arrived, want 20", v, len(steps[v]))
		}
		for i, name := range steps[v] {
			if name != fmt.Sprintf("step_%02d", i) {
				t.Fatalf("%s's events arrived out of order: %v", v, steps[v])
			}
		}
	}
	if rcv.badSig > 0 {
		t.Fatalf("%d requests with a signature that did not verify", rcv.badSig)
	}
	t.Logf("%d events, %d arrivals (retries), %d requests", len(first), arrivals, rcv.requests)
	m := do(t, "GET", base+"/metrics", nil, nil)
	for series, want := range map[string]float64{
		`spoor_destination_events_skipped_total{destination="hooks",reason="filter"}`: 1,
		`spoor_destination_events_skipped_total{destination="hooks",reason="bot"}`:    1,
		`spoor_destination_dead_letters_total{destination="hooks"}`:                   1,
	} {
		if !metricIs(m.body, series, want) {
			t.Errorf("metrics lack %s %v:\n%s", series, want, grep(m.body, "spoor_destination"))
		}
	}
	// The consumers' backlog is exported by the process that runs them (read at start, then every 15 s).
	for _, c := range []string{"spoor-sink", "spoor-dest-hooks"} {
		if _, ok := metricValue(m.body, `spoor_consumer_backlog_messages{consumer="`+c+`"}`); !ok {
			t.Errorf("no backlog gauge for %s", c)
		}
	}
	if evs := settled(t, dir, viaTrack(base)); len(evs) != 64 {
		t.Fatalf("the store holds %d events, want all 64", len(evs))
	}
}

// deadLetters lists the dead letters' reasons (spoor dlq's view).
func deadLetters(t *testing.T, a *app.App) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		dl, err := a.Bus.DeadLetterEntries(t.Context(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(dl) > 0 || time.Now().After(deadline) {
			var out []string
			for _, d := range dl {
				out = append(out, d.Reason)
			}
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Consent and forgetting: an event goes only with the destination's
// category granted (Segment's categoryPreferences), and once a person is
// forgotten none of their events leaves, though the store refuses them
// too.
func TestDestinationConsentAndForgetting(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Segment.WriteKeys = map[string]string{writeKey: segmentApp}
	cfg.Admin.Tokens = []string{"admin-token-0123456789"}
	rcv := newReceiver(t)
	d := webhookDestination(rcv.srv.URL, 10)
	d.Consent = "Analytics"
	cfg.Destinations = []config.Destination{d}
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	track := func(vid, event, consent string) {
		t.Helper()
		ctx := `"userAgent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36"`
		if consent != "" {
			ctx += `,"consent":{"categoryPreferences":` + consent + `}`
		}
		body := fmt.Sprintf(`{"anonymousId":%q,"event":%q,"context":{%s}}`, vid, event, ctx)
		if r := do(t, "POST", base+"/v1/track", []byte(body), basic(writeKey)); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	track("v1", "granted", `{"Analytics":true,"Advertising":false}`)
	track("v1", "denied", `{"Analytics":false}`)
	track("v1", "silent", "")
	track("v2", "granted_too", `{"Analytics":true}`)
	got := rcv.wait(t, 2)
	auth := map[string]string{"Authorization": "Bearer admin-token-0123456789"}
	r := do(t, "POST", base+"/admin/api/forget", []byte(`{"app":"shop","vid":"v2"}`), auth)
	if r.status != 202 {
		t.Fatalf("forget: %d %s", r.status, r.body)
	}
	status := r.header.Get("Location")
	time.Sleep(1500 * time.Millisecond) // the destination rereads the forgotten ids every second
	track("v2", "after_forget", `{"Analytics":true}`)
	track("v1", "granted_again", `{"Analytics":true}`)
	got = rcv.wait(t, 3)
	if done := forgetDone(t, base, status, auth); !bytes.Contains(done.body, []byte(`"Told":{"hooks":"ok"}`)) {
		t.Fatalf("the forget's report: %s", done.body)
	}
	rcv.mu.Lock()
	forgets := rcv.forgets
	rcv.mu.Unlock()
	if len(forgets) != 1 || forgets[0] != "shop [v2] []" {
		t.Fatalf("forget notices: %q", forgets)
	}
	var names []string
	for _, g := range got {
		names = append(names, g.name)
	}
	if strings.Join(names, ",") != "granted,granted_too,granted_again" {
		t.Fatalf("arrived: %v", names)
	}
	m := do(t, "GET", base+"/metrics", nil, nil)
	for series, want := range map[string]float64{
		`spoor_destination_events_skipped_total{destination="hooks",reason="consent"}`:   2,
		`spoor_destination_events_skipped_total{destination="hooks",reason="forgotten"}`: 1,
	} {
		if !metricIs(m.body, series, want) {
			t.Errorf("metrics lack %s %v:\n%s", series, want, grep(m.body, "skipped"))
		}
	}
}

// The commands around a destination, against a running `spoor run`: a
// dead letter sent again to its destination alone once the receiver takes
// it; a backfill of a new destination from the stream and from the file
// store, idempotent by event id; the status.
func TestDestinationCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.NATS.Listen = freePort(t)
	rcv, late := newReceiver(t), newReceiver(t)
	late.takeAll.Store(true)
	hooks := webhookDestination(rcv.srv.URL, 10)
	cfg.Destinations = []config.Destination{hooks}
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	browser := map[string]string{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36", "Accept-Language": "en"}
	for _, b := range []string{`{"app":"shop","ename":"one","vid":"v1"}`, `{"app":"shop","ename":"refuse_me","vid":"v2"}`,
		`{"app":"shop","ename":"two","vid":"v1"}`, `{"app":"blog","ename":"elsewhere","vid":"v3"}`} {
		if r := do(t, "POST", base+"/tr/v1/", []byte(b), browser); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	rcv.wait(t, 2)
	if dl := deadLetters(t, a); len(dl) != 1 {
		t.Fatalf("dead letters: %q", dl)
	}
	settings := func(d config.Destination) string {
		m := map[string]any{"name": d.Name, "type": d.Type, "filter": map[string]any{"apps": d.Filter.Apps}, "min_backoff": "100ms"}
		for k, v := range d.Settings {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	lateDest := webhookDestination(late.srv.URL, 2)
	lateDest.Name = "late"
	env := []string{"SPOOR_DATA_DIR=" + dir, "SPOOR_NATS_URL=nats://" + cfg.NATS.Listen,
		"SPOOR_DESTINATIONS=[" + settings(hooks) + "," + settings(lateDest) + "]"}

	out := spoorCLIEnv(t, env, "destinations", "status")
	if !strings.Contains(out, "hooks") || !strings.Contains(out, "webhook") || !strings.Contains(out, "apps shop") {
		t.Fatalf("status:\n%s", out)
	}
	rcv.takeAll.Store(true)
	if out := spoorCLIEnv(t, env, "dlq", "replay", "--destination", "hooks"); !strings.Contains(out, "sent 1, still dead-lettered 0") {
		t.Fatalf("dlq replay --destination:\n%s", out)
	}
	got := rcv.wait(t, 3)
	if got[2].name != "refuse_me" {
		t.Fatalf("the replayed dead letter: %+v", got)
	}
	if dl, _ := a.Bus.DeadLetterEntries(t.Context(), 10); len(dl) != 0 {
		t.Fatalf("the dead letter is still there: %d", len(dl))
	}
	if _, n := late.got(); n != 0 {
		t.Fatalf("the dead letter reached another destination: %d", n)
	}

	// Backfill a destination the running pipeline does not have.
	out = spoorCLIEnv(t, env, "destinations", "replay", "late", "--since", "1h")
	if !strings.Contains(out, "3 sent, 1 left out by its filter") {
		t.Fatalf("replay --since:\n%s", out)
	}
	waitStored(t, dir, 4, 10*time.Second)
	out = spoorCLIEnv(t, env, "destinations", "replay", "late", "--files", dir+"/events")
	if !strings.Contains(out, "3 sent, 1 left out by its filter") {
		t.Fatalf("replay --files:\n%s", out)
	}
	first, arrivals := late.got()
	if len(first) != 3 || arrivals != 6 {
		t.Fatalf("the backfilled destination got %d events in %d arrivals, want 3 twice (idempotent by id)", len(first), arrivals)
	}
	code, _, errs := spoorCLIExit(t, env, "destinations", "replay", "nowhere", "--since", "1h")
	if code == 0 || !strings.Contains(errs, `no destination "nowhere"`) {
		t.Fatalf("an unknown destination: exit %d, %s", code, errs)
	}
}
