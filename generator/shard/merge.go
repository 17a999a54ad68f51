package shard

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/store"
)

// MergeOptions say what to merge into which data/.
type MergeOptions struct {
	Store    *store.Store
	Products []config.Product // the config's, in order: who belongs to which shard
	// Count is the number of shards the run was split into (0: the archives' own count).
	Count int
	// Now is the run's time (zero: the archives'). The archives must agree with it and with
	// each other; a product without a snapshot at Now gets a timed_out one.
	Now time.Time
	// Sources are the sources a collect runs (run.SourceNames): the ones a stale product's
	// timed_out snapshot names.
	Sources  []string
	Archives []string // archive files written by Pack
	Log      *slog.Logger
}

// Stale is a product that has no snapshot at the run's time after the merge: its shard
// delivered nothing, or stopped before writing it. It was given a timed_out snapshot.
type Stale struct {
	Product, Shard, Reason string
}

// MergeResult is what Merge did.
type MergeResult struct {
	Count   int
	Now     time.Time
	Merged  []string // the shards whose archive was merged ("2/4"), in order
	Missing []string // the shards without an archive
	Files   int      // files written
	Deleted int      // files removed
	Stale   []Stale  // products given a timed_out snapshot, in config order
	// Damaged are products whose snapshot log could not be opened (store.Damage): neither
	// collected nor marked; `portfolio repair` says what to do.
	Damaged []source.Damaged
}

// Failed reports whether some products' data is stale or damaged: the run's exit 3.
func (r MergeResult) Failed() bool { return len(r.Stale) > 0 || len(r.Damaged) > 0 }

// ConflictError is a file that two shards' archives both hold: the shards disagree on who owns
// it, and either copy would lose the other's data.
type ConflictError struct {
	Path   string
	Shards [2]string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("data/%s: written by shard %s and by shard %s: shards must never share a file (were they run with different configs or shard counts?); nothing was merged",
		e.Path, e.Shards[0], e.Shards[1])
}

// MismatchError is an archive that does not belong to this run: another shard count, another
// time, products the config gives another shard, or a shard packed twice.
type MismatchError struct {
	Archive, Msg string
}

func (e *MismatchError) Error() string { return e.Archive + ": " + e.Msg + "; nothing was merged" }

// Merge checks every archive against the others and the config, then writes their files into
// the store's folder (atomically, each) and removes what they deleted, and finally gives every
// product without a snapshot at the run's time a timed_out one, so the site shows its data as
// stale and the next run collects it again. Nothing is written when an archive conflicts
// (*ConflictError), does not belong to the run (*MismatchError) or cannot be read. The caller
// holds the store's lock.
func Merge(o MergeOptions) (MergeResult, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	res := MergeResult{Count: o.Count, Now: o.Now.UTC()}
	var archives []*archive
	for _, name := range o.Archives {
		a, err := readArchive(name)
		if err != nil {
			return res, err
		}
		archives = append(archives, a)
	}

	// Every archive belongs to the same run: one count, one time, the config's shards.
	byIndex := map[int]*archive{}
	owner := map[string]string{} // file → the shard that holds it
	for _, a := range archives {
		s, err := source.ParseShard(a.manifest.Shard)
		if err != nil {
			return res, &MismatchError{a.path, err.Error()}
		}
		if res.Count == 0 {
			res.Count = s.Count
		}
		if s.Count != res.Count {
			return res, &MismatchError{a.path, fmt.Sprintf("shard %s is of a run split in %d, this merge expects %d shards", a.manifest.Shard, s.Count, res.Count)}
		}
		if res.Now.IsZero() {
			res.Now = a.manifest.Now.UTC()
		}
		if !a.manifest.Now.Equal(res.Now) {
			return res, &MismatchError{a.path, fmt.Sprintf("shard %s collected at %s, this run is at %s (give every shard and the merge the same --now)",
				a.manifest.Shard, a.manifest.Now.UTC().Format(time.RFC3339), res.Now.Format(time.RFC3339))}
		}
		if prev, ok := byIndex[s.Index]; ok {
			return res, &MismatchError{a.path, fmt.Sprintf("shard %s is packed twice (also in %s)", a.manifest.Shard, prev.path)}
		}
		byIndex[s.Index] = a
		for _, p := range append(slices.Clone(a.manifest.Files), a.manifest.Deleted...) {
			if other, ok := owner[p]; ok {
				return res, &ConflictError{Path: p, Shards: [2]string{other, a.manifest.Shard}}
			}
			owner[p] = a.manifest.Shard
		}
	}
	// Then each archive is the shard the config describes, and holds only its products' files.
	for _, a := range archives {
		s, _ := source.ParseShard(a.manifest.Shard)
		if want := Products(o.Products, s); !slices.Equal(a.manifest.Products, want) {
			return res, &MismatchError{a.path, fmt.Sprintf("shard %s collected [%s], the config gives it [%s]",
				a.manifest.Shard, strings.Join(a.manifest.Products, " "), strings.Join(want, " "))}
		}
		for _, p := range append(slices.Clone(a.manifest.Files), a.manifest.Deleted...) {
			if id, ok := Owner(p); !ok || !slices.Contains(a.manifest.Products, id) {
				return res, &MismatchError{a.path, (&OutsideError{Shard: a.manifest.Shard, Paths: []string{p}}).Error()}
			}
		}
	}
	if res.Count == 0 {
		return res, errors.New("merge: no archive and no shard count: nothing tells which shards to expect")
	}
	if res.Now.IsZero() {
		return res, errors.New("merge: no archive and no --now: the run's time is needed to mark its products stale")
	}

	if meta, err := o.Store.Meta(); err != nil {
		return res, err
	} else if meta.Rules().ReadOnly {
		return res, fmt.Errorf("merge: %s holds the demo history written by 'portfolio demo': merge into the checkout the shards collected from", o.Store.Dir())
	}

	// Write, shard by shard.
	for i := 1; i <= res.Count; i++ {
		name := fmt.Sprintf("%d/%d", i, res.Count)
		a, ok := byIndex[i]
		if !ok {
			res.Missing = append(res.Missing, name)
			o.Log.Warn("shard delivered no data: its products are marked timed_out", "shard", name)
			continue
		}
		for _, p := range a.manifest.Files {
			if err := store.WriteFileAtomic(filepath.Join(o.Store.Dir(), filepath.FromSlash(p)), a.files[p]); err != nil {
				return res, fmt.Errorf("merge shard %s: %w", name, err)
			}
			res.Files++
		}
		for _, p := range a.manifest.Deleted {
			if err := os.Remove(filepath.Join(o.Store.Dir(), filepath.FromSlash(p))); err != nil && !errors.Is(err, os.ErrNotExist) {
				return res, fmt.Errorf("merge shard %s: %w", name, err)
			}
			res.Deleted++
		}
		res.Merged = append(res.Merged, name)
	}

	// What the shards did not deliver is stale, not missing.
	for k, p := range o.Products {
		idx := k%res.Count + 1
		name := fmt.Sprintf("%d/%d", idx, res.Count)
		reason := fmt.Sprintf("timed out: shard %s delivered no data (its job failed, timed out or was cancelled); collected again next run", name)
		if _, ok := byIndex[idx]; ok {
			reason = fmt.Sprintf("timed out: shard %s stopped before collecting this product; collected again next run", name)
		}
		marked, err := markTimedOut(o.Store, p.ID, res.Now, o.Sources, reason)
		if err != nil {
			if _, ok := store.Damage(err); ok {
				res.Damaged = append(res.Damaged, source.Damaged{Product: p.ID, Err: fmt.Errorf("merge %s: %w", p.ID, err)})
				continue
			}
			return res, fmt.Errorf("merge: mark %s timed out: %w", p.ID, err)
		}
		if marked {
			res.Stale = append(res.Stale, Stale{Product: p.ID, Shard: name, Reason: reason})
		}
	}
	return res, nil
}

// markTimedOut appends a snapshot at now to the product's log in which every source is
// timed_out (a source the previous snapshot recorded as skipped stays skipped, for the same
// reason: it does not apply to the product), unless the log already has a snapshot at now or
// later. Statuses follow record.SourceStatus.Next, as the collect loop's deadline records them:
// last_ok carried over, one more failure counted.
func markTimedOut(st *store.Store, product string, now time.Time, sources []string, msg string) (bool, error) {
	l, err := st.OpenLog(product)
	if err != nil {
		return false, err
	}
	prev, has := l.Last()
	if has && !prev.Time.Before(now) {
		return false, nil
	}
	snap := record.Snapshot{Time: now, Sources: map[string]record.SourceStatus{}}
	for _, name := range sources {
		before := prev.Sources[name] // zero when there is no previous snapshot
		if before.State == record.StateSkipped {
			snap.Sources[name] = before.Next(prev.Time, record.StateSkipped, before.Msg)
			continue
		}
		snap.Sources[name] = before.Next(prev.Time, record.StateTimedOut, msg)
	}
	return true, l.Append(snap)
}
