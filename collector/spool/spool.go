// Package spool is the collector's local disk queue: when JetStream is down
// or slower than the ack deadline, events are appended here, fsynced by group
// commit, and only then answered. A replayer later drains the segments into
// JetStream in order and deletes each segment once every record in it is
// acknowledged.
//
// On disk: dir/seg-<20-digit sequence>.log, each a series of records
//
//	u32 length of payload | u32 CRC-32C of payload | payload
//	payload = u16 id length | id | data
//
// all big-endian. Records after a damaged or torn one are not replayed; the
// segment is then moved to dir/corrupt/ and counted, never silently deleted.
package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/rs/zerolog"
)

// ErrFull means the spool reached its byte cap.
var ErrFull = errors.New("spool full")

// ErrClosed means the spool is shut down.
var ErrClosed = errors.New("spool closed")

// Record is one spooled event: its id (the bus dedup key) and its bytes.
// Part is the bus partition it goes to; it is not written to disk (the
// replayer derives it again from the bytes).
type Record struct {
	ID   string
	Data []byte
	Part int
}

const headerLen = 8

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type request struct {
	recs []Record
	seal bool
	done chan error
}

// Spool is safe for concurrent use.
type Spool struct {
	dir      string
	maxBytes int64
	segBytes int64
	log      zerolog.Logger

	reqs    chan *request
	stopped chan struct{}
	closeMu sync.RWMutex
	closed  bool

	bytes   atomic.Int64 // on disk, all segments
	records atomic.Int64 // records not yet replayed
	corrupt atomic.Int64 // damaged segments kept aside
	refused atomic.Bool  // an append was refused for space since the last replay
	failing atomic.Bool  // the last write or fsync failed (a full or broken disk)

	// Owned by the writer goroutine.
	active     *os.File
	activeSeq  uint64
	activeSize int64

	mu     sync.Mutex
	sealed []uint64 // sealed segment sequences awaiting replay, ascending
}

// Open opens or creates the spool in dir. Segments left by an earlier run
// are sealed and will be replayed first.
func Open(dir string, maxBytes, segBytes int64, log zerolog.Logger) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating spool dir: %w", err)
	}
	s := &Spool{dir: dir, maxBytes: maxBytes, segBytes: segBytes, log: log,
		reqs: make(chan *request, 1024), stopped: make(chan struct{})}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading spool dir: %w", err)
	}
	for _, e := range entries {
		seq, ok := parseSegName(e.Name())
		if !ok {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("stat spool segment: %w", err)
		}
		if info.Size() == 0 {
			_ = os.Remove(filepath.Join(dir, e.Name()))
			continue
		}
		s.sealed = append(s.sealed, seq)
		s.bytes.Add(info.Size())
		s.activeSeq = max(s.activeSeq, seq)
		n, _ := countRecords(filepath.Join(dir, e.Name()))
		s.records.Add(int64(n))
	}
	sort.Slice(s.sealed, func(a, b int) bool { return s.sealed[a] < s.sealed[b] })
	if err := s.openNext(); err != nil {
		return nil, err
	}
	go s.writer()
	return s, nil
}

func segName(seq uint64) string { return fmt.Sprintf("seg-%020d.log", seq) }

func parseSegName(name string) (uint64, bool) {
	if !strings.HasPrefix(name, "seg-") || !strings.HasSuffix(name, ".log") {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, "seg-"), ".log"), 10, 64)
	return n, err == nil
}

func (s *Spool) openNext() error {
	s.activeSeq++
	f, err := os.OpenFile(filepath.Join(s.dir, segName(s.activeSeq)), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("creating spool segment: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		return err
	}
	s.active, s.activeSize = f, 0
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening spool dir for sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing spool dir: %w", err)
	}
	return nil
}

// Size returns bytes on disk and records awaiting replay.
func (s *Spool) Size() (bytes, records int64) { return s.bytes.Load(), s.records.Load() }

// Corrupt returns how many records were found damaged (and kept aside).
func (s *Spool) Corrupt() int64 { return s.corrupt.Load() }

// Full reports whether the spool can take nothing now: it is at its cap (an
// append was refused for lack of space and no replay has freed any since),
// or its disk failed the last write (full: ENOSPC).
func (s *Spool) Full() bool {
	return s.refused.Load() || s.failing.Load() || s.bytes.Load() >= s.maxBytes
}

func encodedLen(recs []Record) int64 {
	var n int64
	for _, r := range recs {
		n += int64(headerLen + 2 + len(r.ID) + len(r.Data))
	}
	return n
}

// Append writes recs durably: it returns nil only after they are fsynced.
// It returns ErrFull, without writing anything, when they do not fit.
func (s *Spool) Append(recs []Record) error {
	for _, r := range recs {
		if len(r.ID) > 0xFFFF {
			return fmt.Errorf("spool record id too long (%d bytes)", len(r.ID))
		}
	}
	need := encodedLen(recs)
	if s.bytes.Add(need) > s.maxBytes {
		s.bytes.Add(-need)
		s.refused.Store(true)
		return ErrFull
	}
	err := s.send(&request{recs: recs, done: make(chan error, 1)})
	if err != nil {
		s.bytes.Add(-need)
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) { // the disk is full, not the spool's cap
			return fmt.Errorf("%w: %v", ErrFull, err)
		}
		return err
	}
	s.records.Add(int64(len(recs)))
	return nil
}

func (s *Spool) send(r *request) error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	s.reqs <- r
	s.closeMu.RUnlock()
	return <-r.done
}

// writer is the single goroutine that owns the active segment. It takes all
// queued appends at once, writes them, fsyncs once and answers each: group
// commit.
func (s *Spool) writer() {
	defer close(s.stopped)
	var buf []byte
	for first := range s.reqs {
		group := []*request{first}
	drain:
		for len(group) < 512 {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break drain
				}
				group = append(group, r)
			default:
				break drain
			}
		}
		buf = buf[:0]
		var appends []*request
		seal := false
		for _, r := range group {
			if r.seal {
				seal = true
				continue
			}
			for _, rec := range r.recs {
				buf = appendRecord(buf, rec)
			}
			appends = append(appends, r)
		}
		err := s.write(buf)
		for _, r := range appends {
			r.done <- err
		}
		if seal || s.activeSize >= s.segBytes {
			err = s.roll()
		}
		for _, r := range group {
			if r.seal {
				r.done <- err
			}
		}
	}
	if s.active != nil {
		s.active.Close()
		if s.activeSize == 0 {
			os.Remove(s.active.Name())
		}
	}
}

func appendRecord(buf []byte, r Record) []byte {
	payloadLen := 2 + len(r.ID) + len(r.Data)
	start := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, uint32(payloadLen))
	buf = binary.BigEndian.AppendUint32(buf, 0) // CRC, filled below
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(r.ID)))
	buf = append(buf, r.ID...)
	buf = append(buf, r.Data...)
	binary.BigEndian.PutUint32(buf[start+4:], crc32.Checksum(buf[start+headerLen:], crcTable))
	return buf
}

func (s *Spool) write(buf []byte) error {
	if len(buf) == 0 {
		return nil
	}
	if _, err := s.active.Write(buf); err != nil {
		s.fail(err) // Full until a write succeeds: readiness says so
		return fmt.Errorf("writing spool segment: %w", err)
	}
	if err := s.active.Sync(); err != nil {
		s.fail(err)
		return fmt.Errorf("syncing spool segment: %w", err)
	}
	s.activeSize += int64(len(buf))
	s.failing.Store(false)
	return nil
}

// fail marks the spool failing (logged once per spell) and drops the
// group's partial write.
func (s *Spool) fail(err error) {
	if !s.failing.Swap(true) {
		s.log.Error().Err(err).Str("dir", s.dir).Msg("spool write failed: refusing events (503) until a write succeeds")
	}
	s.repair()
}

// repair drops a partly written group so later records are not behind
// garbage; if even that fails, it starts a new segment.
func (s *Spool) repair() {
	if err := s.active.Truncate(s.activeSize); err == nil {
		return
	}
	s.log.Error().Str("segment", s.active.Name()).Msg("spool segment could not be truncated after a failed write; rolling")
	_ = s.roll()
}

// roll seals the active segment (if it holds anything) and opens the next.
func (s *Spool) roll() error {
	if s.activeSize == 0 {
		return nil
	}
	if err := s.active.Close(); err != nil {
		return fmt.Errorf("closing spool segment: %w", err)
	}
	s.mu.Lock()
	s.sealed = append(s.sealed, s.activeSeq)
	s.mu.Unlock()
	return s.openNext()
}

// Pending reports whether anything waits to be replayed.
func (s *Spool) Pending() bool { return s.records.Load() > 0 }

// Replay drains the spool in order: it seals the active segment, then hands
// each sealed segment's records to publish and deletes the segment when
// publish returns nil. It stops at the first error (the segment stays, and
// is replayed whole next time: the bus dedups by id).
func (s *Spool) Replay(publish func([]Record) error) (replayed int, err error) {
	if err := s.send(&request{seal: true, done: make(chan error, 1)}); err != nil {
		return 0, err
	}
	for {
		s.mu.Lock()
		if len(s.sealed) == 0 {
			s.mu.Unlock()
			return replayed, nil
		}
		seq := s.sealed[0]
		s.mu.Unlock()

		path := filepath.Join(s.dir, segName(seq))
		recs, size, damaged, err := readSegment(path)
		if err != nil {
			return replayed, err
		}
		if len(recs) > 0 {
			if err := publish(recs); err != nil {
				return replayed, fmt.Errorf("replaying spool segment %d: %w", seq, err)
			}
		}
		if damaged {
			s.quarantine(path)
		} else if err := os.Remove(path); err != nil {
			return replayed, fmt.Errorf("removing replayed spool segment: %w", err)
		}
		s.mu.Lock()
		s.sealed = s.sealed[1:]
		s.mu.Unlock()
		s.bytes.Add(-size)
		s.refused.Store(false)
		s.records.Add(-int64(len(recs)))
		replayed += len(recs)
	}
}

func (s *Spool) quarantine(path string) {
	dst := filepath.Join(s.dir, "corrupt")
	_ = os.MkdirAll(dst, 0o750)
	if err := os.Rename(path, filepath.Join(dst, filepath.Base(path))); err != nil {
		s.log.Error().Err(err).Str("segment", path).Msg("could not move damaged spool segment aside")
	}
	s.corrupt.Add(1)
	s.log.Error().Str("segment", path).Msg("spool segment has unreadable bytes (a torn write after a crash, or damage): intact records replayed, the file is kept in corrupt/")
}

// readSegment returns the intact records of a segment. damaged is true when
// bytes follow the last intact record. That is usually a torn final write
// (never acknowledged, so nothing was promised), but a damaged length field
// looks the same, so such a segment is always kept aside, never deleted.
func readSegment(path string) (recs []Record, size int64, damaged bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, false, fmt.Errorf("reading spool segment: %w", err)
	}
	size = int64(len(b))
	off := 0
	for off < len(b) {
		if len(b)-off < headerLen {
			break
		}
		n := int(binary.BigEndian.Uint32(b[off:]))
		end := off + headerLen + n
		if n < 2 || end > len(b) {
			break
		}
		payload := b[off+headerLen : end]
		if crc32.Checksum(payload, crcTable) != binary.BigEndian.Uint32(b[off+4:]) {
			break
		}
		idLen := int(binary.BigEndian.Uint16(payload))
		if 2+idLen > len(payload) {
			break
		}
		recs = append(recs, Record{ID: string(payload[2 : 2+idLen]), Data: payload[2+idLen:]})
		off = end
	}
	return recs, size, off < len(b), nil
}

func countRecords(path string) (int, error) {
	recs, _, _, err := readSegment(path)
	return len(recs), err
}

// Close stops the writer after every queued append is written. The active
// segment stays on disk for the next run's replayer.
func (s *Spool) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.reqs)
	s.closeMu.Unlock()
	<-s.stopped
	return nil
}
