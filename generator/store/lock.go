package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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
// live holder (a ctx without deadline waits for as long as it takes). A lock file left by a process that died (its OS lock is gone with it) is taken
// over with a warning. The returned function releases the lock.
func (s *Store) Lock(ctx context.Context, log *slog.Logger) (func() error, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(s.dir, ".lock")
	fl := flock.New(path)
	ok, err := fl.TryLockContext(ctx, 100*time.Millisecond)
	if err != nil || !ok {
		if err == nil {
			err = ctx.Err()
		}
		holder := "another process"
		if data, rerr := os.ReadFile(path); rerr == nil {
			var h LockInfo
			if json.Unmarshal(data, &h) == nil && h.PID != 0 {
				holder = fmt.Sprintf("pid %d on %s since %s", h.PID, h.Host, h.Started.Format(time.RFC3339))
			}
		}
		return nil, fmt.Errorf("%s: another run is writing the data (held by %s): %w", path, holder, err)
	}
	// We hold the OS lock, so whoever wrote a non-empty file is gone: releasing empties it.
	if data, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(data)) > 0 {
		var stale LockInfo
		if json.Unmarshal(data, &stale) == nil && stale.PID != 0 {
			log.Warn("taking over a lock left by a process that is gone", "path", path,
				"pid", stale.PID, "host", stale.Host, "started", stale.Started.Format(time.RFC3339))
		} else {
			log.Warn("taking over a lock left by a process that is gone", "path", path,
				"content", strings.TrimSpace(string(data[:min(len(data), 200)])))
		}
	}
	host, _ := os.Hostname()
	info, _ := json.Marshal(LockInfo{PID: os.Getpid(), Host: host, Started: time.Now().UTC()})
	// Written in place, not renamed over: the OS lock is on this file.
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
