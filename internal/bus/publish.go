package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// publisher sends JetStream publishes asynchronously and matches their
// PubAcks: what jetstream.PublishMsgAsync does, without its per-publish
// costs that showed in the collector's profile (a JSON decode of every
// PubAck, two channels and a timer per future, a header map per message
// id). Each publish carries a reply subject prefix.<n>; one subscription on
// prefix.* receives every PubAck. At most cap(room) publishes wait for
// theirs at once; a disconnect fails them all (the server may have missed
// them, and nobody else would answer).
type publisher struct {
	nc     *nats.Conn
	prefix string        // "_INBOX.<nuid>."
	room   chan struct{} // a token per publish waiting for its PubAck

	mu   sync.Mutex
	next uint64
	wait map[uint64]*pubAck
}

// pubAck is one publish waiting for JetStream's answer.
type pubAck struct {
	done chan struct{} // closed once err is set
	err  error         // nil: stored (or a duplicate of a stored message)
}

// errStalled is returned by publish when maxPending publishes already wait
// for their PubAck and none was answered within the stall wait.
var errStalled = errors.New("too many publishes waiting for their acks")

// stallWait is how long a publish waits for room before it fails.
const stallWait = 50 * time.Millisecond

func newPublisher(nc *nats.Conn, maxPending int) (*publisher, error) {
	p := &publisher{nc: nc, prefix: nats.InboxPrefix + nuid.Next() + ".",
		room: make(chan struct{}, max(maxPending, 1)), wait: make(map[uint64]*pubAck)}
	if _, err := nc.Subscribe(p.prefix+"*", p.answered); err != nil {
		return nil, fmt.Errorf("subscribing to publish acks: %w", err)
	}
	return p, nil
}

// publish sends data to subject (with Nats-Msg-Id msgID unless empty) and
// returns at once; the pubAck is done when JetStream answers.
func (p *publisher) publish(subject, msgID string, data []byte) (*pubAck, error) {
	select {
	case p.room <- struct{}{}:
	default:
		t := time.NewTimer(stallWait)
		select {
		case p.room <- struct{}{}:
			t.Stop()
		case <-t.C:
			return nil, errStalled
		}
	}
	a := &pubAck{done: make(chan struct{})}
	p.mu.Lock()
	p.next++
	n := p.next
	p.wait[n] = a
	p.mu.Unlock()
	m := &nats.Msg{Subject: subject, Reply: p.prefix + strconv.FormatUint(n, 10), Data: data}
	if msgID != "" {
		m.Header = nats.Header{nats.MsgIdHdr: []string{msgID}}
	}
	if err := p.nc.PublishMsg(m); err != nil {
		if p.take(n) != nil {
			<-p.room
		}
		return nil, err
	}
	return a, nil
}

// take removes and returns the publish n waits for (nil if it is gone).
func (p *publisher) take(n uint64) *pubAck {
	p.mu.Lock()
	a := p.wait[n]
	delete(p.wait, n)
	p.mu.Unlock()
	return a
}

// answered settles the publish a PubAck (or a no-responders status) is for.
func (p *publisher) answered(m *nats.Msg) {
	n, err := strconv.ParseUint(m.Subject[len(p.prefix):], 10, 64)
	if err != nil {
		return
	}
	a := p.take(n)
	if a == nil {
		return
	}
	<-p.room
	a.err = pubAckError(m)
	close(a.done)
}

// failAll fails every publish still waiting: after a disconnect their
// PubAcks may never come.
func (p *publisher) failAll(err error) {
	p.mu.Lock()
	waiting := p.wait
	p.wait = make(map[uint64]*pubAck)
	p.mu.Unlock()
	for _, a := range waiting {
		<-p.room
		a.err = err
		close(a.done)
	}
}

// pending is how many publishes wait for their PubAck.
func (p *publisher) pending() int { return len(p.room) }

// okAck is how every successful PubAck begins; anything else is read in full.
var okAck = []byte(`{"stream":`)

// errNoStream is a publish nothing answered (no stream holds its subject).
var errNoStream = errors.New("no stream answered the publish")

// pubAckError is nil for a PubAck that says the message is stored, else
// why it is not.
func pubAckError(m *nats.Msg) error {
	if len(m.Data) == 0 {
		if m.Header.Get("Status") == "503" {
			return errNoStream
		}
		return fmt.Errorf("publish answered with status %q", m.Header.Get("Status"))
	}
	if bytes.HasPrefix(m.Data, okAck) && !bytes.Contains(m.Data, []byte(`"error"`)) {
		return nil
	}
	var r struct {
		Error *struct {
			Code        int    `json:"code"`
			ErrCode     int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
		Stream string `json:"stream"`
	}
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return fmt.Errorf("reading a publish ack %q: %w", m.Data, err)
	}
	if r.Error != nil {
		return fmt.Errorf("publish refused: %s (%d, err_code %d)", r.Error.Description, r.Error.Code, r.Error.ErrCode)
	}
	if r.Stream == "" {
		return fmt.Errorf("publish ack without a stream: %q", m.Data)
	}
	return nil
}

// wait blocks until a is settled or ctx ends.
func (a *pubAck) wait(ctx context.Context) error {
	select {
	case <-a.done:
		return a.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
