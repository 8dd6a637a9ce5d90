package cassandra

import (
	"context"
	"fmt"
	"strconv"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/schema/cql"
)

// dayTablesVersion is the migration that adds visitor_events and
// sessions_by_day (decision 0007), which the sink writes.
const dayTablesVersion = 15

// appDaysVersion is the migration that adds app_days (decision 0008),
// which the sink writes and readers of a visitor's days read: the schema
// the sink needs.
const appDaysVersion = 16

// Apply creates the keyspace if needed, applies every migration not yet
// recorded in schema_migrations, fixes the bucket count on first use and
// sets the TTL. It is idempotent: running it again changes nothing.
func Apply(ctx context.Context, o Options, log zerolog.Logger) error {
	migs, err := cql.Migrations(o.Keyspace)
	if err != nil {
		return err
	}
	c, err := NewCluster(o, log) // its own: a host policy cannot be shared between sessions
	if err != nil {
		return err
	}
	c.Consistency = gocql.Quorum // schema bookkeeping reads its own writes
	if o.Replication == "{'class': 'SimpleStrategy', 'replication_factor': 1}" {
		c.Consistency = gocql.One
	}
	s, err := c.CreateSession()
	if err != nil {
		return fmt.Errorf("connecting to cassandra %v: %w", o.Hosts, err)
	}
	defer s.Close()
	ks := o.Keyspace
	ddl := func(stmt string) error {
		if err := s.Query(stmt).WithContext(ctx).Exec(); err != nil {
			return err
		}
		return s.AwaitSchemaAgreement(ctx)
	}
	if err := ddl(fmt.Sprintf("CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s", ks, o.Replication)); err != nil {
		return fmt.Errorf("creating keyspace %s: %w", ks, err)
	}
	if err := ddl(fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s.schema_migrations (
		version int PRIMARY KEY, name text, checksum text, applied_at timestamp)`, ks)); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	applied := map[int]string{}
	iter := s.Query(fmt.Sprintf("SELECT version, checksum FROM %s.schema_migrations", ks)).WithContext(ctx).Iter()
	var v int
	var sum string
	for iter.Scan(&v, &sum) {
		applied[v] = sum
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("reading schema_migrations: %w", err)
	}
	upgraded := false // the day tables (015) come to a keyspace that had events_by_visitor
	for _, m := range migs {
		if got, ok := applied[m.Version]; ok {
			if got != m.Checksum {
				return fmt.Errorf("migration %s was changed after it was applied (checksum %s, applied %s): add a new migration instead", m.Name, m.Checksum, got)
			}
			continue
		}
		for _, stmt := range m.Statements {
			if err := ddl(stmt); err != nil {
				return fmt.Errorf("applying %s: %w", m.Name, err)
			}
		}
		if err := s.Query(fmt.Sprintf("INSERT INTO %s.schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)", ks),
			m.Version, m.Name, m.Checksum, time.Now()).WithContext(ctx).Exec(); err != nil {
			return fmt.Errorf("recording %s: %w", m.Name, err)
		}
		log.Info().Str("migration", m.Name).Str("keyspace", ks).Msg("migration applied")
		upgraded = upgraded || (m.Version == dayTablesVersion && len(applied) > 0)
	}
	if upgraded {
		// Sinks of earlier versions wrote events_by_visitor and sessions until
		// now: the sessionizer counts their rows of the days up to this one.
		if err := s.Query(fmt.Sprintf("INSERT INTO %s.settings (name, value) VALUES ('visitor_tables_until', ?) IF NOT EXISTS", ks),
			time.Now().UTC().Format(time.RFC3339)).WithContext(ctx).Exec(); err != nil {
			return fmt.Errorf("recording the upgrade to the day tables: %w", err)
		}
	}
	// The bucket count is fixed the first time; later values are ignored
	// (changing it would hide existing rows from readers).
	if err := s.Query(fmt.Sprintf("INSERT INTO %s.settings (name, value) VALUES ('buckets', ?) IF NOT EXISTS", ks),
		strconv.Itoa(o.Buckets)).WithContext(ctx).Exec(); err != nil {
		return fmt.Errorf("recording bucket count: %w", err)
	}
	ttl := int(o.TTL / time.Second)
	for _, table := range []string{"events_by_day", "events_by_visitor", "visitor_events"} {
		if err := ddl(fmt.Sprintf("ALTER TABLE %s.%s WITH default_time_to_live = %d", ks, table, ttl)); err != nil {
			return fmt.Errorf("setting ttl on %s: %w", table, err)
		}
	}
	return nil
}
