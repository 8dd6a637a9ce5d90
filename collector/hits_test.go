package collector

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

// The server fields of a batch's hits are each hit's own, though derive
// runs once per distinct request: a crawler's message among people's is
// the only one flagged, and each carries its own address's hash.
func TestHitRecordsDeriveEachHitsRequest(t *testing.T) {
	c := benchCollector(t)
	person := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
	crawler := "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	hit := func(ip, ua string) schema.Hit {
		return schema.Hit{Endpoint: "segment", At: time.Now(), IP: ip, UserAgent: ua, AcceptLanguage: "en", Method: "POST",
			Fields: []schema.HitField{{Name: "ename", Value: schema.TextValue("e")}, {Name: "uid", Value: schema.TextValue("u")}}}
	}
	hits := []schema.Hit{hit("10.0.0.1", person), hit("10.0.0.1", person), hit("10.0.0.1", crawler), hit("10.0.0.2", person), hit("10.0.0.2", person)}
	wantBot := []bool{false, false, true, false, false}
	var memo derived
	hashes := map[string]string{}
	for i, h := range hits {
		rec, keep, err := c.hitRecord(h, &memo, new(arena), 1)
		if err != nil || !keep {
			t.Fatalf("hit %d: kept %v, %v", i, keep, err)
		}
		var e struct {
			Bot    bool   `json:"bot"`
			IPHash string `json:"ip_hash"`
		}
		if err := json.Unmarshal(rec.Data, &e); err != nil {
			t.Fatal(err)
		}
		if e.Bot != wantBot[i] {
			t.Errorf("hit %d (%s): bot %v, want %v", i, h.UserAgent, e.Bot, wantBot[i])
		}
		if e.IPHash == "" {
			t.Errorf("hit %d: no ip hash in %s", i, rec.Data)
		}
		if prev, ok := hashes[h.IP]; ok && prev != e.IPHash {
			t.Errorf("hit %d: %s hashed to %s and %s", i, h.IP, prev, e.IPHash)
		}
		hashes[h.IP] = e.IPHash
	}
	if hashes["10.0.0.1"] == hashes["10.0.0.2"] {
		t.Errorf("two addresses, one hash: %v", hashes)
	}
}
