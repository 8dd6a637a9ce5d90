package file

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
)

// Paths are where the file store keeps what is not events, next to the
// events directory (outside it, so globs over the events read nothing
// else).
type Paths struct {
	Events    string // the events: <Events>/dt=…/hour=…/part-*.ndjson.gz
	Identity  string // the links: <Identity>/dt=…/part-*.ndjson.gz
	Forgotten string // forgotten ids, one JSON line each (ForgottenLine)
	Failed    string // failed events (schema.Failed), laid out as the events
	ForgetLog string // forget requests, one JSON line each
}

// PathsOf returns the layout around an events directory.
func PathsOf(events string) Paths {
	parent := filepath.Dir(filepath.Clean(events))
	return Paths{Events: events, Identity: filepath.Join(parent, "identity"),
		Forgotten: filepath.Join(parent, "forgotten.ndjson"), ForgetLog: filepath.Join(parent, "forget_log.ndjson"),
		Failed: filepath.Join(parent, "failed")}
}

// ForgottenLine is one forgotten id.
type ForgottenLine struct {
	App       string    `json:"app"`
	Kind      string    `json:"kind"` // visitor or user
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	RequestID string    `json:"request_id"`
}

// AppendLines appends JSON lines to path and fsyncs it: one write, so a
// reader sees whole lines or none of this call's.
func AppendLines(path string, lines ...any) error {
	var buf []byte
	for _, l := range lines {
		b, err := json.Marshal(l)
		if err != nil {
			return fmt.Errorf("encoding %s line: %w", filepath.Base(path), err)
		}
		buf = append(append(buf, b...), '\n')
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	return f.Close()
}

// ReadForgotten reads the forgotten ids as a set of (app, kind, id).
func ReadForgotten(path string) (map[[3]string]bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	set := map[[3]string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l ForgottenLine
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.ID == "" {
			continue // a torn last line of a crashed append: it was never acknowledged
		}
		set[[3]string{l.App, l.Kind, l.ID}] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return set, nil
}

// forgottenFile keeps the sink's sinks.Forgotten in step with the
// forgotten file, reread only when its size or time changes.
type forgottenFile struct {
	path string
	mod  time.Time
	size int64
	set  sinks.Forgotten
}

func (f *forgottenFile) refresh() error {
	now := time.Now()
	if !f.set.Stale(now) {
		return nil
	}
	st, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		f.set.Set(nil, now)
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking forgotten ids: %w", err)
	}
	if st.ModTime().Equal(f.mod) && st.Size() == f.size {
		f.set.Checked(now)
		return nil
	}
	ids, err := ReadForgotten(f.path)
	if err != nil {
		return err
	}
	f.mod, f.size = st.ModTime(), st.Size()
	f.set.Set(ids, now)
	return nil
}

// has reports whether e's person was forgotten. e may hold only its
// canonical bytes (a RawSink's event): its ids are peeked at.
func (f *forgottenFile) has(e *schema.Event) bool {
	if f.set.Empty() {
		return false
	}
	app, visitor, user := e.App, e.VisitorID, e.UserID
	if len(e.Raw) > 0 {
		var ok bool
		if app, visitor, user, ok = schema.PeekIDs(e.Raw); !ok {
			d, err := schema.Decode(e.Raw)
			if err != nil {
				return false
			}
			app, visitor, user = d.App, d.VisitorID, d.UserID
		}
	}
	return f.set.Has(app, visitor, user)
}
