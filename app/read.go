package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/cassandra"
	"github.com/spoor-dev/spoor/sinks/file"
)

// ReadEvents calls fn with every stored event of app received since (spoor
// plan infer): from Cassandra's events_by_day, day by day, or from the
// file store's dt= partitions from since's day on.
func ReadEvents(ctx context.Context, cfg config.Config, app string, since time.Time, log zerolog.Logger, fn func(*schema.Event)) error {
	if cfg.SinkType() == "cassandra" {
		session, err := cassandraSession(cfg, log)
		if err != nil {
			return err
		}
		defer session.Close()
		for day := cassandra.Day(since); !day.After(time.Now()); day = day.AddDate(0, 0, 1) {
			evs, err := cassandra.ReadDay(ctx, session, cfg.Cassandra.Keyspace, app, day)
			if err != nil {
				return err
			}
			for _, e := range evs {
				if !e.ReceivedAt.Before(since) {
					fn(e)
				}
			}
		}
		return nil
	}
	files, err := file.Files(cfg.File.Dir)
	if err != nil {
		return err
	}
	first := "dt=" + since.UTC().Format("2006-01-02")
	for _, p := range files {
		if dt := partitionOf(p); dt != "" && dt < first {
			continue
		}
		err := file.Scan(p, func(line []byte) error {
			e, err := schema.Decode(line)
			if err == nil && e.App == app && !e.ReceivedAt.Before(since) {
				fn(e)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
	}
	return nil
}

// partitionOf is the dt=YYYY-MM-DD directory a file is under, or "".
func partitionOf(path string) string {
	for _, part := range strings.Split(filepath.ToSlash(path), "/") {
		if strings.HasPrefix(part, "dt=") {
			return part
		}
	}
	return ""
}
