package config

import (
	"strings"
	"testing"
	"time"
)

func TestRetention(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	r := Quality{RetentionDays: []string{"shop=30", "*=7", "audit=0"}}.Retention()
	for _, c := range []struct {
		app  string
		ts   time.Time
		days int
		ttl  int
	}{
		{"shop", now, 30, 30 * 86400},
		{"shop", now.Add(-29 * 24 * time.Hour), 30, 86400},
		{"shop", now.Add(-31 * 24 * time.Hour), 30, -1},
		{"blog", now.Add(-time.Hour), 7, 7*86400 - 3600},
		{"blog", now.Add(-8 * 24 * time.Hour), 7, -1},
		{"audit", now.Add(-1000 * 24 * time.Hour), 0, 0},
	} {
		if got := r.Days(c.app); got != c.days {
			t.Errorf("Days(%s) = %d, want %d", c.app, got, c.days)
		}
		if got := r.TTL(c.app, c.ts, now); got != c.ttl {
			t.Errorf("TTL(%s, %v) = %d, want %d", c.app, c.ts, got, c.ttl)
		}
	}
	if got := r.Cutoff("audit", now); !got.IsZero() {
		t.Errorf("Cutoff of a kept-forever app = %v", got)
	}
	if got := r.Cutoff("shop", now); !got.Equal(now.Add(-30 * 24 * time.Hour)) {
		t.Errorf("Cutoff(shop) = %v", got)
	}
	if r.Off() || !(Quality{}).Retention().Off() || !(Quality{RetentionDays: []string{"a=0"}}).Retention().Off() {
		t.Error("Off() wrong")
	}
}

func TestQualityValidation(t *testing.T) {
	for _, c := range []struct {
		q    Quality
		want string
	}{
		{Quality{LossThreshold: 1, RetentionSweepInterval: time.Hour}, "quality.loss_threshold"},
		{Quality{RetentionDays: []string{"shop"}, RetentionSweepInterval: time.Hour}, "quality.retention_days"},
		{Quality{RetentionDays: []string{"shop=-1"}, RetentionSweepInterval: time.Hour}, "quality.retention_days"},
		{Quality{RetentionDays: []string{"shop=99999"}, RetentionSweepInterval: time.Hour}, "quality.retention_days"},
		{Quality{RetentionDays: []string{"shop=1", "shop=2"}, RetentionSweepInterval: time.Hour}, "twice"},
		{Quality{RetentionSweepInterval: time.Second}, "quality.retention_sweep_interval"},
		{Quality{LossThreshold: 0.05, RetentionDays: []string{"*=30", "shop=365"}, RetentionSweepInterval: time.Hour}, ""},
	} {
		c2 := Default()
		c2.Quality = c.q
		err := c2.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c.q, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: got %v, want an error naming %s", c.q, err, c.want)
		}
	}
}
