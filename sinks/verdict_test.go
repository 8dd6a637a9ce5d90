package sinks

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	backoff := []time.Duration{time.Second, 5 * time.Second, 30 * time.Second}
	transient := errors.New("timeout")
	cases := []struct {
		name      string
		err       error
		delivered uint64
		want      Verdict
		delay     time.Duration
	}{
		{"stored", nil, 1, Ack, 0},
		{"stored on a redelivery", nil, 7, Ack, 0},
		{"transient first", transient, 1, Retry, time.Second},
		{"transient second", transient, 2, Retry, 5 * time.Second},
		{"transient forever caps", transient, 1000, Retry, 30 * time.Second},
		{"permanent", Permanent(errors.New("bad row")), 1, DeadLetter, 0},
		{"permanent wrapped again", fmt.Errorf("writing: %w", Permanent(errors.New("x"))), 3, DeadLetter, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Decide(c.err, c.delivered, backoff)
			if d.Verdict != c.want || d.Delay != c.delay {
				t.Fatalf("got %v/%v, want %v/%v", d.Verdict, d.Delay, c.want, c.delay)
			}
			if c.err != nil && d.Reason == "" {
				t.Fatal("a failure verdict needs a reason")
			}
		})
	}
}

func TestErrorFor(t *testing.T) {
	e1 := errors.New("one")
	be := &BatchError{Errs: []error{nil, e1, nil}}
	whole := errors.New("all")
	cases := []struct {
		err  error
		i    int
		want error
	}{{nil, 0, nil}, {whole, 2, whole}, {be, 0, nil}, {be, 1, e1}, {fmt.Errorf("wrapped: %w", be), 1, e1}}
	for _, c := range cases {
		if got := errorFor(c.err, c.i); got != c.want {
			t.Fatalf("errorFor(%v,%d) = %v, want %v", c.err, c.i, got, c.want)
		}
	}
}
