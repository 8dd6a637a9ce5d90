package schema

import "bytes"

// CanaryHeader marks a request's events as the canary's (spoor canary):
// they are stored like any other and carry canary: true (Event.Canary),
// which the analytics answers, the dashboard's rates and the destinations
// leave out.
const CanaryHeader = "X-Spoor-Canary"

// IsCanary reports whether a CanaryHeader value marks a canary: "1" or
// "true".
func IsCanary(v []byte) bool { return string(v) == "1" || string(v) == "true" }

// IsCanary reports whether e is a canary's.
func (e *Event) IsCanary() bool { return e.Canary != nil && *e.Canary }

// IsCanaryEncoded reports whether an event's canonical encoding (Encode)
// is a canary's, without decoding it.
func IsCanaryEncoded(b []byte) bool {
	return bytes.Contains(head(b), []byte(`,"canary":true`))
}

// head is the part of a canonical encoding before release and props, the
// only values that hold raw JSON (a key there could look like one of the
// event's own).
func head(b []byte) []byte {
	for _, k := range []string{`,"release":`, `,"props":{`} {
		if i := bytes.Index(b, []byte(k)); i >= 0 {
			b = b[:i]
		}
	}
	return b
}
