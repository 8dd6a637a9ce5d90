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

// traitRow is one value an identify set.
type traitRow struct {
	name, value string
	at          time.Time
}

// foldTraits turns one user's rows, in (name ascending, at descending)
// order, into the latest value of each trait and when it took it.
func foldTraits(user string, rows []traitRow) []TraitValue {
	var out []TraitValue
	var cur *TraitValue
	done := false // the current trait's newest run has ended
	for _, r := range rows {
		if cur == nil || cur.Name != r.name {
			out = append(out, TraitValue{User: user, Name: r.name, Value: r.value, SetAt: r.at.UTC(), ChangedAt: r.at.UTC()})
			cur, done = &out[len(out)-1], false
			continue
		}
		if done || r.value != cur.Value {
			done = true
			continue
		}
		cur.ChangedAt = r.at.UTC()
	}
	return out
}

// Traits reads the latest traits of the person's users from user_traits,
// which holds every value set, newest first per trait.
func (s Cassandra) Traits(ctx context.Context, p *Person) ([]TraitValue, error) {
	var out []TraitValue
	for _, u := range p.Users {
		iter := s.Session.Query(fmt.Sprintf("SELECT trait, set_at, value FROM %s.user_traits WHERE app = ? AND user_id = ?", s.Keyspace),
			p.App, u).WithContext(ctx).PageSize(5000).Iter()
		var rows []traitRow
		var r traitRow
		for iter.Scan(&r.name, &r.at, &r.value) {
			rows = append(rows, r)
		}
		if err := iter.Close(); err != nil {
			return nil, fmt.Errorf("reading traits of user %s: %w", u, err)
		}
		out = append(out, foldTraits(u, rows)...)
	}
	return out, nil
}
