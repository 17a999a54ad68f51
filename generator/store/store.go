package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/record"
)

// Document kinds and the schema versions this binary writes.
var (
	KindSnapshots   = Kind{Name: "snapshots", Version: 1}
	KindDeployments = Kind{Name: "deployments", Version: 1}
	KindIncidents   = Kind{Name: "incidents", Version: 1}
	KindAnalytics   = Kind{Name: "analytics", Version: 1}
	KindMeta        = Kind{Name: "meta", Version: 1}
)

// Store is the data folder.
type Store struct {
	dir string
}

// Open returns the store rooted at dir. Nothing is read until asked.
func Open(dir string) *Store { return &Store{dir: dir} }

// Dir is the data folder.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(name string) string { return filepath.Join(s.dir, filepath.FromSlash(name)) }

func productDoc(product, file string) string { return "products/" + product + "/" + file }

// Deployments returns the product's stored deployments, oldest first.
func (s *Store) Deployments(product string) ([]record.Deployment, error) {
	var v []record.Deployment
	_, err := s.ReadDoc(productDoc(product, "deployments.json"), KindDeployments, &v)
	return v, err
}

// SaveDeployments replaces the product's deployments, sorted by time then id.
func (s *Store) SaveDeployments(product string, v []record.Deployment) error {
	sort.SliceStable(v, func(i, j int) bool {
		if !v[i].Time.Equal(v[j].Time) {
			return v[i].Time.Before(v[j].Time)
		}
		return v[i].ID < v[j].ID
	})
	return s.WriteDoc(productDoc(product, "deployments.json"), KindDeployments, nonNil(v))
}

// Incidents returns the product's stored incidents, by number.
func (s *Store) Incidents(product string) ([]record.Incident, error) {
	var v []record.Incident
	_, err := s.ReadDoc(productDoc(product, "incidents.json"), KindIncidents, &v)
	return v, err
}

// SaveIncidents replaces the product's incidents, sorted by number.
func (s *Store) SaveIncidents(product string, v []record.Incident) error {
	sort.SliceStable(v, func(i, j int) bool { return v[i].Number < v[j].Number })
	return s.WriteDoc(productDoc(product, "incidents.json"), KindIncidents, nonNil(v))
}

// Analytics returns the product's daily analytics, by day.
func (s *Store) Analytics(product string) ([]record.AnalyticsDay, error) {
	var v []record.AnalyticsDay
	_, err := s.ReadDoc(productDoc(product, "analytics.json"), KindAnalytics, &v)
	return v, err
}

// SaveAnalytics replaces the product's daily analytics, sorted by day.
func (s *Store) SaveAnalytics(product string, v []record.AnalyticsDay) error {
	sort.SliceStable(v, func(i, j int) bool { return v[i].Day < v[j].Day })
	return s.WriteDoc(productDoc(product, "analytics.json"), KindAnalytics, nonNil(v))
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// Meta describes where the data came from.
type Meta struct {
	// Generator is "demo" when `portfolio demo` wrote the data; the site then shows a banner.
	Generator string `json:"generator,omitempty"`
	Seed      int64  `json:"seed,omitempty"`
}

// Meta reads data/meta.json (zero Meta when missing).
func (s *Store) Meta() (Meta, error) {
	var m Meta
	_, err := s.ReadDoc("meta.json", KindMeta, &m)
	return m, err
}

// SaveMeta writes data/meta.json.
func (s *Store) SaveMeta(m Meta) error { return s.WriteDoc("meta.json", KindMeta, m) }

// snapshotHeader is the first line of a monthly snapshot log.
type snapshotHeader struct {
	SchemaVersion int    `json:"schema_version"`
	Kind          string `json:"kind"`
	Product       string `json:"product"`
	Month         string `json:"month"`
}

func snapshotFile(product string, t time.Time) string {
	return productDoc(product, "snapshots/"+t.UTC().Format("2006-01")+".jsonl")
}

// AppendSnapshot adds snap to the product's log for snap's month (UTC). The file is rewritten
// atomically with the new line at the end; a snapshot at or before the last one is refused,
// so a re-run with an old --now cannot reorder history.
func (s *Store) AppendSnapshot(product string, snap record.Snapshot) error {
	snap.Time = snap.Time.UTC()
	name := snapshotFile(product, snap.Time)
	path := s.path(name)
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		h, _ := json.Marshal(snapshotHeader{KindSnapshots.Version, KindSnapshots.Name, product, snap.Time.Format("2006-01")})
		old = append(h, '\n')
	case err != nil:
		return err
	default:
		snaps, err := parseSnapshots(path, old)
		if err != nil {
			return err
		}
		if n := len(snaps); n > 0 && !snaps[n-1].Time.Before(snap.Time) {
			return fmt.Errorf("%s: snapshot at %s is not after the last one (%s)", path,
				snap.Time.Format(time.RFC3339), snaps[n-1].Time.Format(time.RFC3339))
		}
	}
	line, err := marshalCompact(snap)
	if err != nil {
		return err
	}
	data := append(append(old, line...), '\n')
	return WriteFileAtomic(path, data)
}

// AppendSnapshots appends many snapshots of one product in time order, writing each month once.
// It is for bulk writers (demo data); runs use AppendSnapshot.
func (s *Store) AppendSnapshots(product string, snaps []record.Snapshot) error {
	byMonth := map[string][]record.Snapshot{}
	var months []string
	for _, sn := range snaps {
		n := snapshotFile(product, sn.Time)
		if _, ok := byMonth[n]; !ok {
			months = append(months, n)
		}
		byMonth[n] = append(byMonth[n], sn)
	}
	for _, name := range months {
		path := s.path(name)
		if _, err := os.Stat(path); err == nil {
			for _, sn := range byMonth[name] {
				if err := s.AppendSnapshot(product, sn); err != nil {
					return err
				}
			}
			continue
		}
		var b bytes.Buffer
		first := byMonth[name][0].Time.UTC()
		h, _ := json.Marshal(snapshotHeader{KindSnapshots.Version, KindSnapshots.Name, product, first.Format("2006-01")})
		b.Write(h)
		b.WriteByte('\n')
		for _, sn := range byMonth[name] {
			sn.Time = sn.Time.UTC()
			line, err := marshalCompact(sn)
			if err != nil {
				return err
			}
			b.Write(line)
			b.WriteByte('\n')
		}
		if err := WriteFileAtomic(path, b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// Snapshots returns the product's snapshots with from <= t < to, oldest first.
func (s *Store) Snapshots(product string, from, to time.Time) ([]record.Snapshot, error) {
	months, err := s.snapshotMonths(product)
	if err != nil {
		return nil, err
	}
	var out []record.Snapshot
	for _, m := range months {
		start, _ := time.Parse("2006-01", m)
		if !start.AddDate(0, 1, 0).After(from) || !start.Before(to) {
			continue
		}
		path := s.path(productDoc(product, "snapshots/"+m+".jsonl"))
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		snaps, err := parseSnapshots(path, data)
		if err != nil {
			return nil, err
		}
		for _, sn := range snaps {
			if !sn.Time.Before(from) && sn.Time.Before(to) {
				out = append(out, sn)
			}
		}
	}
	return out, nil
}

// LastSnapshot returns the product's most recent snapshot, or false when there is none.
func (s *Store) LastSnapshot(product string) (record.Snapshot, bool, error) {
	months, err := s.snapshotMonths(product)
	if err != nil {
		return record.Snapshot{}, false, err
	}
	for i := len(months) - 1; i >= 0; i-- {
		path := s.path(productDoc(product, "snapshots/"+months[i]+".jsonl"))
		data, err := os.ReadFile(path)
		if err != nil {
			return record.Snapshot{}, false, err
		}
		snaps, err := parseSnapshots(path, data)
		if err != nil {
			return record.Snapshot{}, false, err
		}
		if len(snaps) > 0 {
			return snaps[len(snaps)-1], true, nil
		}
	}
	return record.Snapshot{}, false, nil
}

// snapshotMonths lists the product's months with a snapshot log, oldest first.
func (s *Store) snapshotMonths(product string) ([]string, error) {
	entries, err := os.ReadDir(s.path(productDoc(product, "snapshots")))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var months []string
	for _, e := range entries {
		name := e.Name()
		if m, ok := strings.CutSuffix(name, ".jsonl"); ok && !strings.HasPrefix(name, ".") {
			if _, err := time.Parse("2006-01", m); err == nil {
				months = append(months, m)
			}
		}
	}
	sort.Strings(months)
	return months, nil
}

// parseSnapshots validates and decodes a snapshot log, naming the byte offset of any problem.
func parseSnapshots(path string, data []byte) ([]record.Snapshot, error) {
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return nil, &CorruptError{Path: path, Offset: int64(len(data)), Err: errors.New("truncated: last line has no newline")}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	var off int64
	var out []record.Snapshot
	first := true
	for sc.Scan() {
		line := sc.Bytes()
		lineOff := off
		off += int64(len(line)) + 1
		if first {
			first = false
			var h snapshotHeader
			if err := json.Unmarshal(line, &h); err != nil {
				return nil, corrupt(path, lineOff, line, err)
			}
			if h.Kind != KindSnapshots.Name {
				return nil, fmt.Errorf("%s: kind %q, want %q", path, h.Kind, KindSnapshots.Name)
			}
			if _, err := migrate(path, h.SchemaVersion, nil, Kind{Name: h.Kind, Version: KindSnapshots.Version, Migrations: KindSnapshots.Migrations}); err != nil && h.SchemaVersion > KindSnapshots.Version {
				return nil, err
			} else if h.SchemaVersion < 1 {
				return nil, fmt.Errorf("%s: schema_version %d: want 1 to %d", path, h.SchemaVersion, KindSnapshots.Version)
			}
			continue
		}
		var sn record.Snapshot
		if err := json.Unmarshal(line, &sn); err != nil {
			return nil, corrupt(path, lineOff, line, err)
		}
		out = append(out, sn)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if first {
		return nil, &CorruptError{Path: path, Offset: 0, Err: errors.New("empty file")}
	}
	return out, nil
}
