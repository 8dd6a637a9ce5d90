package parquetfile

import (
	"encoding/json"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

// Row is one event as a Parquet row: spoor's fields as typed columns
// (absent values are nulls), the props as one JSON column. Spark, DuckDB,
// Athena and Trino read it without a schema of their own.
type Row struct {
	EventID        string     `parquet:"event_id,dict"`
	ReceivedAt     time.Time  `parquet:"received_at,timestamp(microsecond)"`
	Endpoint       *string    `parquet:"endpoint,optional,dict"`
	App            *string    `parquet:"app,optional,dict"`
	EventName      *string    `parquet:"event_name,optional,dict"`
	EventType      *string    `parquet:"event_type,optional,dict"`
	ClientTime     *time.Time `parquet:"client_time,optional,timestamp(microsecond)"`
	VisitorID      *string    `parquet:"visitor_id,optional"`
	SessionID      *string    `parquet:"session_id,optional"`
	UserID         *string    `parquet:"user_id,optional"`
	DeviceID       *string    `parquet:"device_id,optional"`
	EmailHash      *string    `parquet:"email_hash,optional"`
	IPHash         *string    `parquet:"ip_hash,optional"`
	IPPrefix       *string    `parquet:"ip_prefix,optional"`
	UserAgent      *string    `parquet:"user_agent,optional,dict"`
	Bot            *bool      `parquet:"bot,optional"`
	BotFamily      *string    `parquet:"bot_family,optional,dict"`
	GeoCountry     *string    `parquet:"geo_country,optional,dict"`
	GeoCity        *string    `parquet:"geo_city,optional,dict"`
	URL            *string    `parquet:"url,optional"`
	Referrer       *string    `parquet:"referrer,optional"`
	PageType       *string    `parquet:"page_type,optional,dict"`
	Language       *string    `parquet:"language,optional,dict"`
	Timezone       *string    `parquet:"timezone,optional,dict"`
	Device         *string    `parquet:"device,optional,dict"`
	OS             *string    `parquet:"os,optional,dict"`
	Width          *int64     `parquet:"width,optional"`
	Height         *int64     `parquet:"height,optional"`
	Duration       *int64     `parquet:"duration,optional"`
	ClientIndex    *int64     `parquet:"client_index,optional"`
	LibraryVersion *string    `parquet:"library_version,optional,dict"`
	Source         *string    `parquet:"source,optional,dict"`
	Medium         *string    `parquet:"medium,optional,dict"`
	Campaign       *string    `parquet:"campaign,optional,dict"`
	Term           *string    `parquet:"term,optional"`
	Content        *string    `parquet:"content,optional"`
	Link           *string    `parquet:"link,optional,dict"`
	Unique         *bool      `parquet:"unique,optional"`
	OpenVia        *string    `parquet:"open_via,optional,dict"`
	ExperimentID   *string    `parquet:"experiment_id,optional,dict"`
	Variant        *string    `parquet:"variant,optional,dict"`
	Score          *float64   `parquet:"score,optional"`
	Props          *string    `parquet:"props,optional"` // JSON object
}

func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// rowOf is e as a row.
func rowOf(e *schema.Event) Row {
	r := Row{EventID: e.EventID, ReceivedAt: e.ReceivedAt.UTC(), Endpoint: str(e.Endpoint), App: str(e.App), EventName: str(e.EventName),
		EventType: str(e.EventType), ClientTime: e.ClientTime, VisitorID: str(e.VisitorID), SessionID: str(e.SessionID),
		UserID: str(e.UserID), DeviceID: str(e.DeviceID), EmailHash: str(e.EmailHash), IPHash: str(e.IPHash), IPPrefix: str(e.IPPrefix),
		UserAgent: str(e.UserAgent), Bot: e.Bot, BotFamily: str(e.BotFamily), GeoCountry: str(e.GeoCountry), GeoCity: str(e.GeoCity),
		URL: str(e.URL), Referrer: str(e.Referrer), PageType: str(e.PageType), Language: str(e.Language), Timezone: str(e.Timezone),
		Device: str(e.Device), OS: str(e.OS), Width: e.Width, Height: e.Height, Duration: e.Duration, ClientIndex: e.ClientIndex,
		LibraryVersion: str(e.LibraryVersion), Source: str(e.Source), Medium: str(e.Medium), Campaign: str(e.Campaign),
		Term: str(e.Term), Content: str(e.Content), Link: str(e.Link), Unique: e.Unique, OpenVia: str(e.OpenVia),
		ExperimentID: str(e.ExperimentID), Variant: str(e.Variant), Score: e.Score}
	if r.ClientTime != nil {
		t := r.ClientTime.UTC()
		r.ClientTime = &t
	}
	if len(e.Props) > 0 {
		if b, err := json.Marshal(e.Props); err == nil {
			r.Props = str(string(b))
		}
	}
	return r
}
