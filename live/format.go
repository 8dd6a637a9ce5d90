package live

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

// Line is the one-line form of an event for a terminal: time, app,
// endpoint, event name, visitor, then what says most about it (the URL,
// or the first props), cut to width.
func Line(e *schema.Event, width int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %-8s %-4s %-18s", e.ReceivedAt.Local().Format(time.TimeOnly+".000"), cut(orDash(e.App), 8), e.Endpoint, cut(orDash(e.EventName), 18))
	fmt.Fprintf(&b, " vid=%s", cut(orDash(e.VisitorID), 12))
	if e.UserID != "" {
		fmt.Fprintf(&b, " uid=%s", cut(e.UserID, 12))
	}
	if e.Bot != nil && *e.Bot {
		b.WriteString(" bot")
		if e.BotFamily != "" {
			b.WriteString("=" + e.BotFamily)
		}
	}
	if e.URL != "" {
		b.WriteString(" " + e.URL)
	}
	if len(e.Props) > 0 {
		keys := make([]string, 0, len(e.Props))
		for k := range e.Props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString(" " + k + "=" + string(e.Props[k]))
		}
	}
	s := b.String()
	if width > 0 && len([]rune(s)) > width {
		s = string([]rune(s)[:width-1]) + "…"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
