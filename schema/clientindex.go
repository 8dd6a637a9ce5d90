package schema

import (
	"bytes"
	"strconv"
)

// ClientIndexOf reads app, visitor_id and client_index from an event's
// canonical encoding (Encode) without decoding the rest: the loss meter's
// way on the path of a store that keeps the bytes as they are. has is
// false when the event carries no client index; ok is false when the
// bytes are not read this way (another layout, an escaped string): decode
// them instead.
func ClientIndexOf(b []byte) (app, visitor string, idx int64, has, ok bool) {
	if !bytes.HasPrefix(b, []byte(`{"event_id":"`)) {
		return "", "", 0, false, false
	}
	// The key cannot occur inside a string (its quotes would be escaped),
	// and the encoding writes it before release and props, the only raw
	// JSON: the first match is the event's own unless one of those comes
	// first. The common case, no index, is one scan.
	i := bytes.Index(b, []byte(`,"client_index":`))
	if i < 0 {
		return "", "", 0, false, true
	}
	head := head(b)
	if i >= len(head) {
		return "", "", 0, false, true // inside release or props
	}
	num := head[i+len(`,"client_index":`):]
	n := 0
	for n < len(num) && (num[n] == '-' || num[n] >= '0' && num[n] <= '9') {
		n++
	}
	idx, err := strconv.ParseInt(string(num[:n]), 10, 64)
	if err != nil {
		return "", "", 0, false, false
	}
	app, ok1 := stringField(head, `,"app":"`)
	visitor, ok2 := stringField(head, `,"visitor_id":"`)
	return app, visitor, idx, true, ok1 && ok2
}

// stringField is the string after key in head ("" when absent); ok is
// false when it holds an escape.
func stringField(head []byte, key string) (string, bool) {
	i := bytes.Index(head, []byte(key))
	if i < 0 {
		return "", true
	}
	v := head[i+len(key):]
	end := bytes.IndexByte(v, '"')
	if end < 0 || bytes.IndexByte(v[:end], '\\') >= 0 {
		return "", false
	}
	return string(v[:end]), true
}
