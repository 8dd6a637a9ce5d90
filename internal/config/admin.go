package config

// Admin is the operator surface (admin/): the dashboard and its login, the
// links admin API, signed links, forgetting and the live tail.
type Admin struct {
	// Tokens open the whole operator surface (each at least 16 bytes).
	Tokens []string `mapstructure:"tokens"`
}

func (c *Config) validateAdmin(bad func(key, format string, a ...any)) {
	for key, list := range map[string][]string{"admin.tokens": c.Admin.Tokens, "links.admin_tokens": c.Links.AdminTokens} {
		for i, t := range list {
			if len(t) < 16 {
				bad(key, "token %d is %d bytes; each must be at least 16", i+1, len(t))
			}
		}
	}
}

// AdminTokens are the tokens that open the operator surface: admin.tokens,
// and those of the deprecated links.admin_tokens.
func (c *Config) AdminTokens() []string {
	return append(append([]string(nil), c.Admin.Tokens...), c.Links.AdminTokens...)
}

// Deprecated lists the deprecated keys this configuration sets, each
// saying what replaces it; the roles log them at start-up.
func (c *Config) Deprecated() []string {
	var out []string
	if len(c.Links.AdminTokens) > 0 {
		out = append(out, "links.admin_tokens (SPOOR_LINKS_ADMIN_TOKENS) is deprecated: it opens the whole operator surface, "+
			"so it is now admin.tokens (SPOOR_ADMIN_TOKENS); both are honoured until the old key is removed")
	}
	return out
}
