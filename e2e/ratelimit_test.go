package e2e

import (
	"bytes"
	"testing"
)

// Over its per-IP rate a client gets 429 with a JSON reason and
// Retry-After; the pixel still answers its GIF; the loss is counted.
func TestRateLimitPerIP(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.HTTP.RateLimitPerIP = 1
	cfg.HTTP.RateBurstPerIP = 3
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	codes := map[int]int{}
	var limited response
	for i := 0; i < 6; i++ {
		r := do(t, "POST", base+"/tr/v1/", []byte(`{"ename":"x"}`), nil)
		codes[r.status]++
		if r.status == 429 {
			limited = r
		}
	}
	if codes[200] != 3 || codes[429] != 3 {
		t.Fatalf("statuses %v, want 3×200 then 3×429", codes)
	}
	if reason(t, limited) != "rate_limited" || limited.header.Get("Retry-After") == "" {
		t.Fatalf("429 without reason or Retry-After: %v %s", limited.header, limited.body)
	}
	r := do(t, "GET", base+"/img/v1/ename/open", nil, nil)
	if r.status != 200 || !bytes.HasPrefix(r.body, []byte("GIF89a")) {
		t.Fatalf("pixel over the limit: %d", r.status)
	}
	m := do(t, "GET", base+"/metrics", nil, nil)
	if !metricIs(m.body, `spoor_collector_events_lost_total{reason="rate_limited"}`, 1) ||
		!metricIs(m.body, `spoor_collector_rejected_total{reason="rate_limited"}`, 3) {
		t.Fatalf("rate-limited requests not counted:\n%s", m.body)
	}
	if h := do(t, "GET", base+"/healthz", nil, nil); h.status != 200 {
		t.Fatalf("health endpoints must not be limited: %d", h.status)
	}
}
