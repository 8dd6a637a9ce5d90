package bus

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// A fetch reads what the server sent for its pull request. When its
// deadline has passed while messages sat queued (the process was stalled:
// CPU throttled, stopped), it takes them: left unread, they would wait
// ack_wait for their redelivery. select picks at random among ready cases,
// so each case runs many times.
func TestCollectTakesWhatArrivedBeforeItsDeadline(t *testing.T) {
	msg := func() *nats.Msg { return &nats.Msg{Data: []byte(`{"e":1}`)} }
	status := func(code string) *nats.Msg {
		m := nats.NewMsg("")
		m.Header.Set("Status", code)
		return m
	}
	tests := []struct {
		name  string
		queue []*nats.Msg
		n     int
		want  int
	}{
		{"every message queued", []*nats.Msg{msg(), msg(), msg(), msg(), msg()}, 5, 5},
		{"fewer than asked, then the end", []*nats.Msg{msg(), msg(), status("408")}, 5, 2},
		{"a heartbeat among them", []*nats.Msg{msg(), status("100"), msg()}, 2, 2},
		{"nothing queued", nil, 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 200 {
				ch := make(chan *nats.Msg, len(tt.queue)+1)
				for _, m := range tt.queue {
					ch <- m
				}
				fired := make(chan time.Time, 1)
				fired <- time.Now()
				got, err := collect(ch, fired, tt.n, "S", "c")
				if err != nil {
					t.Fatalf("collect: %v", err)
				}
				if len(got) != tt.want {
					t.Fatalf("collect took %d messages with its deadline passed, want %d", len(got), tt.want)
				}
			}
		})
	}
}
