package source_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/skip"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/store"
)

// fakeSource answers with fn; it counts its calls.
type fakeSource struct {
	name   string
	limits source.Limits
	fn     func(ctx context.Context, p config.Product, since time.Time) (source.Result, error)

	mu    sync.Mutex
	calls []string
}

func (f *fakeSource) Name() string          { return f.name }
func (f *fakeSource) Limits() source.Limits { return f.limits }
func (f *fakeSource) Collect(ctx context.Context, p config.Product, since time.Time) (source.Result, error) {
	f.mu.Lock()
	f.calls = append(f.calls, p.ID)
	f.mu.Unlock()
	return f.fn(ctx, p, since)
}

func okSource(name string) *fakeSource {
	return &fakeSource{name: name, fn: func(context.Context, config.Product, time.Time) (source.Result, error) {
		return source.Result{}, nil
	}}
}

var t0 = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

func products(ids ...string) []config.Product {
	var ps []config.Product
	for _, id := range ids {
		ps = append(ps, config.Product{ID: id})
	}
	return ps
}

func TestCollectRecordsEachSourceState(t *testing.T) {
	const secret = "s3cr3t-token-value"
	tests := []struct {
		name string
		fn   func(ctx context.Context, p config.Product, since time.Time) (source.Result, error)
		want record.SourceStatus
	}{
		{"ok", func(context.Context, config.Product, time.Time) (source.Result, error) {
			return source.Result{}, nil
		}, record.SourceStatus{State: "ok"}},
		{"skipped with its reason", func(context.Context, config.Product, time.Time) (source.Result, error) {
			return source.Result{}, skip.Because("no zone_id configured")
		}, record.SourceStatus{State: "skipped", Msg: "no zone_id configured"}},
		{"error with its message", func(context.Context, config.Product, time.Time) (source.Result, error) {
			return source.Result{}, errors.New("cloudflare: list health checks: HTTP 500")
		}, record.SourceStatus{State: "error", Msg: "cloudflare: list health checks: HTTP 500", Fails: 1}},
		{"rate limited", func(context.Context, config.Product, time.Time) (source.Result, error) {
			return source.Result{}, &source.RateLimitedError{Reset: t0.Add(5 * time.Minute), Err: errors.New("HTTP 429")}
		}, record.SourceStatus{State: "rate_limited", Msg: "rate limited until 2026-06-30T12:05:00Z: HTTP 429", Fails: 1}},
		{"panic becomes an error", func(context.Context, config.Product, time.Time) (source.Result, error) {
			var m map[string]int
			//lint:ignore SA5000 the panic is the point: Collect turns it into an error
			m["x"]++
			return source.Result{}, nil
		}, record.SourceStatus{State: "error", Msg: "panic: assignment to entry in nil map", Fails: 1}},
		{"timeout", func(ctx context.Context, _ config.Product, _ time.Time) (source.Result, error) {
			<-ctx.Done()
			return source.Result{}, fmt.Errorf("posthog: query: %w", ctx.Err())
		}, record.SourceStatus{State: "timed_out", Msg: "timed out after 50ms: posthog: query: context deadline exceeded", Fails: 1}},
		{"secrets and URL queries redacted", func(context.Context, config.Product, time.Time) (source.Result, error) {
			return source.Result{}, errors.New(`Get "https://user:pw@api.example.com/x?token=abc": refused; key ` + secret)
		}, record.SourceStatus{State: "error", Msg: `Get "https://redacted@api.example.com/x?redacted": refused; key [redacted]`, Fails: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := store.Open(t.TempDir())
			src := &fakeSource{name: "x", limits: source.Limits{Concurrency: 2, Timeout: 50 * time.Millisecond}, fn: tt.fn}
			sum, err := source.Collect(context.Background(), source.Options{
				Products: products("api", "web"), Sources: []source.Source{src, okSource("probe")},
				Store: st, Now: t0, Redactor: redact.Of(secret),
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"api", "web"} {
				sn, ok, err := st.LastSnapshot(id)
				if err != nil || !ok {
					t.Fatalf("%s: no snapshot: %v", id, err)
				}
				if got := sn.Sources["x"]; !equalStatus(got, tt.want) {
					t.Errorf("%s: x = %+v, want %+v", id, got, tt.want)
				}
				if got := sn.Sources["probe"]; got.State != "ok" {
					t.Errorf("%s: other source disturbed: %+v", id, got)
				}
			}
			if got, want := sum.Failed(), tt.want.Failed(); got != want {
				t.Errorf("Failed() = %v, want %v", got, want)
			}
			assertNoSecret(t, st.Dir(), secret)
		})
	}
}

func equalStatus(a, b record.SourceStatus) bool {
	if a.State != b.State || a.Msg != b.Msg || a.Fails != b.Fails {
		return false
	}
	if (a.LastOK == nil) != (b.LastOK == nil) {
		return false
	}
	return a.LastOK == nil || a.LastOK.Equal(*b.LastOK)
}

func assertNoSecret(t *testing.T, dir, secret string) {
	t.Helper()
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, _ := os.ReadFile(path)
		if strings.Contains(string(data), secret) {
			t.Errorf("%s contains the secret", path)
		}
		return nil
	})
}

func TestCollectCarriesLastOKAndFails(t *testing.T) {
	st := store.Open(t.TempDir())
	fail := errors.New("boom")
	var outcome error
	src := &fakeSource{name: "cloudflare", fn: func(context.Context, config.Product, time.Time) (source.Result, error) {
		return source.Result{}, outcome
	}}
	run := func(at time.Time, err error) record.SourceStatus {
		t.Helper()
		outcome = err
		if _, e := source.Collect(context.Background(), source.Options{Products: products("api"), Sources: []source.Source{src}, Store: st, Now: at}); e != nil {
			t.Fatal(e)
		}
		sn, _, _ := st.LastSnapshot("api")
		return sn.Sources["cloudflare"]
	}
	okAt := t0
	steps := []struct {
		name string
		err  error
		want record.SourceStatus
	}{
		{"first ok", nil, record.SourceStatus{State: "ok"}},
		{"first failure", fail, record.SourceStatus{State: "error", Msg: "boom", Fails: 1, LastOK: &okAt}},
		{"second failure", fail, record.SourceStatus{State: "error", Msg: "boom", Fails: 2, LastOK: &okAt}},
		{"rate limit counts as a failure", &source.RateLimitedError{Err: fail}, record.SourceStatus{State: "rate_limited", Msg: "rate limited: boom", Fails: 3, LastOK: &okAt}},
		{"skip resets fails, keeps last ok", skip.Because("off"), record.SourceStatus{State: "skipped", Msg: "off", LastOK: &okAt}},
		{"recovered", nil, record.SourceStatus{State: "ok"}},
	}
	for i, s := range steps {
		got := run(t0.Add(time.Duration(i)*15*time.Minute), s.err)
		if !equalStatus(got, s.want) {
			t.Errorf("%s: got %+v (last_ok %v), want %+v", s.name, got, got.LastOK, s.want)
		}
	}
	// The source got the previous snapshot's time as since.
}

func TestCollectPassesPreviousSnapshotTimeAsSince(t *testing.T) {
	st := store.Open(t.TempDir())
	var got []time.Time
	src := &fakeSource{name: "s", limits: source.Limits{Concurrency: 1}, fn: func(_ context.Context, _ config.Product, since time.Time) (source.Result, error) {
		got = append(got, since)
		return source.Result{}, nil
	}}
	for _, at := range []time.Time{t0, t0.Add(15 * time.Minute)} {
		if _, err := source.Collect(context.Background(), source.Options{Products: products("api"), Sources: []source.Source{src}, Store: st, Now: at}); err != nil {
			t.Fatal(err)
		}
	}
	if !got[0].IsZero() || !got[1].Equal(t0) {
		t.Errorf("since = %v, want [zero, %v]", got, t0)
	}
}

func TestCollectMergesFieldsAndUpsertsRecords(t *testing.T) {
	st := store.Open(t.TempDir())
	old := record.Deployment{ID: "run:1", SHA: "aaaaaaa", Time: t0.Add(-time.Hour), Outcome: "success"}
	if err := st.SaveDeployments("api", []record.Deployment{old}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveAnalytics("api", []record.AnalyticsDay{{Day: "2026-06-29", DAU: 1}, {Day: "2026-06-30", DAU: 2}}); err != nil {
		t.Fatal(err)
	}
	probe := &fakeSource{name: "probe", fn: func(context.Context, config.Product, time.Time) (source.Result, error) {
		return source.Result{Snapshot: record.Snapshot{Probe: &record.Probe{Code: 200, Ms: 12}}}, nil
	}}
	cf := &fakeSource{name: "cloudflare", fn: func(context.Context, config.Product, time.Time) (source.Result, error) {
		return source.Result{Snapshot: record.Snapshot{HTTP: &record.HTTPStats{Requests: 10}, Health: "healthy"}}, errors.New("workers: HTTP 500")
	}}
	gh := &fakeSource{name: "github", fn: func(context.Context, config.Product, time.Time) (source.Result, error) {
		return source.Result{
			Deployments: []record.Deployment{old, {ID: "run:2", SHA: "bbbbbbb", Time: t0, Outcome: "failure"}},
			Incidents:   []record.Incident{{Number: 7, Title: "down", CreatedAt: t0}},
		}, nil
	}}
	ph := &fakeSource{name: "posthog", fn: func(context.Context, config.Product, time.Time) (source.Result, error) {
		return source.Result{Analytics: []record.AnalyticsDay{{Day: "2026-06-30", DAU: 5}}}, nil
	}}
	sum, err := source.Collect(context.Background(), source.Options{Products: products("api"),
		Sources: []source.Source{probe, cf, gh, ph}, Store: st, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	sn, _, _ := st.LastSnapshot("api")
	if sn.Probe == nil || sn.Probe.Code != 200 {
		t.Errorf("probe = %+v", sn.Probe)
	}
	if sn.HTTP == nil || sn.HTTP.Requests != 10 || sn.Health != "healthy" {
		t.Errorf("cloudflare's partial data lost: %+v", sn)
	}
	deps, _ := st.Deployments("api")
	if len(deps) != 2 || deps[1].ID != "run:2" {
		t.Errorf("deployments = %+v", deps)
	}
	incs, _ := st.Incidents("api")
	if len(incs) != 1 || incs[0].Number != 7 {
		t.Errorf("incidents = %+v", incs)
	}
	days, _ := st.Analytics("api")
	if len(days) != 2 || days[0].DAU != 1 || days[1].DAU != 5 {
		t.Errorf("analytics = %+v", days)
	}
	if sum.Deployments != 1 || sum.Incidents != 1 || sum.AnalyticsDays != 1 {
		t.Errorf("summary counts = %d %d %d, want 1 1 1 (unchanged run:1 not counted)", sum.Deployments, sum.Incidents, sum.AnalyticsDays)
	}

	// A second run with the same records rewrites nothing.
	path := filepath.Join(st.Dir(), "products/api/deployments.json")
	before, _ := os.Stat(path)
	time.Sleep(10 * time.Millisecond)
	sum, err = source.Collect(context.Background(), source.Options{Products: products("api"),
		Sources: []source.Source{gh}, Store: st, Now: t0.Add(15 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if !after.ModTime().Equal(before.ModTime()) || sum.Deployments != 0 {
		t.Errorf("unchanged deployments rewritten (count %d)", sum.Deployments)
	}
}

func TestCollectKeepsOrderWhateverFinishesFirst(t *testing.T) {
	st := store.Open(t.TempDir())
	slowFirst := &fakeSource{name: "a", limits: source.Limits{Concurrency: 8}, fn: func(_ context.Context, p config.Product, _ time.Time) (source.Result, error) {
		if p.ID == "p0" {
			time.Sleep(30 * time.Millisecond)
		}
		return source.Result{}, nil
	}}
	ids := []string{"p0", "p1", "p2", "p3", "p4"}
	sum, err := source.Collect(context.Background(), source.Options{Products: products(ids...),
		Sources: []source.Source{slowFirst, okSource("b")}, Store: st, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range sum.Outcomes {
		got = append(got, o.Product+"/"+o.Source)
	}
	want := "p0/a p0/b p1/a p1/b p2/a p2/b p3/a p3/b p4/a p4/b"
	if strings.Join(got, " ") != want {
		t.Errorf("order = %v, want %v", got, want)
	}
}

func TestCollectShardTouchesOnlyItsProducts(t *testing.T) {
	ids := []string{"p1", "p2", "p3", "p4", "p5"}
	tests := []struct {
		shard string
		want  []string
	}{
		{"1/2", []string{"p1", "p3", "p5"}},
		{"2/2", []string{"p2", "p4"}},
		{"3/3", []string{"p3"}},
		{"1/1", ids},
	}
	for _, tt := range tests {
		t.Run(tt.shard, func(t *testing.T) {
			st := store.Open(t.TempDir())
			sh, err := source.ParseShard(tt.shard)
			if err != nil {
				t.Fatal(err)
			}
			src := okSource("probe")
			sum, err := source.Collect(context.Background(), source.Options{Products: products(ids...),
				Sources: []source.Source{src}, Store: st, Now: t0, Shard: sh})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(sum.Products, ",") != strings.Join(tt.want, ",") {
				t.Errorf("products = %v, want %v", sum.Products, tt.want)
			}
			dirs, _ := st.Products() // the products with files in the data folder
			if strings.Join(dirs, ",") != strings.Join(tt.want, ",") {
				t.Errorf("touched %v, want %v", dirs, tt.want)
			}
		})
	}
}

func TestParseShardRejectsNonsense(t *testing.T) {
	for _, s := range []string{"", "0/2", "3/2", "1/0", "a/b", "1", "-1/2"} {
		if _, err := source.ParseShard(s); err == nil {
			t.Errorf("ParseShard(%q) accepted", s)
		}
	}
}

func TestCollectRespectsConcurrencyLimit(t *testing.T) {
	var mu sync.Mutex
	cur, peak := 0, 0
	src := &fakeSource{name: "posthog", limits: source.Limits{Concurrency: 3}, fn: func(context.Context, config.Product, time.Time) (source.Result, error) {
		mu.Lock()
		cur++
		peak = max(peak, cur)
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		cur--
		mu.Unlock()
		return source.Result{}, nil
	}}
	var ids []string
	for i := range 20 {
		ids = append(ids, fmt.Sprintf("p%02d", i))
	}
	if _, err := source.Collect(context.Background(), source.Options{Products: products(ids...),
		Sources: []source.Source{src}, Store: store.Open(t.TempDir()), Now: t0}); err != nil {
		t.Fatal(err)
	}
	if peak != 3 {
		t.Errorf("peak concurrency = %d, want 3", peak)
	}
}

// TestCollectCancelledWritesNothingInFlight: Ctrl-C writes no product whose sources had not all
// finished (a half-collected snapshot would read as data).
func TestCollectCancelledWritesNothingInFlight(t *testing.T) {
	st := store.Open(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	src := &fakeSource{name: "s", fn: func(ctx context.Context, _ config.Product, _ time.Time) (source.Result, error) {
		cancel()
		<-ctx.Done()
		return source.Result{}, ctx.Err()
	}}
	_, err := source.Collect(ctx, source.Options{Products: products("api"), Sources: []source.Source{src}, Store: st, Now: t0})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, ok, _ := st.LastSnapshot("api"); ok {
		t.Error("a snapshot was written after Ctrl-C")
	}
}

type recordingObserver struct {
	mu       sync.Mutex
	started  int
	finished int
	done     map[string]int
}

func (r *recordingObserver) Started(string, string) { r.mu.Lock(); r.started++; r.mu.Unlock() }
func (r *recordingObserver) Finished(source.Outcome) {
	r.mu.Lock()
	r.finished++
	r.mu.Unlock()
}
func (r *recordingObserver) ProductDone(p string, ocs []source.Outcome) {
	r.mu.Lock()
	r.done[p] = len(ocs)
	r.mu.Unlock()
}

func TestCollectTellsTheObserver(t *testing.T) {
	obs := &recordingObserver{done: map[string]int{}}
	if _, err := source.Collect(context.Background(), source.Options{Products: products("a", "b", "c"),
		Sources: []source.Source{okSource("x"), okSource("y")}, Store: store.Open(t.TempDir()), Now: t0, Observer: obs}); err != nil {
		t.Fatal(err)
	}
	if obs.started != 6 || obs.finished != 6 || len(obs.done) != 3 || obs.done["b"] != 2 {
		t.Errorf("observer heard started=%d finished=%d done=%v", obs.started, obs.finished, obs.done)
	}
}

// stuckSource blocks for the products in stuck until release is closed, ignoring its context,
// as a client stuck in a read without a deadline would; it answers the others at once.
func stuckSource(name string, release <-chan struct{}, stuck ...string) *fakeSource {
	return &fakeSource{name: name, limits: source.Limits{Concurrency: 4, Timeout: time.Minute},
		fn: func(ctx context.Context, p config.Product, _ time.Time) (source.Result, error) {
			for _, id := range stuck {
				if id == p.ID {
					<-release
					return source.Result{}, errors.New("too late")
				}
			}
			return source.Result{Snapshot: record.Snapshot{Health: "healthy"}}, nil
		}}
}

func TestCollectDeadlineRecordsTimedOutAndWritesEverything(t *testing.T) {
	st := store.Open(t.TempDir())
	release := make(chan struct{})
	defer close(release)
	// "polite" returns when its context ends; "stuck" ignores it; "cloudflare" is quick.
	polite := &fakeSource{name: "polite", limits: source.Limits{Concurrency: 1, Timeout: time.Minute},
		fn: func(ctx context.Context, p config.Product, _ time.Time) (source.Result, error) {
			if p.ID == "a" {
				return source.Result{}, nil
			}
			<-ctx.Done()
			return source.Result{}, fmt.Errorf("github: list runs: %w", ctx.Err())
		}}
	obs := &recordingObserver{done: map[string]int{}}
	began := time.Now()
	sum, err := source.Collect(context.Background(), source.Options{
		Products: products("a", "b", "c", "d"),
		Sources:  []source.Source{stuckSource("cloudflare", release), stuckSource("stuck", release, "b", "c"), polite},
		Store:    st, Now: t0, Deadline: time.Now().Add(200 * time.Millisecond), Observer: obs,
	})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("Collect took %s: it waited for a source that ignores its context", took)
	}
	want := map[string]map[string]string{
		"a": {"cloudflare": "ok", "stuck": "ok", "polite": "ok"},
		"b": {"cloudflare": "ok", "stuck": "timed_out", "polite": "timed_out"},
		"c": {"cloudflare": "ok", "stuck": "timed_out", "polite": "timed_out"},
		"d": {"cloudflare": "ok", "stuck": "ok", "polite": "timed_out"},
	}
	for id, states := range want {
		sn, ok, err := st.LastSnapshot(id)
		if err != nil || !ok {
			t.Fatalf("%s: no snapshot written (%v)", id, err)
		}
		if sn.Health != "healthy" {
			t.Errorf("%s: what finished before the deadline was not kept: %+v", id, sn)
		}
		for src, state := range states {
			got := sn.Sources[src]
			if got.State != state {
				t.Errorf("%s/%s = %+v, want %s", id, src, got, state)
			}
			if state == "timed_out" && (!strings.Contains(got.Msg, "deadline") || got.Fails != 1) {
				t.Errorf("%s/%s = %+v, want the deadline named and one failure counted", id, src, got)
			}
		}
	}
	if !sum.Failed() || sum.Counts["timed_out"] != 5 || sum.Counts["ok"] != 7 || len(sum.Outcomes) != 12 {
		t.Errorf("summary counts %v, %d outcomes; want 5 timed_out (stale: Failed) and 7 ok", sum.Counts, len(sum.Outcomes))
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.finished != 12 || len(obs.done) != 4 {
		t.Errorf("observer heard %d finished calls and %d products, want 12 and 4", obs.finished, len(obs.done))
	}
}

func TestCollectAppendsEachProductWhenItsSourcesFinish(t *testing.T) {
	st := store.Open(t.TempDir())
	release := make(chan struct{})
	seen := make(chan bool)
	// b is held until the test has looked for a's snapshot on disk.
	src := &fakeSource{name: "s", limits: source.Limits{Concurrency: 2, Timeout: time.Minute},
		fn: func(ctx context.Context, p config.Product, _ time.Time) (source.Result, error) {
			if p.ID == "b" {
				<-release
			}
			return source.Result{}, nil
		}}
	done := make(chan error)
	go func() {
		_, err := source.Collect(context.Background(), source.Options{Products: products("a", "b"), Sources: []source.Source{src}, Store: st, Now: t0})
		done <- err
	}()
	go func() {
		for range 200 {
			if _, ok, _ := st.LastSnapshot("a"); ok {
				seen <- true
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		seen <- false
	}()
	if !<-seen {
		t.Error("a's snapshot was not on disk while b was still collecting")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestCollectInterruptedKeepsTheProductsFinished(t *testing.T) {
	st := store.Open(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &fakeSource{name: "s", limits: source.Limits{Concurrency: 2, Timeout: time.Minute},
		fn: func(ctx context.Context, p config.Product, _ time.Time) (source.Result, error) {
			if p.ID == "b" {
				<-ctx.Done()
				return source.Result{}, ctx.Err()
			}
			return source.Result{}, nil
		}}
	go func() {
		for range 200 {
			if _, ok, _ := st.LastSnapshot("a"); ok {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	_, err := source.Collect(ctx, source.Options{Products: products("a", "b"), Sources: []source.Source{src}, Store: st, Now: t0})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "1 of 2 products written") {
		t.Fatalf("err = %v, want Canceled saying what was written", err)
	}
	if _, ok, _ := st.LastSnapshot("a"); !ok {
		t.Error("a finished before Ctrl-C but was not kept")
	}
	if _, ok, _ := st.LastSnapshot("b"); ok {
		t.Error("b was in flight but was written")
	}
}
