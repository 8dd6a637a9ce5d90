package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spoor-dev/spoor/collector"
	"github.com/spoor-dev/spoor/live"
)

// liveOptions start the live view's hub on the bus (it subscribes only
// while someone watches).
func (a *App) liveOptions() collector.LiveOptions {
	return collector.LiveOptions{Hub: live.NewHub(a.Bus, a.log), Source: a.Bus, Gatherer: a.Reg, Connected: a.Bus.Connected,
		Lag: func(ctx context.Context) (uint64, error) {
			states, err := a.Bus.PartitionStates(ctx, a.cfg.Sink.Consumer)
			var n uint64
			for _, s := range states {
				n += s.Pending + uint64(s.AckWait)
			}
			return n, err
		}}
}

// LocalTokenFile is the admin token `spoor run` keeps in its data dir for
// the commands run on the same machine (spoor tail, spoor link): whoever
// can read the data dir can read the events and the hash key already.
const LocalTokenFile = "admin.token"

// localAdminToken reads the data dir's admin token, creating it (0600)
// the first time.
func localAdminToken(dataDir string) (string, error) {
	if t, err := ReadLocalAdminToken(dataDir); err == nil {
		return t, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return "", fmt.Errorf("generating the local admin token: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return "", fmt.Errorf("creating data dir: %w", err)
	}
	t := hex.EncodeToString(k[:])
	p := filepath.Join(dataDir, LocalTokenFile)
	if err := os.WriteFile(p, []byte(t+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing %s: %w", p, err)
	}
	return t, nil
}

// ReadLocalAdminToken reads the admin token `spoor run` keeps in dataDir.
func ReadLocalAdminToken(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, LocalTokenFile))
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("%s is empty", filepath.Join(dataDir, LocalTokenFile))
	}
	return t, nil
}
