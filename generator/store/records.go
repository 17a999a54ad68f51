package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/portfolio-report/portfolio/generator/record"
)

// Records are entity records a source found for one product.
type Records struct {
	Deployments []record.Deployment
	Incidents   []record.Incident
	Analytics   []record.AnalyticsDay
}

// Upserted says what UpsertRecords did.
type Upserted struct {
	// Deployments, Incidents and AnalyticsDays count the records added or changed.
	Deployments, Incidents, AnalyticsDays int
	// Refused are the records that failed validation (*record.InvalidError), not stored.
	Refused []error
}

// UpsertRecords merges r into the product's stored records: deployments by id, incidents by
// number, analytics by day. Every record is validated first (record's Validate, now being the
// run's clock): one that fails is refused, listed in Upserted.Refused and not stored, so a
// zero or missing field from an API never becomes data. A file is written only when something
// in it changed. The error is for files that cannot be read or written.
func (s *Store) UpsertRecords(product string, r Records, now time.Time) (Upserted, error) {
	var u Upserted
	deps := valid(r.Deployments, now, &u.Refused)
	incs := valid(r.Incidents, now, &u.Refused)
	days := valid(r.Analytics, now, &u.Refused)
	if len(deps) > 0 {
		old, err := s.Deployments(product)
		if err != nil {
			return u, fmt.Errorf("read deployments: %w", err)
		}
		merged, n := upsertBy(old, deps, func(d record.Deployment) string { return d.ID })
		if n > 0 {
			if err := s.SaveDeployments(product, merged); err != nil {
				return u, fmt.Errorf("save deployments: %w", err)
			}
		}
		u.Deployments = n
	}
	if len(incs) > 0 {
		old, err := s.Incidents(product)
		if err != nil {
			return u, fmt.Errorf("read incidents: %w", err)
		}
		merged, n := upsertBy(old, incs, func(i record.Incident) int { return i.Number })
		if n > 0 {
			if err := s.SaveIncidents(product, merged); err != nil {
				return u, fmt.Errorf("save incidents: %w", err)
			}
		}
		u.Incidents = n
	}
	if len(days) > 0 {
		old, err := s.Analytics(product)
		if err != nil {
			return u, fmt.Errorf("read analytics: %w", err)
		}
		merged, n := upsertBy(old, days, func(d record.AnalyticsDay) string { return d.Day })
		if n > 0 {
			if err := s.SaveAnalytics(product, merged); err != nil {
				return u, fmt.Errorf("save analytics: %w", err)
			}
		}
		u.AnalyticsDays = n
	}
	return u, nil
}

// valid returns the records that pass validation and adds the others' errors to refused.
func valid[T interface{ Validate(time.Time) error }](recs []T, now time.Time, refused *[]error) []T {
	out := recs[:0:0]
	for _, r := range recs {
		if err := r.Validate(now); err != nil {
			*refused = append(*refused, err)
			continue
		}
		out = append(out, r)
	}
	return out
}

// upsertBy replaces the records of old whose key appears in news and adds the others. It
// returns the merged records and how many were added or actually changed.
func upsertBy[T any, K comparable](old, news []T, key func(T) K) ([]T, int) {
	at := make(map[K]int, len(old))
	out := append([]T(nil), old...)
	for i, r := range out {
		at[key(r)] = i
	}
	changed := 0
	for _, r := range news {
		k := key(r)
		if i, ok := at[k]; ok {
			if !sameJSON(out[i], r) {
				out[i] = r
				changed++
			}
			continue
		}
		at[k] = len(out)
		out = append(out, r)
		changed++
	}
	return out, changed
}

// sameJSON compares records as they are stored: a time read back from a file and the same
// instant from an API differ in location and monotonic clock, not in what is written.
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}
