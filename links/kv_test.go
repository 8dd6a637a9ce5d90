package links_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/links"
	"github.com/spoor-dev/spoor/links/storetest"
)

// The contract against JetStream's key-value store on a real (embedded)
// NATS server, one bucket per test.
func TestKVStore(t *testing.T) {
	b := storetest.Bus(t)
	var n atomic.Int32
	storetest.Run(t, func(t *testing.T) links.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		kv, err := b.KeyValue(ctx, fmt.Sprintf("links_test_%d", n.Add(1)))
		if err != nil {
			t.Fatal(err)
		}
		return links.NewKV(kv)
	})
}
