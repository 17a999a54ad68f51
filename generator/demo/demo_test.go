package demo_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
)

var now = time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)

// example is the example portfolio.json of the repository.
func example(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load("../../portfolio.json")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func generate(t testing.TB, cfg *config.Config, opts demo.Options) *store.Store {
	t.Helper()
	st := store.Open(t.TempDir())
	if err := demo.Generate(cfg, st, opts); err != nil {
		t.Fatal(err)
	}
	return st
}

// files reads every file below dir by relative path.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGenerateIsDeterministic(t *testing.T) {
	cfg := example(t)
	a := files(t, generate(t, cfg, demo.Options{Seed: 1, Days: 10, Now: now}).Dir())
	tests := []struct {
		name string
		opts demo.Options
		same bool
	}{
		{"same seed and now", demo.Options{Seed: 1, Days: 10, Now: now}, true},
		{"now within the same 15 minutes", demo.Options{Seed: 1, Days: 10, Now: now.Add(14 * time.Minute)}, true},
		{"another seed", demo.Options{Seed: 2, Days: 10, Now: now}, false},
		{"another now", demo.Options{Seed: 1, Days: 10, Now: now.Add(time.Hour)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := files(t, generate(t, cfg, tt.opts).Dir())
			same := len(a) == len(b)
			for name, data := range a {
				same = same && bytes.Equal(data, b[name])
			}
			if same != tt.same {
				t.Errorf("identical = %v, want %v", same, tt.same)
			}
		})
	}
	t.Run("regenerating over demo data", func(t *testing.T) {
		st := generate(t, cfg, demo.Options{Seed: 7, Days: 40, Now: now.AddDate(0, 1, 0)})
		if err := demo.Generate(cfg, st, demo.Options{Seed: 1, Days: 10, Now: now}); err != nil {
			t.Fatal(err)
		}
		b := files(t, st.Dir())
		for name := range b {
			if _, ok := a[name]; !ok {
				t.Errorf("%s left over from the previous history", name)
			}
		}
		for name, data := range a {
			if !bytes.Equal(data, b[name]) {
				t.Errorf("%s differs from a fresh generation", name)
			}
		}
	})
}

func TestGenerateExample(t *testing.T) {
	cfg := example(t)
	st := generate(t, cfg, demo.Options{Seed: 1, Days: 90, Now: now})
	from := now.AddDate(0, 0, -91)
	type product struct {
		snaps []record.Snapshot
		deps  []record.Deployment
		incs  []record.Incident
		days  []record.AnalyticsDay
	}
	data := map[string]product{}
	for _, p := range cfg.Products {
		var d product
		var err error
		if d.snaps, err = st.Snapshots(p.ID, from, now.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if d.deps, err = st.Deployments(p.ID); err != nil {
			t.Fatal(err)
		}
		if d.incs, err = st.Incidents(p.ID); err != nil {
			t.Fatal(err)
		}
		if d.days, err = st.Analytics(p.ID); err != nil {
			t.Fatal(err)
		}
		data[p.ID] = d
	}

	for _, p := range cfg.Products {
		d := data[p.ID]
		t.Run(p.ID+"/a snapshot every 15 minutes for 90 days, ending at now", func(t *testing.T) {
			if len(d.snaps) != 90*96 {
				t.Fatalf("%d snapshots, want %d", len(d.snaps), 90*96)
			}
			for i := 1; i < len(d.snaps); i++ {
				if gap := d.snaps[i].Time.Sub(d.snaps[i-1].Time); gap != 15*time.Minute {
					t.Fatalf("gap of %s before %s", gap, d.snaps[i].Time)
				}
			}
			if last := d.snaps[len(d.snaps)-1].Time; !last.Equal(now) {
				t.Errorf("last snapshot at %s, want %s", last, now)
			}
		})
		t.Run(p.ID+"/Cloudflare figures only with a Cloudflare config", func(t *testing.T) {
			var http, worker, hc, probes, failed int
			for _, s := range d.snaps {
				http += boolInt(s.HTTP != nil)
				worker += boolInt(s.Worker != nil)
				hc += boolInt(s.Health != "")
				probes += boolInt(s.Probe != nil)
				failed += boolInt(s.Probe != nil && !s.Probe.OK())
			}
			zone, script := p.Cloudflare.ZoneID != "", p.Cloudflare.Worker != ""
			if (http > 0) != zone || (hc > 0) != zone || (worker > 0) != script {
				t.Errorf("http in %d, hc in %d, worker in %d snapshots; zone %v, worker %v", http, hc, worker, zone, script)
			}
			if probes != len(d.snaps) {
				t.Errorf("a probe in %d of %d snapshots", probes, len(d.snaps))
			}
			if failed == 0 || failed > len(d.snaps)/50 {
				t.Errorf("%d failed probes: want some, and under 2%%", failed)
			}
		})
		t.Run(p.ID+"/deployments: a mix, changes authored before", func(t *testing.T) {
			var ok, bad int
			prefix := "run:"
			if p.Deploy.Source == config.DeploySourceDeployments {
				prefix = "deployment:"
			}
			for _, dep := range d.deps {
				if !strings.HasPrefix(dep.ID, prefix) || len(dep.SHA) != 40 {
					t.Errorf("deployment %+v: want id %s… and a 40-digit sha", dep, prefix)
				}
				if dep.Outcome == record.OutcomeFailure {
					bad++
					continue
				}
				ok++
				if n := len(dep.Changes); n < 1 || n > 6 {
					t.Errorf("%s ships %d changes, want 1 to 6", dep.ID, n)
				}
				for _, c := range dep.Changes {
					if !c.AuthorDate.Before(dep.Time) {
						t.Errorf("%s: change %s authored %s, not before the deployment at %s", dep.ID, c.SHA, c.AuthorDate, dep.Time)
					}
				}
				if dep.Changes[len(dep.Changes)-1].SHA != dep.SHA {
					t.Errorf("%s: the deployed sha is not its newest change", dep.ID)
				}
			}
			perDay := float64(ok+bad) / 90
			busy := p.Cloudflare.ZoneID != ""
			if busy && (perDay < 0.8 || perDay > 3) || !busy && (perDay < 0.1 || perDay > 0.8) || bad == 0 {
				t.Errorf("%d successful, %d failed (%.2f a day, busy %v)", ok, bad, perDay, busy)
			}
		})
		t.Run(p.ID+"/analytics only with PostHog", func(t *testing.T) {
			if (len(d.days) > 0) != (p.PostHog.Host != "") {
				t.Fatalf("%d analytics days, posthog host %q", len(d.days), p.PostHog.Host)
			}
			if len(d.days) == 0 {
				return
			}
			if len(d.days) != 90 || d.days[len(d.days)-1].Day != "2026-11-28" {
				t.Errorf("%d days, the last %s; want 90 up to 2026-11-28", len(d.days), d.days[len(d.days)-1].Day)
			}
			for _, day := range d.days {
				if day.DAU <= 0 || day.Pageviews < day.DAU || len(day.Events) != len(p.PostHog.KeyEvents) {
					t.Errorf("%+v: want users, more pageviews than users and every key event", day)
				}
			}
		})
	}

	stories := []struct {
		name string
		ok   func() bool
	}{
		{"storefront is down for a while in the last day", func() bool {
			var down int
			for _, s := range data["storefront"].snaps {
				if s.Time.After(now.Add(-24*time.Hour)) && !s.Probe.OK() && s.Health == "unhealthy" {
					down++
				}
			}
			return down >= 2 && down <= 4
		}},
		{"storefront's PostHog fails in the last run only", func() bool {
			s := data["storefront"].snaps
			last, prev := s[len(s)-1], s[len(s)-2]
			st := last.Sources[record.SourcePostHog]
			return st.State == record.StateError && st.Fails == 1 && st.LastOK != nil && st.LastOK.Equal(prev.Time) &&
				len(prev.Sources) == 0
		}},
		{"payments-api has an incident open at now", func() bool {
			incs := data["payments-api"].incs
			return len(incs) > 0 && incs[len(incs)-1].ClosedAt == nil &&
				!slices.ContainsFunc(incs[:len(incs)-1], func(i record.Incident) bool { return i.ClosedAt == nil })
		}},
		{"docs has a false alarm closed as not planned", func() bool {
			return slices.ContainsFunc(data["docs"].incs, func(i record.Incident) bool {
				return i.StateReason == "not_planned" && i.ClosedAt != nil
			})
		}},
		{"an incident names the deployment that caused it", func() bool {
			for _, p := range cfg.Products {
				for _, inc := range data[p.ID].incs {
					if inc.CausedBy == "" || !strings.Contains(inc.Body, "\nCaused-by: "+inc.CausedBy+"\n") {
						continue
					}
					for _, dep := range data[p.ID].deps {
						if dep.SHA == inc.CausedBy && dep.Outcome == record.OutcomeSuccess &&
							dep.Time.Before(inc.CreatedAt) && inc.CreatedAt.Sub(dep.Time) < time.Hour {
							return true
						}
					}
				}
			}
			return false
		}},
		{"closed incidents last minutes to hours", func() bool {
			for _, p := range cfg.Products {
				for _, inc := range data[p.ID].incs {
					if inc.ClosedAt == nil {
						continue
					}
					if d := inc.ClosedAt.Sub(inc.CreatedAt); d < 5*time.Minute || d > 6*time.Hour || inc.Title == "" || inc.Body == "" {
						return false
					}
				}
			}
			return true
		}},
	}
	for _, s := range stories {
		t.Run(s.name, func(t *testing.T) {
			if !s.ok() {
				t.Error("not so")
			}
		})
	}
	t.Run("meta marks the data as demo data", func(t *testing.T) {
		m, err := st.Meta()
		if err != nil || m.Generator != "demo" || m.Seed != 1 || m.AsOf.IsZero() {
			t.Errorf("Meta = %+v, %v", m, err)
		}
	})
}

func TestGenerateRefuses(t *testing.T) {
	tests := []struct {
		name string
		opts demo.Options
		want string
	}{
		{"no now", demo.Options{Seed: 1}, "demo: no now given"},
		{"negative days", demo.Options{Seed: 1, Days: -1, Now: now}, "demo: days: want at least 1, got -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := demo.Generate(example(t), store.Open(t.TempDir()), tt.opts)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestConfigIsValid(t *testing.T) {
	for _, n := range []int{1, 7, 100} {
		cfg := demo.Config(n)
		data, err := json.MarshalIndent(cfg, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := config.Parse("demo.json", data)
		if err != nil {
			t.Fatalf("Config(%d) does not validate: %v", n, err)
		}
		if len(parsed.Products) != n {
			t.Errorf("Config(%d) has %d products", n, len(parsed.Products))
		}
	}
	st := generate(t, demo.Config(4), demo.Options{Seed: 3, Days: 2, Now: now})
	ids, err := st.Products()
	if want := []string{"product-001", "product-002", "product-003", "product-004"}; err != nil || !slices.Equal(ids, want) {
		t.Errorf("products in the data: %v, %v; want %v", ids, err, want)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// BenchmarkGenerate measures a year of history for 10 products (BenchmarkBuild uses 100).
func BenchmarkGenerate(b *testing.B) {
	cfg := demo.Config(10)
	for b.Loop() {
		st := store.Open(b.TempDir())
		if err := demo.Generate(cfg, st, demo.Options{Seed: 1, Days: 365, Now: now}); err != nil {
			b.Fatal(err)
		}
	}
}
