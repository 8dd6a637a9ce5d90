package canary

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/sinks/cassandra"
	"github.com/spoor-dev/spoor/sinks/file"
)

// Cassandra finds probes by their visitor (cassandra.StoredAt: the
// visitor's tables, day by day), with the time the sink wrote the event's
// events_by_day row (its write time).
type Cassandra struct {
	Session  *gocql.Session
	Keyspace string
}

// Find implements Store.
func (s Cassandra) Find(ctx context.Context, probes []Probe) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	var firstErr error
	for _, p := range probes {
		at, ok, err := cassandra.StoredAt(ctx, s.Session, s.Keyspace, p.App, p.Visitor, p.Sent.Add(-time.Minute))
		switch {
		case err != nil:
			if firstErr == nil {
				firstErr = fmt.Errorf("looking for the canary's events: %w", err)
			}
		case ok:
			out[p.Visitor] = at
		}
	}
	return out, firstErr
}

// Files finds probes in the file store's published files, reading each new
// or grown file once; an event's time is its file's publish time (when a
// reader can first see it).
type Files struct {
	Dir string

	mu   sync.Mutex
	read map[string]int64 // path -> size read
	seen map[string]time.Time
}

// Find implements Store.
func (s *Files) Find(_ context.Context, probes []Probe) (map[string]time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.read == nil {
		s.read, s.seen = map[string]int64{}, map[string]time.Time{}
	}
	oldest := time.Now()
	for _, p := range probes {
		if p.Sent.Before(oldest) {
			oldest = p.Sent
		}
	}
	paths, err := file.Files(s.Dir)
	if err != nil {
		return nil, err
	}
	listed := make(map[string]bool, len(paths))
	for _, p := range paths {
		listed[p] = true
	}
	for p := range s.read {
		if !listed[p] {
			delete(s.read, p)
		}
	}
	var head struct {
		VisitorID string `json:"visitor_id"`
	}
	for _, path := range paths {
		st, err := os.Stat(path)
		if err != nil || st.ModTime().Before(oldest.Add(-time.Second)) || s.read[path] == st.Size() {
			continue
		}
		s.read[path] = st.Size()
		err = file.Scan(path, func(line []byte) error {
			if !bytes.Contains(line, []byte(`"canary":true`)) {
				return nil
			}
			if json.Unmarshal(line, &head) == nil {
				s.seen[head.VisitorID] = st.ModTime()
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := map[string]time.Time{}
	for _, p := range probes {
		if at, ok := s.seen[p.Visitor]; ok {
			out[p.Visitor] = at
			delete(s.seen, p.Visitor)
		}
	}
	// What no probe waits for any more (found, or sent before a restart).
	for vid, at := range s.seen {
		if time.Since(at) > time.Hour {
			delete(s.seen, vid)
		}
	}
	return out, nil
}
