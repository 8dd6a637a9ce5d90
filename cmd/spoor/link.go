package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/spoor-dev/spoor/links"
)

// fieldFlags collects repeated --field k=v flags in order.
type fieldFlags []links.Field

func (f *fieldFlags) String() string { return fmt.Sprint(*f) }

func (f *fieldFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not k=v", s)
	}
	*f = append(*f, links.Field{Key: k, Value: v})
	return nil
}

func init() {
	var to *string
	var fields fieldFlags
	register(command{name: "link sign", usage: "--to URL [--field k=v …]",
		short: "print a signed redirect link (links.signing_keys' first key) to any host, with tracked fields",
		flags: func(fs *flag.FlagSet) {
			to = fs.String("to", "", "the target URL (http or https)")
			fields = nil // a fresh list per invocation (tests run several in one process)
			fs.Var(&fields, "field", "a tracked field k=v, in the link's path (repeatable: --field ename=click --field utm_campaign=spring)")
		},
		run: func(c *invocation) int {
			if *to == "" {
				fmt.Fprintln(os.Stderr, "spoor link sign: --to is required")
				return 2
			}
			signer, err := links.NewSigner(c.cfg.Links.SigningKeys)
			if err != nil {
				fmt.Fprintln(os.Stderr, "spoor link sign: links.signing_keys:", err)
				return 2
			}
			link, err := signer.SignedURL(c.cfg.LinksBaseURL(), *to, fields)
			if err != nil {
				fmt.Fprintln(os.Stderr, "spoor link sign:", err)
				return 2
			}
			fmt.Println(link)
			return 0
		}})
}
