package plan

import (
	"context"
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
	mod  time.Time
	size int64
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
		if en.IsDir() || !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		app := strings.TrimSuffix(name, ".json")
		present[app] = true
		info, err := en.Info()
		if err != nil {
			continue
		}
		st := stamp{mod: info.ModTime(), size: info.Size()}
		if old, ok := ps.seen[app]; ok && old == st {
			continue
		}
		ps.seen[app] = st
		data, err := os.ReadFile(filepath.Join(ps.dir, name))
		var p *Plan
		if err == nil {
			p, err = Parse(data, app)
		}
		if err != nil {
			err = fmt.Errorf("plan %s: %w", filepath.Join(ps.dir, name), err)
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
	if err := os.MkdirAll(ps.dir, 0o755); err != nil {
		return nil, fmt.Errorf("writing the plan: %w", err)
	}
	tmp, err := os.CreateTemp(ps.dir, ".plan-*")
	if err != nil {
		return nil, fmt.Errorf("writing the plan: %w", err)
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
		return nil, fmt.Errorf("writing the plan: %w", err)
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
