// Package source defines how metrics are collected: a Source per external system, run for every
// product concurrently by Collect.
package source

import (
	"context"
	"errors"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
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
type RateLimitedError struct {
	Reset time.Time // when the limit resets, if known
	Err   error
}

func (e *RateLimitedError) Error() string {
	if e.Reset.IsZero() {
		return "rate limited: " + e.Err.Error()
	}
	return "rate limited until " + e.Reset.UTC().Format(time.RFC3339) + ": " + e.Err.Error()
}

func (e *RateLimitedError) Unwrap() error { return e.Err }
