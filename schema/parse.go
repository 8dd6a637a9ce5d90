package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrEmptyBatch means a JSON body held no event.
var ErrEmptyBatch = fmt.Errorf("%w: no events in body", ErrInvalid)

// Pair is one key/value from a URL.
type Pair struct{ Key, Value string }

// ParseTuplets splits a REST-path tail ("vid/123/ename/click") into pairs.
// Segments are path-unescaped; empty keys are skipped and a trailing key
// without a value is dropped, as the seed Tracker did. Values keep their case.
func ParseTuplets(tail string) ([]Pair, error) {
	tail = strings.Trim(tail, "/")
	if tail == "" {
		return nil, nil
	}
	segs := strings.Split(tail, "/")
	pairs := make([]Pair, 0, len(segs)/2)
	for n := 0; n+1 < len(segs); n += 2 {
		k, err := url.PathUnescape(segs[n])
		if err != nil {
			return nil, fmt.Errorf("%w: path segment %d: bad escape", ErrInvalid, n)
		}
		if k == "" {
			continue
		}
		v, err := url.PathUnescape(segs[n+1])
		if err != nil {
			return nil, fmt.Errorf("%w: value of %.40q: bad escape", ErrInvalid, k)
		}
		pairs = append(pairs, Pair{k, v})
	}
	return pairs, nil
}

// ParseJSONBody reads a body holding one JSON object or an array of objects
// (a batch). It returns the objects in order. maxEvents bounds a batch;
// ErrTooMany is returned above it.
func ParseJSONBody(body []byte, maxEvents int) ([]map[string]json.RawMessage, error) {
	switch firstByte(body) {
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil, fmt.Errorf("%w: body: %s", ErrInvalid, jsonErr(err))
		}
		return []map[string]json.RawMessage{obj}, nil
	case '[':
		var raws []json.RawMessage
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, fmt.Errorf("%w: body: %s", ErrInvalid, jsonErr(err))
		}
		if len(raws) == 0 {
			return nil, ErrEmptyBatch
		}
		if maxEvents > 0 && len(raws) > maxEvents {
			return nil, &TooManyError{Got: len(raws), Max: maxEvents}
		}
		objs := make([]map[string]json.RawMessage, len(raws))
		for n, r := range raws {
			if firstByte(r) != '{' {
				return nil, fmt.Errorf("%w: batch element %d: must be an object, got %s", ErrInvalid, n, jsonKind(r))
			}
			if err := json.Unmarshal(r, &objs[n]); err != nil {
				return nil, fmt.Errorf("%w: batch element %d: %s", ErrInvalid, n, jsonErr(err))
			}
		}
		return objs, nil
	case 0:
		return nil, ErrEmptyBatch
	}
	return nil, fmt.Errorf("%w: body must be a JSON object or array", ErrInvalid)
}

// TooManyError is returned for a batch above the configured size.
type TooManyError struct{ Got, Max int }

func (e *TooManyError) Error() string {
	return fmt.Sprintf("batch has %d events, the limit is %d", e.Got, e.Max)
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("invalid JSON at byte %d: %s", te.Offset, te.Error())
	}
	return "invalid JSON: " + err.Error()
}
