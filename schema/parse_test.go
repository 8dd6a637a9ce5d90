package schema

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

var testKey = []byte("test-key")

// build applies URL pairs then JSON objects, as the collector does.
func build(t *testing.T, pairs []Pair, obj Object) (*Event, error) {
	t.Helper()
	b := NewBuilder(Limits{}, testKey)
	for _, p := range pairs {
		if err := b.Set(p.Key, TextValue(p.Value)); err != nil {
			return nil, err
		}
	}
	if err := b.SetObject(obj); err != nil {
		return nil, err
	}
	return b.Finish(ServerInfo{ReceivedAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), Endpoint: "tr"}), nil
}

func TestParseTuplets(t *testing.T) {
	cases := []struct {
		name string
		tail string
		want []Pair
		err  bool
	}{
		{"empty", "", nil, false},
		{"one pair", "ename/click", []Pair{{"ename", "click"}}, false},
		{"trailing key dropped", "ename/click/orphan", []Pair{{"ename", "click"}}, false},
		{"slashes trimmed", "/ename/click/", []Pair{{"ename", "click"}}, false},
		{"escaped value", "url/https%3A%2F%2Fex.com%2Fa%20b", []Pair{{"url", "https://ex.com/a b"}}, false},
		{"case kept", "ROCK/ON", []Pair{{"ROCK", "ON"}}, false},
		{"empty key skipped", "ename/click//x", []Pair{{"ename", "click"}}, false},
		{"bad escape", "ename/%zz", nil, true},
		{"seed README example", "vid/14fb0860-b4bf-11e9-8971-7b80435315ac/ROCK/ON/lat/37.232332/lon/6.32233223/first/true/score/6/ref/14fb0860-b4bf-11e9-8971-7b80435315ac",
			[]Pair{{"vid", "14fb0860-b4bf-11e9-8971-7b80435315ac"}, {"ROCK", "ON"}, {"lat", "37.232332"}, {"lon", "6.32233223"}, {"first", "true"}, {"score", "6"}, {"ref", "14fb0860-b4bf-11e9-8971-7b80435315ac"}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseTuplets(c.tail)
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want error %v", err, c.err)
			}
			if c.err {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("error %v does not wrap ErrInvalid", err)
				}
				return
			}
			if len(got) == 0 && len(c.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestSeedRESTExample(t *testing.T) {
	pairs, err := ParseTuplets("vid/14fb0860-b4bf-11e9-8971-7b80435315ac/ROCK/ON/lat/37.232332/lon/6.32233223/first/true/score/6/ref/14fb0860-b4bf-11e9-8971-7b80435315ac")
	if err != nil {
		t.Fatal(err)
	}
	e, err := build(t, pairs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.VisitorID != "14fb0860-b4bf-11e9-8971-7b80435315ac" || *e.Lat != 37.232332 || *e.Lon != 6.32233223 ||
		!*e.First || *e.Score != 6 || e.Referral != "14fb0860-b4bf-11e9-8971-7b80435315ac" {
		t.Fatalf("fields wrong: %+v", e)
	}
	if string(e.Props["ROCK"]) != `"ON"` {
		t.Fatalf("props = %s", e.Props)
	}
}

// The seed README's "Failed Example": numeric rel and page. The old tracker
// lost it; spoor stores it with the numbers kept as numbers.
const seedFailedExample = `{"app":"native","email":"[email protected]","uid":"179ea090-6e8c-11ea-bb89-1d0ba023ecf8","uname":null,"tz":"Europe/Warsaw","device":"Handset","os":"iOS 13.4","did":"758152C1-278C-4C80-84A0-CF771B000835","w":375,"h":667,"rel":1,"sid":"c1dcf340-6eaa-11ea-a0b8-6120e9776df7","time":1585149028377,"ename":"filter_results","etyp":"filter","ptyp":"own_rooms","page":1,"vid":"016f2740-6e8c-11ea-9f0b-5d70c66851be"}`

// The seed README's JSON payload example, with a params object.
const seedPayloadExample = `{"last":"https://localhost:5001/cw.html","url":"https://localhost:5001/cw.html","params":{"type":"a","aff":"Bespoke"},"created":1539102052702,"duration":34752,"vid":"3d0be300-cbd2-11e8-aa59-ffd128a54d91","first":"false","sid":"3d0be301-cbd2-11e8-aa59-ffd128a54d91","tz":"America/Los_Angeles","device":"Linux","os":"Linux","sink":"cw$","score":1,"eid":"cw-a","uid":"admin"}`

func TestSeedJSONExamples(t *testing.T) {
	objs, err := ParseJSONBody([]byte(seedFailedExample), 100)
	if err != nil {
		t.Fatal(err)
	}
	e, err := build(t, nil, objs[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Release) != "1" || string(e.Props["page"]) != "1" {
		t.Fatalf("numbers must stay numbers: rel=%s page=%s", e.Release, e.Props["page"])
	}
	if *e.Width != 375 || *e.Height != 667 || e.DeviceID != "758152C1-278C-4C80-84A0-CF771B000835" || e.EventName != "filter_results" {
		t.Fatalf("fields wrong: %+v", e)
	}
	if e.ClientTime.UnixMilli() != 1585149028377 {
		t.Fatalf("client_time = %v", e.ClientTime)
	}
	if e.EmailHash == "" || len(e.EmailHash) != 64 || e.UnameHash != "" {
		t.Fatalf("email must be hashed, null uname absent: %q %q", e.EmailHash, e.UnameHash)
	}
	enc, _ := e.Encode()
	back, err := Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	back.Raw = nil
	if !reflect.DeepEqual(e, back) {
		t.Fatalf("round trip differs:\n%+v\n%+v", e, back)
	}

	objs, err = ParseJSONBody([]byte(seedPayloadExample), 100)
	if err != nil {
		t.Fatal(err)
	}
	e, err = build(t, nil, objs[0])
	if err != nil {
		t.Fatal(err)
	}
	if e.Affiliate != "Bespoke" || string(e.Props["type"]) != `"a"` || *e.First != false || *e.Duration != 34752 || e.Goal != "cw$" {
		t.Fatalf("fields wrong: %+v props %s", e, e.Props)
	}
	if string(e.Props["eid"]) != `"cw-a"` || len(e.EventID) != 36 {
		t.Fatalf("invalid eid must be kept in props and a UUID assigned: %q %s", e.EventID, e.Props["eid"])
	}
}

func TestBuilderFields(t *testing.T) {
	cases := []struct {
		name  string
		input string
		check func(*Event) bool
		err   bool
	}{
		{"valid eid kept lowercase", `{"eid":"0190F5E2-7A1B-7C3D-8E4F-A1B2C3D4E5F6"}`, func(e *Event) bool { return e.EventID == "0190f5e2-7a1b-7c3d-8e4f-a1b2c3d4e5f6" }, false},
		{"nil uuid replaced", `{"eid":"00000000-0000-0000-0000-000000000000"}`, func(e *Event) bool { return e.EventID != "00000000-0000-0000-0000-000000000000" }, false},
		{"long names accepted", `{"event_name":"x","visitor_id":"v"}`, func(e *Event) bool { return e.EventName == "x" && e.VisitorID == "v" }, false},
		{"utm alias", `{"utm_source":"news"}`, func(e *Event) bool { return e.Source == "news" }, false},
		{"string int", `{"w":"375"}`, func(e *Event) bool { return *e.Width == 375 }, false},
		{"zero cidx kept", `{"cidx":0}`, func(e *Event) bool { return e.ClientIndex != nil && *e.ClientIndex == 0 }, false},
		{"rfc3339 time", `{"created":"2026-01-02T03:04:05.678Z"}`, func(e *Event) bool { return e.ClientTime.UnixMilli() == 1767323045678 }, false},
		{"rel string stays string", `{"rel":"1"}`, func(e *Event) bool { return string(e.Release) == `"1"` }, false},
		{"nested props kept", `{"cart":{"items":[1,2],"total":9.5}}`, func(e *Event) bool { return string(e.Props["cart"]) == `{"items":[1,2],"total":9.5}` }, false},
		{"prop null kept", `{"x":null}`, func(e *Event) bool { return string(e.Props["x"]) == "null" }, false},
		{"prop empty string kept", `{"x":""}`, func(e *Event) bool { return string(e.Props["x"]) == `""` }, false},
		{"unicode kept", `{"ename":"Zürich 東京 🎉"}`, func(e *Event) bool { return e.EventName == "Zürich 東京 🎉" }, false},
		{"big number kept exactly", `{"n":12345678901234567890}`, func(e *Event) bool { return string(e.Props["n"]) == "12345678901234567890" }, false},
		{"float int rejected", `{"w":3.5}`, nil, true},
		{"object for string", `{"ename":{"a":1}}`, nil, true},
		{"bad bool", `{"first":"maybe"}`, nil, true},
		{"bad time", `{"created":"yesterday"}`, nil, true},
		{"time out of range", `{"created":1}`, nil, true},
		{"rel object rejected", `{"rel":{"a":1}}`, nil, true},
		{"too deep", `{"x":[[[[[[[[[[1]]]]]]]]]]}`, nil, true},
		// A property is the client's own: named like a field but not of its
		// kind, it keeps its value in props and the collision is noted.
		{"props: campaign object kept", `{"props":{"campaign":{"name":"spring","source":"fb"}}}`, func(e *Event) bool {
			return e.Campaign == "" && string(e.Props["campaign"]) == `{"name":"spring","source":"fb"}` && string(e.Props[CollisionsProp]) == `["campaign"]`
		}, false},
		{"props: several collisions", `{"properties":{"w":"wide","first":"maybe","ename":["a"],"url":"https://x.test/"}}`, func(e *Event) bool {
			return e.Width == nil && e.URL == "https://x.test/" && string(e.Props["w"]) == `"wide"` && string(e.Props[CollisionsProp]) == `["w","first","ename"]`
		}, false},
		{"props: a field that fits is set", `{"props":{"campaign":"spring"}}`, func(e *Event) bool { return e.Campaign == "spring" && e.Props[CollisionsProp] == nil }, false},
		{"props: still bounded", `{"props":{"campaign":[[[[[[[[[[1]]]]]]]]]]}}`, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs, err := ParseJSONBody([]byte(c.input), 10)
			if err != nil {
				t.Fatal(err)
			}
			e, err := build(t, nil, objs[0])
			if c.err {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("want ErrInvalid, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(e) {
				t.Fatalf("check failed: %+v props=%s", e, e.Props)
			}
		})
	}
}

func TestParseJSONBody(t *testing.T) {
	cases := []struct {
		name  string
		body  string
		n     int
		errIs error
	}{
		{"object", `{"a":1}`, 1, nil},
		{"batch", `[{"a":1},{"b":2},{"c":3}]`, 3, nil},
		{"whitespace", " \n [ {\"a\":1} ] ", 1, nil},
		{"empty body", ``, 0, ErrEmptyBatch},
		{"empty batch", `[]`, 0, ErrEmptyBatch},
		{"scalar", `42`, 0, ErrInvalid},
		{"element not object", `[{"a":1},2]`, 0, ErrInvalid},
		{"truncated", `{"a":`, 0, ErrInvalid},
		{"trailing garbage", `{"a":1}x`, 0, ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs, err := ParseJSONBody([]byte(c.body), 10)
			if c.errIs != nil {
				if !errors.Is(err, c.errIs) {
					t.Fatalf("want %v, got %v", c.errIs, err)
				}
				return
			}
			if err != nil || len(objs) != c.n {
				t.Fatalf("got %d objs, err %v", len(objs), err)
			}
		})
	}
	_, err := ParseJSONBody([]byte(`[{},{},{}]`), 2)
	var tm *TooManyError
	if !errors.As(err, &tm) || tm.Got != 3 {
		t.Fatalf("want TooManyError, got %v", err)
	}
}

// A pooled builder forgets the collisions of the event before.
func TestBuilderResetForgetsCollisions(t *testing.T) {
	b := NewBuilder(Limits{}, testKey)
	for i, body := range []string{`{"props":{"campaign":{"a":1}}}`, `{"props":{"x":1}}`} {
		objs, err := ParseJSONBody([]byte(body), 1)
		if err != nil {
			t.Fatal(err)
		}
		b.Reset()
		if err := b.SetObject(objs[0]); err != nil {
			t.Fatal(err)
		}
		e := b.Finish(ServerInfo{ReceivedAt: time.Now()})
		if _, noted := e.Props[CollisionsProp]; noted != (i == 0) {
			t.Fatalf("event %d: props %s", i, e.Props)
		}
	}
}

// canonicalUUID's fast path (a canonical id as it is) agrees with parsing
// it: every id comes out lower-case and dashed, the nil UUID and anything
// else is no id.
func TestCanonicalUUID(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"0a1b2c3d-0004-4000-8000-000000000007", "0a1b2c3d-0004-4000-8000-000000000007", true},
		{"0A1B2C3D-0004-4000-8000-00000000000F", "0a1b2c3d-0004-4000-8000-00000000000f", true},
		{"00000000-0000-0000-0000-000000000000", "", false},
		{"0a1b2c3d-0004-4000-8000-00000000000g", "", false},
		{"0a1b2c3d00004-4000-8000-000000000007", "", false},
		{"0a1b2c3d-0004-4000-8000-0000000000007", "", false},
		{"{a1b2c3d-0004-4000-8000-000000000007}", "", false},
		{"urn:uuid:0a1b2c3d-0004-4000-8000-0000", "", false},
	}
	for _, c := range cases {
		got, ok := canonicalUUID(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("canonicalUUID(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
