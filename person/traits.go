package person

import (
	"context"
	"fmt"
	"time"
)

// TraitValue is a user's latest value of one trait.
type TraitValue struct {
	User, Name string
	Value      string // JSON, as the identify sent it
	SetAt      time.Time
	// ChangedAt is when the trait took this value: the oldest of the
	// newest run of identifies that sent it (re-sending the same value
	// changes nothing).
	ChangedAt time.Time
}

// Traits reads the latest traits of the person's users.
func (s Store) Traits(ctx context.Context, p *Person) ([]TraitValue, error) {
	var out []TraitValue
	for _, u := range p.Users {
		iter := s.Session.Query(fmt.Sprintf("SELECT trait, set_at, value FROM %s.user_traits WHERE app = ? AND user_id = ?", s.Keyspace),
			p.App, u).WithContext(ctx).PageSize(5000).Iter()
		var name, value string
		var at time.Time
		var cur *TraitValue
		done := false // the current trait's newest run has ended
		for iter.Scan(&name, &at, &value) {
			if cur == nil || cur.Name != name {
				out = append(out, TraitValue{User: u, Name: name, Value: value, SetAt: at.UTC(), ChangedAt: at.UTC()})
				cur, done = &out[len(out)-1], false
				continue
			}
			if done || value != cur.Value {
				done = true
				continue
			}
			cur.ChangedAt = at.UTC()
		}
		if err := iter.Close(); err != nil {
			return nil, fmt.Errorf("reading traits of user %s: %w", u, err)
		}
	}
	return out, nil
}
