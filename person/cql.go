package person

import (
	"context"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/sinks/cassandra"
)

// Cassandra is the Store of the Cassandra tables (docs/data-model.md).
type Cassandra struct {
	Session  *gocql.Session
	Keyspace string
}

var _ Store = Cassandra{}

// Resolve reads the links from identity_by_visitor and identity_by_user,
// one partition per id walked.
func (s Cassandra) Resolve(ctx context.Context, app, kind, id string) (*Person, error) {
	return resolve(ctx, app, kind, id, func(ctx context.Context, kind, id string) ([]Link, error) {
		ls, err := cassandra.ReadLinks(ctx, s.Session, s.Keyspace, app, kind, id)
		out := make([]Link, len(ls))
		for i, l := range ls {
			out[i] = Link{Visitor: l.Visitor, User: l.User, FirstSeen: l.FirstSeen, LastSeen: l.LastSeen, Via: l.Via}
		}
		return out, err
	})
}
