package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrWrite: Set could not write a plan that parses (the disk's fault).
var ErrWrite = errors.New("writing the plan")

// ErrDirectory: Set cannot replace a plan kept as a directory.
var ErrDirectory = errors.New("the plan is a directory")

// Plans are the apps' plans, read from a directory (one APP.json each) and
// read again when a file changes. A plan that no longer parses keeps the
// last good one in force; the error is reported (OnReload) until the file
// is fixed. Safe for concurrent use.
type Plans struct {
	dir string
	// OnReload hears every plan read (err nil) or refused (err set, the
	// last good version still in force).
	OnReload func(app, version string, err error)

	cur   atomic.Pointer[map[string]*Plan]
	mu    sync.Mutex // serializes Reload and Set
	seen  map[string]stamp
	fails map[string]error // apps whose file is broken now
}

type stamp struct {
	mod   time.Time
	size  int64
	files int
}

// Open reads every plan in dir (missing: no plans). At start-up a plan
// that does not parse is an error: there is no last good one to keep.
func Open(dir string) (*Plans, error) {
	ps := &Plans{dir: dir, seen: map[string]stamp{}, fails: map[string]error{}}
	empty := map[string]*Plan{}
	ps.cur.Store(&empty)
	if errs := ps.Reload(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ps, nil
}

// For is app's plan, or nil.
func (ps *Plans) For(app string) *Plan {
	if ps == nil {
		return nil
	}
	return (*ps.cur.Load())[app]
}

// Status is one app's plan as loaded.
type Status struct {
	App     string `json:"app"`
	Version string `json:"version"`
	Error   string `json:"error,omitempty"` // the file's current error (the version above still in force)
}

// Statuses lists the plans in force, by app.
func (ps *Plans) Statuses() []Status {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var out []Status
	for app, p := range *ps.cur.Load() {
		s := Status{App: app, Version: p.Version}
		if err := ps.fails[app]; err != nil {
			s.Error = err.Error()
		}
		out = append(out, s)
	}
	for app, err := range ps.fails {
		if (*ps.cur.Load())[app] == nil {
			out = append(out, Status{App: app, Error: err.Error()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].App < out[j].App })
	return out
}

// Reload reads the files that changed since the last read; a file gone
// takes its plan away. It returns the refusals.
func (ps *Plans) Reload() []error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	entries, err := os.ReadDir(ps.dir)
	if errors.Is(err, fs.ErrNotExist) {
		entries = nil
	} else if err != nil {
		return []error{fmt.Errorf("reading plans in %s: %w", ps.dir, err)}
	}
	next := map[string]*Plan{}
	for app, p := range *ps.cur.Load() {
		next[app] = p
	}
	present := map[string]bool{}
	var errs []error
	for _, en := range entries {
		name := en.Name()
		if strings.HasPrefix(name, ".") || !en.IsDir() && !strings.HasSuffix(name, ".json") {
			continue
		}
		app := strings.TrimSuffix(name, ".json")
		path := filepath.Join(ps.dir, name)
		if present[app] {
			err := fmt.Errorf("plan %s: app %s has both a plan file and a plan directory", path, app)
			ps.fails[app] = err
			errs = append(errs, err)
			continue
		}
		present[app] = true
		st, err := stampOf(path)
		if err != nil {
			continue
		}
		if old, ok := ps.seen[app]; ok && old == st {
			continue
		}
		ps.seen[app] = st
		p, err := readPlan(path, app)
		if err != nil {
			err = fmt.Errorf("plan %s: %w", path, err)
			ps.fails[app] = err
			errs = append(errs, err)
			ps.report(app, versionOf(next[app]), err)
			continue
		}
		delete(ps.fails, app)
		next[app] = p
		ps.report(app, p.Version, nil)
	}
	for app := range next {
		if !present[app] {
			delete(next, app)
			delete(ps.seen, app)
		}
	}
	for app := range ps.fails {
		if !present[app] {
			delete(ps.fails, app)
		}
	}
	ps.cur.Store(&next)
	return errs
}

// stampOf is what tells whether a plan file or directory changed.
func stampOf(path string) (stamp, error) {
	info, err := os.Stat(path)
	if err != nil {
		return stamp{}, err
	}
	st := stamp{mod: info.ModTime(), size: info.Size(), files: 1}
	if !info.IsDir() {
		return st, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return stamp{}, err
	}
	for _, en := range entries {
		if fi, err := en.Info(); err == nil && !en.IsDir() {
			st.files++
			st.size += fi.Size()
			if fi.ModTime().After(st.mod) {
				st.mod = fi.ModTime()
			}
		}
	}
	return st, nil
}

// ReadPath reads and compiles the plan at path, a file (plans/APP.json) or
// a directory (plans/APP/), for the app its name says (spoor plan check).
func ReadPath(path string) (*Plan, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	app := filepath.Base(filepath.Clean(path))
	if !info.IsDir() {
		app = strings.TrimSuffix(app, ".json")
	}
	return readPlan(path, app)
}

// readPlan reads a plan file, or a plan directory: plan.json holds the
// plan's keys, and every other NAME.json in it is the event NAME ({"mode",
// "properties"}), so that each event's schema can be a file of its own.
func readPlan(path, app string) (*Plan, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return Parse(data, app)
	}
	var f File
	data, err := os.ReadFile(filepath.Join(path, "plan.json"))
	if err != nil {
		return nil, fmt.Errorf("a plan directory needs its plan.json: %w", err)
	}
	if err := strictJSON(data, &f); err != nil {
		return nil, fmt.Errorf("plan.json: %w", err)
	}
	if f.Events == nil {
		f.Events = map[string]Event{}
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	for _, en := range entries {
		name := en.Name()
		if en.IsDir() || name == "plan.json" || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue
		}
		event := strings.TrimSuffix(name, ".json")
		if _, dup := f.Events[event]; dup {
			return nil, fmt.Errorf("event %q is in plan.json and in %s", event, name)
		}
		data, err := os.ReadFile(filepath.Join(path, name))
		if err != nil {
			return nil, err
		}
		var e Event
		if err := strictJSON(data, &e); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		f.Events[event] = e
	}
	whole, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	return Parse(whole, app)
}

// strictJSON decodes data into v, refusing unknown keys.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// Set writes app's plan (the admin API's) to its file, atomically, once
// it parses, and puts it in force.
func (ps *Plans) Set(app string, data []byte) (*Plan, error) {
	if app == "" || strings.ContainsAny(app, `/\`) || strings.HasPrefix(app, ".") {
		return nil, fmt.Errorf("app %q cannot name a plan file", app)
	}
	p, err := Parse(data, app)
	if err != nil {
		return nil, err
	}
	if info, err := os.Stat(filepath.Join(ps.dir, app)); err == nil && info.IsDir() {
		return nil, fmt.Errorf("%w: %s's plan is the directory %s: change its files", ErrDirectory, app, filepath.Join(ps.dir, app))
	}
	if err := os.MkdirAll(ps.dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrite, err)
	}
	tmp, err := os.CreateTemp(ps.dir, ".plan-*")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrite, err)
	}
	defer os.Remove(tmp.Name())
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(ps.dir, app+".json"))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrite, err)
	}
	if errs := ps.Reload(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// Run reloads every interval until ctx ends, calling each (if any) after
// every reload.
func (ps *Plans) Run(ctx context.Context, interval time.Duration, each ...func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ps.Reload()
			for _, f := range each {
				f()
			}
		}
	}
}

func (ps *Plans) report(app, version string, err error) {
	if ps.OnReload != nil {
		ps.OnReload(app, version, err)
	}
}

func versionOf(p *Plan) string {
	if p == nil {
		return ""
	}
	return p.Version
}
