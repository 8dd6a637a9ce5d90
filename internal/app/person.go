package app

import (
	"context"
	"fmt"
	"sync"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/collector"
	"github.com/spoor-dev/spoor/person"
	"github.com/spoor-dev/spoor/sinks"
	"github.com/spoor-dev/spoor/sinks/cassandra"
	"github.com/spoor-dev/spoor/sinks/file"
)

// people connects to Cassandra on the first forget, not at start: a
// collector comes up whether or not the store answers.
type people struct {
	a       *App
	mu      sync.Mutex
	session *gocql.Session
}

// forgetOptions turn the admin API's forget endpoint on, for the store
// the sink writes to.
func (a *App) forgetOptions() collector.ForgetOptions {
	grace := a.cfg.Sink.WriteTimeout + 2*sinks.ForgottenRefresh
	if a.cfg.SinkType() != "cassandra" {
		s := person.Files{Paths: file.PathsOf(a.cfg.File.Dir), Settle: 2*a.cfg.File.RollInterval + a.cfg.Sink.WriteTimeout}
		return collector.ForgetOptions{Do: s.Forget, Grace: grace}
	}
	a.people = &people{a: a}
	return collector.ForgetOptions{Do: a.people.forget, Grace: grace}
}

func (p *people) forget(ctx context.Context, req person.Request) (person.Report, error) {
	p.mu.Lock()
	if p.session == nil {
		c, err := cassandra.NewCluster(p.a.cfg.Cassandra, p.a.log)
		if err == nil {
			p.session, err = c.CreateSession()
		}
		if err != nil {
			p.mu.Unlock()
			return person.Report{}, fmt.Errorf("connecting to cassandra to forget: %w", err)
		}
	}
	s := person.Cassandra{Session: p.session, Keyspace: p.a.cfg.Cassandra.Keyspace}
	p.mu.Unlock()
	return s.Forget(ctx, req)
}

func (p *people) close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.session != nil {
		p.session.Close()
	}
}
