// Package source defines how metrics are collected: a Source per external system, run for every
// product concurrently by Collect.
package source

import (
	"context"
	"errors"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/retry"
)

// Source collects one system's data for one product.
type Source interface {
	// Name is the source's key in snapshots: github, cloudflare, posthog, probe.
	Name() string
	// Collect gathers the product's data since the previous snapshot (zero time: none).
	// It returns ErrSkipped (wrapped, with a reason) when the product is not configured for it,
	// and a *RateLimitedError when the API's limit is exhausted.
	Collect(ctx context.Context, p config.Product, since time.Time) (Result, error)
}

// Result is what a source learned. A source fills only its own fields of Snapshot; entity
// records it found are returned too, and the collect loop hands them to the store.
type Result struct {
	Snapshot    record.Snapshot // only this source's fields are read (Probe, HTTP, Health, Worker)
	Deployments []record.Deployment
	Incidents   []record.Incident
	Analytics   []record.AnalyticsDay
}

// ErrSkipped marks a source that does not apply to a product (wrap it with the reason).
var ErrSkipped = errors.New("skipped")

// Skip returns an error that records the source as skipped with reason.
func Skip(reason string) error { return &skipError{reason} }

type skipError struct{ reason string }

func (e *skipError) Error() string   { return e.reason }
func (e *skipError) Is(t error) bool { return t == ErrSkipped }

// RateLimitedError marks a source whose API limit is exhausted: its data is stale, not failed.
// It is the retry package's, which the HTTP clients return.
type RateLimitedError = retry.RateLimitedError
