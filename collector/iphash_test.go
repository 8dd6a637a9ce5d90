package collector

import (
	"fmt"
	"sync"
	"testing"

	"github.com/spoor-dev/spoor/schema"
)

func TestIPHashesAgreeWithHashIP(t *testing.T) {
	key := []byte("k1")
	h := newIPHashes(key)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// More addresses than slots, twice over: collisions and reuse.
			for round := range 2 {
				for i := range 3000 {
					ip := fmt.Sprintf("10.%d.%d.%d", g, i/256, i%256)
					if got, want := h.get(ip), schema.HashIP(key, ip); got != want {
						t.Errorf("round %d: get(%s) = %s, want %s", round, ip, got, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if h.get("") != "" {
		t.Error("an empty address must hash to empty, as schema.HashIP does")
	}
	if other := newIPHashes([]byte("k2")); other.get("10.0.0.1") == h.get("10.0.0.1") {
		t.Error("the key must change the hash")
	}
}
