package person

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/file"
)

// LogLine is one forget request in the file store's forget_log.ndjson.
type LogLine struct {
	App         string           `json:"app"`
	RequestedAt time.Time        `json:"requested_at"`
	RequestID   string           `json:"request_id"`
	RequestedBy string           `json:"requested_by"`
	IDs         []string         `json:"ids"`
	Removed     map[string]int64 `json:"removed"`
}

// Forget deletes one person from the file store: the same steps as in
// Cassandra (docs/identity.md), with files. The ids go to forgotten.ndjson,
// which the file sink reloads and drops their events by; after the grace,
// the in-progress files that may hold them are left to publish (Settle);
// then every published event and identity file that holds the person is
// rewritten without them, atomically: a new file, fsynced, renamed over
// the old. A crash leaves the old file or the new one, never a torn one.
func (s Files) Forget(ctx context.Context, req Request) (Report, error) {
	p, err := s.Resolve(ctx, req.App, req.Kind, req.ID)
	if err != nil {
		return Report{}, err
	}
	if req.RequestID == "" {
		req.RequestID = NewRequestID()
	}
	r := Report{RequestID: req.RequestID, App: req.App, Removed: map[string]int64{}, Cut: p.Cut}
	var whole []Visitor
	r.IDs, whole = plan(p, req.Kind, req.ID)
	now := time.Now().UTC()
	var lines []any
	for _, fid := range r.IDs {
		k, v := splitID(fid)
		lines = append(lines, file.ForgottenLine{App: req.App, Kind: k, ID: v, At: now, RequestID: req.RequestID})
	}
	if err := file.AppendLines(s.Paths.Forgotten, lines...); err != nil {
		return r, fmt.Errorf("forgetting: %w", err)
	}
	select {
	case <-time.After(req.Grace):
	case <-ctx.Done():
		return r, ctx.Err()
	}
	if err := s.settle(ctx); err != nil {
		return r, err
	}

	wholeIDs := map[string]bool{}
	for _, v := range whole {
		wholeIDs[v.ID] = true
	}
	users := map[string]bool{}
	for _, u := range p.Users {
		users[u] = true
	}
	dropEvent := func(line []byte) bool {
		if !p.mayOwn(line) {
			return false
		}
		e, err := schema.Decode(line)
		return err == nil && p.Owns(e)
	}
	dropLink := func(line []byte) bool {
		var l file.LinkLine
		if json.Unmarshal(line, &l) != nil || l.App != req.App {
			return false
		}
		return users[l.UserID] || wholeIDs[l.VisitorID]
	}
	dropFailed := func(line []byte) bool {
		f, err := schema.DecodeFailed(line)
		return err == nil && f.App == req.App && (users[f.UserID] || wholeIDs[f.VisitorID])
	}
	for _, d := range []struct {
		dir, what string
		drop      func([]byte) bool
	}{{s.Paths.Events, "events", dropEvent}, {s.Paths.Identity, "identity_links", dropLink}, {s.Paths.Failed, "failed_events", dropFailed}} {
		paths, err := file.Files(d.dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return r, err
		}
		for _, path := range paths {
			n, err := rewrite(path, d.drop)
			if err != nil {
				return r, fmt.Errorf("forgetting: %w", err)
			}
			if n > 0 {
				r.Removed[d.what] += n
				r.Removed["files_rewritten"]++
			}
		}
	}
	sort.Strings(r.IDs)
	err = file.AppendLines(s.Paths.ForgetLog, LogLine{App: req.App, RequestedAt: now, RequestID: r.RequestID,
		RequestedBy: req.By, IDs: r.IDs, Removed: r.Removed})
	return r, err
}

// settle waits until the in-progress files that exist now are published
// (the sink rolls them within file.roll_interval), so that every line
// written before the forgotten ids took effect is in a published file.
func (s Files) settle(ctx context.Context) error {
	var pending []string
	for _, dir := range []string{s.Paths.Events, s.Paths.Identity, s.Paths.Failed} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasPrefix(d.Name(), ".part-") && strings.HasSuffix(d.Name(), ".tmp") {
				pending = append(pending, path)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("forgetting: listing in-progress files: %w", err)
		}
	}
	deadline := time.Now().Add(s.Settle)
	for len(pending) > 0 {
		var left []string
		for _, p := range pending {
			if _, err := os.Stat(p); err == nil {
				left = append(left, p)
			}
		}
		if pending = left; len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("forgetting: %d in-progress file(s) not published after %s (%s): is the sink running? "+
				"Start it (it publishes what a crash left) and forget again; the ids are already refused", len(pending), s.Settle, pending[0])
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// rewrite writes path again without the lines drop picks, atomically, and
// returns how many it dropped. A file left empty is removed.
func rewrite(path string, drop func([]byte) bool) (int64, error) {
	tmp := filepath.Join(filepath.Dir(path), ".forget-"+filepath.Base(path)+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return 0, fmt.Errorf("creating %s: %w", tmp, err)
	}
	defer os.Remove(tmp) // a no-op once renamed
	bw := bufio.NewWriterSize(f, 256<<10)
	zw, _ := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	var dropped, kept int64
	err = file.Scan(path, func(line []byte) error {
		if drop(line) {
			dropped++
			return nil
		}
		kept++
		zw.Write(line)
		_, err := zw.Write([]byte{'\n'})
		return err
	})
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || dropped == 0 {
		return 0, err
	}
	if kept == 0 {
		err = os.Remove(path)
	} else {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return 0, fmt.Errorf("replacing %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return dropped, nil
}
