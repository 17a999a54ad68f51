package store

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// LockInfo is what data/.lock holds while a run writes.
type LockInfo struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

// Lock takes data/.lock so that no other run writes at once. It waits until ctx is done for a
// live holder. A lock file left by a process that died (its OS lock is gone with it) is taken
// over with a warning. The returned function releases the lock.
func (s *Store) Lock(ctx context.Context, log *slog.Logger) (func() error, error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(s.dir, ".lock")
	fl := flock.New(path)
	ok, err := fl.TryLockContext(ctx, 100*time.Millisecond)
	if err != nil || !ok {
		var holder LockInfo
		if data, rerr := os.ReadFile(path); rerr == nil {
			_ = json.Unmarshal(data, &holder)
		}
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("%s: held by pid %d on %s since %s: %w", path, holder.PID, holder.Host,
			holder.Started.Format(time.RFC3339), err)
	}
	if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
		var stale LockInfo
		if json.Unmarshal(data, &stale) == nil {
			log.Warn("taking over a lock left by a process that is gone", "path", path,
				"pid", stale.PID, "host", stale.Host, "started", stale.Started.Format(time.RFC3339))
		}
	}
	host, _ := os.Hostname()
	info, _ := json.Marshal(LockInfo{PID: os.Getpid(), Host: host, Started: time.Now().UTC()})
	if err := os.WriteFile(path, append(info, '\n'), 0o644); err != nil {
		fl.Unlock()
		return nil, err
	}
	return func() error {
		// Empty the file before releasing, so the next run sees a clean release, not a dead holder.
		if err := os.Truncate(path, 0); err != nil {
			fl.Unlock()
			return err
		}
		return fl.Unlock()
	}, nil
}
