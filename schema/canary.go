package schema

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
