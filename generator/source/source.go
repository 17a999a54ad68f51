// Package source defines how metrics are collected: a Source per external system, run for every
// product concurrently by Collect.
package source

import (
	"context"
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
	// It returns a *skip.Error (skip.Because, with the reason) when the product is not
	// configured for it or the source lacks its credentials,
	// and a *RateLimitedError when the API's limit is exhausted.
	Collect(ctx context.Context, p config.Product, since time.Time) (Result, error)
}

// Readier is implemented by a source that needs credentials from the environment. Ready says,
// without calling the API, whether the source can collect: nil, or the *skip.Error its Collect
// skips every product with (like "GITHUB_TOKEN not set"). A run that collects nothing (demo
// data) asks it, so the user still learns what to set.
type Readier interface {
	Ready() error
}

// Batcher is implemented by a source that asks its API about all products at once (one
// GraphQL or HogQL query for the whole portfolio rather than one per product), so that a run
// costs the same number of requests whatever the number of products. Collect calls Prepare
// once, before that source's per-product Collect calls, with every selected product and the
// time of its previous snapshot (absent: none); the source keeps the answers and Collect reads
// from them. Prepare runs under the run's context and the source's timeout.
//
// A Prepare error stands for the source's outcome for every product whose Collect does not
// skip it; a source that can tell which products a failure concerns keeps that to itself and
// returns it from their Collect instead.
type Batcher interface {
	Prepare(ctx context.Context, ps []config.Product, since map[string]time.Time) error
}

// Result is what a source learned. A source fills only its own fields of Snapshot; entity
// records it found are returned too, and the collect loop hands them to the store.
type Result struct {
	Snapshot    record.Snapshot // only this source's fields are read (Probe, HTTP, Health, Worker)
	Deployments []record.Deployment
	Incidents   []record.Incident
	Analytics   []record.AnalyticsDay
}

// RateLimitedError marks a source whose API limit is exhausted: its data is stale, not failed.
// It is the retry package's, which the HTTP clients return.
type RateLimitedError = retry.RateLimitedError

// Kinds of what a source returns, for Endpoints.
const (
	KindSnapshot   = "snapshot" // the source's fields of the run's snapshot
	KindDeployment = "deployment"
	KindIncident   = "incident"
	KindAnalytics  = "analytics"
)

// Endpoints is implemented by a source that says which API endpoint each kind of record it
// returns comes from ("GET /repos/acme/shop/issues"). A record refused by validation before it
// is stored is named with it, so whoever reads the message knows which answer was wrong.
type Endpoints interface {
	Endpoint(p config.Product, kind string) string
}

// endpoint names where a source's records of a kind come from: its Endpoints, else its name.
func endpoint(src Source, p config.Product, kind string) string {
	if e, ok := src.(Endpoints); ok {
		if ep := e.Endpoint(p, kind); ep != "" {
			return src.Name() + " " + ep
		}
	}
	return src.Name()
}
