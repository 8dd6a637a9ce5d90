package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestConfigJSONMatchesDefaults(t *testing.T) {
	got, err := Load("../../config.json")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.resolvePaths()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("config.json and Default() differ:\n got %+v\nwant %+v", got, want)
	}
}

func TestMissingFileMeansDefaults(t *testing.T) {
	got, err := Load(filepath.Join(t.TempDir(), "absent.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got.HTTP.Addr != "127.0.0.1:8080" {
		t.Fatalf("addr = %q", got.HTTP.Addr)
	}
}

func TestEnvOverrides(t *testing.T) {
	t.Setenv("SPOOR_HTTP_ADDR", "127.0.0.1:9999")
	t.Setenv("SPOOR_DATA_DIR", "/tmp/spoor-x")
	t.Setenv("SPOOR_NATS_URL", "nats://127.0.0.1:4222")
	t.Setenv("SPOOR_COLLECTOR_ACK_TIMEOUT", "250ms")
	t.Setenv("SPOOR_HTTP_CORS_ORIGINS", "https://a.example,https://b.example")
	t.Setenv("SPOOR_SINK_BATCH_SIZE", "100")
	t.Setenv("SPOOR_NATS_PARTITIONS", "3")
	t.Setenv("SPOOR_SINK_PARTITIONS", "0,2")
	c, err := Load("../../config.json")
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != "127.0.0.1:9999" || c.DataDir != "/tmp/spoor-x" || c.NATS.URL != "nats://127.0.0.1:4222" ||
		c.Collector.AckTimeout != 250*time.Millisecond || c.Sink.BatchSize != 100 ||
		!reflect.DeepEqual(c.HTTP.CORSOrigins, []string{"https://a.example", "https://b.example"}) ||
		c.NATS.Partitions != 3 || !reflect.DeepEqual(c.Sink.Partitions, []int{0, 2}) {
		t.Fatalf("env not applied: %+v", c)
	}
	if c.Spool.Dir != "/tmp/spoor-x/spool" {
		t.Fatalf("spool dir must follow data_dir: %q", c.Spool.Dir)
	}
}

func TestRejects(t *testing.T) {
	cases := []struct {
		name, json, want string
	}{
		{"unknown top key", `{"bogus": 1}`, "bogus"},
		{"unknown nested key", `{"http": {"adr": "x"}}`, "adr"},
		{"bad duration", `{"http": {"read_timeout": "soon"}}`, "read_timeout"},
		{"negative body", `{"http": {"max_body_bytes": -1}}`, "http.max_body_bytes"},
		{"bad level", `{"log": {"level": "loud"}}`, "log.level"},
		{"bad proxy engine", `{"proxy": {"engine": "nginx"}}`, "proxy.engine"},
		{"replicas on embedded", `{"nats": {"replicas": 3}}`, "nats.replicas"},
		{"bad cors", `{"http": {"cors_origins": ["example.com"]}}`, "cors_origins"},
		{"no partitions", `{"nats": {"partitions": 0}}`, "nats.partitions"},
		{"sink partition out of range", `{"nats": {"partitions": 3}, "sink": {"partitions": [3]}}`, "sink.partitions"},
		{"sink partition twice", `{"nats": {"partitions": 3}, "sink": {"partitions": [1, 1]}}`, "sink.partitions"},
		{"short signing key", `{"links": {"signing_keys": ["short"]}}`, "links.signing_keys"},
		{"short admin token", `{"links": {"admin_tokens": ["short"]}}`, "links.admin_tokens"},
		{"short admin token (admin.tokens)", `{"admin": {"tokens": ["short"]}}`, "admin.tokens"},
		{"link prefix on a collector path", `{"links": {"prefix": "/rdr"}}`, "links.prefix"},
		{"link prefix on the Segment API", `{"links": {"prefix": "/v1"}}`, "links.prefix"},
		{"link prefix of two segments", `{"links": {"prefix": "/go/to"}}`, "links.prefix"},
		{"links in cassandra without hosts", `{"links": {"store": "cassandra"}}`, "links.store"},
		{"unknown link store", `{"links": {"store": "redis"}}`, "links.store"},
		{"base url with a slash", `{"links": {"base_url": "https://t.example/"}}`, "links.base_url"},
		{"slug too short", `{"links": {"slug_length": 2}}`, "links.slug_length"},
		{"no unique window", `{"links": {"unique_window": "0s"}}`, "links.unique_window"},
		{"short write key", `{"segment": {"write_keys": {"abc": "shop"}}}`, "segment.write_keys"},
		{"write key without app", `{"segment": {"write_keys": {"wk_0123456789": ""}}}`, "segment.write_keys"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.json")
			if err := os.WriteFile(p, []byte(c.json), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want error naming %q, got %v", c.want, err)
			}
		})
	}
}

func TestDocsListEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for key := range Keys() {
		env := "SPOOR_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		if !strings.Contains(string(doc), "| `"+key+"` |") || !strings.Contains(string(doc), env) {
			t.Errorf("docs/config.md does not document %s (%s)", key, env)
		}
	}
}

// What `spoor config` prints loads back into the same configuration, and
// hides secrets.
func TestTreeRoundTrips(t *testing.T) {
	b, err := json.Marshal(Default().Tree())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.resolvePaths()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("printed config does not load back:\n got %+v\nwant %+v", got, want)
	}
	c := Default()
	c.Cassandra.Password, c.Collector.HashKey, c.Collector.ServerTokens = "pw", "k", []string{"tok"}
	out, _ := json.Marshal(c.Tree())
	for _, s := range []string{`"pw"`, `"k"`, `"tok"`} {
		if strings.Contains(string(out), s) {
			t.Errorf("secret %s printed: %s", s, out)
		}
	}
}

// Write keys are case-sensitive secrets; viper lower-cases map keys, so the
// file's are read again exactly, and the env's parsed as key=app pairs.
func TestSegmentWriteKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"segment": {"write_keys": {"wk_MixedCase_01": "shop"}, "trusted_keys": ["wk_MixedCase_01"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Segment.WriteKeys["wk_MixedCase_01"] != "shop" || len(c.Segment.WriteKeys) != 1 {
		t.Errorf("from the file: %v", c.Segment.WriteKeys)
	}
	t.Setenv("SPOOR_SEGMENT_WRITE_KEYS", "wk_Env_Key_1=shop, wk_Env_Key_2=blog")
	t.Setenv("SPOOR_SEGMENT_TRUSTED_KEYS", "wk_Env_Key_2")
	if c, err = Load(path); err != nil {
		t.Fatal(err)
	}
	if len(c.Segment.WriteKeys) != 2 || c.Segment.WriteKeys["wk_Env_Key_1"] != "shop" || c.Segment.WriteKeys["wk_Env_Key_2"] != "blog" {
		t.Errorf("from the env: %v", c.Segment.WriteKeys)
	}
	for env, want := range map[string]string{"wk_only_a_key": "not key=value", "short=shop": "shorter than 8"} {
		t.Setenv("SPOOR_SEGMENT_WRITE_KEYS", env)
		t.Setenv("SPOOR_SEGMENT_TRUSTED_KEYS", "")
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", env, err, want)
		}
	}
	t.Setenv("SPOOR_SEGMENT_WRITE_KEYS", "wk_Env_Key_1=shop")
	t.Setenv("SPOOR_SEGMENT_TRUSTED_KEYS", "wk_not_a_write_key")
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "segment.trusted_keys") {
		t.Errorf("a trusted key that is no write key: %v", err)
	}
}

// links.admin_tokens, the old name of admin.tokens, still opens the
// operator surface, and says it is deprecated.
func TestDeprecatedAdminTokens(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.json")
	if err := os.WriteFile(p, []byte(`{"links": {"admin_tokens": ["old-token-0123456789"]}, "admin": {"tokens": ["new-token-0123456789"]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.AdminTokens(); !slices.Equal(got, []string{"new-token-0123456789", "old-token-0123456789"}) {
		t.Errorf("AdminTokens = %q, want both", got)
	}
	if d := c.Deprecated(); len(d) != 1 || !strings.Contains(d[0], "links.admin_tokens") || !strings.Contains(d[0], "admin.tokens") {
		t.Errorf("Deprecated = %q, want one warning naming both keys", d)
	}
	if d := Default(); len(d.Deprecated()) != 0 {
		t.Errorf("the defaults use a deprecated key: %q", d.Deprecated())
	}
	if tree := c.Tree(); tree["admin"].(map[string]any)["tokens"] != "<redacted>" {
		t.Errorf("admin.tokens printed as %v, want redacted", tree["admin"])
	}
}

// Destinations: read from the file with each type's own keys kept for the
// type to check, or from SPOOR_DESTINATIONS as JSON; names and globs
// checked; secrets redacted.
func TestDestinations(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.json")
	body := `{"destinations": [{"name": "hooks", "type": "webhook", "url": "http://127.0.0.1:9/in", "secrets": ["s3cr3t-0123456789"],
		"filter": {"apps": ["shop"], "events": ["Order *"], "exclude_bots": false}, "consent": "analytics", "retry_window": "30m"}]}`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	d := c.Destinations[0]
	if d.Name != "hooks" || d.Type != "webhook" || d.Settings["url"] != "http://127.0.0.1:9/in" || d.Consent != "analytics" ||
		d.RetryWindow != 30*time.Minute || !slices.Equal(d.Filter.Events, []string{"Order *"}) || d.Filter.ExcludeBots == nil || *d.Filter.ExcludeBots {
		t.Fatalf("decoded %+v", d)
	}
	tree := c.Tree()["destinations"].([]map[string]any)[0]
	if tree["secrets"] != "<redacted>" || tree["url"] != "http://127.0.0.1:9/in" {
		t.Fatalf("spoor config prints %v", tree)
	}
	t.Setenv("SPOOR_DESTINATIONS", `[{"name":"k","type":"kafka","brokers":["127.0.0.1:9092"]}]`)
	c, err = Load("")
	if err != nil || len(c.Destinations) != 1 || c.Destinations[0].Type != "kafka" {
		t.Fatalf("from the environment: %+v, %v", c.Destinations, err)
	}
	for _, bad := range []struct{ json, want string }{
		{`{"destinations": [{"name": "Hooks!", "type": "webhook"}]}`, "destinations[0].name"},
		{`{"destinations": [{"name": "a", "type": "webhook"}, {"name": "a", "type": "webhook"}]}`, "destinations[1].name"},
		{`{"destinations": [{"name": "a"}]}`, "destinations[0].type"},
		{`{"destinations": [{"name": "a", "type": "webhook", "filter": {"events": ["[oops"]}}]}`, "destinations[0].filter.events"},
		{`{"destinations": [{"name": "a", "type": "webhook", "filter": {"apss": ["x"]}}]}`, "apss"},
		{`{"destinations": [{"name": "a", "type": "webhook", "retry_window": "-1s"}]}`, "destinations[0].retry_window"},
	} {
		t.Setenv("SPOOR_DESTINATIONS", "")
		if err := os.WriteFile(p, []byte(bad.json), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: want an error naming %q, got %v", bad.json, bad.want, err)
		}
	}
}
