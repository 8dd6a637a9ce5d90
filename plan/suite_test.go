package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// suiteDir is where scripts/jsonschema-suite.sh puts the official JSON
// Schema Test Suite (make test runs it first).
const suiteDir = "../.cache/JSON-Schema-Test-Suite"

// The JSON Schema Test Suite's required draft 2020-12 tests, every one,
// against the validator as the plans configure it (newCompiler): what we
// rely on when a plan says what an event must look like. The suite's
// remote schemas (http://localhost:1234/…) are served from its remotes/
// folder; a plan itself loads none.
func TestJSONSchemaTestSuite(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(suiteDir, "tests", "draft2020-12", "*.json"))
	if len(files) == 0 {
		msg := "no JSON Schema Test Suite in " + suiteDir + ": run scripts/jsonschema-suite.sh (make test does)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	total, failed := 0, 0
	fastRead, fastValid, fastPassed, rawPassed := 0, 0, 0, 0 // tests whose schema fast reads; of those valid; of those fast passed (read, as encoded)
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var groups []struct {
			Description string
			Schema      json.RawMessage
			Tests       []struct {
				Description string
				Data        json.RawMessage
				Valid       bool
			}
		}
		if err := json.Unmarshal(data, &groups); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, g := range groups {
			c := newCompiler()
			c.UseLoader(remotes{filepath.Join(suiteDir, "remotes")})
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(g.Schema))
			if err != nil {
				t.Fatal(err)
			}
			f := compileFast(doc)
			const url = "http://suite.invalid/schema.json"
			var s *jsonschema.Schema
			if err = c.AddResource(url, doc); err == nil {
				s, err = c.Compile(url)
			}
			for _, tc := range g.Tests {
				total++
				name := fmt.Sprintf("%s: %s: %s", filepath.Base(path), g.Description, tc.Description)
				if err != nil {
					failed++
					t.Errorf("%s: the schema does not compile: %v", name, err)
					continue
				}
				inst, ierr := jsonschema.UnmarshalJSON(bytes.NewReader(tc.Data))
				if ierr != nil {
					t.Fatal(ierr)
				}
				if verr := s.Validate(inst); (verr == nil) != tc.Valid {
					failed++
					t.Errorf("%s: want valid=%v, got %v", name, tc.Valid, verr)
				}
				// fast may pass only what is valid (and is worth having
				// only if it passes most of what is).
				if f != nil {
					fastRead++
					if tc.Valid {
						fastValid++
					}
					if f.valid(inst) {
						fastPassed++
						if !tc.Valid {
							failed++
							t.Errorf("%s: fast passed an invalid instance", name)
						}
					}
					if f.validRaw(tc.Data) {
						rawPassed++
						if !tc.Valid {
							failed++
							t.Errorf("%s: fast passed an invalid instance as encoded", name)
						}
					}
				}
			}
		}
	}
	if total < 1000 {
		t.Fatalf("only %d tests in %d files: is the suite whole?", total, len(files))
	}
	t.Logf("JSON Schema Test Suite, draft 2020-12 required: %d of %d tests pass, in %d files; fast reads the schema of %d, "+
		"and passed %d of the %d valid ones itself (%d read as encoded)", total-failed, total, len(files), fastRead, fastPassed, fastValid, rawPassed)
	if fastPassed < fastValid*9/10 {
		t.Errorf("fast passed only %d of %d valid instances it could read", fastPassed, fastValid)
	}
}

// remotes serves the suite's remote schemas (http://localhost:1234/X is
// remotes/X).
type remotes struct{ dir string }

func (r remotes) Load(url string) (any, error) {
	rest, ok := strings.CutPrefix(url, "http://localhost:1234/")
	if !ok {
		return nil, fmt.Errorf("no remote %s", url)
	}
	f, err := os.Open(filepath.Join(r.dir, filepath.FromSlash(rest)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
}
