package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func init() {
	register(command{name: "probe", usage: "URL", noConfig: true,
		short: "exit 0 when URL answers 200 within 3 s (container health checks: the image has no shell)",
		run:   probe})
}

func probe(c *invocation) int {
	if len(c.args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: spoor probe URL")
		return 2
	}
	res, err := (&http.Client{Timeout: 3 * time.Second}).Get(c.args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor probe:", err)
		return 1
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "spoor probe:", res.Status)
		return 1
	}
	return 0
}
