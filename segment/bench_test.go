package segment

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkDecodeBatch100 decodes the body of scripts/bench/segment_batch100.lua.
func BenchmarkDecodeBatch100(b *testing.B) {
	parts := make([]string, 100)
	for i := range parts {
		parts[i] = fmt.Sprintf(`{"type":"track","messageId":"1764324000-1-7-%d","userId":"u%d","event":"Item Purchased",`+
			`"properties":{"revenue":14.99,"sku":"sku-%d"},"context":{"library":{"name":"analytics-node-next","version":"latest"}},`+
			`"timestamp":"2026-11-28T10:00:00.000Z"}`, i+1, (i+1)%50, i+1)
	}
	body := []byte(`{"batch":[` + strings.Join(parts, ",") + `],"sentAt":"2026-11-28T10:00:00.100Z"}`)
	k := KeysFrom(map[string]string{"wk_bench_key_01": "bench"}, nil)
	r := Request{Call: "batch", Body: body, Now: time.Now(), ClientIP: "10.1.2.3", Authorization: "Basic d2tfYmVuY2hfa2V5XzAxOg=="}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if hits, _, err := k.Decode(r); err != nil || len(hits) != 100 {
			b.Fatal(len(hits), err)
		}
	}
}
