package file

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spoor-dev/spoor/schema"
)

// recover publishes this writer's in-progress files a crash left behind,
// cut back to their last complete gzip member (every acknowledged batch is
// one). Other writers' files in a shared directory are theirs to recover.
func (s *Sink) recover() error {
	for _, dir := range []string{s.opts.Dir, s.opts.IdentityDir} {
		if err := s.recoverDir(dir); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sink) recoverDir(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == dir {
			return nil
		}
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() || !strings.HasPrefix(name, ".part-") || !strings.HasSuffix(name, ".tmp") ||
			!strings.Contains(name, "-"+s.opts.WriterID+"-") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		good := wholeMembers(b)
		if good == 0 {
			s.log.Warn().Str("file", path).Msg("removing in-progress file with no complete batch")
			return os.Remove(path)
		}
		if good < int64(len(b)) {
			s.log.Warn().Str("file", path).Int64("kept", good).Int("size", len(b)).Msg("cutting torn batch from in-progress file")
			if err := os.Truncate(path, good); err != nil {
				return fmt.Errorf("truncating %s: %w", path, err)
			}
		}
		final := filepath.Join(filepath.Dir(path), strings.TrimSuffix(strings.TrimPrefix(name, "."), ".tmp"))
		return publish(path, final)
	})
}

// wholeMembers returns the length of the prefix of b made of complete,
// valid gzip members.
func wholeMembers(b []byte) int64 {
	r := bytes.NewReader(b)
	zr, err := gzip.NewReader(r)
	if err != nil {
		return 0
	}
	var good int64
	for {
		zr.Multistream(false)
		if _, err := io.Copy(io.Discard, zr); err != nil {
			return good
		}
		good = int64(len(b) - r.Len())
		if err := zr.Reset(r); err != nil {
			return good
		}
	}
}

// loadSeen fills the dedup window from the newest published files.
func (s *Sink) loadSeen() error {
	if s.opts.DedupWindow == 0 {
		return nil
	}
	files, err := Files(s.opts.Dir)
	if err != nil {
		return err
	}
	var ids []string
	for i := len(files) - 1; i >= 0 && len(ids) < s.opts.DedupWindow; i-- {
		err := scan(files[i], func(line []byte) error {
			if id, ok := leadingID(line); ok {
				ids = append(ids, id)
			} else if e, err := schema.Decode(line); err == nil {
				ids = append(ids, e.EventID)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for i := len(ids) - 1; i >= 0; i-- { // oldest first, so the newest stay longest
		s.seen.Add(ids[i])
	}
	return nil
}

// leadingID reads the id from a line that starts {"event_id":"...", as the
// canonical encoding does.
func leadingID(line []byte) (string, bool) {
	const prefix = `{"event_id":"`
	if len(line) < len(prefix)+36 || !bytes.HasPrefix(line, []byte(prefix)) || line[len(prefix)+36] != '"' {
		return "", false
	}
	return string(line[len(prefix) : len(prefix)+36]), true
}

// Files lists the published event files under dir, oldest partition and
// name first.
func Files(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), "part-") && strings.HasSuffix(d.Name(), ".ndjson.gz") {
			out = append(out, path)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("listing event files: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

// Scan calls fn with each line of a published file, in order.
func Scan(path string, fn func(line []byte) error) error { return scan(path, fn) }

func scan(path string, fn func(line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if err := fn(sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// ReadAll decodes every published event under dir (tests and tools).
func ReadAll(dir string) ([]*schema.Event, error) {
	files, err := Files(dir)
	if err != nil {
		return nil, err
	}
	var out []*schema.Event
	for _, p := range files {
		err := scan(p, func(line []byte) error {
			e, err := schema.Decode(line)
			if err != nil {
				return fmt.Errorf("decoding line of %s: %w", p, err)
			}
			out = append(out, e)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReadFailed decodes every published failed event under dir (tests and
// tools).
func ReadFailed(dir string) ([]*schema.Failed, error) {
	files, err := Files(dir)
	if err != nil {
		return nil, err
	}
	var out []*schema.Failed
	for _, p := range files {
		err := scan(p, func(line []byte) error {
			f, err := schema.DecodeFailed(line)
			if err != nil {
				return fmt.Errorf("decoding line of %s: %w", p, err)
			}
			out = append(out, f)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
