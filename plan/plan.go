// Package plan checks events against an app's tracking plan: a JSON Schema
// (draft 2020-12) per event name for its properties, and one for the
// fields every event of the app shares. A plan says, per app and per
// event, what a violation costs the event (Mode): nothing (off), a note in
// the event (audit), its unplanned properties (drop_properties), or its
// place in the store (block: it is kept as a failed event instead).
//
// A plan is a file, plans/APP.json (Load, Set). Check is pure and safe for
// concurrent use; the collector calls it on every event of an app that
// has a plan, before the event is encoded.
package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Mode is what a violation does to its event.
type Mode string

const (
	Off            Mode = "off"             // not checked
	Audit          Mode = "audit"           // stored, its violations in props.spoor_violations
	DropProperties Mode = "drop_properties" // unplanned properties removed (props.spoor_dropped), the rest audited
	Block          Mode = "block"           // not stored: kept as a failed event with its violations
)

func (m Mode) valid() bool {
	switch m {
	case Off, Audit, DropProperties, Block:
		return true
	}
	return false
}

// File is a plan as written: plans/APP.json.
type File struct {
	// App the plan is for (the file's name without .json when empty).
	App string `json:"app"`
	// Version names this plan in every violation it finds ("1", a date, a
	// commit): what an event was checked against.
	Version string `json:"version"`
	// Mode for the app's events (audit when empty); an event's own wins.
	Mode Mode `json:"mode"`
	// Unplanned is the mode for an event whose name the plan does not list
	// (off when empty: a plan of some events checks only those).
	Unplanned Mode `json:"unplanned"`
	// Common is a JSON Schema for every event of the app, as the event is
	// stored: its fields (event_name, user_id, url…) and props.
	Common json.RawMessage `json:"common,omitempty"`
	// Events are the planned event names.
	Events map[string]Event `json:"events"`
}

// Event is one planned event.
type Event struct {
	Mode Mode `json:"mode,omitempty"`
	// Properties is a JSON Schema for the event's properties (props, the
	// fields outside spoor's dictionary, as sent).
	Properties json.RawMessage `json:"properties,omitempty"`
}

// Plan is a compiled File.
type Plan struct {
	App, Version string
	mode         Mode
	unplanned    Mode
	common       *schemaOf
	events       map[string]event
}

type event struct {
	mode  Mode
	props *schemaOf
}

// schemaOf is one compiled schema: the validator's, and fast's reading of
// it for the events it surely passes (nil: none).
type schemaOf struct {
	s    *jsonschema.Schema
	fast *fast
}

// Parse reads and compiles a plan; every schema must compile against
// draft 2020-12 (the default when a schema names no $schema).
func Parse(data []byte, app string) (*Plan, error) {
	var f File
	if err := strictJSON(data, &f); err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	if f.App == "" {
		f.App = app
	}
	if app != "" && f.App != app {
		return nil, fmt.Errorf("the plan says app %q, its file is %s's", f.App, app)
	}
	if f.App == "" {
		return nil, fmt.Errorf("the plan names no app")
	}
	if f.Mode == "" {
		f.Mode = Audit
	}
	if f.Unplanned == "" {
		f.Unplanned = Off
	}
	for _, m := range []Mode{f.Mode, f.Unplanned} {
		if !m.valid() {
			return nil, fmt.Errorf("mode %q: want off, audit, drop_properties or block", m)
		}
	}
	p := &Plan{App: f.App, Version: f.Version, mode: f.Mode, unplanned: f.Unplanned, events: map[string]event{}}
	c := newCompiler()
	compile := func(name string, raw json.RawMessage) (*schemaOf, error) {
		if len(bytes.TrimSpace(raw)) == 0 {
			return nil, nil
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		url := "plan:///" + f.App + "/" + strings.ReplaceAll(name, " ", "%20")
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		s, err := c.Compile(url)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return &schemaOf{s: s, fast: compileFast(doc)}, nil
	}
	var err error
	if p.common, err = compile("common", f.Common); err != nil {
		return nil, err
	}
	for name, e := range f.Events {
		if e.Mode != "" && !e.Mode.valid() {
			return nil, fmt.Errorf("event %q: mode %q: want off, audit, drop_properties or block", name, e.Mode)
		}
		ev := event{mode: e.Mode}
		if ev.mode == "" {
			ev.mode = f.Mode
		}
		if ev.props, err = compile("events/"+name, e.Properties); err != nil {
			return nil, err
		}
		p.events[name] = ev
	}
	return p, nil
}

// Mode is the mode of the plan's events that name none; Unplanned the
// mode of the names it does not list.
func (p *Plan) Mode() Mode      { return p.mode }
func (p *Plan) Unplanned() Mode { return p.unplanned }

// EventModes are the planned event names, each with its mode.
func (p *Plan) EventModes() map[string]Mode {
	out := make(map[string]Mode, len(p.events))
	for n, e := range p.events {
		out[n] = e.mode
	}
	return out
}

// newCompiler is the validator as plans use it: draft 2020-12 unless a
// schema names another, formats as annotations (the draft's default), no
// schema loaded from anywhere but the plan. plan/suite_test.go runs the
// JSON Schema Test Suite's required draft 2020-12 tests against it.
func newCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	return c
}

// noLoader refuses every external schema: a plan is whole in its files,
// and a $ref to a URL must not make spoor fetch it at start-up.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("a plan's schemas are loaded from its files only, not %s", url)
}

// Planned reports whether the plan lists the event name.
func (p *Plan) Planned(name string) bool {
	_, ok := p.events[name]
	return ok
}
