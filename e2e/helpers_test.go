// Package e2e runs the real pipeline (fasthttp collector, real JetStream
// server, sink workers, file store) over loopback HTTP.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/file"
)

// testConfig is the default configuration, made fast for tests, in dir.
func testConfig(dir string) config.Config {
	c := config.Default()
	c.DataDir = dir
	c.Spool.Dir = filepath.Join(dir, "spool")
	c.File.Dir = filepath.Join(dir, "events")
	c.Plans.Dir = filepath.Join(dir, "plans")
	c.HTTP.Addr = "127.0.0.1:0"
	c.File.RollInterval = 100 * time.Millisecond
	c.Sink.BatchWait = 50 * time.Millisecond
	c.Spool.ReplayRetry = 100 * time.Millisecond
	c.Collector.AckTimeout = 500 * time.Millisecond
	c.Collector.RedirectHosts = []string{"shop.example", ".partner.example"}
	c.Sink.Backoff = []time.Duration{100 * time.Millisecond, 500 * time.Millisecond}
	// Messages whose ack was lost in an outage come back after AckWait.
	c.Sink.WriteTimeout = 2 * time.Second
	c.Sink.AckWait = 3 * time.Second
	return c
}

func start(t *testing.T, cfg config.Config) *app.App {
	t.Helper()
	return startRoles(t, cfg, app.Roles{Collector: true, Sink: true})
}

func startRoles(t *testing.T, cfg config.Config, roles app.Roles) *app.App {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	log := zerolog.Nop()
	if os.Getenv("SPOOR_TEST_LOG") != "" { // the pipeline's log on stderr, to debug a test
		log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).With().Timestamp().Logger()
	}
	a, err := app.Start(ctx, cfg, roles, log)
	if err != nil {
		t.Fatalf("starting pipeline: %v", err)
	}
	return a
}

var client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url string, body []byte, headers map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

// waitStored polls the file store until it holds want events.
// waitStored waits until the file store holds at least want events and
// fails unless it holds exactly want. It cannot tell "nothing more will
// come": to check that nothing (else) was stored, use settled.
func waitStored(t *testing.T, dir string, want int, timeout time.Duration) []*schema.Event {
	t.Helper()
	if want < 1 {
		t.Fatal("waitStored(0) would return at once, before a late write could land: use settled")
	}
	deadline := time.Now().Add(timeout)
	var evs []*schema.Event
	for {
		var err error
		evs, err = file.ReadAll(filepath.Join(dir, "events"))
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(evs) != want {
		t.Fatalf("store holds %d events, want %d", len(evs), want)
	}
	return evs
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func reason(t *testing.T, r response) string {
	t.Helper()
	var m struct{ Error, Reason string }
	if err := json.Unmarshal(r.body, &m); err != nil || m.Error == "" {
		t.Fatalf("want a JSON error body, got %q", r.body)
	}
	return m.Reason
}

func byName(evs []*schema.Event) map[string]*schema.Event {
	m := map[string]*schema.Event{}
	for _, e := range evs {
		m[e.EventName] = e
	}
	return m
}

func ndEvent(name, id string) string {
	return fmt.Sprintf(`{"eid":%q,"ename":%q}`, id, name)
}

// settled proves that the requests under test have left their mark in the
// file store, whatever it is: it sends one marker event through send (the
// same path as those requests, after they were answered), waits until the
// marker is stored, and returns every other stored event. The embedded
// default has one partition and one sink, which store the stream in
// order, so with the marker stored anything the earlier requests made is
// stored too: the count is final, not a guess made after a sleep.
func settled(t *testing.T, dir string, send func(t *testing.T, marker string)) []*schema.Event {
	t.Helper()
	marker := "marker-" + schema.NewEventID()[:8]
	send(t, marker)
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, err := file.ReadAll(filepath.Join(dir, "events"))
		if err != nil {
			t.Fatal(err)
		}
		var others []*schema.Event
		found := 0
		for _, e := range evs {
			if e.EventName == marker {
				found++
			} else {
				others = append(others, e)
			}
		}
		if found > 1 {
			t.Fatalf("the marker was stored %d times", found)
		}
		if found == 1 {
			return others
		}
		if time.Now().After(deadline) {
			t.Fatalf("the marker %s was not stored in 10 s (%d other events stored)", marker, len(others))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// viaTrack sends the marker as a JSON event to base's /tr/v1/.
func viaTrack(base string) func(t *testing.T, marker string) {
	return func(t *testing.T, marker string) {
		t.Helper()
		if r := do(t, "POST", base+"/tr/v1/", []byte(`{"ename":"`+marker+`"}`), nil); r.status != 200 {
			t.Fatalf("marker: %d %s", r.status, r.body)
		}
	}
}

// metricValue is the value of one series in a /metrics body, matched on
// the whole series ("name" or `name{label="v",…}` as Prometheus prints
// it, labels sorted), never on a prefix of its line.
func metricValue(body []byte, series string) (float64, bool) {
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || line[:i] != series {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		return v, err == nil
	}
	return 0, false
}

// metricIs reports whether series has exactly the value want.
func metricIs(body []byte, series string, want float64) bool {
	v, ok := metricValue(body, series)
	return ok && v == want
}

// The metric checks match a whole series and its value: "…_total 2" is
// not found in "…_total 20", nor in a labelled series of that name.
func TestMetricValueMatchesWholeSeries(t *testing.T) {
	body := []byte("# HELP x_total x\nx_total 20\nx_total_sum 2\ny_total{a=\"b\"} 2.5\ny_total{a=\"b\",c=\"d\"} 2\n")
	for _, c := range []struct {
		series string
		want   float64
		ok     bool
	}{
		{"x_total", 20, true},
		{"x_total", 2, false},
		{"x_tota", 20, false},
		{`y_total{a="b"}`, 2.5, true},
		{`y_total{a="b"}`, 2, false},
		{`y_total{a="b",c="d"}`, 2, true},
		{"y_total", 2, false},
	} {
		if got := metricIs(body, c.series, c.want); got != c.ok {
			t.Errorf("metricIs(%s, %v) = %v", c.series, c.want, got)
		}
	}
}

// waitFailed waits until the failed store (dir/failed) holds want failed
// events and fails unless it holds exactly that many then.
func waitFailed(t *testing.T, dir string, want int) []*schema.Failed {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fs, err := file.ReadFailed(filepath.Join(dir, "failed"))
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) >= want || time.Now().After(deadline) {
			if len(fs) != want {
				t.Fatalf("failed store holds %d failed events, want %d", len(fs), want)
			}
			return fs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// failedReasons counts the failed store's events by reason, once it holds
// want of them.
func failedReasons(t *testing.T, dir string, want int) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, f := range waitFailed(t, dir, want) {
		m[f.Reason]++
	}
	return m
}
