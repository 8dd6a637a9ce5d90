package bus

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// PartitionState is what an operator (and the fault runner) needs to know
// of one event stream: where its leader is, how many replicas are current,
// and the consumer's backlog.
type PartitionState struct {
	Stream   string
	Leader   string   // server name of the stream's Raft leader ("" on a single server)
	Replicas []string // the other peers, "name" or "name (offline)" / "(lagging)"
	Msgs     uint64   // messages held
	LastSeq  uint64   // the stream's last sequence: messages ever stored
	Pending  uint64   // not yet delivered to the consumer
	AckWait  int      // delivered, not yet acknowledged
	AckFloor uint64   // the stream sequence below which the consumer acknowledged everything
}

// PartitionStates reports every partition's stream, and for consumer (when not
// empty) its backlog.
func (b *Bus) PartitionStates(ctx context.Context, consumer string) ([]PartitionState, error) {
	var out []PartitionState
	for p := range b.Partitions() {
		name := b.StreamName(p)
		s, err := b.js.Stream(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("opening stream %s: %w", name, err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading stream %s info: %w", name, err)
		}
		st := PartitionState{Stream: name, Msgs: info.State.Msgs, LastSeq: info.State.LastSeq}
		if ci := info.Cluster; ci != nil {
			st.Leader = ci.Leader
			for _, r := range ci.Replicas {
				peer := r.Name
				switch {
				case r.Offline:
					peer += " (offline)"
				case !r.Current:
					peer += " (lagging)"
				}
				st.Replicas = append(st.Replicas, peer)
			}
		}
		if consumer != "" {
			c, err := s.Consumer(ctx, consumer)
			if err != nil {
				return nil, fmt.Errorf("opening consumer %s on %s: %w", consumer, name, err)
			}
			ci, err := c.Info(ctx)
			if err != nil {
				return nil, fmt.Errorf("reading consumer %s on %s: %w", consumer, name, err)
			}
			st.Pending, st.AckWait, st.AckFloor = ci.NumPending, ci.NumAckPending, ci.AckFloor.Stream
		}
		out = append(out, st)
	}
	return out, nil
}

// StepDown asks partition part's stream leader to give up leadership (the
// `nats stream cluster step-down` of the NATS CLI): another replica is
// elected. Publishes and fetches in flight see a short pause.
func (b *Bus) StepDown(ctx context.Context, part int) error {
	subj := fmt.Sprintf(jetstream.DefaultAPIPrefix+"STREAM.LEADER.STEPDOWN.%s", b.StreamName(part))
	msg, err := b.nc.RequestWithContext(ctx, subj, nil)
	if err != nil {
		return fmt.Errorf("stepping down the leader of %s: %w", b.StreamName(part), err)
	}
	var res struct {
		Success bool `json:"success"`
		Error   *struct {
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &res); err != nil {
		return fmt.Errorf("stepping down the leader of %s: reading the answer %q: %w", b.StreamName(part), msg.Data, err)
	}
	if res.Error != nil || !res.Success {
		return fmt.Errorf("stepping down the leader of %s: %s", b.StreamName(part), msg.Data)
	}
	return nil
}

// EventsOf reads partition part's stream from the start (tests and tools).
func (b *Bus) EventsOf(ctx context.Context, part, max int) ([]StoredMsg, error) {
	return b.read(ctx, b.StreamName(part), max)
}
