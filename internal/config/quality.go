package config

import (
	"strconv"
	"strings"
	"time"
)

// Quality is what spoor checks about the events it keeps (docs/quality.md):
// the loss it accepts and how long it keeps each app's events.
type Quality struct {
	// LossThreshold is the share of a client's messages that may go missing
	// (from the SDK's cidx, per app and hour) before the dashboard and the
	// SpoorClientLoss alert say so: 0.01 is 1%.
	LossThreshold float64 `mapstructure:"loss_threshold"`
	// LossMeter: the store sink counts the SDK's message indexes (loss/);
	// each batch writes its visitors' states to NATS before it is acked.
	LossMeter bool `mapstructure:"loss_meter"`
	// RetentionDays keeps each app's events that many days: "app=days",
	// "*=days" for every app not named; empty (the default): kept forever.
	RetentionDays []string `mapstructure:"retention_days"`
	// RetentionSweepInterval: how often the store sink removes what is past
	// its retention (what a TTL did not already cover).
	RetentionSweepInterval time.Duration `mapstructure:"retention_sweep_interval"`
}

// Retention is quality.retention_days, parsed: how long each app's events
// are kept. The zero Retention keeps everything.
type Retention struct {
	byApp map[string]int
	all   int
}

// Retention parses quality.retention_days (validated at start-up).
func (q Quality) Retention() Retention {
	r := Retention{byApp: map[string]int{}}
	for _, e := range q.RetentionDays {
		app, d, _ := strings.Cut(e, "=")
		n, _ := strconv.Atoi(d)
		if app == "*" {
			r.all = n
		} else {
			r.byApp[app] = n
		}
	}
	return r
}

// Days is how many days app's events are kept; 0: forever.
func (r Retention) Days(app string) int {
	if n, ok := r.byApp[app]; ok {
		return n
	}
	return r.all
}

// Off reports whether every app's events are kept forever.
func (r Retention) Off() bool {
	if r.all > 0 {
		return false
	}
	for _, n := range r.byApp {
		if n > 0 {
			return false
		}
	}
	return true
}

// Cutoff is the instant before which app's events are past retention at
// now; the zero time when they are kept forever.
func (r Retention) Cutoff(app string, now time.Time) time.Time {
	d := r.Days(app)
	if d <= 0 {
		return time.Time{}
	}
	return now.Add(-time.Duration(d) * 24 * time.Hour)
}

// TTL is what is left of an event's retention, received at ts, as
// Cassandra's TTL in seconds: 0 when its app keeps events forever, and
// negative when it is already past (it is not written).
func (r Retention) TTL(app string, ts, now time.Time) int {
	d := r.Days(app)
	if d <= 0 {
		return 0
	}
	left := int(ts.Add(time.Duration(d)*24*time.Hour).Sub(now) / time.Second)
	if left <= 0 {
		return -1
	}
	return left
}

func (c *Config) validateQuality(bad func(key, format string, a ...any)) {
	q := c.Quality
	if q.LossThreshold < 0 || q.LossThreshold >= 1 {
		bad("quality.loss_threshold", "must be a share in [0, 1), got %v", q.LossThreshold)
	}
	seen := map[string]bool{}
	for _, e := range q.RetentionDays {
		app, d, ok := strings.Cut(e, "=")
		n, err := strconv.Atoi(d)
		// 20 years: Cassandra's TTL stops at 2^31-1 seconds.
		if !ok || app == "" || err != nil || n < 0 || n > 20*365 {
			bad("quality.retention_days", "%q must be app=days or *=days, days in 0..7300 (0: forever)", e)
		} else if seen[app] {
			bad("quality.retention_days", "%q names %s twice", e, app)
		}
		seen[app] = true
	}
	if q.RetentionSweepInterval < time.Minute {
		bad("quality.retention_sweep_interval", "must be at least 1m, got %v", q.RetentionSweepInterval)
	}
}

// Newest is the latest cutoff of any app with a retention at now: nothing
// received after it is past anyone's retention.
func (r Retention) Newest(now time.Time) time.Time {
	least := r.all
	for _, n := range r.byApp {
		if n > 0 && (least == 0 || n < least) {
			least = n
		}
	}
	if least == 0 {
		return time.Time{}
	}
	return now.Add(-time.Duration(least) * 24 * time.Hour)
}
