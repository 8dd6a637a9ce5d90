package plan

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// instance reads one JSON value (valid JSON: the collector stored it so)
// into what the validator takes: map[string]any, []any, string,
// json.Number, bool or nil. It is jsonschema.UnmarshalJSON without a
// json.Decoder per value, which cost more than the validation itself.
func instance(b []byte) (any, error) {
	v, rest, err := value(b)
	if err != nil {
		return nil, err
	}
	if len(skipWS(rest)) > 0 {
		return nil, errBadJSON
	}
	return v, nil
}

var errBadJSON = errors.New("not one JSON value")

func skipWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

func value(b []byte) (any, []byte, error) {
	b = skipWS(b)
	if len(b) == 0 {
		return nil, nil, errBadJSON
	}
	switch c := b[0]; {
	case c == '{':
		m := map[string]any{}
		b = skipWS(b[1:])
		if len(b) > 0 && b[0] == '}' {
			return m, b[1:], nil
		}
		for {
			b = skipWS(b)
			if len(b) == 0 || b[0] != '"' {
				return nil, nil, errBadJSON
			}
			k, rest, err := str(b)
			if err != nil {
				return nil, nil, err
			}
			b = skipWS(rest)
			if len(b) == 0 || b[0] != ':' {
				return nil, nil, errBadJSON
			}
			var v any
			if v, b, err = value(b[1:]); err != nil {
				return nil, nil, err
			}
			m[k] = v
			b = skipWS(b)
			if len(b) > 0 && b[0] == ',' {
				b = b[1:]
				continue
			}
			if len(b) > 0 && b[0] == '}' {
				return m, b[1:], nil
			}
			return nil, nil, errBadJSON
		}
	case c == '[':
		a := []any{}
		b = skipWS(b[1:])
		if len(b) > 0 && b[0] == ']' {
			return a, b[1:], nil
		}
		for {
			v, rest, err := value(b)
			if err != nil {
				return nil, nil, err
			}
			a = append(a, v)
			b = skipWS(rest)
			if len(b) > 0 && b[0] == ',' {
				b = b[1:]
				continue
			}
			if len(b) > 0 && b[0] == ']' {
				return a, b[1:], nil
			}
			return nil, nil, errBadJSON
		}
	case c == '"':
		return str(b)
	case c == 't' && len(b) >= 4 && string(b[:4]) == "true":
		return true, b[4:], nil
	case c == 'f' && len(b) >= 5 && string(b[:5]) == "false":
		return false, b[5:], nil
	case c == 'n' && len(b) >= 4 && string(b[:4]) == "null":
		return nil, b[4:], nil
	case c == '-' || c >= '0' && c <= '9':
		i := 1
		for i < len(b) && (b[i] >= '0' && b[i] <= '9' || b[i] == '.' || b[i] == 'e' || b[i] == 'E' || b[i] == '+' || b[i] == '-') {
			i++
		}
		return json.Number(b[:i]), b[i:], nil
	}
	return nil, nil, errBadJSON
}

// str reads a JSON string at b[0] == '"'.
func str(b []byte) (string, []byte, error) {
	ascii := true
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c >= 0x80:
			ascii = false
		case c == '"':
			if ascii || utf8.Valid(b[1:i]) {
				return string(b[1:i]), b[i+1:], nil
			}
			var s string // invalid UTF-8: replaced as the standard library does
			if err := json.Unmarshal(b[:i+1], &s); err != nil {
				return "", nil, err
			}
			return s, b[i+1:], nil
		case c == '\\': // escapes: the standard library's reading
			end := i
			for end < len(b) {
				if b[end] == '\\' {
					end += 2
					continue
				}
				if b[end] == '"' {
					break
				}
				end++
			}
			if end >= len(b) {
				return "", nil, errBadJSON
			}
			var s string
			if err := json.Unmarshal(b[:end+1], &s); err != nil {
				return "", nil, err
			}
			return s, b[end+1:], nil
		}
	}
	return "", nil, errBadJSON
}

// instanceOfEvent is the stored event as the common schema sees it: its
// encoding read back, with props the instance already built.
func instanceOfEvent(encoded []byte, props map[string]any) (any, error) {
	v, err := instance(encoded)
	if err != nil {
		return nil, err
	}
	if m, ok := v.(map[string]any); ok && props != nil {
		if _, has := m["props"]; has {
			m["props"] = props
		}
	}
	return v, nil
}
