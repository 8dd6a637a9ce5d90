package cassandra

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/schema"
)

// column maps one event column to the Event: the value to bind (UnsetValue
// when absent, so no tombstone is written) and where a read lands.
type column struct {
	name string
	bind func(*schema.Event) any
	dest func(*schema.Event) any
}

// eventColumns are the columns both event tables share, beyond their keys:
// the server fields, every dictionary field except event_id and app (keys),
// and props as JSON text.
var eventColumns = func() []column {
	cols := []column{
		strCol("endpoint", func(e *schema.Event) *string { return &e.Endpoint }),
		strCol("ip_hash", func(e *schema.Event) *string { return &e.IPHash }),
		strCol("ip_prefix", func(e *schema.Event) *string { return &e.IPPrefix }),
		strCol("user_agent", func(e *schema.Event) *string { return &e.UserAgent }),
		{name: "bot", bind: func(e *schema.Event) any { return bindPtr(&e.Bot) }, dest: func(e *schema.Event) any { return &e.Bot }},
		strCol("bot_family", func(e *schema.Event) *string { return &e.BotFamily }),
		{name: "canary", bind: func(e *schema.Event) any { return bindPtr(&e.Canary) }, dest: func(e *schema.Event) any { return &e.Canary }},
		strCol("open_via", func(e *schema.Event) *string { return &e.OpenVia }),
		strCol("geo_country", func(e *schema.Event) *string { return &e.GeoCountry }),
		strCol("geo_city", func(e *schema.Event) *string { return &e.GeoCity }),
		strCol("link", func(e *schema.Event) *string { return &e.Link }),
		{name: "qr", bind: func(e *schema.Event) any { return bindPtr(&e.QR) }, dest: func(e *schema.Event) any { return &e.QR }},
		{name: "unique", bind: func(e *schema.Event) any { return bindPtr(&e.Unique) }, dest: func(e *schema.Event) any { return &e.Unique }},
	}
	for i := range schema.Fields {
		fd := &schema.Fields[i]
		switch fd.Long {
		case "event_id", "app", "visitor_id": // key columns
			continue
		}
		cols = append(cols, column{name: fd.Long, bind: func(e *schema.Event) any { return bindPtr(fd.Ptr(e)) }, dest: fd.Ptr})
	}
	return append(cols, column{name: "props",
		bind: func(e *schema.Event) any {
			if len(e.Props) == 0 {
				return gocql.UnsetValue
			}
			b, _ := json.Marshal(e.Props)
			return string(b)
		},
		dest: func(e *schema.Event) any { return &propsText{e: e} },
	})
}()

func strCol(name string, p func(*schema.Event) *string) column {
	return column{name: name, bind: func(e *schema.Event) any { return bindPtr(p(e)) }, dest: func(e *schema.Event) any { return p(e) }}
}

// bindPtr turns a field pointer into a bind value.
func bindPtr(p any) any {
	switch v := p.(type) {
	case *string:
		if *v == "" {
			return gocql.UnsetValue
		}
		return *v
	case **int64:
		if *v == nil {
			return gocql.UnsetValue
		}
		return **v
	case **float64:
		if *v == nil {
			return gocql.UnsetValue
		}
		return **v
	case **bool:
		if *v == nil {
			return gocql.UnsetValue
		}
		return **v
	case **time.Time:
		if *v == nil {
			return gocql.UnsetValue
		}
		return **v
	case *json.RawMessage:
		if len(*v) == 0 {
			return gocql.UnsetValue
		}
		return string(*v)
	}
	panic(fmt.Sprintf("cassandra: no binding for %T", p))
}

// propsText reads the props JSON text back into the map.
type propsText struct{ e *schema.Event }

func (p *propsText) UnmarshalCQL(_ gocql.TypeInfo, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, &p.e.Props)
}

func columnList(keys ...string) string {
	names := append([]string(nil), keys...)
	for _, c := range eventColumns {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
