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
	"path/filepath"
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
	a, err := app.Start(ctx, cfg, roles, zerolog.Nop())
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
func waitStored(t *testing.T, dir string, want int, timeout time.Duration) []*schema.Event {
	t.Helper()
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
	var m map[string]string
	if err := json.Unmarshal(r.body, &m); err != nil || m["error"] == "" {
		t.Fatalf("want a JSON error body, got %q", r.body)
	}
	return m["reason"]
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
