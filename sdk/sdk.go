// Package sdk holds the browser SDK's built files (sdk/js/dist, built by
// esbuild and committed) so the collector can serve them from the binary.
package sdk

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
)

//go:embed js/dist/spoor.js
var script []byte

//go:embed js/dist/spoor.mjs
var module []byte

//go:embed js/package.json
var pkg []byte

// File is one servable build output.
type File struct {
	Body []byte
	ETag string // strong, from the content
}

// Script is the minified <script> build (window.spoor).
func Script() File { return file(script) }

// Module is the ES module build.
func Module() File { return file(module) }

func file(b []byte) File {
	sum := sha256.Sum256(b)
	return File{Body: b, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// Version is the SDK's version (sdk/js/package.json).
func Version() string {
	var p struct{ Version string }
	if err := json.Unmarshal(pkg, &p); err != nil {
		return "unknown"
	}
	return p.Version
}
