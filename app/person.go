package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/admin"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/person"
	"github.com/spoor-dev/spoor/sinks"
	"github.com/spoor-dev/spoor/sinks/cassandra"
	"github.com/spoor-dev/spoor/sinks/file"
)

// ForgetGrace is the wait between recording a forgotten person's ids and
// deleting their data: long enough for every sink to see the ids (it
// refreshes them every sinks.ForgottenRefresh) and finish a write in
// flight.
func ForgetGrace(cfg config.Config) time.Duration {
	return cfg.Sink.WriteTimeout + 2*sinks.ForgottenRefresh
}

// fileSettle is how long a forget in the file store waits for the sink to
// publish its in-progress files: a roll interval and a write, with room.
func fileSettle(cfg config.Config) time.Duration {
	return 2*cfg.File.RollInterval + cfg.Sink.WriteTimeout
}

// OpenPeople opens the identity store of the store the configuration
// writes to: Cassandra's tables, or the file store's identity and event
// files. close releases it.
func OpenPeople(cfg config.Config, log zerolog.Logger) (s person.Store, close func(), err error) {
	if cfg.SinkType() != "cassandra" {
		return person.Files{Paths: file.PathsOf(cfg.File.Dir), Settle: fileSettle(cfg)}, func() {}, nil
	}
	session, err := cassandraSession(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	return person.Cassandra{Session: session, Keyspace: cfg.Cassandra.Keyspace}, session.Close, nil
}

func cassandraSession(cfg config.Config, log zerolog.Logger) (*gocql.Session, error) {
	c, err := cassandra.NewCluster(cfg.Cassandra, log)
	if err != nil {
		return nil, err
	}
	s, err := c.CreateSession()
	if err != nil {
		return nil, fmt.Errorf("connecting to cassandra %v: %w", cfg.Cassandra.Hosts, err)
	}
	return s, nil
}

// people opens the identity store on the first forget, not at start: a
// collector comes up whether or not the store answers.
type people struct {
	cfg   config.Config
	log   zerolog.Logger
	mu    sync.Mutex
	store person.Store
	close func()
}

// forgetOptions turn the admin API's forget endpoint on, for the store
// the sink writes to.
func (a *App) forgetOptions() admin.Forget {
	a.people = &people{cfg: a.cfg, log: a.log}
	return admin.Forget{Do: a.people.forget, Grace: ForgetGrace(a.cfg)}
}

func (p *people) forget(ctx context.Context, req person.Request) (person.Report, error) {
	p.mu.Lock()
	if p.store == nil {
		s, closeFn, err := OpenPeople(p.cfg, p.log)
		if err != nil {
			p.mu.Unlock()
			return person.Report{}, fmt.Errorf("opening the store to forget: %w", err)
		}
		p.store, p.close = s, closeFn
	}
	s := p.store
	p.mu.Unlock()
	r, err := s.Forget(ctx, req)
	if err == nil {
		TellDestinations(ctx, p.cfg, &r, p.log)
	}
	return r, err
}

func (p *people) stop() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.close != nil {
		p.close()
	}
}
