package sinks

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/rs/zerolog"
)

// A destination type (webhook, kafka, ga4, parquet) registers itself here
// from its package's init, the way Telegraf's outputs do; sinks/all
// imports every one of them, and app builds the configured destinations
// from this table.

// Destination is what a destination type is built from.
type Destination struct {
	Name      string         // the configured name
	Settings  map[string]any // the type's own keys (Decode them strictly)
	BatchSize int            // events per delivery at most; 0: the type's default
	Log       zerolog.Logger
}

// Type is one kind of destination.
type Type struct {
	// New checks the settings (strictly: an unknown key is an error) and
	// builds the destination, without I/O: Open connects. The Sink it
	// returns must pass sinks/deliverytest, whose contract is the
	// Deliverer's.
	New func(d Destination) (Sink, error)
	// Sample is an example entry of destinations, for the docs.
	Sample string
}

var (
	typesMu sync.RWMutex
	types   = map[string]Type{}
)

// Register adds a destination type; a name registered twice panics (two
// packages claiming one name is a build mistake).
func Register(name string, t Type) {
	typesMu.Lock()
	defer typesMu.Unlock()
	if _, dup := types[name]; dup {
		panic("sinks: destination type " + name + " registered twice")
	}
	types[name] = t
}

// Types lists the registered destination types, sorted.
func Types() []string {
	typesMu.RLock()
	defer typesMu.RUnlock()
	out := make([]string, 0, len(types))
	for n := range types {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// NewDestination builds a destination of the named type.
func NewDestination(typ string, d Destination) (Sink, error) {
	typesMu.RLock()
	t, ok := types[typ]
	typesMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("destination %s: no type %q (there are: %v)", d.Name, typ, Types())
	}
	s, err := t.New(d)
	if err != nil {
		return nil, fmt.Errorf("destination %s (%s): %w", d.Name, typ, err)
	}
	return s, nil
}

// DecodeSettings decodes a destination's settings into into (a struct with
// mapstructure tags): an unknown key is an error, durations are read from
// strings ("30s").
func DecodeSettings(settings map[string]any, into any) error {
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		ErrorUnused: true, Result: into, WeaklyTypedInput: false,
		DecodeHook: mapstructure.StringToTimeDurationHookFunc(),
	})
	if err != nil {
		return err
	}
	return dec.Decode(settings)
}

// Forgetter is a destination that can be told a person was forgotten
// (spoor forget), so that the copy downstream can go too: a signed
// webhook call, a Kafka tombstone keyed by the person.
type Forgetter interface {
	// Forget tells the destination; nil once it took the notice. A
	// destination that cannot take it now returns an error, and the
	// forget reports it (the store's deletion stands either way).
	Forget(ctx context.Context, n ForgetNotice) error
}

// ForgetNotice is one forget request as destinations are told it.
type ForgetNotice struct {
	App       string    `json:"app"`
	RequestID string    `json:"request_id"`
	Visitors  []string  `json:"visitor_ids"`
	Users     []string  `json:"user_ids"`
	At        time.Time `json:"at"`
}
