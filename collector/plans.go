package collector

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spoor-dev/spoor/plan"
	"github.com/spoor-dev/spoor/schema"
	"github.com/valyala/fasthttp"
)

// Tracking plans (plan/): every event of an app with a plan is checked
// before it is encoded. Audit and drop_properties change the event (its
// violations noted, unplanned properties removed); block keeps it as a
// failed event (reason plan_violation) instead, like any message that can
// never be accepted: in a batch the others go on, alone it is a 400.

// planRefusal is an event its app's plan blocks.
type planRefusal struct {
	requestError
	violations []plan.Violation
	event      []byte // the event as built (schema.Failed.Event)
	eventID    string // its id
}

// planMetrics count what the plans did.
type planMetrics struct {
	Checked    *prometheus.CounterVec // by app and verdict
	Violations *prometheus.CounterVec // by app, event and violation type
}

func newPlanMetrics(reg prometheus.Registerer) planMetrics {
	m := planMetrics{
		Checked: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_plan_events_total",
			Help: "Events checked against their app's tracking plan, by verdict: passed, audited (stored with their violations), dropped_properties, blocked (kept as failed events)."},
			[]string{"app", "verdict"}),
		Violations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_plan_violations_total",
			Help: "Tracking plan violations, by app, event (a planned name, or (unplanned)) and type (unplanned_event, missing_required, wrong_type, unplanned_property, not_in_enum, out_of_range, invalid)."},
			[]string{"app", "event", "type"}),
	}
	reg.MustRegister(m.Checked, m.Violations)
	return m
}

// checkPlan checks e, encoded as data, against its app's plan, and
// returns its encoding afterwards (data, or e encoded again when the plan
// noted violations in it or dropped properties), or a planRefusal when the
// plan blocks it.
func (c *Collector) checkPlan(e *schema.Event, data []byte) ([]byte, error) {
	p := c.cfg.Plans.For(e.App)
	if p == nil {
		return data, nil
	}
	r := p.CheckEncoded(e, data)
	verdict := "passed"
	switch r.Mode {
	case plan.Audit:
		verdict = "audited"
	case plan.DropProperties:
		verdict = "dropped_properties"
	case plan.Block:
		verdict = "blocked"
	}
	c.pm.Checked.WithLabelValues(e.App, verdict).Inc()
	if len(r.Violations) == 0 && len(r.Dropped) == 0 {
		return data, nil
	}
	name := e.EventName
	if !p.Planned(name) {
		name = "(unplanned)"
	}
	for _, v := range r.Violations {
		c.pm.Violations.WithLabelValues(e.App, name, v.Type).Inc()
	}
	for range r.Dropped {
		c.pm.Violations.WithLabelValues(e.App, name, plan.UnplannedProperty).Inc()
	}
	if r.Mode != plan.Block {
		return e.Encode() // with its violations noted, or properties dropped
	}
	// data, the event as built, is what a replay sends on should a later plan pass it.
	return nil, &planRefusal{requestError{fasthttp.StatusBadRequest, "plan_violation",
		fmt.Sprintf("event %q breaks the %s plan (version %s): %s", e.EventName, e.App, p.Version, plan.Summary(r.Violations))},
		r.Violations, data, e.EventID}
}

// withViolations adds a blocked event's violations, and the event as
// built, to its failed event: the failed event takes the event's id, so a
// replay of it is the same event however often it runs.
func withViolations(f *schema.Failed, err error) *schema.Failed {
	var pr *planRefusal
	if errors.As(err, &pr) {
		f.Violations, _ = json.Marshal(pr.violations)
		if len(pr.event) > 0 && len(pr.event) <= schema.MaxFailedPayload {
			f.Event, f.EventID = pr.event, pr.eventID
		}
	}
	return f
}
