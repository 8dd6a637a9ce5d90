package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/internal/config"
)

// The canary inside spoor run, on both stores: every entry point (tuplet
// GET and POST, JSON, batch, pixel, signed redirect, short link, Segment
// /v1/track, the proxy) has its marked event found in the store, none
// lost, its latency in the histogram; the webhook destination takes each
// (left out by default: the receiver gets none of them).
func TestCanaryFindsEveryEntryPoint(t *testing.T) {
	for _, store := range []string{"file", "cassandra"} {
		t.Run(store, func(t *testing.T) {
			backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, "<html>shop</html>")
			}))
			defer backend.Close()
			rcv := newReceiver(t)
			dir := t.TempDir()
			cfg := testConfig(dir)
			if store == "cassandra" {
				cfg = cassandraConfig(t, dir, cassandratest.Keyspace(t, cassandratest.Session(t)))
			}
			cfg.Canary.Enabled, cfg.Canary.Interval, cfg.Canary.Timeout = true, time.Second, 20*time.Second
			cfg.Segment.WriteKeys = map[string]string{"wk_canary_test_01": "shop"}
			cfg.Links.SigningKeys = []string{"canary-signing-key-0123456789"}
			cfg.Proxy.Enabled, cfg.Proxy.Addr, cfg.Proxy.Upstreams, cfg.Proxy.App = true, "127.0.0.1:0", []string{backend.URL}, "shop"
			cfg.HTTP.TrustedProxies = []string{"127.0.0.1/32"}
			hooks := webhookDestination(rcv.srv.URL, 5)
			hooks.Filter = config.DestinationFilter{}
			cfg.Destinations = []config.Destination{hooks}
			a := startRoles(t, cfg, app.Roles{Collector: true, Sink: true, Proxy: true})
			defer a.Stop()
			entries := []string{"tuplet_get", "tuplet_post", "json", "batch", "pixel", "redirect", "short_link", "segment_track", "proxy"}
			deadline := time.Now().Add(60 * time.Second)
			for {
				m := do(t, "GET", "http://"+a.Addr()+"/metrics", nil, nil).body
				var missing []string
				for _, e := range entries {
					for _, where := range []string{"store", "destination:hooks"} {
						if v, _ := metricValue(m, fmt.Sprintf(`spoor_canary_found_total{entry="%s",where="%s"}`, e, where)); v < 2 {
							missing = append(missing, e+"@"+where)
						}
					}
					if v, _ := metricValue(m, fmt.Sprintf(`spoor_canary_send_errors_total{entry="%s"}`, e)); v > 0 {
						t.Fatalf("the canary could not send through %s:\n%s", e, grepLines(m, "spoor_canary_send_errors"))
					}
				}
				if len(missing) == 0 {
					for _, e := range entries {
						if v, _ := metricValue(m, fmt.Sprintf(`spoor_canary_lost_total{entry="%s",where="store"}`, e)); v != 0 {
							t.Errorf("%s: %v lost", e, v)
						}
						if v, ok := metricValue(m, fmt.Sprintf(`spoor_canary_latency_seconds_count{entry="%s",where="store"}`, e)); !ok || v < 2 {
							t.Errorf("%s: no latency observed", e)
						}
					}
					if first, _ := rcv.got(); len(first) != 0 {
						t.Errorf("the webhook received %d canary events; they are left out by default", len(first))
					}
					if v, _ := metricValue(m, `spoor_destination_events_skipped_total{destination="hooks",reason="canary"}`); v < 18 {
						t.Errorf("the destination left out %v canary events", v)
					}
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("not found after 60 s: %v\n%s", missing, grepLines(m, "spoor_canary_"))
				}
				time.Sleep(500 * time.Millisecond)
			}
		})
	}
}

func grepLines(b []byte, prefix string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
