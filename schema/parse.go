package schema

import (
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
// (a batch). It returns the objects in order; their values are views into
// body. maxEvents bounds a batch: a *TooManyError above it.
func ParseJSONBody(body []byte, maxEvents int) ([]Object, error) {
	i := skipSpace(body, 0)
	if i == len(body) {
		return nil, ErrEmptyBatch
	}
	var objs []Object
	switch body[i] {
	case '{':
		obj, end, err := scanObject(body, i, 1)
		if err != nil {
			return nil, fmt.Errorf("%w: body: %s", ErrInvalid, err)
		}
		i = end
		objs = []Object{obj}
	case '[':
		var err error
		if objs, i, err = scanBatch(body, i, maxEvents); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: body must be a JSON object or array", ErrInvalid)
	}
	if skipSpace(body, i) != len(body) {
		return nil, fmt.Errorf("%w: body: data after the JSON value at byte %d", ErrInvalid, i)
	}
	return objs, nil
}

// ParseBatchObject reads a body holding one JSON object whose member key,
// when it is an array, is a batch of objects (Segment's /v1/batch): the
// object, and the batch's objects, in one pass over the body (values are
// views into body). The errors are ParseJSONBody's, the body's JSON first,
// then the batch's (ErrEmptyBatch, a *TooManyError above maxEvents); a key
// absent or no array gives no batch and no error.
func ParseBatchObject(body []byte, key string, maxEvents int) (Object, []Object, error) {
	i := skipSpace(body, 0)
	if i == len(body) || body[i] != '{' {
		return nil, nil, fmt.Errorf("%w: body must be a JSON object", ErrInvalid)
	}
	var items []Object
	var batchErr error
	obj, end, err := scanObjectWith(body, i, 1, func(k string, b []byte, i int, depth int) (int, bool, error) {
		if k != key {
			return 0, false, nil
		}
		if items, batchErr = nil, nil; i >= len(b) || b[i] != '[' { // the last member of that name is the batch
			return 0, false, nil
		}
		objs, end, err := scanBatch(b, i, maxEvents)
		var tm *TooManyError
		switch {
		case errors.Is(err, ErrEmptyBatch) || errors.As(err, &tm):
			items, batchErr = nil, err // told once the whole body is known to be JSON
			return end + 1, true, nil
		case err != nil:
			return 0, true, err // already says where, as ErrInvalid
		}
		items, batchErr = objs, nil
		return end, true, nil
	})
	switch {
	case errors.Is(err, ErrInvalid):
		return nil, nil, err
	case err != nil:
		return nil, nil, fmt.Errorf("%w: body: %s", ErrInvalid, err)
	case skipSpace(body, end) != len(body):
		return nil, nil, fmt.Errorf("%w: body: data after the JSON value at byte %d", ErrInvalid, end)
	}
	if batchErr != nil {
		return obj, nil, batchErr
	}
	return obj, items, nil
}

// TooManyError is returned for a batch above the configured size.
type TooManyError struct{ Got, Max int }

func (e *TooManyError) Error() string {
	return fmt.Sprintf("batch has %d events, the limit is %d", e.Got, e.Max)
}

// scanBatch reads the array at body[i] == '['. Elements past maxEvents are
// only validated and counted, for the error message.
func scanBatch(body []byte, i, maxEvents int) ([]Object, int, error) {
	var objs []Object
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == ']' {
		return nil, i, ErrEmptyBatch
	}
	n := 0
	for ; ; n++ {
		i = skipSpace(body, i)
		var end int
		var err error
		switch {
		case maxEvents > 0 && n >= maxEvents:
			end, err = skipValue(body, i, 1)
		case i < len(body) && body[i] == '{':
			var obj Object
			obj, end, err = scanObject(body, i, 1)
			objs = append(objs, obj)
		default:
			return nil, i, fmt.Errorf("%w: batch element %d: must be an object", ErrInvalid, n)
		}
		if err != nil {
			return nil, i, fmt.Errorf("%w: batch element %d: %s", ErrInvalid, n, err)
		}
		i = skipSpace(body, end)
		if i >= len(body) {
			return nil, i, fmt.Errorf("%w: body: unexpected end of array", ErrInvalid)
		}
		if body[i] == ']' {
			break
		}
		if body[i] != ',' {
			return nil, i, fmt.Errorf("%w: body: expected ',' or ']' at byte %d", ErrInvalid, i)
		}
		i++
	}
	if maxEvents > 0 && n+1 > maxEvents {
		return nil, i, &TooManyError{Got: n + 1, Max: maxEvents}
	}
	return objs, i + 1, nil
}
