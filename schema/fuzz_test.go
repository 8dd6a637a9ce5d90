package schema

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// Fuzz targets: every parser must either return an error wrapping
// ErrInvalid (or TooManyError) or produce events that encode and decode back.
// CI runs each for a short fixed time (see Makefile: fuzz).

func FuzzParseTuplets(f *testing.F) {
	for _, s := range []string{"", "ename/click", "vid/14fb0860-b4bf-11e9-8971-7b80435315ac/ROCK/ON/lat/37.232332/lon/6.32233223/first/true/score/6", "a/%zz", "w/1e400/h/-0", "eid/x//created/1585149028377"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tail string) {
		pairs, err := ParseTuplets(tail)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		b := NewBuilder(Limits{}, testKey)
		for _, p := range pairs {
			if err := b.Set(p.Key, TextValue(p.Value)); err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("error does not wrap ErrInvalid: %v", err)
				}
				return
			}
		}
		roundTrip(t, b)
	})
}

func FuzzParseJSONBody(f *testing.F) {
	for _, s := range []string{seedFailedExample, seedPayloadExample, `[{"a":1},{"b":[1,{"c":null}]}]`, `{"params":{"aff":"x","w":3}}`, `[]`, `{"rel":true,"cidx":"7"}`, `{"x":1e999}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		objs, err := ParseJSONBody(body, 50)
		// The single-pass scanner must agree with encoding/json on validity.
		if err == nil && !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if c := FirstByte(body); err != nil && json.Valid(body) && (c == '{' || c == '[') {
			var tm *TooManyError
			if !errors.Is(err, ErrEmptyBatch) && !errors.As(err, &tm) && !strings.Contains(err.Error(), "must be an object") && !strings.Contains(err.Error(), "too deep") {
				t.Fatalf("rejected valid JSON %q: %v", body, err)
			}
		}
		if err != nil {
			var tm *TooManyError
			if !errors.Is(err, ErrInvalid) && !errors.As(err, &tm) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		for _, obj := range objs {
			b := NewBuilder(Limits{}, testKey)
			if err := b.SetObject(obj); err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("error does not wrap ErrInvalid: %v", err)
				}
				continue
			}
			roundTrip(t, b)
		}
	})
}

func roundTrip(t *testing.T, b *Builder) {
	t.Helper()
	e := b.Finish(ServerInfo{ReceivedAt: time.Now(), Endpoint: "tr", IP: "127.0.0.1"})
	enc, err := e.Encode()
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	back, err := Decode(enc)
	if err != nil {
		t.Fatalf("decode of own encoding: %v\n%s", err, enc)
	}
	again, _ := back.Encode()
	if string(again) != string(enc) {
		t.Fatalf("encoding not stable:\n%s\n%s", enc, again)
	}
	if ref := reflectEncode(t, e); string(ref) != string(enc) {
		t.Fatalf("encoder differs from encoding/json:\n%s\n%s", enc, ref)
	}
}

// ParseBatchObject, one pass, reads what ParseJSONBody of the body and
// then of its batch member read, and fails where they fail, the same way.
func FuzzParseBatchObject(f *testing.F) {
	for _, s := range []string{`{"batch":[{"a":1},{"b":[2]}],"sentAt":"x"}`, `{"batch":[]}`, `{"batch":{}}`, `{}`,
		`{"batch":[{"a":1}],"batch":"no"}`, `{"batch":[1]}`, `{"batch":[{"a":1},{"a":2},{"a":3}]}`, `{"batch":[{}]`,
		`{"x":{"batch":[{}]},"batch":[{"y":"\u0041"}]} `, `[{"a":1}]`, `{"batch":[{"a":1}]} x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		const max = 2
		obj, items, err := ParseBatchObject(body, "batch", max)
		var tm *TooManyError
		kind := func(err error) string {
			switch {
			case err == nil:
				return "ok"
			case errors.Is(err, ErrEmptyBatch):
				return "empty"
			case errors.As(err, &tm):
				return "too many"
			case errors.Is(err, ErrInvalid):
				return "invalid"
			}
			return "other: " + err.Error()
		}
		if FirstByte(body) != '{' {
			if kind(err) != "invalid" {
				t.Fatalf("%q is no object: %v", body, err)
			}
			return
		}
		objs, err1 := ParseJSONBody(body, 1)
		if err1 != nil {
			if kind(err) != "invalid" {
				t.Fatalf("%q: ParseJSONBody %v, ParseBatchObject %v", body, err1, err)
			}
			return
		}
		var batch []byte
		for _, m := range objs[0] {
			if m.Key == "batch" {
				batch = m.Value
			}
		}
		if FirstByte(batch) != '[' {
			if err != nil || items != nil || len(obj) != len(objs[0]) {
				t.Fatalf("%q has no batch: %d items, %v", body, len(items), err)
			}
			return
		}
		want, err2 := ParseJSONBody(batch, max)
		if kind(err) != kind(err2) {
			t.Fatalf("%q: batch %v, ParseBatchObject %v", body, err2, err)
		}
		if err2 != nil {
			return
		}
		if len(items) != len(want) || len(obj) != len(objs[0]) {
			t.Fatalf("%q: %d items, want %d", body, len(items), len(want))
		}
		for i := range want {
			if len(items[i]) != len(want[i]) {
				t.Fatalf("%q item %d: %v, want %v", body, i, items[i], want[i])
			}
			for j := range want[i] {
				if items[i][j].Key != want[i][j].Key || string(items[i][j].Value) != string(want[i][j].Value) {
					t.Fatalf("%q item %d: %v, want %v", body, i, items[i], want[i])
				}
			}
		}
	})
}
