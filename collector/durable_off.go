//go:build bench_nodurable

package collector

// skipDurability is true only in the bench_nodurable build, which
// scripts/bench/run.sh uses to measure what the same collector reaches
// when it answers without making events durable. Such a binary loses every
// event it answers; it logs so at start-up and must never be deployed.
const skipDurability = true
