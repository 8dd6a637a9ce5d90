package plan

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// fastSchemas are schemas of the keywords fast reads, at their edges.
var fastSchemas = []string{
	`{"type": "object", "required": ["id", "price", "currency"], "properties": {
	  "id": {"type": "string", "minLength": 1, "maxLength": 3}, "price": {"type": "number", "minimum": 0, "exclusiveMaximum": 100},
	  "currency": {"enum": ["USD", "EUR", 1, true, null]}, "qty": {"type": "integer", "minimum": 1, "maximum": 1e3},
	  "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2, "minItems": 1}, "color": {"const": "red"}},
	  "additionalProperties": {"type": ["boolean", "null", "integer"]}, "maxProperties": 6}`,
	`{"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"exclusiveMinimum": 0.1}}, "additionalProperties": false}}, "minProperties": 1}`,
	`{"type": ["array", "string"], "items": {"type": "number", "maximum": 9007199254740993}}`,
	`{"$schema": "https://json-schema.org/draft/2020-12/schema", "properties": {"n": {"type": "integer"}}, "additionalProperties": false}`,
}

// fast passes only what the validator passes, whatever the event.
func FuzzFast(f *testing.F) {
	for _, s := range []string{`{"id":"a","price":1,"currency":"USD"}`, `{"id":"","price":100,"currency":1.0}`,
		`{"id":"abc","price":99.999999999,"currency":null,"qty":1.0,"tags":["x"],"color":"red","z":true}`,
		`{"a":{"b":0.1}}`, `{"a":{"b":0.1000000001,"c":1}}`, `[9007199254740993, 9007199254740994]`, `"x"`, `{"n":1e0}`, `{"n":10}`} {
		f.Add([]byte(s))
	}
	var schemas []*jsonschema.Schema
	var fasts []*fast
	for i, src := range fastSchemas {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(src)))
		if err != nil {
			f.Fatal(err)
		}
		c := newCompiler()
		url := "fuzz:///" + string(rune('a'+i))
		if err := c.AddResource(url, doc); err != nil {
			f.Fatal(err)
		}
		s, err := c.Compile(url)
		if err != nil {
			f.Fatal(err)
		}
		ff := compileFast(doc)
		if ff == nil {
			f.Fatalf("fast does not read schema %d", i)
		}
		schemas, fasts = append(schemas, s), append(fasts, ff)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return
		}
		var members map[string]json.RawMessage // b as an event's props, when it is an object
		if json.Unmarshal(b, &members) != nil {
			members = nil
		}
		for i, ff := range fasts {
			how := ""
			switch {
			case ff.valid(inst):
				how = "valid"
			case ff.validRaw(b):
				how = "validRaw"
			case members != nil && !hasDuplicateKeys(b) && ff.validProps(members):
				how = "validProps"
			default:
				continue
			}
			if err := schemas[i].Validate(inst); err != nil {
				t.Fatalf("schema %d: fast (%s) passed %s, the validator refuses it: %v", i, how, b, err)
			}
		}
	})
}

// hasDuplicateKeys: an object naming a key twice (the map keeps the last,
// an event's props cannot hold it twice anyway).
func hasDuplicateKeys(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	var walk func() bool
	walk = func() bool {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		switch t {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, _ := dec.Token()
				ks, _ := k.(string)
				if seen[ks] || walk() {
					return true
				}
				seen[ks] = true
			}
			dec.Token()
		case json.Delim('['):
			for dec.More() {
				if walk() {
					return true
				}
			}
			dec.Token()
		}
		return false
	}
	return walk()
}
