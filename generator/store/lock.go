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

// LockNotice is how often Lock repeats, while it waits, who holds the lock.
const LockNotice = 30 * time.Second

// lockHolder describes who holds the lock, from what the lock file says.
func lockHolder(path string) string {
	if data, err := os.ReadFile(path); err == nil {
		var h LockInfo
		if json.Unmarshal(data, &h) == nil && h.PID != 0 {
			return fmt.Sprintf("pid %d on %s since %s", h.PID, h.Host, h.Started.Format(time.RFC3339))
		}
	}
	return "another process"
}

// LockInfo is what data/.lock holds while a run writes.
type LockInfo struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

// Lock takes data/.lock so that no other run writes at once. When a live run holds it, Lock
// says who (pid, host, since when) in the log and waits until ctx is done (a ctx without
// deadline waits for as long as it takes; the CLI gives up after --lock-timeout), saying so
// again every LockNotice. A lock file left by a process that died (its OS lock is gone with it)
// is taken over with a warning. The returned function releases the lock.
func (s *Store) Lock(ctx context.Context, log *slog.Logger) (func() error, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(s.dir, ".lock")
	fl := flock.New(path)
	ok, err := fl.TryLock()
	if err == nil && !ok {
		began := time.Now()
		attrs := []any{"path", path, "held_by", lockHolder(path)}
		if dl, has := ctx.Deadline(); has {
			attrs = append(attrs, "gives_up_in", time.Until(dl).Round(time.Second).String())
		}
		log.Warn("waiting for the data lock: another run is writing", attrs...)
		for !ok && err == nil && ctx.Err() == nil {
			wctx, cancel := context.WithTimeout(ctx, LockNotice)
			ok, err = fl.TryLockContext(wctx, 100*time.Millisecond)
			cancel()
			if !ok && ctx.Err() == nil {
				err = nil
				log.Warn("still waiting for the data lock", "path", path, "held_by", lockHolder(path),
					"waited", time.Since(began).Round(time.Second).String())
			}
		}
		if !ok && err == nil {
			err = ctx.Err()
		}
		if !ok {
			return nil, fmt.Errorf("%s: gave up after waiting %s: another run is writing the data (held by %s): %w",
				path, time.Since(began).Round(time.Millisecond), lockHolder(path), err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
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
	if n := s.removeTempFiles(); n > 0 {
		log.Info("removed temporary files an interrupted run left in the data folder", "files", n)
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

// removeTempFiles deletes the temporary files of atomic writes (".<name>.tmp-*") that a run
// killed halfway left in the data folder, and returns how many. Its caller holds the lock, so no
// write is in flight.
func (s *Store) removeTempFiles() int {
	n := 0
	_ = filepath.WalkDir(s.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil // an unreadable folder is someone else's problem to report
		}
		name := d.Name()
		if d.IsDir() {
			if path != s.dir && strings.HasPrefix(name, ".") {
				return filepath.SkipDir // .git and the like
			}
			return nil
		}
		if strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-") && os.Remove(path) == nil {
			n++
		}
		return nil
	})
	return n
}
