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
