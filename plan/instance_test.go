package plan

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// instance reads every valid JSON value as the library's own reader does
// (what the validator was tested with), and refuses what is not JSON.
func FuzzInstance(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[true,false,null,"x\"y",-1.5e3],"c":{"d":"\u00e9\ud83d\ude00"}}`, `[]`, `{}`, `"\\"`,
		` 12 `, `0.1`, `"tab\there"`, `[1,[2,[3]]]`, `{"a":}`, `[1,]`, `nul`, `"open`, `1 2`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := instance(b)
		if !json.Valid(b) {
			return // what instance makes of invalid JSON does not matter: the collector stores valid JSON only
		}
		if err != nil {
			t.Fatalf("valid JSON %q refused: %v", b, err)
		}
		want, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %#v, want %#v", b, got, want)
		}
	})
}
