package store

import (
	"path/filepath"
	"sort"
	"sync/atomic"

	"github.com/portfolio-report/portfolio/generator/record"
)

// Document kinds and the schema versions this binary writes.
var (
	KindDeployments = Kind{Name: "deployments", Version: 1}
	KindIncidents   = Kind{Name: "incidents", Version: 1}
	KindAnalytics   = Kind{Name: "analytics", Version: 1}
	KindMeta        = Kind{Name: "meta", Version: 1}
)

// Store is the data folder.
type Store struct {
	dir string
	// snapshots is the kind of the snapshot logs: KindSnapshots, another version in tests.
	snapshots Kind
	faults    *faults // nil outside tests
	decoded   atomic.Int64
}

// Open returns the store rooted at dir. Nothing is read until asked.
func Open(dir string) *Store { return &Store{dir: dir, snapshots: KindSnapshots} }

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
