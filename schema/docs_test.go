package schema

import (
	"os"
	"strings"
	"testing"
)

func TestEventsDocListsEveryField(t *testing.T) {
	doc, err := os.ReadFile("../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Fields {
		if !strings.Contains(string(doc), "| `"+f.Short+"`") || !strings.Contains(string(doc), "`"+f.Long+"`") {
			t.Errorf("docs/events.md does not document %s/%s", f.Short, f.Long)
		}
	}
	for _, f := range ServerFields {
		if !strings.Contains(string(doc), "| `"+f.Long+"` |") {
			t.Errorf("docs/events.md does not document server field %s", f.Long)
		}
	}
}
