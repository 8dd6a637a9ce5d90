package app

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spoor-dev/spoor/plan"
)

// startPlans reads the tracking plans (plans.dir) and reads them again
// every plans.reload_interval until runCtx ends. A refused file keeps its
// app's last good plan in force: said in the log and by
// spoor_plan_reload_errors_total; spoor_plan_info names each plan in force.
func (a *App) startPlans(runCtx context.Context) (*plan.Plans, error) {
	ps, err := plan.Open(a.cfg.Plans.Dir)
	if err != nil {
		return nil, fmt.Errorf("plans.dir: %w", err)
	}
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "spoor_plan_info",
		Help: "The tracking plan in force for each app (1, labelled with its version)."}, []string{"app", "version"})
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_plan_reload_errors_total",
		Help: "Plan files refused on reload (the app's last good plan stays in force)."}, []string{"app"})
	a.Reg.MustRegister(info, refused)
	set := func() {
		info.Reset()
		for _, s := range ps.Statuses() {
			if s.Version != "" || s.Error == "" {
				info.WithLabelValues(s.App, s.Version).Set(1)
			}
		}
	}
	set()
	ps.OnReload = func(app, version string, err error) {
		if err != nil {
			refused.WithLabelValues(app).Inc()
			a.log.Error().Err(err).Str("app", app).Str("in_force", version).Msg("tracking plan refused; the last good one stays in force")
		} else {
			a.log.Info().Str("app", app).Str("version", version).Msg("tracking plan read")
		}
	}
	for _, s := range ps.Statuses() {
		a.log.Info().Str("app", s.App).Str("version", s.Version).Msg("tracking plan read")
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ps.Run(runCtx, a.cfg.Plans.ReloadInterval, set)
	}()
	return ps, nil
}
