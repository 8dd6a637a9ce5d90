package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/internal/bus"
)

// Each check of a run's verdict fails the run it guards: the case breaks
// one thing, the verdict must name it.
func TestVerdict(t *testing.T) {
	good := result{Fault: "sink-kill", MinAnswered: 1, Sent: 1000, Answered: 1000, Stored: 1000, Codes: map[int]int{200: 100}}
	for _, c := range []struct {
		name    string
		breakIt func(r *result)
		want    string // in the failures; "" passes
	}{
		{"a clean run", func(r *result) {}, ""},
		{"nothing answered (every request 503)", func(r *result) { r.Answered, r.Stored, r.Codes = 0, 0, map[int]int{503: 100} }, "nothing was answered"},
		{"nothing answered (transport errors)", func(r *result) { r.Answered, r.Stored, r.Codes = 0, 0, map[int]int{0: 100} }, "nothing was answered"},
		{"nothing sent", func(r *result) { r.Sent, r.Answered, r.Stored = 0, 0, 0 }, "nothing was sent"},
		{"refused traffic a fault must not refuse", func(r *result) { r.Answered, r.Stored = 990, 990 }, "answered 99% of the events, the fault allows no less than 100%"},
		{"refusals within the fault's allowance", func(r *result) { r.MinAnswered, r.Answered, r.Stored = 0.9, 950, 950 }, ""},
		{"a dead letter", func(r *result) { r.DeadLettered = 1 }, "1 dead-lettered"},
		{"a loss", func(r *result) { r.Lost = 2 }, "2 lost"},
		{"a duplicate", func(r *result) { r.Duplicated = 3 }, "3 duplicated"},
		{"unanswered at SIGTERM", func(r *result) { r.Fault, r.Codes = "collector-term", map[int]int{200: 99, 0: 1} }, "1 requests unanswered"},
		{"an error", func(r *result) { r.Error = "cluster.sh up sink1: exit 1" }, "error: cluster.sh"},
		{"a destination's retries (duplicates the key reveals)", func(r *result) { r.Dest = []destResult{{Name: "webhook", Delivered: 1000, Duplicates: 40}} }, ""},
		{"a destination lost events", func(r *result) { r.Dest = []destResult{{Name: "kafka", Delivered: 990, Lost: 10}} }, "kafka: 10 never delivered"},
		{"a 500 (a client would retry forever)", func(r *result) { r.Codes = map[int]int{200: 99, 500: 1} }, "1 answers 500"},
		{"a 503 is the right refusal", func(r *result) {
			r.MinAnswered, r.Answered, r.Stored, r.Codes = 0.5, 900, 900, map[int]int{200: 90, 503: 10}
		}, ""},
		{"a 503 without Retry-After", func(r *result) { r.NoRetryAfter = 2 }, "2 answers 503 without Retry-After"},
		{"a p99 over the fault's bound", func(r *result) { r.P99ms, r.P99Limit = 1500, 1100 }, "collector p99 1500 ms over 1100 ms"},
		{"a p99 within the bound", func(r *result) { r.P99ms, r.P99Limit = 1050, 1100 }, ""},
		{"a destination broke a visitor's order", func(r *result) { r.Dest = []destResult{{Name: "webhook", Delivered: 1000, OutOfOrder: 1}} }, "out of order"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := good
			r.Codes = map[int]int{200: 100}
			c.breakIt(&r)
			f := strings.Join(r.failures(), "; ")
			if c.want == "" {
				if !r.ok() || f != "" {
					t.Fatalf("failed: %s", f)
				}
				return
			}
			if r.ok() || !strings.Contains(f, c.want) {
				t.Fatalf("failures %q, want one naming %q", f, c.want)
			}
			if row := r.row(); !strings.Contains(row, "**FAIL**") {
				t.Fatalf("the table row does not say FAIL: %s", row)
			}
		})
	}
}

// sink-kill kills only mid-batch: it waits for unacknowledged messages and
// is an error, not a pass, when there never are any.
func TestWaitUnacked(t *testing.T) {
	calls := 0
	n, err := waitUnacked(func() ([]bus.PartitionState, error) {
		calls++
		if calls < 3 {
			return []bus.PartitionState{{AckWait: 0}}, nil
		}
		return []bus.PartitionState{{AckWait: 2}, {AckWait: 5}}, nil
	}, time.Second, time.Millisecond)
	if err != nil || n != 7 {
		t.Fatalf("waitUnacked = %d, %v; want 7", n, err)
	}
	_, err = waitUnacked(func() ([]bus.PartitionState, error) { return []bus.PartitionState{{AckWait: 0}}, nil }, 30*time.Millisecond, time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "not be mid-batch") {
		t.Fatalf("no unacked message: %v, want an error", err)
	}
	_, err = waitUnacked(func() ([]bus.PartitionState, error) { return nil, errors.New("nats: timeout") }, 30*time.Millisecond, time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "nats: timeout") {
		t.Fatalf("the bus unreachable: %v, want an error naming it", err)
	}
}

// A destination's reconciliation: each answered and stored event delivered
// at least once (more is a retry, counted), and each visitor's events in
// the stream's order.
func TestReconcileDestination(t *testing.T) {
	status := map[int64]int{1: 200, 2: 200, 3: 200, 4: 200, 5: 503}
	stored := map[int64]bool{1: true, 2: true, 3: true, 4: true}
	order := map[string][]int64{"va": {1, 3}, "vb": {2, 4}}
	for _, c := range []struct {
		name string
		got  []arrival
		want destResult
	}{
		{"all, in order", []arrival{{1, "va"}, {2, "vb"}, {3, "va"}, {4, "vb"}}, destResult{Delivered: 4}},
		{"a retry", []arrival{{1, "va"}, {2, "vb"}, {1, "va"}, {3, "va"}, {4, "vb"}}, destResult{Delivered: 4, Duplicates: 1}},
		{"one never", []arrival{{1, "va"}, {2, "vb"}, {3, "va"}}, destResult{Delivered: 3, Lost: 1}},
		{"vb's out of order", []arrival{{1, "va"}, {4, "vb"}, {2, "vb"}, {3, "va"}}, destResult{Delivered: 4, OutOfOrder: 1}},
		{"a retry of an earlier one after a later one is no disorder", []arrival{{1, "va"}, {3, "va"}, {1, "va"}, {2, "vb"}, {4, "vb"}}, destResult{Delivered: 4, Duplicates: 1}},
	} {
		got := reconcileDestination("webhook", c.got, status, stored, order)
		c.want.Name = "webhook"
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
