package app

import (
	"context"
	"fmt"
	"sync"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/collector"
	"github.com/spoor-dev/spoor/person"
	"github.com/spoor-dev/spoor/sinks/cassandra"
)

// people connects to Cassandra on the first forget, not at start: a
// collector comes up whether or not the store answers.
type people struct {
	a       *App
	mu      sync.Mutex
	session *gocql.Session
}

// forgetOptions turn the admin API's forget endpoint on when the store is
// Cassandra.
func (a *App) forgetOptions() collector.ForgetOptions {
	if a.cfg.SinkType() != "cassandra" {
		return collector.ForgetOptions{}
	}
	a.people = &people{a: a}
	return collector.ForgetOptions{Do: a.people.forget, Grace: a.cfg.Sink.WriteTimeout + 2*cassandra.ForgottenRefresh}
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
	s := person.Store{Session: p.session, Keyspace: p.a.cfg.Cassandra.Keyspace}
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
