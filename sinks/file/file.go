// Package file is the embedded default store: gzip NDJSON in Hive-style
// partitions, <dir>/dt=YYYY-MM-DD/hour=HH/part-*.ndjson.gz, readable as is
// by Spark (spark.read.json), pandas and DuckDB.
//
// Durability: each Write appends one complete gzip member per partition to
// a hidden in-progress file (.part-*.tmp) and fsyncs it before returning,
// so an acknowledged event survives a crash. Files are rolled by size and
// age: closed, then renamed to their final name (atomic visibility). On
// Open, in-progress files left by a crash are cut back to their last whole
// member and published.
//
// Dedup: the ids of the last DedupWindow events written (reloaded from the
// newest files at Open) are remembered, so a redelivery inside that window
// is not written twice. Older redeliveries can duplicate: readers that need
// exactly-once dedup on event_id (it is unique per event).
package file

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
)

// Options configures the file sink.
type Options struct {
	Dir          string
	RollBytes    int64
	RollInterval time.Duration
	DedupWindow  int
	// IdentityDir receives the identity links (identity.go) as
	// <IdentityDir>/dt=YYYY-MM-DD/part-*.ndjson.gz. Empty: "identity" next
	// to Dir, outside it so globs over the events never read links.
	IdentityDir string
	// NoLinks: write no identity links (the failed store, whose lines'
	// ids were never validated).
	NoLinks bool
	// WriterID names this sink process in file names, so several sink
	// processes can share one directory and each recovers only its own
	// in-progress files after a crash. Empty: the host name.
	WriterID string
}

// Sink writes partitioned gzip NDJSON files.
type Sink struct {
	opts  Options
	log   zerolog.Logger
	mu    sync.Mutex
	parts map[string]*part // by partition dir, Dir or IdentityDir joined
	seen  *sinks.Recent
	gone  forgottenFile // forgotten people (forgotten.go)
	zw    *gzip.Writer  // reused: a compressor's state is large

	lastHour time.Time // partitionOf's memo
	lastPart string
	buf      bytes.Buffer
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

type part struct {
	f      *os.File
	tmp    string
	final  string
	size   int64
	opened time.Time
}

// New returns a file sink; nothing is touched until Open.
func New(opts Options, log zerolog.Logger) *Sink {
	if opts.WriterID == "" {
		opts.WriterID, _ = os.Hostname()
	}
	opts.WriterID = safeName(opts.WriterID)
	paths := PathsOf(opts.Dir)
	if opts.IdentityDir == "" {
		opts.IdentityDir = paths.Identity
	}
	return &Sink{opts: opts, log: log, parts: map[string]*part{}, seen: sinks.NewRecent(opts.DedupWindow),
		gone: forgottenFile{path: paths.Forgotten}}
}

// Open creates the directory, publishes in-progress files a crash left
// behind, reloads the dedup window and starts the roller.
func (s *Sink) Open(ctx context.Context) error {
	if err := os.MkdirAll(s.opts.Dir, 0o750); err != nil {
		return fmt.Errorf("creating event dir: %w", err)
	}
	if err := s.recover(); err != nil {
		return err
	}
	if err := s.loadSeen(); err != nil {
		return err
	}
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go s.roller()
	return nil
}

func partition(t time.Time) string {
	t = t.UTC()
	return filepath.Join(fmt.Sprintf("dt=%s", t.Format("2006-01-02")), fmt.Sprintf("hour=%02d", t.Hour()))
}

// partitionOf is partition, remembering the last hour it formatted.
func (s *Sink) partitionOf(t time.Time) string {
	h := t.Truncate(time.Hour)
	if !h.Equal(s.lastHour) || s.lastPart == "" {
		s.lastHour, s.lastPart = h, filepath.Join(s.opts.Dir, partition(t))
	}
	return s.lastPart
}

// Write appends events, one gzip member per partition, fsynced.
func (s *Sink) Write(_ context.Context, events []*schema.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	groups := map[string][]int{}
	var order []string
	inBatch := map[string]bool{}
	var fresh []int
	if err := s.gone.refresh(); err != nil {
		return err
	}
	dropped := 0
	for i, e := range events {
		if s.seen.Has(e.EventID) || inBatch[e.EventID] {
			continue // redelivery: already stored
		}
		if s.gone.has(e) {
			dropped++
			continue // a forgotten person's: stored nowhere
		}
		inBatch[e.EventID] = true
		fresh = append(fresh, i)
		p := s.partitionOf(e.ReceivedAt)
		if _, ok := groups[p]; !ok {
			order = append(order, p)
		}
		groups[p] = append(groups[p], i)
	}
	if dropped > 0 {
		s.gone.set.Drop(dropped)
		s.log.Info().Int("events", dropped).Msg("dropped events of forgotten people on arrival")
	}
	// Links first: if the events' write fails, their redelivery writes
	// the links again (a fold over link lines is idempotent); the other
	// way round, a redelivery would be skipped as seen and its link lost.
	if !s.opts.NoLinks {
		if err := s.writeLinks(events, fresh); err != nil {
			return err
		}
	}
	var errs []error
	for _, p := range order {
		if err := s.writeGroup(p, events, groups[p]); err != nil {
			if errs == nil {
				errs = make([]error, len(events))
			}
			for _, i := range groups[p] {
				errs[i] = err
			}
			continue
		}
		for _, i := range groups[p] {
			s.seen.Add(events[i].EventID)
		}
	}
	if errs != nil {
		return &sinks.BatchError{Errs: errs}
	}
	return nil
}

func (s *Sink) writeGroup(p string, events []*schema.Event, idx []int) error {
	zw := s.member()
	var line []byte
	for _, i := range idx {
		if raw := events[i].Raw; len(raw) > 0 {
			line = append(append(line[:0], raw...), '\n')
		} else {
			line = append(events[i].AppendJSON(line[:0]), '\n')
		}
		zw.Write(line)
	}
	return s.appendMember(p, zw)
}

// member starts a gzip member in s.buf, reusing the compressor.
func (s *Sink) member() *gzip.Writer {
	s.buf.Reset()
	if s.zw == nil {
		s.zw, _ = gzip.NewWriterLevel(&s.buf, gzip.BestSpeed)
	} else {
		s.zw.Reset(&s.buf)
	}
	return s.zw
}

// appendMember closes the member and appends it to partition p's
// in-progress file, fsynced; a failed write is cut back off.
func (s *Sink) appendMember(p string, zw *gzip.Writer) error {
	buf := &s.buf
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compressing batch: %w", err)
	}
	pt, err := s.partFor(p)
	if err != nil {
		return err
	}
	if _, err := pt.f.Write(buf.Bytes()); err != nil {
		_ = pt.f.Truncate(pt.size)
		return fmt.Errorf("writing %s: %w", pt.tmp, err)
	}
	if err := pt.f.Sync(); err != nil {
		_ = pt.f.Truncate(pt.size)
		return fmt.Errorf("syncing %s: %w", pt.tmp, err)
	}
	pt.size += int64(buf.Len())
	if pt.size >= s.opts.RollBytes {
		return s.roll(p)
	}
	return nil
}

func (s *Sink) partFor(p string) (*part, error) {
	if pt := s.parts[p]; pt != nil {
		return pt, nil
	}
	dir := p
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating partition dir: %w", err)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := fmt.Sprintf("part-%d-%s-%s.ndjson.gz", time.Now().UnixNano(), s.opts.WriterID, hex.EncodeToString(rnd[:]))
	pt := &part{tmp: filepath.Join(dir, "."+name+".tmp"), final: filepath.Join(dir, name), opened: time.Now()}
	f, err := os.OpenFile(pt.tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", pt.tmp, err)
	}
	pt.f = f
	s.parts[p] = pt
	return pt, nil
}

// roll closes a partition's file and makes it visible under its final name.
func (s *Sink) roll(p string) error {
	pt := s.parts[p]
	if pt == nil {
		return nil
	}
	delete(s.parts, p)
	if err := pt.f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", pt.tmp, err)
	}
	return publish(pt.tmp, pt.final)
}

func publish(tmp, final string) error {
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("publishing %s: %w", final, err)
	}
	d, err := os.Open(filepath.Dir(final))
	if err != nil {
		return fmt.Errorf("opening dir for sync: %w", err)
	}
	defer d.Close()
	return d.Sync()
}

// roller publishes files older than RollInterval even without traffic.
func (s *Sink) roller() {
	defer close(s.done)
	t := time.NewTicker(max(s.opts.RollInterval/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			for p, pt := range s.parts {
				if time.Since(pt.opened) >= s.opts.RollInterval {
					if err := s.roll(p); err != nil {
						s.log.Error().Err(err).Msg("rolling event file")
					}
				}
			}
			s.mu.Unlock()
		}
	}
}

// Close publishes every open file.
func (s *Sink) Close() error {
	s.stopOnce.Do(func() { // a second Close finds nothing to stop
		if s.stop != nil {
			close(s.stop)
			<-s.done
		}
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for p := range s.parts {
		if err := s.roll(p); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// ForgottenDropped counts the events dropped on arrival because their
// person was forgotten (the metric spoor_sink_forgotten_events_total).
func (s *Sink) ForgottenDropped() int64 { return s.gone.set.Dropped() }

// StoresRaw: the file sink writes the canonical bytes it receives.
func (s *Sink) StoresRaw() {}

var _ sinks.RawSink = (*Sink)(nil)

// safeName keeps letters, digits, '.', '_' and '-'.
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "spoor"
	}
	return string(b)
}
