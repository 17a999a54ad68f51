package source_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/skip"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/store"
)

// batchSource is a source.Batcher: Prepare answers for every product at once, Collect reads the
// answer. Product "off" is not configured for it.
type batchSource struct {
	prepErr error

	mu       sync.Mutex
	prepares int
	got      []string
	since    map[string]time.Time
	answers  map[string]int64
}

func (b *batchSource) Name() string { return "batch" }

func (b *batchSource) Prepare(_ context.Context, ps []config.Product, since map[string]time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prepares++
	b.since = since
	b.answers = map[string]int64{}
	for _, p := range ps {
		b.got = append(b.got, p.ID)
		b.answers[p.ID] = int64(len(p.ID))
	}
	return b.prepErr
}

func (b *batchSource) Collect(_ context.Context, p config.Product, _ time.Time) (source.Result, error) {
	if p.ID == "off" {
		return source.Result{}, skip.Because("not configured")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return source.Result{Snapshot: record.Snapshot{HTTP: &record.HTTPStats{Requests: b.answers[p.ID]}}}, nil
}

func TestCollectPreparesBatchedSourcesOnce(t *testing.T) {
	st := store.Open(t.TempDir())
	b := &batchSource{}
	o := source.Options{Products: products("api", "web", "off"), Sources: []source.Source{b}, Store: st, Now: t0}
	if _, err := source.Collect(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	o.Now = t0.Add(15 * time.Minute)
	sum, err := source.Collect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if b.prepares != 2 || strings.Join(b.got, ",") != "api,web,off,api,web,off" {
		t.Errorf("Prepare called %d times with %v, want once per run with every product", b.prepares, b.got)
	}
	if !b.since["api"].Equal(t0) {
		t.Errorf("since = %v, want each product's previous snapshot time", b.since)
	}
	if sum.Counts[record.StateOK] != 2 || sum.Counts[record.StateSkipped] != 1 {
		t.Errorf("counts %v", sum.Counts)
	}
	last, _, _ := st.LastSnapshot("web")
	if last.HTTP == nil || last.HTTP.Requests != 3 {
		t.Errorf("web's snapshot %+v: want what Prepare answered for it", last)
	}
}

func TestCollectRecordsPrepareErrorPerProduct(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		state string
	}{
		{"failure", errors.New("graphql: HTTP 502"), record.StateError},
		{"rate limit", &source.RateLimitedError{Reset: t0.Add(5 * time.Minute), Err: errors.New("budget depleted")}, record.StateRateLimited},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := store.Open(t.TempDir())
			b := &batchSource{prepErr: tc.err}
			sum, err := source.Collect(context.Background(), source.Options{Products: products("api", "off"), Sources: []source.Source{b}, Store: st, Now: t0})
			if err != nil {
				t.Fatalf("a Prepare error failed the run: %v", err)
			}
			got := map[string]string{}
			for _, oc := range sum.Outcomes {
				got[oc.Product] = oc.Status.State
			}
			if got["api"] != tc.state || got["off"] != record.StateSkipped {
				t.Errorf("states %v, want api %s and off still skipped", got, tc.state)
			}
			if last, _, _ := st.LastSnapshot("api"); last.HTTP != nil {
				t.Errorf("api stored %+v although Prepare failed", last.HTTP)
			}
		})
	}
}
