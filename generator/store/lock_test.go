package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLock(t *testing.T) {
	tests := []struct {
		name string
		// before prepares the data folder: it may hold the lock itself and return its release.
		before   func(t *testing.T, st *Store) (release func() error)
		wantErr  string // substring; empty means the lock is taken
		wantWarn string // substring of the log; empty means no warning
	}{
		{
			name:   "free",
			before: func(*testing.T, *Store) func() error { return nil },
		},
		{
			name: "released cleanly by the previous run",
			before: func(t *testing.T, st *Store) func() error {
				release, err := st.Lock(context.Background(), nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := release(); err != nil {
					t.Fatal(err)
				}
				return nil
			},
		},
		{
			name: "held by a live run",
			before: func(t *testing.T, st *Store) func() error {
				release, err := st.Lock(context.Background(), nil)
				if err != nil {
					t.Fatal(err)
				}
				return release
			},
			wantErr: fmt.Sprintf("another run is writing the data (held by pid %d on ", os.Getpid()),
		},
		{
			name: "left by a dead process",
			before: func(t *testing.T, st *Store) func() error {
				info, _ := json.Marshal(LockInfo{PID: 999999, Host: "ci-runner-7", Started: t0})
				os.WriteFile(filepath.Join(st.Dir(), ".lock"), info, 0o644)
				return nil
			},
			wantWarn: `level=WARN msg="taking over a lock left by a process that is gone" path=` + "{lock}" + ` pid=999999 host=ci-runner-7 started=2026-11-28T12:00:00Z`,
		},
		{
			name: "left by a dead process, unreadable",
			before: func(t *testing.T, st *Store) func() error {
				os.WriteFile(filepath.Join(st.Dir(), ".lock"), []byte("{\"pid\":12"), 0o644)
				return nil
			},
			wantWarn: `level=WARN msg="taking over a lock left by a process that is gone" path=` + "{lock}" + ` content="{\"pid\":12"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			st := Open(dir)
			lockPath := filepath.Join(dir, ".lock")
			if held := tt.before(t, st); held != nil {
				defer held()
			}
			var logBuf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				},
			}))
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			release, err := st.Lock(ctx, log)
			if tt.wantErr != "" {
				if err == nil {
					release()
					t.Fatalf("second lock taken while held")
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), lockPath+": ") ||
					!errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("error = %v, want %q naming %s, after waiting for the deadline", err, tt.wantErr, lockPath)
				}
				return
			}
			if err != nil {
				t.Fatalf("Lock: %v", err)
			}
			var info LockInfo
			if err := json.Unmarshal(mustRead(t, lockPath), &info); err != nil || info.PID != os.Getpid() || info.Host == "" || info.Started.IsZero() {
				t.Errorf("lock file holds %+v (%v), want this pid, host and start time", info, err)
			}
			wantWarn := strings.ReplaceAll(tt.wantWarn, "{lock}", lockPath)
			if got := strings.TrimSpace(logBuf.String()); got != wantWarn {
				t.Errorf("log:\n%s\nwant:\n%s", got, wantWarn)
			}
			if err := release(); err != nil {
				t.Fatal(err)
			}
			if b := mustRead(t, lockPath); len(b) != 0 {
				t.Errorf("lock file after release holds %q, want it empty", b)
			}
		})
	}
}

// TestLockWaitsForTheHolder checks that a waiting Lock gets the lock once the holder releases it.
func TestLockWaitsForTheHolder(t *testing.T) {
	st := Open(t.TempDir())
	release, err := st.Lock(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(150 * time.Millisecond)
		release()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	second, err := st.Lock(ctx, nil)
	if err != nil {
		t.Fatalf("waiting Lock: %v", err)
	}
	second()
}

// TestLockSaysWhoHoldsItWhileWaiting: a run stuck behind another says at once whom it waits
// for, and when it gives up, says so with the holder again.
func TestLockSaysWhoHoldsItWhileWaiting(t *testing.T) {
	st := Open(t.TempDir())
	release, err := st.Lock(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = st.Lock(ctx, log)
	host, _ := os.Hostname()
	holder := fmt.Sprintf("pid %d on %s since ", os.Getpid(), host)
	if err == nil || !strings.Contains(err.Error(), "gave up after waiting") || !strings.Contains(err.Error(), holder) {
		t.Errorf("err = %v, want it to give up naming %q", err, holder)
	}
	logged := logBuf.String()
	for _, want := range []string{`msg="waiting for the data lock: another run is writing"`, `held_by="` + holder, "gives_up_in="} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %q:\n%s", want, logged)
		}
	}
}

// TestLockRemovesTempFilesLeftByAKill: a run killed during an atomic write leaves its temporary
// file; the next run removes it when it takes the lock, and nothing else.
func TestLockRemovesTempFilesLeftByAKill(t *testing.T) {
	dir := t.TempDir()
	st := Open(dir)
	leftovers := []string{
		filepath.Join(dir, "products", "shop", ".incidents.json.tmp-123456"),
		filepath.Join(dir, ".alerts.json.tmp-99"),
	}
	kept := []string{
		filepath.Join(dir, "products", "shop", "incidents.json"),
		filepath.Join(dir, "snapshots", "shop-2026-06.jsonl"),
		filepath.Join(dir, ".git", "objects", ".pack.tmp-1"), // not ours
	}
	for _, p := range append(leftovers, kept...) {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("{}"), 0o644)
	}
	var logBuf bytes.Buffer
	release, err := st.Lock(context.Background(), slog.New(slog.NewTextHandler(&logBuf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	for _, p := range leftovers {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left in place", p)
		}
	}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	if !strings.Contains(logBuf.String(), "files=2") {
		t.Errorf("log does not say what was removed:\n%s", logBuf.String())
	}
}
