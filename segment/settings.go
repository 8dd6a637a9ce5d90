package segment

import (
	"encoding/json"
	"strings"
)

// SettingsKey is the write key of a settings request's path
// (projects/<writeKey>/settings, after /v1/), or "".
func SettingsKey(call string) (string, bool) {
	rest, ok := strings.CutPrefix(call, "projects/")
	if !ok {
		return "", false
	}
	key, ok := strings.CutSuffix(rest, "/settings")
	if !ok || key == "" || strings.Contains(key, "/") {
		return "", false
	}
	return key, true
}

// Settings is the body of GET /v1/projects/<writeKey>/settings, which
// Segment's libraries fetch from their CDN host when they start: spoor is
// the only destination (Segment.io, sending to apiHost, this collector's
// host and /v1), nothing is loaded from elsewhere (no device-mode
// integrations, no remote plugins, no edge function), and the libraries'
// own metrics are off (a sample rate of 0, so nothing goes to Segment).
// base is the collector's public base URL (scheme and host).
func Settings(writeKey, base string) []byte {
	host := strings.TrimSuffix(base, "/")
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	s := map[string]any{
		"integrations": map[string]any{
			"Segment.io": map[string]any{
				"apiKey":                writeKey,
				"apiHost":               host + "/v1",
				"unbundledIntegrations": []string{},
				"addBundledMetadata":    false,
				"maybeBundledConfigIds": map[string]any{},
			},
		},
		"plan": map[string]any{
			"track":    map[string]any{"__default": map[string]any{"enabled": true, "integrations": map[string]any{}}},
			"identify": map[string]any{"__default": map[string]any{"enabled": true}},
			"group":    map[string]any{"__default": map[string]any{"enabled": true}},
		},
		"edgeFunction":              map[string]any{},
		"analyticsNextEnabled":      true,
		"middlewareSettings":        map[string]any{},
		"enabledMiddleware":         map[string]any{},
		"metrics":                   map[string]any{"sampleRate": 0},
		"legacyVideoPluginsEnabled": false,
		"remotePlugins":             []any{},
	}
	b, _ := json.Marshal(s)
	return b
}
