package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spoor-dev/spoor/internal/config"
)

func printConfig(cfg config.Config) int {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "spoor: %v\n", err)
		return 1
	}
	return 0
}
