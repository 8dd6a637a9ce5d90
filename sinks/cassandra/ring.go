package cassandra

import (
	"encoding/binary"
	"math"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// ring knows which node owns a visitor's partition, so that the writes of
// visitors one node owns can go to it together (visitors.go): the first
// node of the local data centre walking the token ring from the
// partition's Murmur3 token, which every replication strategy makes a
// replica. Without a session, or on another partitioner, every visitor
// has the same owner ("") and the driver routes each group by its first
// visitor.
type ring struct {
	hosts   func() []*gocql.HostInfo // the session's, nil: no ring
	localDC string
	mu      sync.Mutex
	cur     atomic.Pointer[ringState]
}

type ringState struct {
	built  time.Time
	tokens []int64           // sorted
	owners []*gocql.HostInfo // owners[i] owns the range ending at tokens[i]
}

// ringRefresh is how long a ring is used before it is read again from
// the driver's view of the cluster.
const ringRefresh = 10 * time.Second

// owner is the host ID of the node that owns (app, visitor)'s partition,
// "" when not known.
func (r *ring) owner(app, visitor string) string {
	if h := r.host(app, visitor); h != nil {
		return h.HostID()
	}
	return ""
}

func (r *ring) host(app, visitor string) *gocql.HostInfo {
	st := r.state()
	if st == nil || len(st.tokens) == 0 {
		return nil
	}
	t := partitionToken(app, visitor)
	i := sort.Search(len(st.tokens), func(i int) bool { return st.tokens[i] >= t })
	if i == len(st.tokens) {
		i = 0
	}
	return st.owners[i]
}

func (r *ring) state() *ringState {
	if r.hosts == nil {
		return nil
	}
	st := r.cur.Load()
	if st != nil && time.Since(st.built) < ringRefresh {
		return st
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if st = r.cur.Load(); st != nil && time.Since(st.built) < ringRefresh {
		return st
	}
	st = buildRing(r.hosts(), r.localDC)
	r.cur.Store(st)
	return st
}

// buildRing orders the tokens of the local data centre's nodes (every
// node's when localDC is empty). A node on another partitioner than
// Murmur3 leaves the ring empty.
func buildRing(hosts []*gocql.HostInfo, localDC string) *ringState {
	st := &ringState{built: time.Now()}
	type entry struct {
		token int64
		host  *gocql.HostInfo
	}
	var es []entry
	for _, h := range hosts {
		if localDC != "" && h.DataCenter() != localDC {
			continue
		}
		if p := h.Partitioner(); p != "" && !strings.HasSuffix(p, "Murmur3Partitioner") {
			return st
		}
		for _, s := range h.Tokens() {
			t, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return st
			}
			es = append(es, entry{t, h})
		}
	}
	sort.Slice(es, func(a, b int) bool { return es[a].token < es[b].token })
	for _, e := range es {
		st.tokens, st.owners = append(st.tokens, e.token), append(st.owners, e.host)
	}
	return st
}

// partitionToken is Cassandra's Murmur3Partitioner token of the partition
// key (app text, visitor_id text): each component serialised as a 2-byte
// length, its bytes and a zero byte.
func partitionToken(app, visitor string) int64 {
	var buf [256]byte
	key := buf[:0]
	for _, c := range [2]string{app, visitor} {
		key = binary.BigEndian.AppendUint16(key, uint16(len(c)))
		key = append(key, c...)
		key = append(key, 0)
	}
	h := murmur3H1(key)
	if h == math.MinInt64 {
		return math.MaxInt64
	}
	return h
}

// murmur3H1 is the first half of Cassandra's MurmurHash3 x64 128 with seed
// 0, as Cassandra computes it: the tail bytes are sign-extended.
func murmur3H1(data []byte) int64 {
	const c1, c2 = 0x87c37b91114253d5, 0x4cf5ad432745937f
	var h1, h2 uint64
	n := len(data)
	nblocks := n / 16
	for i := 0; i < nblocks; i++ {
		k1 := binary.LittleEndian.Uint64(data[i*16:])
		k2 := binary.LittleEndian.Uint64(data[i*16+8:])
		k1 *= c1
		k1 = bits.RotateLeft64(k1, 31)
		k1 *= c2
		h1 ^= k1
		h1 = bits.RotateLeft64(h1, 27)
		h1 += h2
		h1 = h1*5 + 0x52dce729
		k2 *= c2
		k2 = bits.RotateLeft64(k2, 33)
		k2 *= c1
		h2 ^= k2
		h2 = bits.RotateLeft64(h2, 31)
		h2 += h1
		h2 = h2*5 + 0x38495ab5
	}
	// The tail, high bytes first as Cassandra's fall-through switch does.
	tail := data[nblocks*16:]
	var k1, k2 uint64
	for i := len(tail) - 1; i >= 0; i-- {
		b := uint64(int64(int8(tail[i]))) // sign-extended
		if i >= 8 {
			k2 ^= b << (8 * (i - 8))
		} else {
			k1 ^= b << (8 * i)
		}
	}
	if len(tail) > 8 {
		k2 *= c2
		k2 = bits.RotateLeft64(k2, 33)
		k2 *= c1
		h2 ^= k2
	}
	if len(tail) > 0 {
		k1 *= c1
		k1 = bits.RotateLeft64(k1, 31)
		k1 *= c2
		h1 ^= k1
	}
	h1 ^= uint64(n)
	h2 ^= uint64(n)
	h1 += h2
	h2 += h1
	h1 = fmix64(h1)
	h2 = fmix64(h2)
	h1 += h2
	return int64(h1)
}

func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// pinned is the sink's host policy: a batch registered with pin goes
// first to the node given (while it is up), then wherever the driver's
// token-aware policy would have sent it.
type pinned struct {
	gocql.HostSelectionPolicy
	to sync.Map // *gocql.Batch: *gocql.HostInfo
}

// pin sends b to h until unpinned; a nil h leaves b to the driver.
func (p *pinned) pin(b *gocql.Batch, h *gocql.HostInfo) (unpin func()) {
	if p == nil || h == nil {
		return func() {}
	}
	p.to.Store(b, h)
	return func() { p.to.Delete(b) }
}

func (p *pinned) Pick(st gocql.ExecutableStatement) gocql.NextHost {
	next := p.HostSelectionPolicy.Pick(st)
	b, ok := st.Statement().(*gocql.Batch)
	if !ok {
		return next
	}
	v, ok := p.to.Load(b)
	if !ok {
		return next
	}
	h, first := v.(*gocql.HostInfo), true
	return func() gocql.SelectedHost {
		if first {
			first = false
			if h.IsUp() {
				return pinnedHost{h}
			}
		}
		for {
			sh := next()
			if sh == nil || sh.Info().HostID() != h.HostID() {
				return sh
			}
		}
	}
}

type pinnedHost struct{ h *gocql.HostInfo }

func (p pinnedHost) Info() *gocql.HostInfo { return p.h }
func (pinnedHost) Mark(error)              {}
