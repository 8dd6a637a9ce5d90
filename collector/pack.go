package collector

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"

	"github.com/spoor-dev/spoor/collector/spool"
)

// maxMsgBytes bounds one bus message: well under NATS's default 1 MiB
// max_payload, so a cluster needs no tuning.
const maxMsgBytes = 512 << 10

// pack turns one request's encoded events of one partition into bus messages: the events'
// canonical JSON joined by newlines (NDJSON), as few messages as fit
// maxMsgBytes, in order. A message holding one event keeps the event id as
// its dedup id (Nats-Msg-Id); a larger one gets an id derived from its
// events' ids, so a client retrying the same batch is still deduplicated.
func pack(evs []spool.Record) []spool.Record {
	if len(evs) == 1 {
		return evs
	}
	var out []spool.Record
	start, size := 0, 0
	flush := func(end int) {
		if end == start {
			return
		}
		group := evs[start:end]
		if len(group) == 1 {
			out = append(out, group[0])
		} else {
			data := make([]byte, 0, size+len(group))
			h := sha256.New()
			for i, e := range group {
				if i > 0 {
					data = append(data, '\n')
				}
				data = append(data, e.Data...)
				h.Write([]byte(e.ID))
			}
			out = append(out, spool.Record{ID: "b-" + hex.EncodeToString(h.Sum(nil)[:16]), Data: data, Part: group[0].Part})
		}
		start, size = end, 0
	}
	for i, e := range evs {
		if i > start && size+len(e.Data)+1 > maxMsgBytes {
			flush(i)
		}
		size += len(e.Data) + 1
	}
	flush(len(evs))
	return out
}

// byPartition splits a request's events by bus partition, keeping their
// order within each partition (so a visitor's events stay in order). The
// common case, every event in one partition, allocates nothing.
func byPartition(evs []spool.Record) [][]spool.Record {
	same := true
	for _, e := range evs[1:] {
		if e.Part != evs[0].Part {
			same = false
			break
		}
	}
	if same {
		return [][]spool.Record{evs}
	}
	var out [][]spool.Record
	at := map[int]int{}
	for _, e := range evs {
		i, ok := at[e.Part]
		if !ok {
			i = len(out)
			at[e.Part] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], e)
	}
	return out
}

// eventCount is how many events a message holds.
func eventCount(rec spool.Record) int { return bytes.Count(rec.Data, []byte{'\n'}) + 1 }

func countEvents(recs []spool.Record) int {
	n := 0
	for _, r := range recs {
		n += eventCount(r)
	}
	return n
}
