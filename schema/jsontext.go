package schema

import (
	"bytes"
	"encoding/json"
	"errors"
)

// The JSON scalar helpers every reader of raw JSON shares (the builder,
// the Segment decoder, the collector's body sniffing).

// FirstByte is the first byte of b that is not JSON white space (0 when
// there is none): enough to tell an object, an array, a string, a number.
func FirstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

var errNotString = errors.New("not a JSON string")

// Unquote decodes a JSON string; without escapes it is a plain copy. Any
// other JSON value is an error.
func Unquote(raw []byte) (string, error) {
	r := bytes.TrimSpace(raw)
	if len(r) < 2 || r[0] != '"' {
		return "", errNotString
	}
	if r[len(r)-1] == '"' && bytes.IndexByte(r, '\\') < 0 {
		return string(r[1 : len(r)-1]), nil
	}
	var u string // declared here, so only an escaped string pays its heap allocation
	err := json.Unmarshal(r, &u)
	return u, err
}

// Text is the text of a JSON string, "" for any other value.
func Text(raw []byte) string {
	s, _ := Unquote(raw)
	return s
}
