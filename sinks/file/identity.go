package file

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

// LinkLine is one identity link as the file store writes it, one line per
// link per batch under <IdentityDir>/dt=YYYY-MM-DD/ (the day of first_seen).
// Readers fold the lines of one (app, visitor_id, user_id) with min
// first_seen, max last_seen and the via of the earliest: order and
// redeliveries change nothing (docs/identity.md).
type LinkLine struct {
	App       string    `json:"app"`
	VisitorID string    `json:"visitor_id"`
	UserID    string    `json:"user_id"`
	Via       string    `json:"via"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	EventID   string    `json:"event_id"`
}

var userIDKey = []byte(`"user_id":"`)

// writeLinks writes the links shown by events[idx]. Only events that carry
// a user id can link, and only those are decoded in full: the sink
// otherwise reads nothing but the head of an event (RawSink).
func (s *Sink) writeLinks(events []*schema.Event, idx []int) error {
	var full []*schema.Event
	for _, i := range idx {
		e := events[i]
		if len(e.Raw) > 0 {
			if !bytes.Contains(e.Raw, userIDKey) {
				continue
			}
			d, err := schema.Decode(e.Raw)
			if err != nil {
				continue // the worker validated it; a head-only reader cannot link it
			}
			e = d
		}
		if full == nil {
			full = make([]*schema.Event, len(events))
		}
		full[i] = e
	}
	if full == nil {
		return nil
	}
	ls := schema.Links(full, nil)
	groups := map[string][]*schema.Link{}
	var order []string
	for _, l := range ls {
		p := filepath.Join(s.opts.IdentityDir, "dt="+l.First.UTC().Format("2006-01-02"))
		if _, ok := groups[p]; !ok {
			order = append(order, p)
		}
		groups[p] = append(groups[p], l)
	}
	for _, p := range order {
		zw := s.member()
		enc := json.NewEncoder(zw)
		for _, l := range groups[p] {
			if err := enc.Encode(LinkLine{App: l.App, VisitorID: l.VisitorID, UserID: l.UserID, Via: l.Via,
				FirstSeen: l.First.UTC(), LastSeen: l.Last.UTC(), EventID: l.EventID}); err != nil {
				return fmt.Errorf("encoding identity link: %w", err)
			}
		}
		if err := s.appendMember(p, zw); err != nil {
			return fmt.Errorf("writing identity links: %w", err)
		}
	}
	return nil
}

// ReadLinks reads every published link line under dir (tests and tools),
// folded per (app, visitor, user) as readers should fold them.
func ReadLinks(dir string) ([]LinkLine, error) {
	files, err := Files(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	by := map[[3]string]*LinkLine{}
	var order [][3]string
	for _, p := range files {
		err := scan(p, func(line []byte) error {
			var l LinkLine
			if err := json.Unmarshal(line, &l); err != nil {
				return fmt.Errorf("decoding link in %s: %w", p, err)
			}
			k := [3]string{l.App, l.VisitorID, l.UserID}
			f := by[k]
			if f == nil {
				by[k], order = &l, append(order, k)
				return nil
			}
			if l.FirstSeen.Before(f.FirstSeen) {
				f.FirstSeen, f.Via, f.EventID = l.FirstSeen, l.Via, l.EventID
			}
			if l.LastSeen.After(f.LastSeen) {
				f.LastSeen = l.LastSeen
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]LinkLine, len(order))
	for i, k := range order {
		out[i] = *by[k]
	}
	return out, nil
}
