package proxy

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	byClass           [6]prometheus.Counter // requests by statusClass, 1xx..5xx at [1]..[5]
	excluded, blocked prometheus.Counter
	requests          *prometheus.CounterVec
	events            *prometheus.CounterVec
	healthy           *prometheus.GaugeVec
	retries           prometheus.Counter
	latency           prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_proxy_requests_total",
			Help: "Requests by the class of the answer (2xx..5xx), first_party for those forwarded to the collector, rate_limited for those refused 429."}, []string{"class"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_proxy_events_total",
			Help: "The proxy's events by outcome: tracked, excluded (path filter), blocked (block list), lost_queue_full, lost_unavailable, lost_shutdown."}, []string{"outcome"}),
		healthy: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "spoor_proxy_upstream_healthy",
			Help: "1 while the upstream is in rotation."}, []string{"upstream"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "spoor_proxy_retries_total",
			Help: "Requests retried on another upstream after a refused connection."}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "spoor_proxy_request_seconds",
			Help: "Time from request to the end of the response body, upstream included.", Buckets: prometheus.DefBuckets}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.events, m.healthy, m.retries, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering proxy metrics: %w", err)
		}
	}
	for _, o := range []string{"tracked", "excluded", "blocked", "lost_queue_full", "lost_unavailable", "lost_shutdown"} {
		m.events.WithLabelValues(o)
	}
	for c := 1; c <= 5; c++ {
		m.byClass[c] = m.requests.WithLabelValues(statusClass(c * 100))
	}
	m.excluded, m.blocked = m.events.WithLabelValues("excluded"), m.events.WithLabelValues("blocked")
	return m, nil
}

// answered counts a request by the class of its answer.
func (m *metrics) answered(code int) {
	if c := code / 100; c >= 1 && c <= 5 {
		m.byClass[c].Inc()
		return
	}
	m.requests.WithLabelValues(statusClass(code)).Inc()
}
