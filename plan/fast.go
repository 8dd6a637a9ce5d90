package plan

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The validator spends microseconds on every event, most of them on the
// valid ones (it formats every number and reads it as a big.Rat, and
// allocates as it walks). fast is a second reading of the schemas written
// with the common keywords, for the common case: it answers "valid" only
// when it is sure the validator would, without allocating, and otherwise
// hands the event to the validator, which decides and says why. So a
// verdict is always the validator's; fast only skips it for events it
// would pass. plan/suite_test.go holds fast to that on the JSON Schema Test
// Suite, and FuzzFast on random events.

// fast is a schema compiled for the valid case; nil: the schema uses a
// keyword fast does not read, and every instance goes to the validator.
type fast struct {
	never      bool   // the false schema
	types      uint16 // typeObject|…; 0: any type
	props      map[string]*fast
	required   []string
	noOthers   bool  // additionalProperties: false
	others     *fast // additionalProperties: a schema
	items      *fast
	enum       []any // strings, json.Number, bools and nil only
	hasEnum    bool
	min, max   *float64
	xmin, xmax *float64
	minLen     int // -1: none
	maxLen     int
	minItems   int
	maxItems   int
	minProps   int
	maxProps   int
}

const (
	typeObject uint16 = 1 << iota
	typeArray
	typeString
	typeNumber
	typeInteger
	typeBoolean
	typeNull
)

var typeBits = map[string]uint16{"object": typeObject, "array": typeArray, "string": typeString, "number": typeNumber,
	"integer": typeInteger, "boolean": typeBoolean, "null": typeNull}

// annotations are keywords that never make an instance invalid (format is
// one: the plans' validator does not assert formats).
var annotations = map[string]bool{"title": true, "description": true, "examples": true, "default": true, "$comment": true,
	"format": true, "deprecated": true, "readOnly": true, "writeOnly": true}

// compileFast reads doc (a schema as jsonschema.UnmarshalJSON gives it);
// nil when it uses anything else than the keywords below.
func compileFast(doc any) *fast {
	switch d := doc.(type) {
	case bool:
		return &fast{never: !d, minLen: -1, maxLen: -1, minItems: -1, maxItems: -1, minProps: -1, maxProps: -1}
	case map[string]any:
		f := &fast{minLen: -1, maxLen: -1, minItems: -1, maxItems: -1, minProps: -1, maxProps: -1}
		for k, v := range d {
			if !f.keyword(k, v) {
				return nil
			}
		}
		return f
	}
	return nil
}

func (f *fast) keyword(k string, v any) bool {
	switch k {
	case "$schema":
		s, ok := v.(string)
		return ok && strings.TrimSuffix(s, "#") == "https://json-schema.org/draft/2020-12/schema"
	case "type":
		switch t := v.(type) {
		case string:
			f.types = typeBits[t]
			return f.types != 0
		case []any:
			for _, x := range t {
				s, _ := x.(string)
				if typeBits[s] == 0 {
					return false
				}
				f.types |= typeBits[s]
			}
			return len(t) > 0
		}
		return false
	case "properties":
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		f.props = make(map[string]*fast, len(m))
		for name, s := range m {
			if f.props[name] = compileFast(s); f.props[name] == nil {
				return false
			}
		}
		return true
	case "required":
		a, ok := v.([]any)
		for _, x := range a {
			s, isStr := x.(string)
			if !isStr {
				return false
			}
			f.required = append(f.required, s)
		}
		return ok
	case "additionalProperties":
		if b, ok := v.(bool); ok {
			f.noOthers = !b
			return true
		}
		f.others = compileFast(v)
		return f.others != nil
	case "items":
		f.items = compileFast(v)
		return f.items != nil
	case "enum", "const":
		vals := []any{v}
		if k == "enum" {
			a, ok := v.([]any)
			if !ok {
				return false
			}
			vals = a
		}
		for _, x := range vals {
			switch x.(type) {
			case string, json.Number, bool, nil:
			default:
				return false
			}
		}
		if f.hasEnum { // enum and const both: fast reads one
			return false
		}
		f.enum, f.hasEnum = vals, true
		return true
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		x, err := strconv.ParseFloat(string(n), 64)
		if err != nil || math.IsInf(x, 0) {
			return false
		}
		*map[string]**float64{"minimum": &f.min, "maximum": &f.max, "exclusiveMinimum": &f.xmin, "exclusiveMaximum": &f.xmax}[k] = &x
		return true
	case "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		i, err := strconv.Atoi(string(n))
		if err != nil || i < 0 {
			return false
		}
		*map[string]*int{"minLength": &f.minLen, "maxLength": &f.maxLen, "minItems": &f.minItems, "maxItems": &f.maxItems,
			"minProperties": &f.minProps, "maxProperties": &f.maxProps}[k] = i
		return true
	}
	return annotations[k]
}

// valid reports whether the validator surely finds v valid; false is "ask
// the validator".
func (f *fast) valid(v any) bool {
	if f.never {
		return false
	}
	if f.types != 0 && !f.typeOK(v) {
		return false
	}
	if f.hasEnum && !f.inEnum(v) {
		return false
	}
	switch x := v.(type) {
	case map[string]any:
		if f.minProps >= 0 && len(x) < f.minProps || f.maxProps >= 0 && len(x) > f.maxProps {
			return false
		}
		for _, r := range f.required {
			if _, ok := x[r]; !ok {
				return false
			}
		}
		for k, pv := range x {
			if s, ok := f.props[k]; ok {
				if !s.valid(pv) {
					return false
				}
				continue
			}
			if f.noOthers || f.others != nil && !f.others.valid(pv) {
				return false
			}
		}
	case []any:
		if f.minItems >= 0 && len(x) < f.minItems || f.maxItems >= 0 && len(x) > f.maxItems {
			return false
		}
		if f.items != nil {
			for _, it := range x {
				if !f.items.valid(it) {
					return false
				}
			}
		}
	case string:
		if f.minLen >= 0 || f.maxLen >= 0 {
			n := utf8.RuneCountInString(x)
			if f.minLen >= 0 && n < f.minLen || f.maxLen >= 0 && n > f.maxLen {
				return false
			}
		}
	case json.Number:
		if f.min != nil || f.max != nil || f.xmin != nil || f.xmax != nil {
			n, err := strconv.ParseFloat(string(x), 64)
			if err != nil || math.IsInf(n, 0) {
				return false
			}
			// Sure only away from the bound: a float's rounding decides nothing.
			if f.min != nil && !clearlyAbove(n, *f.min) || f.xmin != nil && !clearlyAbove(n, *f.xmin) ||
				f.max != nil && !clearlyAbove(*f.max, n) || f.xmax != nil && !clearlyAbove(*f.xmax, n) {
				return false
			}
		}
	}
	return true
}

// clearlyAbove: a > b by more than float rounding could blur.
func clearlyAbove(a, b float64) bool {
	return a-b > 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func (f *fast) typeOK(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return f.types&typeObject != 0
	case []any:
		return f.types&typeArray != 0
	case string:
		return f.types&typeString != 0
	case bool:
		return f.types&typeBoolean != 0
	case nil:
		return f.types&typeNull != 0
	case json.Number:
		if f.types&typeNumber != 0 {
			return true
		}
		// An integer written without a fraction or exponent; 1.0 and 1e2
		// are integers too, but the validator decides those.
		return f.types&typeInteger != 0 && !strings.ContainsAny(string(x), ".eE")
	}
	return false
}

// inEnum: v is one of the values, written the same way (1 and 1.0 are
// equal to the validator: a number written otherwise is its to decide).
func (f *fast) inEnum(v any) bool {
	for _, e := range f.enum {
		switch x := v.(type) {
		case string:
			if s, ok := e.(string); ok && s == x {
				return true
			}
		case json.Number:
			if n, ok := e.(json.Number); ok && n == x {
				return true
			}
		case bool:
			if b, ok := e.(bool); ok && b == x {
				return true
			}
		case nil:
			if e == nil {
				return true
			}
		}
	}
	return false
}

// skip passes over one JSON value; nil when b does not hold one.
func skip(b []byte) []byte {
	b = skipWS(b)
	if len(b) == 0 {
		return nil
	}
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(b) {
				return nil
			}
			if depth == 0 {
				return b[i+1:]
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return nil
			}
			if depth == 0 {
				return b[i+1:]
			}
		case ',', ' ', '\n', '\r', '\t':
			if depth == 0 {
				return b[i:]
			}
		}
	}
	if depth == 0 {
		return b[len(b):]
	}
	return nil
}

// validRaw is valid for one JSON value as encoded (valid JSON), read in
// place: no value is built. A string with an escape, or anything fast
// cannot be sure of, is "ask the validator".
func (f *fast) validRaw(b []byte) bool {
	if f.never {
		return false
	}
	b = skipWS(b)
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return false
	}
	switch c := b[0]; {
	case c == '{':
		return (f.types == 0 || f.types&typeObject != 0) && !f.hasEnum && f.objectRaw(b)
	case c == '[':
		if f.types != 0 && f.types&typeArray == 0 || f.hasEnum {
			return false
		}
		n := 0
		rest := skipWS(b[1:])
		if len(rest) > 0 && rest[0] == ']' {
			rest = nil
		}
		for rest != nil {
			after := skip(rest)
			if after == nil {
				return false
			}
			if f.items != nil && !f.items.validRaw(rest[:len(rest)-len(after)]) {
				return false
			}
			n++
			after = skipWS(after)
			if len(after) == 0 {
				return false
			}
			if after[0] == ']' {
				break
			}
			rest = after[1:] // ','
		}
		return (f.minItems < 0 || n >= f.minItems) && (f.maxItems < 0 || n <= f.maxItems)
	case c == '"':
		if f.types != 0 && f.types&typeString == 0 || len(b) < 2 {
			return false
		}
		s := b[1 : len(b)-1]
		if bytes.IndexByte(s, '\\') >= 0 {
			return false
		}
		if f.hasEnum {
			found := false
			for _, e := range f.enum {
				if es, ok := e.(string); ok && es == string(s) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		if f.minLen >= 0 || f.maxLen >= 0 {
			n := utf8.RuneCount(s)
			if f.minLen >= 0 && n < f.minLen || f.maxLen >= 0 && n > f.maxLen {
				return false
			}
		}
		return true
	case c == 't' || c == 'f':
		if f.types != 0 && f.types&typeBoolean == 0 {
			return false
		}
		return !f.hasEnum || f.inEnum(c == 't')
	case c == 'n':
		if f.types != 0 && f.types&typeNull == 0 {
			return false
		}
		return !f.hasEnum || f.inEnum(nil)
	}
	// A number.
	integer := bytes.IndexAny(b, ".eE") < 0
	if f.types != 0 && f.types&typeNumber == 0 && !(f.types&typeInteger != 0 && integer) {
		return false
	}
	if f.hasEnum {
		found := false
		for _, e := range f.enum {
			if n, ok := e.(json.Number); ok && string(n) == string(b) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if f.min != nil || f.max != nil || f.xmin != nil || f.xmax != nil {
		n, err := strconv.ParseFloat(string(b), 64)
		if err != nil || math.IsInf(n, 0) {
			return false
		}
		if f.min != nil && !clearlyAbove(n, *f.min) && !(integer && exactAtLeast(b, *f.min)) ||
			f.xmin != nil && !clearlyAbove(n, *f.xmin) ||
			f.max != nil && !clearlyAbove(*f.max, n) && !(integer && exactAtMost(b, *f.max)) ||
			f.xmax != nil && !clearlyAbove(*f.xmax, n) {
			return false
		}
	}
	return true
}

// exactAtLeast and exactAtMost compare an integer literal with an
// integral bound exactly, where a float's rounding would leave a doubt
// (qty 1 against minimum 1).
func exactAtLeast(b []byte, bound float64) bool {
	i, ok := exactInt(b, bound)
	return ok && i >= int64(bound)
}

func exactAtMost(b []byte, bound float64) bool {
	i, ok := exactInt(b, bound)
	return ok && i <= int64(bound)
}

func exactInt(b []byte, bound float64) (int64, bool) {
	if bound != math.Trunc(bound) || math.Abs(bound) >= 1<<53 {
		return 0, false
	}
	i, err := strconv.ParseInt(string(b), 10, 64)
	return i, err == nil
}

// objectRaw checks an object as encoded: its members against properties
// and additionalProperties, the required ones present, the counts.
func (f *fast) objectRaw(b []byte) bool {
	// minProperties is the validator's: counted here, a key written twice
	// would count twice.
	if len(f.required) > 64 || f.minProps >= 0 {
		return false
	}
	var seen uint64 // bit i: required[i] is present
	n := 0
	rest := skipWS(b[1:])
	if len(rest) > 0 && rest[0] == '}' {
		rest = nil
	}
	for rest != nil {
		rest = skipWS(rest)
		if len(rest) == 0 || rest[0] != '"' {
			return false
		}
		end := bytes.IndexByte(rest[1:], '"')
		if end < 0 {
			return false
		}
		key := rest[1 : 1+end]
		if bytes.IndexByte(key, '\\') >= 0 {
			return false
		}
		rest = skipWS(rest[2+end:])
		if len(rest) == 0 || rest[0] != ':' {
			return false
		}
		val := skipWS(rest[1:])
		after := skip(val)
		if after == nil {
			return false
		}
		if !f.memberRaw(key, val[:len(val)-len(after)], &seen) {
			return false
		}
		n++
		after = skipWS(after)
		if len(after) == 0 {
			return false
		}
		if after[0] == '}' {
			break
		}
		rest = after[1:] // ','
	}
	return f.counted(n, seen)
}

// memberRaw checks one member of an object, noting a required one.
func (f *fast) memberRaw(key, val []byte, seen *uint64) bool {
	for i, r := range f.required {
		if r == string(key) {
			*seen |= 1 << i
		}
	}
	if s, ok := f.props[string(key)]; ok {
		return s.validRaw(val)
	}
	return !f.noOthers && (f.others == nil || f.others.validRaw(val))
}

// counted: the property counts are within bounds and every required
// property was seen.
func (f *fast) counted(n int, seen uint64) bool {
	if f.minProps >= 0 && n < f.minProps || f.maxProps >= 0 && n > f.maxProps {
		return false
	}
	return len(f.required) == 0 || seen == 1<<len(f.required)-1
}

// validProps checks an event's props (its members as sent, spoor's own
// notes left out) as the object the properties schema describes.
func (f *fast) validProps(props map[string]json.RawMessage) bool {
	if f.never || f.types != 0 && f.types&typeObject == 0 || f.hasEnum || len(f.required) > 64 {
		return false
	}
	var seen uint64
	n := 0
	for k, raw := range props {
		if strings.HasPrefix(k, "spoor_") {
			continue
		}
		if strings.IndexByte(k, '"') >= 0 || strings.IndexByte(k, '\\') >= 0 {
			return false
		}
		if !f.memberRaw([]byte(k), raw, &seen) {
			return false
		}
		n++
	}
	return f.counted(n, seen)
}
