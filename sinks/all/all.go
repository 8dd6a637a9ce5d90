// Package all registers every destination type (sinks.Register): import
// it for its side effect where destinations are built.
package all

import (
	_ "github.com/spoor-dev/spoor/sinks/ga4"         // type ga4
	_ "github.com/spoor-dev/spoor/sinks/kafka"       // type kafka
	_ "github.com/spoor-dev/spoor/sinks/parquetfile" // type parquet
	_ "github.com/spoor-dev/spoor/sinks/webhook"     // type webhook
)
