package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	analytics "github.com/segmentio/analytics-go/v3"
	"github.com/spoor-dev/spoor/schema"
)

// callbacks counts what a Segment library says it delivered.
type callbacks struct {
	mu       sync.Mutex
	ok, fail int
	errs     []string
}

func (c *callbacks) Success(analytics.Message) { c.mu.Lock(); c.ok++; c.mu.Unlock() }
func (c *callbacks) Failure(_ analytics.Message, err error) {
	c.mu.Lock()
	c.fail++
	c.errs = append(c.errs, err.Error())
	c.mu.Unlock()
}

// Segment's own Go library (github.com/segmentio/analytics-go/v3), its
// endpoint pointed at the collector: every call stored, with the fields
// docs/events.md promises.
func TestSegmentAnalyticsGo(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Segment.WriteKeys = map[string]string{writeKey: segmentApp}
	a := start(t, cfg)
	defer a.Stop()
	cb := &callbacks{}
	client, err := analytics.NewWithConfig(writeKey, analytics.Config{Endpoint: "http://" + a.Addr(), Interval: 200 * time.Millisecond,
		BatchSize: 20, Callback: cb})
	if err != nil {
		t.Fatal(err)
	}
	const tracks = 50
	enq := func(m analytics.Message) {
		if err := client.Enqueue(m); err != nil {
			t.Fatal(err)
		}
	}
	enq(analytics.Identify{UserId: "go-user-1", Traits: analytics.NewTraits().SetEmail("Peter.Gibbons@example.com").Set("plan", "pro")})
	for i := range tracks {
		enq(analytics.Track{UserId: "go-user-1", Event: "Item Purchased", Properties: analytics.NewProperties().SetRevenue(14.99).Set("item", i),
			Context: &analytics.Context{Campaign: analytics.CampaignInfo{Name: "spring", Source: "news"}, UserAgent: chrome}})
	}
	enq(analytics.Page{AnonymousId: "go-anon-1", Name: "Pricing", Properties: analytics.NewProperties().SetURL("https://shop.example/pricing")})
	enq(analytics.Screen{UserId: "go-user-1", Name: "Home"})
	enq(analytics.Group{UserId: "go-user-1", GroupId: "initech", Traits: analytics.NewTraits().Set("employees", 420)})
	enq(analytics.Alias{UserId: "go-user-1", PreviousId: "go-anon-1"})
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if cb.fail > 0 || cb.ok != tracks+5 {
		t.Fatalf("analytics-go: %d delivered, %d failed: %v", cb.ok, cb.fail, cb.errs)
	}
	evs := waitStored(t, dir, tracks+5, 15*time.Second)
	checkLibraryEvents(t, evs, "analytics-go@", "go-user-1", "go-anon-1", tracks)
}

const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"

// checkLibraryEvents checks the events one library's identify, tracks,
// page, screen, group and alias left in the store.
func checkLibraryEvents(t *testing.T, evs []*schema.Event, library, user, anon string, tracks int) {
	t.Helper()
	names := map[string]int{}
	for _, e := range evs {
		names[e.EventName]++
		if e.App != segmentApp || e.Endpoint != "segment" || !strings.HasPrefix(e.LibraryVersion, library) {
			t.Errorf("%s: app %q endpoint %q library %q, want %s…", e.EventName, e.App, e.Endpoint, e.LibraryVersion, library)
		}
		if e.Bot != nil && *e.Bot {
			t.Errorf("%s flagged as a bot (%s): a server library's own agent is not its user's", e.EventName, e.BotFamily)
		}
		switch e.EventName {
		case "identify":
			if e.UserID != user || e.EmailHash == "" || strings.Contains(props(e), "Gibbons") || string(e.Props["plan"]) != `"pro"` {
				t.Errorf("identify: user %q email_hash %q props %s", e.UserID, e.EmailHash, props(e))
			}
		case "Item Purchased":
			if e.UserID != user || string(e.Props["revenue"]) != "14.99" || e.Campaign != "spring" || e.Source != "news" || e.ClientTime == nil {
				t.Errorf("track: user %q revenue %s campaign %q/%q time %v", e.UserID, e.Props["revenue"], e.Campaign, e.Source, e.ClientTime)
			}
		case "page_view":
			if e.VisitorID != anon || e.URL != "https://shop.example/pricing" || string(e.Props["name"]) != `"Pricing"` {
				t.Errorf("page: visitor %q url %q props %s", e.VisitorID, e.URL, props(e))
			}
		case "group":
			if string(e.Props["group_id"]) != `"initech"` || string(e.Props["employees"]) != "420" {
				t.Errorf("group: props %s", props(e))
			}
		case "alias":
			if e.UserID != user || string(e.Props["previous_id"]) != `"`+anon+`"` {
				t.Errorf("alias: user %q props %s", e.UserID, props(e))
			}
		}
	}
	want := map[string]int{"Item Purchased": tracks, "identify": 1, "page_view": 1, "screen_view": 1, "group": 1, "alias": 1}
	for n, c := range want {
		if names[n] != c {
			t.Errorf("%s stored %d times, want %d (all: %v)", n, names[n], c, names)
		}
	}
}

// Segment's mobile libraries (analytics-swift, analytics-kotlin, React
// Native) fetch their settings from the CDN host at start and post batches
// to <apiHost>/b; with both hosts set to the collector, the settings name
// it as the only destination, and a batch as analytics-kotlin sends it
// (gzipped text/plain, the write key in the body, no Authorization) is
// stored.
func TestSegmentMobileEndpoints(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Segment.WriteKeys = map[string]string{writeKey: segmentApp}
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	r := do(t, "GET", base+"/v1/projects/"+writeKey+"/settings", nil, nil)
	var s struct {
		Integrations map[string]struct {
			APIKey  string `json:"apiKey"`
			APIHost string `json:"apiHost"`
		} `json:"integrations"`
		Plan          map[string]any `json:"plan"`
		RemotePlugins []any          `json:"remotePlugins"`
		Metrics       struct {
			SampleRate *float64 `json:"sampleRate"`
		} `json:"metrics"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &s) != nil {
		t.Fatalf("settings: %d %s", r.status, r.body)
	}
	if io := s.Integrations["Segment.io"]; len(s.Integrations) != 1 || io.APIKey != writeKey || io.APIHost != a.Addr()+"/v1" ||
		s.Plan == nil || len(s.RemotePlugins) != 0 || s.Metrics.SampleRate == nil || *s.Metrics.SampleRate != 0 {
		t.Errorf("settings: %s", r.body)
	}
	if r := do(t, "GET", base+"/v1/projects/wk_unknown/settings", nil, nil); r.status != 404 || reason(t, r) != "invalid_write_key" {
		t.Errorf("an unknown key's settings: %d %s", r.status, r.body)
	}
	batch := `{"batch":[{"type":"track","event":"Application Opened","anonymousId":"dev-1","messageId":"6a3f1e7c-0b7d-4a7e-9d8e-2f4b5c6d7e8f",
		"timestamp":"2026-12-04T08:00:00.000Z","properties":{"from_background":false},
		"context":{"library":{"name":"analytics-kotlin","version":"1.19.1"},"app":{"version":"3.2.0"},"os":{"name":"Android","version":"15"},
		"device":{"model":"Pixel 9","type":"android"},"screen":{"width":1080,"height":2424},"locale":"en-GB","timezone":"Europe/London"}},
		{"type":"screen","name":"Home","anonymousId":"dev-1","timestamp":"2026-12-04T08:00:01.000Z"}],
		"sentAt":"2026-12-04T08:00:02.000Z","writeKey":"` + writeKey + `"}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(batch))
	zw.Close()
	if r := do(t, "POST", base+"/v1/b", gz.Bytes(), map[string]string{"Content-Type": "text/plain", "Content-Encoding": "gzip"}); r.status != 200 {
		t.Fatalf("/v1/b: %d %s", r.status, r.body)
	}
	evs := byName(waitStored(t, dir, 2, 10*time.Second))
	e := evs["Application Opened"]
	if e == nil || e.VisitorID != "dev-1" || e.LibraryVersion != "analytics-kotlin@1.19.1" || e.OS != "Android 15" || e.Device != "Pixel 9" ||
		e.Width == nil || *e.Width != 1080 || e.Language != "en-GB" || string(e.Release) != `"3.2.0"` {
		t.Errorf("Application Opened: %+v", e)
	}
	if evs["screen_view"] == nil {
		t.Error("the screen call was not stored")
	}
}

// Segment's own Python library (segment-analytics-python, from PyPI, in a
// virtualenv under .cache), its host pointed at the collector.
func TestSegmentAnalyticsPython(t *testing.T) {
	py := pythonEnv(t, "segmentpy")
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Segment.WriteKeys = map[string]string{writeKey: segmentApp}
	a := start(t, cfg)
	defer a.Stop()
	const tracks = 50
	cmd := exec.Command(py, "send.py")
	cmd.Dir = "segmentpy"
	cmd.Env = append(os.Environ(), "SPOOR_URL=http://"+a.Addr(), "WRITE_KEY="+writeKey, fmt.Sprintf("TRACKS=%d", tracks))
	out, err := cmd.CombinedOutput()
	var res struct{ Sent, Errors int }
	if err != nil || json.Unmarshal(lastLine(out), &res) != nil || res.Sent != tracks+5 || res.Errors != 0 {
		t.Fatalf("analytics-python: %v\n%s", err, out)
	}
	checkLibraryEvents(t, waitStored(t, dir, res.Sent, 15*time.Second), "analytics-python@", "py-user-1", "py-anon-1", tracks)
}

func lastLine(out []byte) []byte {
	out = bytes.TrimSpace(out)
	return out[bytes.LastIndexByte(out, '\n')+1:]
}

// pythonEnv is the python of a virtualenv (.cache/<name>-venv) holding
// e2e/<name>/requirements.txt, made the first time. Under CI=true a
// missing python fails.
func pythonEnv(t *testing.T, name string) string {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is needed: ", err)
		}
		t.Skip("python3 not installed")
	}
	venv, err := filepath.Abs(filepath.Join("..", ".cache", name+"-venv"))
	if err != nil {
		t.Fatal(err)
	}
	py := filepath.Join(venv, "bin", "python")
	stamp := filepath.Join(venv, "requirements.txt")
	want, err := os.ReadFile(filepath.Join(name, "requirements.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if have, err := os.ReadFile(stamp); err == nil && bytes.Equal(have, want) {
		return py
	}
	for _, c := range [][]string{{"python3", "-m", "venv", venv}, {py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", filepath.Join(name, "requirements.txt")}} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	if err := os.WriteFile(stamp, want, 0o644); err != nil {
		t.Fatal(err)
	}
	return py
}

// RudderStack's own Node library (@rudderstack/rudder-sdk-node), its data
// plane URL pointed at the collector: the same calls, the same events.
func TestRudderStackNode(t *testing.T) {
	node := nodeModules(t, "@rudderstack/rudder-sdk-node")
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Segment.WriteKeys = map[string]string{writeKey: segmentApp}
	a := start(t, cfg)
	defer a.Stop()
	const tracks = 50
	cmd := exec.Command(node, "send-rudder.mjs")
	cmd.Dir = "segmentnode"
	cmd.Env = append(os.Environ(), "SPOOR_URL=http://"+a.Addr(), "WRITE_KEY="+writeKey, fmt.Sprintf("TRACKS=%d", tracks))
	out, err := cmd.CombinedOutput()
	var res struct{ Sent, Errors int }
	if err != nil || json.Unmarshal(lastLine(out), &res) != nil || res.Sent != tracks+5 || res.Errors != 0 {
		t.Fatalf("rudder-sdk-node: %v\n%s", err, out)
	}
	checkLibraryEvents(t, waitStored(t, dir, res.Sent, 15*time.Second), "analytics-node@", "rudder-user-1", "rudder-anon-1", tracks)
}

// nodeModules is node, with e2e/segmentnode's packages installed (npm ci
// the first time, or when pkg is missing). Under CI=true a missing node
// fails.
func nodeModules(t *testing.T, pkg string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is needed: ", err)
		}
		t.Skip("node not installed")
	}
	if _, err := os.Stat(filepath.Join("segmentnode", "node_modules", pkg)); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = "segmentnode"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in e2e/segmentnode: %v\n%s", err, out)
		}
	}
	return node
}
