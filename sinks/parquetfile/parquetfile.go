// Package parquetfile is the Parquet destination: events as Parquet files
// in Hive partitions (dt=YYYY-MM-DD/hour=HH, by the hour the event was
// received), typed columns and the props as JSON, zstd-compressed, for
// Spark, DuckDB, Athena and Trino (docs/destinations.md, "Parquet").
//
// A Parquet file is readable only once whole (its footer is written last),
// so a Write first appends the events to a write-ahead file of their hour
// and syncs it; a write-ahead file becomes a Parquet file when it reaches
// roll_bytes or roll_interval, written to a hidden name and renamed: no
// reader ever sees half a file, and a crash loses nothing acknowledged (the
// write-ahead files are rolled when the destination opens again).
package parquetfile

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	pq "github.com/parquet-go/parquet-go"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
)

// Settings are the Parquet destination's keys.
type Settings struct {
	Dir          string        `mapstructure:"dir"`           // where the files go
	RollBytes    int64         `mapstructure:"roll_bytes"`    // a file per this many bytes of events; 0: 64 MiB
	RollInterval time.Duration `mapstructure:"roll_interval"` // and at least this often; 0: 5 min
	// DedupWindow is how many recent event ids a redelivery is recognised
	// by (0: 250,000).
	DedupWindow int `mapstructure:"dedup_window"`
	// Upload, when set, moves each finished file to an S3-compatible
	// bucket (upload.go); the files are then kept locally only until they
	// are uploaded.
	Upload *S3 `mapstructure:"s3"`
}

func init() {
	sinks.Register("parquet", sinks.Type{New: New, Sample: `{"name": "lake", "type": "parquet", "dir": "data/parquet", "roll_interval": "5m"}`})
}

// Files writes one directory's files.
type Files struct {
	name string
	s    Settings
	log  zerolog.Logger
	mu   sync.Mutex
	wal  map[string]*walFile // by hour, "dt=…/hour=…"
	seen *sinks.Recent
	up   uploader // nil: the files stay in dir
	stop chan struct{}
	done chan struct{}
}

// walFile is one hour's write-ahead file.
type walFile struct {
	f       *os.File
	path    string
	bytes   int64
	started time.Time
}

var _ sinks.Sink = (*Files)(nil)

// New checks the settings and builds the destination (no I/O).
func New(d sinks.Destination) (sinks.Sink, error) {
	var s Settings
	if err := sinks.DecodeSettings(d.Settings, &s); err != nil {
		return nil, err
	}
	if s.Dir == "" {
		return nil, errors.New("dir is missing")
	}
	if s.RollBytes <= 0 {
		s.RollBytes = 64 << 20
	}
	if s.RollInterval <= 0 {
		s.RollInterval = 5 * time.Minute
	}
	if s.DedupWindow <= 0 {
		s.DedupWindow = 250_000
	}
	f := &Files{name: d.Name, s: s, log: d.Log, wal: map[string]*walFile{}, seen: sinks.NewRecent(s.DedupWindow)}
	if s.Upload != nil {
		up, err := newUploader(*s.Upload)
		if err != nil {
			return nil, fmt.Errorf("s3: %w", err)
		}
		f.up = up
	}
	return f, nil
}

func (f *Files) walDir() string { return filepath.Join(f.s.Dir, ".wal") }

// Open rolls whatever write-ahead files a crash left behind (their events
// were acknowledged), uploads finished files not yet uploaded, and starts
// the timer that rolls an hour's file at roll_interval.
func (f *Files) Open(ctx context.Context) error {
	if err := os.MkdirAll(f.walDir(), 0o750); err != nil {
		return fmt.Errorf("creating %s: %w", f.walDir(), err)
	}
	if f.up != nil {
		if err := f.up.open(ctx); err != nil {
			return err
		}
	}
	left, err := filepath.Glob(filepath.Join(f.walDir(), "*.ndjson"))
	if err != nil {
		return err
	}
	for _, p := range left {
		if err := f.roll(ctx, &walFile{path: p}, true); err != nil {
			return fmt.Errorf("recovering %s: %w", p, err)
		}
	}
	if err := f.uploadAll(ctx); err != nil {
		return err
	}
	f.stop, f.done = make(chan struct{}), make(chan struct{})
	go f.ticker()
	return nil
}

// Write appends the events to their hours' write-ahead files and syncs
// them; an event already written within the dedup window is skipped.
func (f *Files) Write(ctx context.Context, events []*schema.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	lines := map[string][]byte{}
	var order []string
	var fresh []string
	inBatch := map[string]bool{}
	for _, e := range events {
		if f.seen.Has(e.EventID) || inBatch[e.EventID] {
			continue
		}
		inBatch[e.EventID] = true
		raw := e.Raw
		if raw == nil {
			var err error
			if raw, err = e.Encode(); err != nil {
				return sinks.Permanent(fmt.Errorf("encoding event %s: %w", e.EventID, err))
			}
		}
		h := hourOf(e.ReceivedAt)
		if _, ok := lines[h]; !ok {
			order = append(order, h)
		}
		lines[h] = append(append(lines[h], raw...), '\n')
		fresh = append(fresh, e.EventID)
	}
	for _, h := range order {
		w, err := f.walFor(h)
		if err != nil {
			return err
		}
		if _, err := w.f.Write(lines[h]); err != nil {
			return fmt.Errorf("writing %s: %w", w.path, err)
		}
		if err := w.f.Sync(); err != nil {
			return fmt.Errorf("syncing %s: %w", w.path, err)
		}
		w.bytes += int64(len(lines[h]))
	}
	for _, id := range fresh {
		f.seen.Add(id)
	}
	for _, h := range order {
		if w := f.wal[h]; w != nil && w.bytes >= f.s.RollBytes {
			if err := f.roll(ctx, w, false); err != nil {
				f.log.Warn().Err(err).Str("destination", f.name).Msg("rolling a Parquet file failed; retried at the next roll")
			}
		}
	}
	return nil
}

// hourOf is an event's partition: dt=YYYY-MM-DD/hour=HH of its receipt.
func hourOf(t time.Time) string { return t.UTC().Format("dt=2006-01-02/hour=15") }

// walFor opens (or returns) hour's write-ahead file.
func (f *Files) walFor(h string) (*walFile, error) {
	if w := f.wal[h]; w != nil {
		return w, nil
	}
	name := strings.NewReplacer("/", "_", "=", "-").Replace(h) + "_" + stamp() + ".ndjson"
	p := filepath.Join(f.walDir(), name)
	file, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", p, err)
	}
	w := &walFile{f: file, path: p, started: time.Now()}
	f.wal[h] = w
	return w, nil
}

func stamp() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%d-%s", time.Now().UnixNano(), hex.EncodeToString(b[:]))
}

// roll turns a write-ahead file into a Parquet file (hidden, synced,
// renamed, the directory synced), removes it, and uploads the file when
// the destination uploads. recovering: a crash's leftover, whose ids join
// the dedup window (their messages may come again).
func (f *Files) roll(ctx context.Context, w *walFile, recovering bool) error {
	if w.f != nil {
		if err := w.f.Close(); err != nil {
			return fmt.Errorf("closing %s: %w", w.path, err)
		}
		w.f = nil
	}
	for h, x := range f.wal {
		if x == w {
			delete(f.wal, h)
		}
	}
	byHour := map[string][]Row{}
	err := scanLines(w.path, func(line []byte) error {
		e, err := schema.Decode(line)
		if err != nil {
			return nil // a torn last line of a crashed append: never acknowledged
		}
		if recovering {
			f.seen.Add(e.EventID)
		}
		h := hourOf(e.ReceivedAt)
		byHour[h] = append(byHour[h], rowOf(e))
		return nil
	})
	if err != nil {
		return err
	}
	hours := make([]string, 0, len(byHour))
	for h := range byHour {
		hours = append(hours, h)
	}
	sort.Strings(hours)
	for _, h := range hours {
		path, err := f.writeParquet(h, byHour[h])
		if err != nil {
			return err
		}
		if f.up != nil {
			if err := f.upload(ctx, path); err != nil {
				f.log.Warn().Err(err).Str("file", path).Msg("uploading a Parquet file failed; retried at the next roll and at start")
			}
		}
	}
	if err := os.Remove(w.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// writeParquet writes rows as one Parquet file of hour h and returns its
// path.
func (f *Files) writeParquet(h string, rows []Row) (string, error) {
	dir := filepath.Join(f.s.Dir, filepath.FromSlash(h))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	name := "part-" + stamp() + ".parquet"
	tmp := filepath.Join(dir, "."+name+".tmp")
	out, err := os.Create(tmp)
	if err != nil {
		return "", fmt.Errorf("creating %s: %w", tmp, err)
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	pw := pq.NewGenericWriter[Row](bw, pq.Compression(&pq.Zstd))
	if _, err := pw.Write(rows); err != nil {
		out.Close()
		return "", fmt.Errorf("writing %s: %w", tmp, err)
	}
	err = pw.Close()
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", tmp, err)
	}
	final := filepath.Join(dir, name)
	if err := os.Rename(tmp, final); err != nil {
		return "", err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return final, nil
}

// ticker rolls each hour's file once it is roll_interval old.
func (f *Files) ticker() {
	defer close(f.done)
	t := time.NewTicker(max(f.s.RollInterval/10, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
			f.rollDue(false)
		}
	}
}

// rollDue rolls the files due, or all of them.
func (f *Files) rollDue(all bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, w := range f.wal {
		if all || time.Since(w.started) >= f.s.RollInterval {
			if err := f.roll(context.Background(), w, false); err != nil {
				f.log.Warn().Err(err).Str("destination", f.name).Msg("rolling a Parquet file failed; retried at the next roll")
			}
		}
	}
}

// Close rolls every open hour: what was written is in Parquet files.
func (f *Files) Close() error {
	if f.stop != nil {
		close(f.stop)
		<-f.done
		f.stop = nil
	}
	f.rollDue(true)
	return nil
}

func scanLines(path string, fn func(line []byte) error) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if err := fn(sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}
