package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"
)

// Segment is the Segment-compatible HTTP Tracking API (/v1/…; docs/events.md).
type Segment struct {
	// WriteKeys maps each write key to the app its events belong to;
	// empty: the /v1/ endpoints are off.
	WriteKeys map[string]string `mapstructure:"write_keys"`
	// TrustedKeys are write keys used by servers: their messages'
	// context.ip is believed (for the address hash and GeoIP).
	TrustedKeys []string `mapstructure:"trusted_keys"`
}

// stringToStringMap reads a map from an environment variable:
// "key1=shop,key2=blog" (empty: none).
func stringToStringMap(f, t reflect.Type, data any) (any, error) {
	if f.Kind() != reflect.String || t != reflect.TypeOf(map[string]string(nil)) {
		return data, nil
	}
	out := map[string]string{}
	for _, part := range strings.Split(data.(string), ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%q is not key=value", part)
		}
		out[k] = v
	}
	return out, nil
}

// exactWriteKeys: viper lower-cases map keys, and write keys are
// case-sensitive secrets. Unless the environment sets them, read them
// again from the file exactly as written.
func (c *Config) exactWriteKeys(path string) error {
	if path == "" || os.Getenv("SPOOR_SEGMENT_WRITE_KEYS") != "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading config %s: %w", path, err)
	}
	var raw struct {
		Segment struct {
			WriteKeys map[string]string `json:"write_keys"`
		} `json:"segment"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("reading segment.write_keys from %s: %w", path, err)
	}
	if raw.Segment.WriteKeys != nil {
		c.Segment.WriteKeys = raw.Segment.WriteKeys
	}
	return nil
}

func (c *Config) validateSegment(bad func(key, format string, a ...any)) {
	for k, app := range c.Segment.WriteKeys {
		if len(k) < 8 {
			bad("segment.write_keys", "write key %q is shorter than 8 characters", k)
		}
		if app == "" {
			bad("segment.write_keys", "write key %q maps to no app", k)
		}
	}
	for _, k := range c.Segment.TrustedKeys {
		if _, ok := c.Segment.WriteKeys[k]; !ok {
			bad("segment.trusted_keys", "%q is not one of segment.write_keys", k)
		}
	}
}
