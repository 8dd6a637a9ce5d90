package sinks

import (
	"errors"
	"time"
)

// Verdict is what happens to one message after a write attempt.
type Verdict int

const (
	Ack        Verdict = iota // stored: remove from the consumer's pending set
	Retry                     // transient failure: redeliver after Delay
	DeadLetter                // will never succeed: copy to the dead-letter stream with Reason, then terminate
)

func (v Verdict) String() string { return [...]string{"ack", "retry", "dead_letter"}[v] }

// Decision is the one verdict for one message.
type Decision struct {
	Verdict Verdict
	Delay   time.Duration
	Reason  string
}

// Decide maps a message's write result to its verdict. delivered counts
// deliveries so far (1 on the first); backoff gives the retry delay for
// each delivery, the last entry repeating. Transient failures are retried
// for as long as it takes: a store outage must not turn into dead letters.
func Decide(err error, delivered uint64, backoff []time.Duration) Decision {
	switch {
	case err == nil:
		return Decision{Verdict: Ack}
	case errors.Is(err, ErrPermanent):
		return Decision{Verdict: DeadLetter, Reason: err.Error()}
	}
	d := time.Second
	if len(backoff) > 0 {
		idx := int(min(delivered, uint64(len(backoff)))) - 1
		d = backoff[max(idx, 0)]
	}
	return Decision{Verdict: Retry, Delay: d, Reason: err.Error()}
}
