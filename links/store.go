package links

import (
	"context"
	"sort"
)

// Store keeps short links and their click counts. KV (JetStream's
// key-value store) and Cassandra are the two; storetest holds the contract
// both pass. Every method is safe for concurrent use.
type Store interface {
	// Get returns the link, or ErrNotFound.
	Get(ctx context.Context, slug string) (Link, error)
	// Create stores a new link, or returns ErrExists when the slug is
	// taken (also by a disabled link).
	Create(ctx context.Context, l Link) error
	// Update replaces an existing link, or returns ErrNotFound.
	Update(ctx context.Context, l Link) error
	// List returns up to limit links in slug order, starting after the
	// slug after ("" from the first), and the slug to continue after
	// ("" when there are no more).
	List(ctx context.Context, after string, limit int) ([]Link, string, error)
	// AddClicks adds to the link's counts and returns the new totals;
	// concurrent adds from many collectors are all kept.
	AddClicks(ctx context.Context, slug string, add Counts) (Counts, error)
	// Counts returns the link's totals (zero when it has none).
	Counts(ctx context.Context, slug string) (Counts, error)
	// Watch calls changed with the slug of every link created or updated
	// after it starts, until ctx ends; it returns once watching.
	Watch(ctx context.Context, changed func(slug string)) error
}

// Page sorts the slugs a store listed (all after the caller's "after") and
// cuts the first limit, with the slug to continue after ("" at the end).
// Both stores list every slug and page in memory: fine for the hundreds of
// thousands of links a campaign tool holds.
func Page(slugs []string, limit int) ([]string, string) {
	sort.Strings(slugs)
	if len(slugs) > limit {
		return slugs[:limit], slugs[limit-1]
	}
	return slugs, ""
}
