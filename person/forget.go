package person

import (
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// Request names the person to forget and who asks.
type Request struct {
	App, Kind, ID string // Kind: "user" or "visitor"
	By            string // who asks, for forget_log
	// Grace is the wait between recording the ids as forgotten and
	// deleting: at least one sink write (sink.write_timeout) and
	// sinks.ForgottenRefresh, so no event in flight lands after it.
	Grace     time.Duration
	RequestID string // empty: a new one
}

// NewRequestID returns a fresh request id.
func NewRequestID() string { return gocql.MustRandomUUID().String() }

// Report is what one forget removed, per table (rows, or partitions where
// a whole partition went), and the ids it resolved.
type Report struct {
	RequestID string
	App       string
	IDs       []string // "user:…", "visitor:…"
	Removed   map[string]int64
	Cut       bool
	// Told is what each destination that takes forget notices answered:
	// "ok", or why it did not take it (docs/destinations.md).
	Told map[string]string `json:",omitempty"`
}

// Total is the number of rows and partitions removed.
func (r Report) Total() int64 {
	var n int64
	for _, v := range r.Removed {
		n += v
	}
	return n
}

// Log is one forget_log row.
type Log struct {
	RequestedAt time.Time
	RequestID   string
	By          string
	IDs         []string
	Removed     map[string]int64
}

// plan is what forgetting p covers: the ids recorded as forgotten
// ("user:…", "visitor:…") and the visitors deleted whole. A shared
// visitor is neither: only its events inside p's windows go.
func plan(p *Person, kind, id string) (ids []string, whole []Visitor) {
	for _, u := range p.Users {
		ids = append(ids, "user:"+u)
	}
	for _, v := range p.Visitors {
		if !v.Shared || len(v.Windows) == 0 {
			whole = append(whole, v)
			ids = append(ids, "visitor:"+v.ID)
		}
	}
	if len(p.Users) == 0 && len(p.Visitors) == 0 && kind == "user" {
		ids = append(ids, "user:"+id) // never seen: still refuse it from now on
	}
	return ids, whole
}
