package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// Load reads path (a missing file means defaults), applies SPOOR_* env
// overrides, rejects unknown keys and validates.
func Load(path string) (Config, error) {
	v := viper.New()
	v.SetEnvPrefix("SPOOR")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	// Viper only sees env vars for keys it knows: register every key.
	for key, val := range flatten(Default()) {
		v.SetDefault(key, val)
	}
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("json")
		if err := v.ReadInConfig(); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Config{}, fmt.Errorf("reading config %s: %w", path, err)
		}
	}
	var c Config
	hook := mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToSliceHookFunc(","),
		stringToIntSlice,
		stringToStringMap,
		stringToDestinations,
	)
	if err := v.UnmarshalExact(&c, viper.DecodeHook(hook)); err != nil {
		return Config{}, fmt.Errorf("decoding config: %w", err)
	}
	if err := c.exactWriteKeys(path); err != nil {
		return Config{}, err
	}
	c.resolvePaths()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// stringToIntSlice reads a list of numbers from an environment variable
// ("0,2"; empty: none). StringToSliceHookFunc only makes []string.
func stringToIntSlice(f, t reflect.Type, data any) (any, error) {
	if f.Kind() != reflect.String || t != reflect.TypeOf([]int(nil)) {
		return data, nil
	}
	var out []int
	for _, part := range strings.Split(data.(string), ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", part)
		}
		out = append(out, n)
	}
	return out, nil
}

func (c *Config) resolvePaths() {
	if c.Spool.Dir == "" {
		c.Spool.Dir = filepath.Join(c.DataDir, "spool")
	}
	if c.File.Dir == "" {
		c.File.Dir = filepath.Join(c.DataDir, "events")
	}
	if c.Proxy.ACMECacheDir == "" {
		c.Proxy.ACMECacheDir = filepath.Join(c.DataDir, "acme")
	}
}

// flatten walks a Config into "a.b" -> value, using mapstructure tags.
func flatten(c Config) map[string]any {
	out := map[string]any{}
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		t := v.Type()
		for n := 0; n < t.NumField(); n++ {
			key := t.Field(n).Tag.Get("mapstructure")
			if prefix != "" {
				key = prefix + "." + key
			}
			fv := v.Field(n)
			if fv.Kind() == reflect.Struct {
				walk(key, fv)
				continue
			}
			out[key] = fv.Interface()
		}
	}
	walk("", reflect.ValueOf(c))
	return out
}

// Keys lists every key, sorted by the caller if needed (docs and tests use it).
func Keys() map[string]any { return flatten(Default()) }

// Tree is the configuration as config.json spells it: objects under the
// keys, durations as strings ("30s"), secrets (passwords, keys, tokens)
// replaced by "<redacted>" when set. `spoor config` prints it.
func (c Config) Tree() map[string]any {
	secret := map[string]bool{"password": true, "hash_key": true, "server_tokens": true, "signing_keys": true, "admin_tokens": true, "tokens": true,
		"write_keys": true, "trusted_keys": true}
	var walk func(v reflect.Value) map[string]any
	walk = func(v reflect.Value) map[string]any {
		out := map[string]any{}
		t := v.Type()
		for n := 0; n < t.NumField(); n++ {
			key, fv := t.Field(n).Tag.Get("mapstructure"), v.Field(n)
			switch {
			case fv.Kind() == reflect.Struct:
				out[key] = walk(fv)
			case key == "destinations":
				out[key] = destinationsTree(fv.Interface().([]Destination))
			case secret[key] && !fv.IsZero() && fv.Len() > 0:
				out[key] = "<redacted>"
			case fv.Type() == reflect.TypeOf(time.Duration(0)):
				out[key] = time.Duration(fv.Int()).String()
			default:
				out[key] = fv.Interface()
			}
		}
		return out
	}
	return walk(reflect.ValueOf(c))
}
