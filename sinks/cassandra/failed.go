package cassandra

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
)

// FailedSink stores failed events (schema.Failed) in failed_events, one
// row per event id: a redelivery writes the same row again. It takes the
// failed stream's lines as they are (a RawSink).
type FailedSink struct {
	opts    Options
	log     zerolog.Logger
	session *gocql.Session
	insert  string
	person  string
	// retention: failed events are kept as long as their app's events
	// (quality.retention_days), by TTL.
	retention config.Retention
}

// Retain keeps each app's failed events as long as r says. Call before Open.
func (s *FailedSink) Retain(r config.Retention) { s.retention = r }

// NewFailed returns the failed events' store; nothing connects until Open.
func NewFailed(opts Options, log zerolog.Logger) *FailedSink {
	return &FailedSink{opts: opts, log: log, insert: fmt.Sprintf(`INSERT INTO %s.failed_events (app, day, received_at, event_id,
		endpoint, event_name, visitor_id, user_id, reason, error, msg_index, violations, payload, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?`, opts.Keyspace),
		person: fmt.Sprintf(`INSERT INTO %s.failed_by_person (app, kind, id, received_at, event_id, day) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?`, opts.Keyspace)}
}

// Open connects (the event sink applies the migrations).
func (s *FailedSink) Open(ctx context.Context) error {
	cluster, err := NewCluster(s.opts, s.log)
	if err != nil {
		return err
	}
	if s.session, err = cluster.CreateSession(); err != nil {
		return fmt.Errorf("connecting to cassandra %v: %w", s.opts.Hosts, err)
	}
	return nil
}

// Write stores each failed event; a line that is no failed event is
// refused for good.
func (s *FailedSink) Write(ctx context.Context, events []*schema.Event) error {
	errs := make([]error, len(events))
	failed := false
	for i, e := range events {
		f, err := schema.DecodeFailed(e.Raw)
		if err == nil {
			var id gocql.UUID
			if id, err = gocql.ParseUUID(f.EventID); err != nil {
				err = fmt.Errorf("event id %q: %w", f.EventID, err)
			}
			if err == nil {
				app := f.App
				if app == "" {
					app = "-"
				}
				err = s.write(ctx, app, id, f)
				if err != nil {
					errs[i], failed = err, true
				}
				continue
			}
		}
		errs[i], failed = sinks.Permanent(err), true
	}
	if failed {
		return &sinks.BatchError{Errs: errs}
	}
	return nil
}

// write stores f, its person index first: a row that forget can find
// is never written without its way to be found.
func (s *FailedSink) write(ctx context.Context, app string, id gocql.UUID, f *schema.Failed) error {
	ttl := s.retention.TTL(app, f.ReceivedAt, time.Now())
	if ttl < 0 {
		return nil // past its app's retention: kept no more than its events would be
	}
	for _, p := range [][2]string{{"visitor", f.VisitorID}, {"user", f.UserID}} {
		if p[1] == "" {
			continue
		}
		if err := classify(s.session.Query(s.person, app, p[0], p[1], f.ReceivedAt, id, Day(f.ReceivedAt), ttl).
			Idempotent(true).WithContext(ctx).Exec()); err != nil {
			return err
		}
	}
	return classify(s.session.Query(s.insert, app, Day(f.ReceivedAt), f.ReceivedAt, id, f.Endpoint, f.EventName,
		f.VisitorID, f.UserID, f.Reason, f.Error, f.Index, string(f.Violations), string(f.Payload), nullable(f.Event), ttl).Idempotent(true).WithContext(ctx).Exec())
}

// Close closes the session.
func (s *FailedSink) Close() error {
	if s.session != nil {
		s.session.Close()
	}
	return nil
}

// StoresRaw: the worker hands over lines unread (sinks.RawSink).
func (s *FailedSink) StoresRaw() {}

var _ sinks.RawSink = (*FailedSink)(nil)

// nullable is raw as text, or null when empty (no tombstone-free empty
// string for a column most rows never set).
func nullable(raw []byte) any {
	if len(raw) == 0 {
		return nil
	}
	return string(raw)
}

// ReadFailed calls fn with app's failed events received in [since, until),
// day by day, newest first within a day (spoor failed replay).
func ReadFailed(ctx context.Context, session *gocql.Session, keyspace, app string, since, until time.Time, fn func(*schema.Failed) error) error {
	q := fmt.Sprintf(`SELECT event_id, received_at, endpoint, event_name, visitor_id, user_id, reason, error, msg_index,
		violations, payload, event FROM %s.failed_events WHERE app = ? AND day = ? AND received_at >= ? AND received_at < ?`, keyspace)
	for day := Day(since); !day.After(until); day = day.AddDate(0, 0, 1) {
		it := session.Query(q, app, day, since, until).WithContext(ctx).PageSize(500).Iter()
		var (
			id                                                   gocql.UUID
			at                                                   time.Time
			endpoint, name, vid, uid, reason, msg, viol, payload string
			event                                                *string
			index                                                int
		)
		for it.Scan(&id, &at, &endpoint, &name, &vid, &uid, &reason, &msg, &index, &viol, &payload, &event) {
			f := &schema.Failed{EventID: id.String(), ReceivedAt: at.UTC(), IsFailed: true, Endpoint: endpoint, App: app,
				EventName: name, VisitorID: vid, UserID: uid, Reason: reason, Error: msg, Index: index,
				Violations: rawOrNil(viol), Payload: rawOrNil(payload)}
			if event != nil {
				f.Event = rawOrNil(*event)
			}
			if err := fn(f); err != nil {
				_ = it.Close()
				return err
			}
			event = nil
		}
		if err := it.Close(); err != nil {
			return fmt.Errorf("reading failed events of %s on %s: %w", app, day.Format("2006-01-02"), err)
		}
	}
	return nil
}

func rawOrNil(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}
