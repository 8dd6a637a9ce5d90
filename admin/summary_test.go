package admin

import (
	"context"
	"github.com/spoor-dev/spoor/loss"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// The health summary reads each destination's counters from the metrics
// (by their destination label) and its backlog from the bus.
func TestHealthDestinations(t *testing.T) {
	reg := prometheus.NewRegistry()
	for _, name := range []string{"crm", "ga4"} {
		l := prometheus.Labels{"destination": name}
		delivered := prometheus.NewCounter(prometheus.CounterOpts{Name: "spoor_destination_events_delivered_total", ConstLabels: l})
		dead := prometheus.NewCounter(prometheus.CounterOpts{Name: "spoor_destination_dead_letters_total", ConstLabels: l})
		down := prometheus.NewGauge(prometheus.GaugeOpts{Name: "spoor_destination_down", ConstLabels: l})
		skipped := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_destination_events_skipped_total", ConstLabels: l}, []string{"reason"})
		reg.MustRegister(delivered, dead, down, skipped)
		if name == "crm" {
			delivered.Add(40)
			dead.Add(2)
			skipped.WithLabelValues("consent").Add(3)
			skipped.WithLabelValues("bot").Add(1)
		} else {
			down.Set(1)
		}
	}
	a := New(Options{Live: Live{Gatherer: reg, Connected: func() bool { return true },
		DestinationLag: func(_ context.Context, name string) (uint64, error) { return uint64(len(name)) * 10, nil }}}, zerolog.Nop())
	h := a.health(context.Background())
	if len(h.Destinations) != 2 {
		t.Fatalf("destinations: %+v", h.Destinations)
	}
	crm, ga4 := h.Destinations[0], h.Destinations[1]
	if crm.Name != "crm" || crm.Delivered != 40 || crm.DeadLettered != 2 || crm.Skipped["consent"] != 3 || crm.Skipped["bot"] != 1 ||
		crm.Down || crm.Lag == nil || *crm.Lag != 30 {
		t.Errorf("crm: %+v", crm)
	}
	if ga4.Name != "ga4" || !ga4.Down || ga4.Delivered != 0 {
		t.Errorf("ga4: %+v", ga4)
	}
}

// The data quality panel reads each plan's verdicts and violations, most
// first, and the failed events by reason, from the metrics.
func TestHealthQuality(t *testing.T) {
	reg := prometheus.NewRegistry()
	checked := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_plan_events_total"}, []string{"app", "verdict"})
	viol := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_plan_violations_total"}, []string{"app", "event", "type"})
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "spoor_plan_info"}, []string{"app", "version"})
	failed := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_collector_failed_events_total"}, []string{"endpoint", "reason"})
	reg.MustRegister(checked, viol, info, failed)
	checked.WithLabelValues("shop", "passed").Add(90)
	checked.WithLabelValues("shop", "blocked").Add(7)
	viol.WithLabelValues("shop", "Order Completed", "missing_required").Add(3)
	viol.WithLabelValues("shop", "(unplanned)", "unplanned_event").Add(4)
	info.WithLabelValues("shop", "v2").Set(1)
	failed.WithLabelValues("tr", "plan_violation").Add(7)
	failed.WithLabelValues("segment", "plan_violation").Add(1)
	failed.WithLabelValues("tr", "invalid_json").Add(2)
	a := New(Options{Live: Live{Gatherer: reg}}, zerolog.Nop())
	q := a.health(context.Background()).Quality
	if len(q.Plans) != 1 {
		t.Fatalf("plans: %+v", q.Plans)
	}
	p := q.Plans[0]
	if p.App != "shop" || p.Version != "v2" || p.Verdicts["passed"] != 90 || p.Verdicts["blocked"] != 7 || len(p.Violations) != 2 ||
		p.Violations[0] != (ViolationCount{"(unplanned)", "unplanned_event", 4}) || p.Violations[1].Count != 3 {
		t.Errorf("shop: %+v", p)
	}
	if q.Failed["plan_violation"] != 8 || q.Failed["invalid_json"] != 2 {
		t.Errorf("failed: %v", q.Failed)
	}
}

// Today's loss per app, beside the threshold: over it is flagged.
func TestHealthLoss(t *testing.T) {
	a := New(Options{Live: Live{Gatherer: prometheus.NewRegistry(), LossThreshold: 0.01,
		Loss: func(context.Context) (map[string]loss.Counts, error) {
			return map[string]loss.Counts{"shop": {Received: 97, Gap: 5, Late: 2, Duplicate: 1}, "blog": {Received: 1000, Gap: 3}}, nil
		}}}, zerolog.Nop())
	q := a.health(context.Background()).Quality
	if q.LossThreshold != 0.01 || len(q.Loss) != 2 {
		t.Fatalf("%+v", q)
	}
	blog, shop := q.Loss[0], q.Loss[1]
	if shop.App != "shop" || shop.Expected != 100 || shop.Missing != 3 || shop.Late != 2 || shop.Duplicate != 1 || shop.Share != 0.03 || !shop.Over {
		t.Errorf("shop: %+v", shop)
	}
	if blog.App != "blog" || blog.Missing != 3 || blog.Over {
		t.Errorf("blog: %+v", blog)
	}
}
