package e2e

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/cassandra"
)

func cassandraConfig(t *testing.T, dir, keyspace string) config.Config {
	cfg := testConfig(dir)
	cfg.Cassandra.Hosts = cassandratest.Hosts()
	cfg.Cassandra.Keyspace = keyspace
	cfg.Cassandra.Timeout = 10 * time.Second
	cfg.Sink.WriteTimeout = 15 * time.Second
	cfg.Sink.AckWait = 20 * time.Second
	if cfg.SinkType() != "cassandra" {
		t.Fatal("sink.type auto must pick cassandra when hosts are set")
	}
	return cfg
}

// waitRows polls events_by_day until it holds want rows.
func waitRows(t *testing.T, ks string, want int, timeout time.Duration) []*schema.Event {
	t.Helper()
	s := cassandratest.Session(t)
	deadline := time.Now().Add(timeout)
	for {
		evs, err := cassandra.ReadTable(context.Background(), s, ks, "events_by_day")
		if err == nil && (len(evs) >= want || time.Now().After(deadline)) {
			if len(evs) != want {
				t.Fatalf("events_by_day holds %d rows, want %d", len(evs), want)
			}
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("reading events_by_day: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// HTTP -> JetStream -> Cassandra: every event comes back out of Cassandra
// byte-identical to what the collector put on the bus (numbers, unicode,
// empty and missing values, large props).
func TestHTTPToCassandraRoundTrip(t *testing.T) {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	dir := t.TempDir()
	a := start(t, cassandraConfig(t, dir, ks))
	defer a.Stop()
	base := "http://" + a.Addr()
	big := strings.Repeat("ß", 3000)
	bodies := []string{
		seedFailed,
		`{"ename":"unicode","vid":"v-ü","url":"https://例え.jp/パス?q=✓","props":{"emoji":"🎉","rtl":"שלום"}}`,
		`{"ename":"numbers","vid":"v1","w":0,"lat":-0.5,"score":1e-7,"cidx":0,"props":{"i":12345678901234567890,"f":1.50,"neg":-3,"t":true,"n":null}}`,
		`{"ename":"empty","vid":"","uid":"","props":{"e":"","arr":[],"obj":{}}}`,
		`{"ename":"missing"}`,
		fmt.Sprintf(`{"ename":"large","vid":"v2","props":{"big":"%s","nested":{"a":[1,{"b":"c"}]}}}`, big),
		`[{"ename":"b1","vid":"v3","app":"shop"},{"ename":"b2","vid":"v3","app":"shop","rel":"2.0"}]`,
	}
	for _, b := range bodies {
		if r := do(t, "POST", base+"/tr/v1/", []byte(b), nil); r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	}
	do(t, "GET", base+"/tr/v1/ename/tuplet/vid/v4/ROCK/ON?utm_source=news", nil, nil)
	id := schema.NewEventID()
	for i := 0; i < 2; i++ { // a client retry
		do(t, "POST", base+"/tr/v1/", []byte(ndEvent("retried", id)), nil)
	}
	const want = 10
	stored := waitRows(t, ks, want, 30*time.Second)
	msgs, err := a.Bus.Events(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var onBus [][]byte // a batch request travels as one message, one event per line
	for _, m := range msgs {
		onBus = append(onBus, bytes.Split(m.Data, []byte{'\n'})...)
	}
	if len(onBus) != want || len(msgs) != want-1 {
		t.Fatalf("stream holds %d events in %d messages, want %d in %d", len(onBus), len(msgs), want, want-1)
	}
	got := map[string]string{}
	for _, e := range stored {
		b, _ := e.Encode()
		got[e.EventID] = string(b)
	}
	for _, line := range onBus {
		e, err := schema.Decode(line)
		if err != nil {
			t.Fatal(err)
		}
		if got[e.EventID] != string(line) {
			t.Errorf("event %s differs after Cassandra:\n bus %s\n got %s", e.EventID, line, got[e.EventID])
		}
	}
	v, err := cassandra.ReadVisitor(context.Background(), s, ks, "shop", "v3")
	if err != nil || v.FirstEventID == v.LastEventID {
		t.Fatalf("visitor v3: %+v %v", v, err)
	}
}

// HTTP -> Cassandra sessions, computed by the sink's background
// sessionizer: a pause longer than the session gap (2 s here, 30 min by
// default) starts a new session; landing page, count and campaign follow.
func TestHTTPSessionsInCassandra(t *testing.T) {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	cfg := cassandraConfig(t, t.TempDir(), ks)
	cfg.Cassandra.SessionGap = 2 * time.Second
	cfg.Cassandra.SessionsDelay = 0
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr() + "/tr/v1/app/shop/vid/sv/ename/page_view"
	get := func(path string) {
		t.Helper()
		if r := do(t, "GET", base+path, nil, nil); r.status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
	}
	get("/url/%2Fhome?utm_source=news&utm_campaign=spring")
	time.Sleep(300 * time.Millisecond)
	get("/url/%2Fdeal")
	time.Sleep(3 * time.Second) // > session_gap
	get("/url/%2Fback")
	deadline := time.Now().Add(30 * time.Second)
	var got []cassandra.Session
	for {
		var err error
		got, err = cassandra.ReadSessions(context.Background(), s, ks, "shop", "sv")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 2 && got[0].EventCount+got[1].EventCount == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessions %+v, want 2 (2 events, then 1)", got)
		}
		time.Sleep(200 * time.Millisecond)
	}
	first, second := got[1], got[0] // newest first
	if first.EventCount != 2 || first.LandingURL != "/home" || first.Source != "news" || first.Campaign != "spring" {
		t.Errorf("first session %+v", first)
	}
	if d := first.End.Sub(first.Start); d < 250*time.Millisecond || d > 2*time.Second {
		t.Errorf("first session lasts %v", d)
	}
	if second.EventCount != 1 || second.LandingURL != "/back" || second.Start.Sub(first.End) <= 2*time.Second {
		t.Errorf("second session %+v after %+v", second, first)
	}
}
