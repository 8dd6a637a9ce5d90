// Package importer reads offline events, CSV or NDJSON, row by row:
// each row is checked as the collector would check it, given an event id
// derived from its file position and content (so importing the same file
// again changes nothing), and handed on in batches. The file is streamed:
// memory does not grow with it.
package importer

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/spoor-dev/spoor/schema"
)

// Bad is a row refused, with its line number (1-based, as an editor shows it).
type Bad struct {
	Line   int
	Reason string
}

// Sender takes a batch of events, each a JSON object, and returns once
// they are durable, or the reason they are not (which ends the import).
// Send is called from Options.InFlight goroutines at once.
type Sender interface {
	Send(events []json.RawMessage) error
}

// Options say how to read.
type Options struct {
	Format    string            // "csv" or "ndjson"; "" from the file name
	Mapping   map[string]string // CSV column → field name; absent: the header names
	BatchSize int               // events per Send (500)
	InFlight  int               // batches being sent at once (4)
	// Progress, when set, is called after each batch sent with the bytes
	// read so far, one call at a time.
	Progress func(bytes int64)
}

// Result counts what an import did.
type Result struct {
	Rows, Imported int
	Bad            []Bad // every bad row (a summary prints the first few)
}

// namespace of the event ids derived from rows.
var namespace = uuid.MustParse("3d0a4c6e-8f1b-4e27-a5c9-7b2d1e6f0a84")

// validator checks a row as the collector's Builder does; its hash key is
// a throwaway: the collector hashes again with its own.
var limits = schema.Limits{}

// Import reads r (named name, for the id and the format) and sends its
// good rows.
func Import(r io.Reader, name string, o Options, s Sender) (Result, error) {
	format := o.Format
	if format == "" {
		switch {
		case strings.HasSuffix(name, ".csv"):
			format = "csv"
		case strings.HasSuffix(name, ".ndjson"), strings.HasSuffix(name, ".jsonl"), strings.HasSuffix(name, ".json"):
			format = "ndjson"
		default:
			return Result{}, fmt.Errorf("cannot tell the format of %s: name it .csv or .ndjson, or give -format", name)
		}
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.InFlight <= 0 {
		o.InFlight = 4
	}
	var numeric []bool
	if rs, ok := r.(io.ReadSeeker); ok && format == "csv" {
		var err error
		if numeric, err = numericColumns(rs); err != nil {
			return Result{}, err
		}
		if _, err := rs.Seek(0, io.SeekStart); err != nil {
			return Result{}, fmt.Errorf("reading %s again: %w", name, err)
		}
	}
	cr := &countingReader{r: r}
	b := &batcher{s: s, size: o.BatchSize, progress: o.Progress, cr: cr, out: make(chan []json.RawMessage)}
	for range o.InFlight {
		b.wg.Add(1)
		go b.send()
	}
	var err error
	switch format {
	case "csv":
		err = readCSV(cr, o.Mapping, numeric, b)
	case "ndjson":
		err = readNDJSON(cr, b)
	default:
		return Result{}, fmt.Errorf("unknown format %q (csv or ndjson)", format)
	}
	if err == nil {
		err = b.flush()
	}
	close(b.out)
	b.wg.Wait()
	if err == nil {
		err = b.sendErr
	}
	return b.res, err
}

// batcher checks rows and hands full batches to InFlight senders. A
// failed batch stops the import (what was sent before it stays: a re-run
// stores nothing twice).
type batcher struct {
	s        Sender
	size     int
	batch    []json.RawMessage
	res      Result
	progress func(int64)
	cr       *countingReader
	builder  *schema.Builder

	out     chan []json.RawMessage
	wg      sync.WaitGroup
	mu      sync.Mutex // guards res.Imported and sendErr for the senders
	sendErr error
}

func (b *batcher) send() {
	defer b.wg.Done()
	for batch := range b.out {
		b.mu.Lock()
		failed := b.sendErr != nil
		b.mu.Unlock()
		if failed {
			continue // drain: the import is over
		}
		err := b.s.Send(batch)
		b.mu.Lock()
		if err != nil && b.sendErr == nil {
			b.sendErr = fmt.Errorf("sending a batch of %d rows: %w", len(batch), err)
		} else if err == nil {
			b.res.Imported += len(batch)
			if b.progress != nil {
				b.progress(b.cr.bytes())
			}
		}
		b.mu.Unlock()
	}
}

// row checks one event (members as JSON) and queues it with its id.
// row checks one row and batches it. idOf is what its event id derives
// from with its line: the row as read (a CSV row with every value as text,
// as before numeric columns were sent as numbers, so ids stay the same).
func (b *batcher) row(line int, obj schema.Object, raw, idOf []byte) error {
	b.res.Rows++
	if b.builder == nil {
		b.builder = schema.NewBuilder(limits, []byte("import-validation"))
	}
	b.builder.Reset()
	hasID := false
	for _, m := range obj {
		if m.Key == "eid" || m.Key == "event_id" {
			hasID = true
		}
	}
	if err := b.builder.SetObject(obj); err != nil {
		b.res.Bad = append(b.res.Bad, Bad{line, err.Error()})
		return nil
	}
	if !b.builder.HasEventID() {
		if hasID { // an id that is no UUID: the collector would assign one, and a re-run would import twice
			b.res.Bad = append(b.res.Bad, Bad{line, "eid is not a UUID (leave it out: the importer derives one)"})
			return nil
		}
		id := uuid.NewHash(sha1.New(), namespace, append([]byte(fmt.Sprintf("%d\x00", line)), idOf...), 5)
		raw = append([]byte(`{"eid":"`+id.String()+`",`), bytes.TrimLeft(raw, " \t")[1:]...)
		if len(obj) == 0 {
			raw = []byte(`{"eid":"` + id.String() + `"}`)
		}
	}
	b.batch = append(b.batch, json.RawMessage(raw))
	if len(b.batch) >= b.size {
		return b.flush()
	}
	return nil
}

func (b *batcher) flush() error {
	b.mu.Lock()
	err := b.sendErr
	b.mu.Unlock()
	if err != nil {
		return err
	}
	if len(b.batch) == 0 {
		return nil
	}
	b.out <- b.batch
	b.batch = make([]json.RawMessage, 0, b.size)
	return nil
}

func readNDJSON(r io.Reader, b *batcher) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		if text[0] != '{' {
			b.res.Rows++
			b.res.Bad = append(b.res.Bad, Bad{line, "not a JSON object"})
			continue
		}
		objs, err := schema.ParseJSONBody(text, 1)
		if err != nil {
			b.res.Rows++
			b.res.Bad = append(b.res.Bad, Bad{line, err.Error()})
			continue
		}
		row := append([]byte(nil), text...)
		if err := b.row(line, objs[0], row, row); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading line %d: %w", line+1, err)
	}
	return nil
}

// number is a JSON number a CSV cell may become: no leading zeros (a zip
// code, "007", stays text) and at most 15 digits before the point (a long
// id stays text: a double would round it).
var number = regexp.MustCompile(`^-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]+)?(?:[eE][+-]?[0-9]{1,3})?$`)

// numericColumns reads the whole CSV once: a column is numeric when it has
// values and every one is a number. Its values are then sent as numbers
// ("price": 9.99), every other column's as text, as the file has them.
func numericColumns(r io.Reader) ([]bool, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	seen, text := make([]bool, len(header)), make([]bool, len(header))
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) || len(rec) != len(header) {
			continue // a bad row, reported when the rows are read
		}
		if err != nil {
			return nil, fmt.Errorf("reading the columns' types: %w", err)
		}
		for i, v := range rec {
			switch {
			case v == "":
			case number.MatchString(v):
				seen[i] = true
			default:
				text[i] = true
			}
		}
	}
	for i := range seen {
		seen[i] = seen[i] && !text[i]
	}
	return seen, nil
}

func readCSV(r io.Reader, mapping map[string]string, numeric []bool, b *batcher) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the header: %w", err)
	}
	names := make([]string, len(header))
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		names[i] = h
		if m, ok := mapping[h]; ok {
			names[i] = m // "" drops the column
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := cr.FieldPos(0)
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			b.res.Rows++
			b.res.Bad = append(b.res.Bad, Bad{pe.StartLine, pe.Err.Error()})
			continue
		}
		if err != nil {
			return fmt.Errorf("reading line %d: %w", line, err)
		}
		if len(rec) != len(names) {
			b.res.Rows++
			b.res.Bad = append(b.res.Bad, Bad{line, fmt.Sprintf("%d columns, the header has %d", len(rec), len(names))})
			continue
		}
		obj := make(schema.Object, 0, len(rec))
		var raw, text bytes.Buffer
		raw.WriteByte('{')
		text.WriteByte('{')
		for i, v := range rec {
			if names[i] == "" || v == "" {
				continue
			}
			q, _ := json.Marshal(v)
			k, _ := json.Marshal(names[i])
			if raw.Len() > 1 {
				raw.WriteByte(',')
				text.WriteByte(',')
			}
			text.Write(k)
			text.WriteByte(':')
			text.Write(q)
			if i < len(numeric) && numeric[i] {
				q = []byte(v)
			}
			raw.Write(k)
			raw.WriteByte(':')
			raw.Write(q)
			obj = append(obj, schema.Member{Key: names[i], Value: q})
		}
		raw.WriteByte('}')
		text.WriteByte('}')
		if err := b.row(line, obj, raw.Bytes(), text.Bytes()); err != nil {
			return err
		}
	}
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) bytes() int64 { return c.n.Load() }
