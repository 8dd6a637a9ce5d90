package person

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/sinks/file"
)

// SweptBy is forget_log's requested_by of a retention sweep.
const SweptBy = "retention"

// sweepIDs is what forget_log's ids say of one app's sweep: its retention
// and the instant before which its events went.
func sweepIDs(days int, cutoff time.Time) []string {
	return []string{fmt.Sprintf("retention:%dd", days), "before:" + cutoff.UTC().Format(time.RFC3339)}
}

// Sweeper removes what is past each app's retention (quality.retention_days)
// from a store, and writes each app's sweep to forget_log with what it
// removed, as forget does. Cassandra (cqlretention.go) and the file store
// (below) implement it.
type Sweeper interface {
	Sweep(ctx context.Context, r config.Retention, now time.Time) ([]Report, error)
}

var _, _ Sweeper = Files{}, Cassandra{}

// Sweep deletes, for every app with a retention, its events (and failed
// events) received before its cutoff: a dt= partition wholly past every
// app's retention goes whole; in a partition the cutoff falls inside, or
// shared with apps kept longer, each published file is rewritten without
// them (atomically, as forget does). In-progress files are the sink's
// and are left for the next sweep. Identity links stay: they are the
// person, removed by forget.
func (s Files) Sweep(ctx context.Context, r config.Retention, now time.Time) ([]Report, error) {
	if r.Off() {
		return nil, nil
	}
	reports := map[string]*Report{}
	report := func(app string) *Report {
		if reports[app] == nil {
			reports[app] = &Report{RequestID: NewRequestID(), App: app, IDs: sweepIDs(r.Days(app), r.Cutoff(app, now)), Removed: map[string]int64{}}
		}
		return reports[app]
	}
	newest := r.Newest(now) // no line of a partition that ends before it is kept by anyone but the forever-apps
	for _, d := range []struct{ dir, what string }{{s.Paths.Events, "events"}, {s.Paths.Failed, "failed_events"}} {
		parts, err := os.ReadDir(d.dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sweeping: %w", err)
		}
		for _, p := range parts {
			day, err := time.Parse("2006-01-02", strings.TrimPrefix(p.Name(), "dt="))
			if !p.IsDir() || !strings.HasPrefix(p.Name(), "dt=") || err != nil || !day.Before(newest) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := s.sweepPartition(filepath.Join(d.dir, p.Name()), d.what, day, r, now, report); err != nil {
				return nil, err
			}
		}
	}
	var out []Report
	for _, rep := range reports {
		out = append(out, *rep)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].App < out[j].App })
	for _, rep := range out {
		if err := file.AppendLines(s.Paths.ForgetLog, LogLine{App: rep.App, RequestedAt: now.UTC(), RequestID: rep.RequestID,
			RequestedBy: SweptBy, IDs: rep.IDs, Removed: rep.Removed}); err != nil {
			return out, fmt.Errorf("sweeping: %w", err)
		}
	}
	return out, nil
}

// sweepPartition sweeps one dt= directory.
func (s Files) sweepPartition(dir, what string, day time.Time, r config.Retention, now time.Time, report func(string) *Report) error {
	paths, err := file.Files(dir)
	if err != nil {
		return err
	}
	var head struct {
		App        string    `json:"app"`
		ReceivedAt time.Time `json:"received_at"`
	}
	past := func(line []byte) bool {
		head.App, head.ReceivedAt = "", time.Time{}
		if json.Unmarshal(line, &head) != nil {
			return false
		}
		cut := r.Cutoff(head.App, now)
		return !cut.IsZero() && head.ReceivedAt.Before(cut)
	}
	whole := true // every line of the partition is past
	counts := map[string]int64{}
	for _, p := range paths {
		err := file.Scan(p, func(line []byte) error {
			if past(line) {
				counts[head.App]++
			} else {
				whole = false
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("sweeping: %w", err)
		}
	}
	if len(counts) == 0 {
		return nil
	}
	if whole && !inProgress(dir) {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("sweeping: removing %s: %w", dir, err)
		}
		for app, n := range counts {
			report(app).Removed[what] += n
			report(app).Removed["partitions_removed"]++
		}
		return nil
	}
	for _, p := range paths {
		if _, err := rewrite(p, past); err != nil {
			return fmt.Errorf("sweeping: %w", err)
		}
	}
	for app, n := range counts {
		report(app).Removed[what] += n
	}
	return nil
}

// inProgress reports whether the sink has a file in progress under dir.
func inProgress(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), ".part-") {
			found = true
		}
		return nil
	})
	return found
}
