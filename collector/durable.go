//go:build !bench_nodurable

package collector

// skipDurability is false in every real build: accept answers only once
// JetStream or the spool holds the events. The bench_nodurable build tag
// (durable_off.go) exists for one measurement only, the collector's
// ceiling without the durable ack (scripts/bench/run.sh).
const skipDurability = false
