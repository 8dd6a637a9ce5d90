// Package reply writes the JSON answers every fasthttp surface of spoor
// shares: an error with its machine-readable reason, and a value.
package reply

import (
	"encoding/json"

	"github.com/valyala/fasthttp"
)

// Error answers {"error": msg, "reason": reason} with status.
func Error(ctx *fasthttp.RequestCtx, status int, reason, msg string) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	b, _ := json.Marshal(map[string]string{"error": msg, "reason": reason})
	ctx.SetBody(b)
}

// JSON answers v as JSON with status (500 when v cannot be encoded).
func JSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		Error(ctx, fasthttp.StatusInternalServerError, "internal", err.Error())
		return
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}
