package config

import "time"

// Plans are the apps' tracking plans (plan/; docs/plans.md): one
// <dir>/APP.json each, read again when it changes.
type Plans struct {
	// Dir holds the plans; missing or empty: no app has a plan.
	Dir string `mapstructure:"dir"`
	// ReloadInterval: how often the files are looked at for changes.
	ReloadInterval time.Duration `mapstructure:"reload_interval"`
}
