package collector

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the collector's per-stage counters and latencies, exposed on
// /metrics in Prometheus text format.
type Metrics struct {
	Requests   *prometheus.CounterVec   // by endpoint and status code
	Received   *prometheus.CounterVec   // events parsed, by endpoint
	Published  *prometheus.CounterVec   // events JetStream acknowledged, by path (direct|replay)
	Spooled    prometheus.Counter       // events written to the disk spool
	Acked      *prometheus.CounterVec   // events answered 2xx, by via (bus|spool)
	Rejected   *prometheus.CounterVec   // events or requests refused, by reason
	Lost       *prometheus.CounterVec   // pixel/redirect events that could not be kept, by reason
	Failed     *prometheus.CounterVec   // messages kept as failed events, by endpoint and reason
	FailedLost prometheus.Counter       // failed events that could not be made durable
	Bots       *prometheus.CounterVec   // machine traffic by endpoint, flagged or dropped
	Panics     prometheus.Counter       // handler panics recovered
	Latency    *prometheus.HistogramVec // request duration, by endpoint
	AckWait    *prometheus.HistogramVec // time from publish to PubAck or spool fsync, by via

	// Acked and AckWait resolved for each via, once: the label lookup
	// costs on every request.
	byVia map[string]viaMetrics
}

type viaMetrics struct {
	acked prometheus.Counter
	wait  prometheus.Observer
}

// via returns Acked and AckWait for one value of their label.
func (m *Metrics) via(v string) viaMetrics {
	if vm, ok := m.byVia[v]; ok {
		return vm
	}
	return viaMetrics{m.Acked.WithLabelValues(v), m.AckWait.WithLabelValues(v)}
}

// NewMetrics registers the collector metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_collector_requests_total",
			Help: "HTTP requests by endpoint and status code."}, []string{"endpoint", "code"}),
		Received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_collector_events_received_total",
			Help: "Events parsed from requests, by endpoint."}, []string{"endpoint"}),
		Published: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_collector_events_published_total",
			Help: "Events JetStream acknowledged, by path: direct (the request's publish), replay (from the spool after JetStream was down or slow), forward (collector.ack: local)."}, []string{"path"}),
		Spooled: prometheus.NewCounter(prometheus.CounterOpts{Name: "spoor_collector_events_spooled_total",
			Help: "Events appended to the local disk spool because JetStream was down or slow."}),
		Acked: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_collector_events_acked_total",
			Help: "Events answered with 2xx, by where they were held at that moment: bus (JetStream's PubAck), spool (the disk fallback), local (collector.ack: local)."}, []string{"via"}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_collector_rejected_total",
			Help: "Requests or events refused, by reason."}, []string{"reason"}),
		Bots: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_collector_bot_events_total",
			Help: "Events of machine traffic (crawlers, headless browsers, header signals), by endpoint: flagged and kept, or dropped (collector.drop_bots)."},
			[]string{"endpoint", "action"}),
		Lost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_collector_events_lost_total",
			Help: "Pixel or redirect events that could not be kept (the client still got its GIF or 302), by reason."}, []string{"reason"}),
		Failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_collector_failed_events_total",
			Help: "Messages that could not become events, kept as failed events with their reason, by endpoint and reason."}, []string{"endpoint", "reason"}),
		FailedLost: prometheus.NewCounter(prometheus.CounterOpts{Name: "spoor_collector_failed_events_lost_total",
			Help: "Failed events that could not be kept (JetStream and the spool both unavailable); their requests were still answered 4xx."}),
		Panics: prometheus.NewCounter(prometheus.CounterOpts{Name: "spoor_collector_panics_total",
			Help: "Handler panics recovered."}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "spoor_collector_request_seconds",
			Help:    "Request handling time, by endpoint.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"endpoint"}),
		AckWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "spoor_collector_ack_seconds",
			Help:    "Time from handing events over to holding them durably, by via (bus|spool|local).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"via"}),
	}
	m.byVia = map[string]viaMetrics{}
	for _, v := range []string{"bus", "spool", AckLocal} {
		m.byVia[v] = viaMetrics{m.Acked.WithLabelValues(v), m.AckWait.WithLabelValues(v)}
	}
	reg.MustRegister(m.Requests, m.Received, m.Published, m.Spooled, m.Acked, m.Rejected, m.Lost, m.Failed, m.FailedLost, m.Bots, m.Panics, m.Latency, m.AckWait)
	return m
}
