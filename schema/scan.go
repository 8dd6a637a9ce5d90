package schema

import (
	"encoding/json"
	"fmt"
)

// Member is one key/value of a JSON object; Value is the raw JSON (a view
// into the parsed body: copy what outlives the request).
type Member struct {
	Key   string
	Value json.RawMessage
}

// Object is a JSON object's members in body order.
type Object []Member

// JSON is the object encoded again, its values as they were sent.
func (o Object) JSON() []byte {
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(m.Key)
		b = append(append(append(b, k...), ':'), m.Value...)
	}
	return append(b, '}')
}

// The scanner below validates JSON as strictly as encoding/json (RFC 8259)
// in a single pass and without building maps: the collector's hot path.

type scanError struct {
	off int
	msg string
}

func (e *scanError) Error() string { return fmt.Sprintf("invalid JSON at byte %d: %s", e.off, e.msg) }

func errAt(off int, format string, a ...any) error {
	return &scanError{off, fmt.Sprintf(format, a...)}
}

const maxDepth = 64

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanObject reads the object starting at b[i] == '{' and returns its
// members and the index after it.
func scanObject(b []byte, i int, depth int) (Object, int, error) {
	return scanObjectWith(b, i, depth, nil)
}

// valueScanner reads the value of member key at b[i] in place of
// skipValue, returning the index after it, or handled false to leave it to
// skipValue.
type valueScanner func(key string, b []byte, i int, depth int) (end int, handled bool, err error)

// scanObjectWith is scanObject, with scan (when not nil) offered each
// member's value first.
func scanObjectWith(b []byte, i int, depth int, scan valueScanner) (Object, int, error) {
	if depth > maxDepth {
		return nil, i, errAt(i, "nested too deep")
	}
	i++ // '{'
	obj := make(Object, 0, 8)
	i = skipSpace(b, i)
	if i < len(b) && b[i] == '}' {
		return obj, i + 1, nil
	}
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return nil, i, errAt(i, "expected a member name")
		}
		end, escaped, err := skipString(b, i)
		if err != nil {
			return nil, i, err
		}
		var key string
		if escaped {
			var k string // only an escaped name pays a heap allocation for this
			if err := json.Unmarshal(b[i:end], &k); err != nil {
				return nil, i, errAt(i, "bad member name")
			}
			key = k
		} else {
			key = internName(b[i+1 : end-1])
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, i, errAt(i, "expected ':'")
		}
		i = skipSpace(b, i+1)
		vend, handled, err := 0, false, error(nil)
		if scan != nil {
			vend, handled, err = scan(key, b, i, depth+1)
		}
		if !handled && err == nil {
			vend, err = skipValue(b, i, depth+1)
		}
		if err != nil {
			return nil, i, err
		}
		obj = append(obj, Member{Key: key, Value: b[i:vend]})
		i = skipSpace(b, vend)
		if i >= len(b) {
			return nil, i, errAt(i, "unexpected end of object")
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return obj, i + 1, nil
		default:
			return nil, i, errAt(i, "expected ',' or '}'")
		}
	}
}

// skipValue returns the index after the JSON value starting at b[i].
func skipValue(b []byte, i int, depth int) (int, error) {
	if i >= len(b) {
		return i, errAt(i, "unexpected end of input")
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := skipString(b, i)
		return end, err
	case c == '{':
		return skipObject(b, i, depth)
	case c == '[':
		return skipArray(b, i, depth)
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(b, i)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	default:
		return i, errAt(i, "unexpected character %q", c)
	}
}

// skipObject returns the index after the object starting at b[i] == '{',
// checking its syntax as scanObject does without keeping its members.
func skipObject(b []byte, i int, depth int) (int, error) {
	if depth > maxDepth {
		return i, errAt(i, "nested too deep")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return i, errAt(i, "expected a member name")
		}
		end, _, err := skipString(b, i)
		if err != nil {
			return i, err
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return i, errAt(i, "expected ':'")
		}
		vend, err := skipValue(b, skipSpace(b, i+1), depth+1)
		if err != nil {
			return i, err
		}
		i = skipSpace(b, vend)
		if i >= len(b) {
			return i, errAt(i, "unexpected end of object")
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return i + 1, nil
		default:
			return i, errAt(i, "expected ',' or '}'")
		}
	}
}

func skipArray(b []byte, i int, depth int) (int, error) {
	if depth > maxDepth {
		return i, errAt(i, "nested too deep")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		i = skipSpace(b, i)
		end, err := skipValue(b, i, depth+1)
		if err != nil {
			return i, err
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return i, errAt(i, "unexpected end of array")
		}
		switch b[i] {
		case ',':
			i++
		case ']':
			return i + 1, nil
		default:
			return i, errAt(i, "expected ',' or ']'")
		}
	}
}

// skipString returns the index after the string starting at b[i] == '"'
// and whether it holds escapes.
func skipString(b []byte, i int) (end int, escaped bool, err error) {
	start := i
	i++
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return i, escaped, errAt(i, "unterminated escape")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return i, escaped, errAt(i, "bad \\u escape")
				}
				i += 6
			default:
				return i, escaped, errAt(i, "bad escape \\%c", b[i+1])
			}
		case c < 0x20:
			return i, escaped, errAt(i, "control character in string")
		default:
			i++
		}
	}
	return i, escaped, errAt(start, "unterminated string")
}

func isHex4(h []byte) bool {
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func skipNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return i, errAt(start, "bad number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return i, errAt(start, "bad number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return i, errAt(start, "bad number")
		}
	}
	return i, nil
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, errAt(i, "unexpected literal")
	}
	return i + len(lit), nil
}
