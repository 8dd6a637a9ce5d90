package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/schema"
)

// hashKeyOf is the key `spoor run` generated in its data dir.
func hashKeyOf(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "hash.key"))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.TrimSpace(string(b)))
}

// The proxy inside `spoor run`, on each proxy.engine: a proxied page view
// and a first-party SDK event (forwarded to this process's collector under
// /_e) both reach the store through the real JetStream and sink.
func TestProxyTracksIntoTheStore(t *testing.T) {
	for _, engine := range []string{"fasthttp", "net/http"} {
		t.Run(strings.ReplaceAll(engine, "/", ""), func(t *testing.T) { testProxyTracksIntoTheStore(t, engine) })
	}
}

func testProxyTracksIntoTheStore(t *testing.T, engine string) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "<html>shop</html>")
	}))
	defer backend.Close()
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Proxy.Enabled, cfg.Proxy.Addr, cfg.Proxy.Upstreams, cfg.Proxy.App = true, "127.0.0.1:0", []string{backend.URL}, "shop"
	cfg.Proxy.Engine = engine
	cfg.HTTP.TrustedProxies = []string{"127.0.0.1/32"} // the proxy forwards first-party requests from loopback
	a := startRoles(t, cfg, app.Roles{Collector: true, Sink: true, Proxy: true})
	defer a.Stop()
	base := "http://" + a.ProxyAddr()

	r := do(t, "GET", base+"/product/42?ref=mail", nil, map[string]string{"Cookie": "vid=v-proxy", "X-Forwarded-For": "203.0.113.7"})
	if r.status != 200 || string(r.body) != "<html>shop</html>" {
		t.Fatalf("proxied page: %d %q", r.status, r.body)
	}
	r = do(t, "GET", base+"/_e/tr/v1/ename/signup_click/vid/v-proxy", nil, nil)
	if r.status != 200 {
		t.Fatalf("first-party tracking: %d %s", r.status, r.body)
	}
	evs := byName(waitStored(t, dir, 2, 30*time.Second))
	page, click := evs["http_request"], evs["signup_click"]
	if page == nil || click == nil {
		t.Fatalf("stored %v", evs)
	}
	props := map[string]string{}
	for k, v := range page.Props {
		props[k] = string(v)
	}
	if page.Endpoint != "proxy" || page.VisitorID != "v-proxy" || page.App != "shop" || props["status"] != "200" ||
		props["path"] != `"/product/42"` || props["method"] != `"GET"` {
		t.Errorf("proxy event: %+v props %v", page, props)
	}
	// The proxy trusts loopback too here, so the client's forwarded address
	// is the one hashed, by the proxy and by the collector behind it.
	key := hashKeyOf(t, dir)
	if want := schema.HashIP(key, "203.0.113.7"); page.IPHash != want {
		t.Errorf("proxy event ip_hash %s, want the hash of the forwarded client %s", page.IPHash, want)
	}
	if click.Endpoint != "tr" || click.VisitorID != "v-proxy" {
		t.Errorf("first-party event: %+v", click)
	}
}

// NATS down: the proxy goes on serving every request at once; its events
// wait in the collector's spool and are stored exactly once when NATS is
// back.
func TestProxyServesWhileNATSIsDown(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer backend.Close()
	dir := t.TempDir()
	natsDir, natsAddr := filepath.Join(dir, "nats-server"), freePort(t)
	srv, err := bus.StartEmbedded(natsDir, natsAddr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(dir)
	cfg.NATS.URL = "nats://" + natsAddr
	cfg.Proxy.Enabled, cfg.Proxy.Addr, cfg.Proxy.Upstreams = true, "127.0.0.1:0", []string{backend.URL}
	a := startRoles(t, cfg, app.Roles{Collector: true, Sink: true, Proxy: true})
	defer a.Stop()
	srv.Shutdown()

	const n = 50
	began := time.Now()
	for i := range n {
		r := do(t, "GET", fmt.Sprintf("http://%s/page/%d", a.ProxyAddr(), i), nil, nil)
		if r.status != 200 || string(r.body) != "ok" {
			t.Fatalf("request %d with NATS down: %d %q", i, r.status, r.body)
		}
	}
	t.Logf("%d proxied requests with NATS down in %v", n, time.Since(began))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, recs := a.SpoolSize(); recs > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the proxy's events were not spooled while NATS was down")
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv, err = bus.StartEmbedded(natsDir, natsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	evs := waitStored(t, dir, n, 60*time.Second)
	paths := map[string]int{}
	for _, e := range evs {
		var path string
		_ = json.Unmarshal(e.Props["path"], &path)
		paths[path]++
	}
	for i := range n {
		if c := paths[fmt.Sprintf("/page/%d", i)]; c != 1 {
			t.Errorf("/page/%d stored %d times, want once", i, c)
		}
	}
}
