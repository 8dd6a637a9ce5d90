package admin

import (
	"context"
	"sort"

	dto "github.com/prometheus/client_model/go"
)

// Quality is what the tracking plans did and what was refused, for the
// dashboard's violations panel, from the same counters /metrics serves
// (cumulative; the page takes differences).
type Quality struct {
	// Plans are the apps with a plan: events checked by verdict, and
	// violations by event and type, most first.
	Plans []PlanHealth `json:"plans"`
	// Failed are the messages kept as failed events, by reason.
	Failed map[string]float64 `json:"failed"`
	// Loss is today's (UTC) browser message loss per app, from the SDK's
	// message index, against LossThreshold (quality.loss_threshold).
	Loss          []AppLoss `json:"loss"`
	LossThreshold float64   `json:"loss_threshold"`
	LossError     string    `json:"loss_error,omitempty"`
}

// AppLoss is one app's loss today.
type AppLoss struct {
	App       string  `json:"app"`
	Expected  int64   `json:"expected"`
	Missing   int64   `json:"missing"`
	Late      int64   `json:"late"`
	Duplicate int64   `json:"duplicate"`
	Share     float64 `json:"share"`
	Over      bool    `json:"over"` // above the threshold
}

// loss reads today's counts per app.
func (a *Admin) loss(ctx context.Context, q *Quality) {
	lo := a.o.Live
	q.LossThreshold = lo.LossThreshold
	if lo.Loss == nil {
		return
	}
	by, err := lo.Loss(ctx)
	if err != nil {
		q.LossError = err.Error()
		return
	}
	for app, c := range by {
		q.Loss = append(q.Loss, AppLoss{App: app, Expected: c.Expected(), Missing: c.Missing(), Late: c.Late, Duplicate: c.Duplicate,
			Share: c.Share(), Over: c.Share() > lo.LossThreshold})
	}
	sort.Slice(q.Loss, func(i, j int) bool { return q.Loss[i].App < q.Loss[j].App })
}

// PlanHealth is one app's plan at work.
type PlanHealth struct {
	App        string             `json:"app"`
	Version    string             `json:"version"`
	Verdicts   map[string]float64 `json:"verdicts"` // passed, audited, dropped_properties, blocked
	Violations []ViolationCount   `json:"violations"`
	Error      string             `json:"error,omitempty"` // the plan file's error now (the version above still in force)
}

// ViolationCount is how many violations of one type one event had.
type ViolationCount struct {
	Event string  `json:"event"`
	Type  string  `json:"type"`
	Count float64 `json:"count"`
}

// quality reads the plans' and the failed events' counters.
func (a *Admin) quality(mfs []*dto.MetricFamily) Quality {
	q := Quality{Failed: map[string]float64{}}
	apps := map[string]*PlanHealth{}
	app := func(name string) *PlanHealth {
		p := apps[name]
		if p == nil {
			p = &PlanHealth{App: name, Verdicts: map[string]float64{}}
			apps[name] = p
		}
		return p
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			l := labels(m.GetLabel())
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			switch mf.GetName() {
			case "spoor_plan_events_total":
				app(l["app"]).Verdicts[l["verdict"]] += v
			case "spoor_plan_violations_total":
				p := app(l["app"])
				p.Violations = append(p.Violations, ViolationCount{Event: l["event"], Type: l["type"], Count: v})
			case "spoor_plan_info":
				if v > 0 {
					app(l["app"]).Version = l["version"]
				}
			case "spoor_collector_failed_events_total":
				q.Failed[l["reason"]] += v
			}
		}
	}
	if a.o.Plans != nil {
		for _, s := range a.o.Plans.Statuses() {
			p := app(s.App)
			p.Error = s.Error
			if p.Version == "" {
				p.Version = s.Version
			}
		}
	}
	for _, p := range apps {
		sort.Slice(p.Violations, func(i, j int) bool {
			vi, vj := p.Violations[i], p.Violations[j]
			if vi.Count != vj.Count {
				return vi.Count > vj.Count
			}
			return vi.Event+vi.Type < vj.Event+vj.Type
		})
		q.Plans = append(q.Plans, *p)
	}
	sort.Slice(q.Plans, func(i, j int) bool { return q.Plans[i].App < q.Plans[j].App })
	return q
}

func labels(ls []*dto.LabelPair) map[string]string {
	out := make(map[string]string, len(ls))
	for _, l := range ls {
		out[l.GetName()] = l.GetValue()
	}
	return out
}
