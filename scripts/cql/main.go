// Command cql runs CQL statements against Cassandra and prints the rows as
// JSON lines: a small cqlsh for scripts/cassandra.sh query.
//
//	go run ./scripts/cql -hosts 127.0.0.1:19042 "SELECT release_version FROM system.local"
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

func main() {
	hosts := flag.String("hosts", "127.0.0.1:19042", "comma-separated host:port list")
	keyspace := flag.String("keyspace", "", "keyspace to use")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: cql [-hosts h:p,...] [-keyspace ks] \"CQL\" [\"CQL\" ...]")
		os.Exit(2)
	}
	cluster := gocql.NewCluster(strings.Split(*hosts, ",")...)
	cluster.Keyspace = *keyspace
	cluster.Consistency = gocql.One
	cluster.Timeout = 30 * time.Second
	cluster.ConnectTimeout = 10 * time.Second
	session, err := cluster.CreateSession()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cql: connecting to %s: %v\n", *hosts, err)
		os.Exit(1)
	}
	defer session.Close()
	enc := json.NewEncoder(os.Stdout)
	for _, stmt := range flag.Args() {
		iter := session.Query(stmt).Iter()
		for {
			row := map[string]any{}
			if !iter.MapScan(row) {
				break
			}
			_ = enc.Encode(row)
		}
		if err := iter.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "cql: %s: %v\n", stmt, err)
			os.Exit(1)
		}
	}
}
