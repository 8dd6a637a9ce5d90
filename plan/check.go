package plan

import (
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"github.com/spoor-dev/spoor/schema"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The props spoor writes into a checked event.
const (
	ViolationsProp = "spoor_violations" // audit: what the event broke
	DroppedProp    = "spoor_dropped"    // drop_properties: the properties removed
)

// Violation types.
const (
	UnplannedEvent    = "unplanned_event"
	MissingRequired   = "missing_required"
	WrongType         = "wrong_type"
	UnplannedProperty = "unplanned_property"
	NotInEnum         = "not_in_enum"
	OutOfRange        = "out_of_range"
	Invalid           = "invalid" // any other keyword (pattern, format, …)
)

// Violation is one rule an event broke: its type, where (a JSON pointer
// into the event as stored: /props/price, /user_id), the validator's
// sentence, and the plan's version.
type Violation struct {
	Type    string `json:"type"`
	Path    string `json:"path"`
	Message string `json:"message"`
	Plan    string `json:"plan"`
}

// Result is a checked event's verdict.
type Result struct {
	Mode       Mode // what the violations cost it (Off when there are none)
	Violations []Violation
	Dropped    []string // drop_properties: the properties removed
}

// Check checks e against the plan and, for audit and drop_properties,
// writes the verdict into e (its violations in props.spoor_violations, the
// dropped properties gone and listed in props.spoor_dropped). A Block
// result leaves e as it was: the caller keeps it as a failed event.
func (p *Plan) Check(e *schema.Event) Result { return p.CheckEncoded(e, nil) }

// CheckEncoded is Check for an event whose encoding the caller has already
// (nil: Check encodes it when the common schema needs it). The encoding
// must be e's as it is now; after a Result with violations or dropped
// properties, e has changed and must be encoded again.
func (p *Plan) CheckEncoded(e *schema.Event, encoded []byte) Result {
	ev, planned := p.events[e.EventName]
	mode := p.unplanned
	if planned {
		mode = ev.mode
	}
	if mode == Off {
		return Result{Mode: Off}
	}
	var vs []Violation
	if !planned {
		vs = append(vs, Violation{Type: UnplannedEvent, Path: "/event_name", Message: "event " + quote(e.EventName) + " is not in the plan", Plan: p.Version})
	}
	var drop []string
	var inst map[string]any // the props as the validator reads them, when it must
	if planned && ev.props != nil && !(ev.props.fast != nil && ev.props.fast.validProps(e.Props)) {
		inst = make(map[string]any, len(e.Props))
		for k, raw := range e.Props {
			if strings.HasPrefix(k, "spoor_") { // spoor's own notes, not the client's
				continue
			}
			v, err := instance(raw)
			if err != nil {
				continue // the builder stored it as valid JSON
			}
			inst[k] = v
		}
		for _, v := range p.violations(ev.props, inst, "/props") {
			if mode == DropProperties && v.Type == UnplannedProperty && strings.Count(v.Path, "/") == 2 {
				drop = append(drop, unescape(v.Path[len("/props/"):]))
				continue
			}
			vs = append(vs, v)
		}
	}
	if p.common != nil {
		if encoded == nil {
			encoded, _ = e.Encode()
		}
		if !(p.common.fast != nil && p.common.fast.validRaw(encoded)) {
			if whole, err := instanceOfEvent(encoded, inst); err == nil {
				vs = append(vs, p.violations(p.common, whole, "")...)
			}
		}
	}
	if len(vs) == 0 && len(drop) == 0 {
		return Result{Mode: Off}
	}
	r := Result{Mode: mode, Violations: vs, Dropped: drop}
	if mode == Block {
		return r
	}
	if e.Props == nil {
		e.Props = map[string]json.RawMessage{}
	}
	if len(drop) > 0 {
		sort.Strings(drop)
		for _, k := range drop {
			delete(e.Props, k)
		}
		e.Props[DroppedProp], _ = json.Marshal(drop)
	}
	if len(vs) > 0 {
		e.Props[ViolationsProp], _ = json.Marshal(vs)
	}
	return r
}

var printer = message.NewPrinter(language.English)

// violations validates inst and returns one violation per failed leaf
// keyword (per missing or unplanned property), at prefix + its location.
func (p *Plan) violations(sc *schemaOf, inst any, prefix string) []Violation {
	if sc.fast != nil && sc.fast.valid(inst) {
		return nil
	}
	err := sc.s.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Violation{{Type: Invalid, Path: prefix, Message: err.Error(), Plan: p.Version}}
	}
	var out []Violation
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		at := prefix + pointer(e.InstanceLocation)
		msg := e.ErrorKind.LocalizedString(printer)
		switch k := e.ErrorKind.(type) {
		case *kind.Required:
			for _, m := range k.Missing {
				out = append(out, Violation{Type: MissingRequired, Path: at + "/" + escape(m), Message: msg, Plan: p.Version})
			}
			return
		case *kind.AdditionalProperties:
			for _, name := range k.Properties {
				out = append(out, Violation{Type: UnplannedProperty, Path: at + "/" + escape(name), Message: msg, Plan: p.Version})
			}
			return
		}
		out = append(out, Violation{Type: typeOf(e.ErrorKind), Path: at, Message: msg, Plan: p.Version})
	}
	walk(ve)
	return out
}

func typeOf(k jsonschema.ErrorKind) string {
	switch k.(type) {
	case *kind.Type:
		return WrongType
	case *kind.Enum, *kind.Const:
		return NotInEnum
	case *kind.Minimum, *kind.Maximum, *kind.ExclusiveMinimum, *kind.ExclusiveMaximum, *kind.MultipleOf,
		*kind.MinLength, *kind.MaxLength, *kind.MinItems, *kind.MaxItems, *kind.MinProperties, *kind.MaxProperties:
		return OutOfRange
	case *kind.FalseSchema: // a property under unevaluatedProperties: false, or a false subschema
		return UnplannedProperty
	}
	return Invalid
}

// pointer is a JSON pointer (RFC 6901) of an instance location.
func pointer(loc []string) string {
	var b strings.Builder
	for _, s := range loc {
		b.WriteByte('/')
		b.WriteString(escape(s))
	}
	return b.String()
}

func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func unescape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Summary is the violations in one line (a blocked event's error).
func Summary(vs []Violation) string {
	var b strings.Builder
	for i, v := range vs {
		if i == 5 {
			b.WriteString("; …")
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.Type + " at " + v.Path + ": " + v.Message)
	}
	return b.String()
}
