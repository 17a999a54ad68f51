package digest_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/digest"
	"github.com/portfolio-report/portfolio/generator/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// demoDigest is the digest of a period of the repository's demo history (data/, written by
// portfolio demo): 2026-11-23 is the latest due at the demo's clock; 2026-11-30 is the week in
// progress, with the deployments whose impact docs/impact.md works through.
func demoDigest(t testing.TB, id string) *digest.Digest {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "..", "portfolio.json"))
	if err != nil {
		t.Fatal(err)
	}
	per, err := digest.ScheduleOf(cfg).ParseID(id)
	if err != nil {
		t.Fatal(err)
	}
	in, err := digest.Gather(cfg, store.Open(filepath.Join("..", "..", "data")), per)
	if err != nil {
		t.Fatal(err)
	}
	return digest.Compute(in)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./generator/digest -update)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file; run go test ./generator/digest -update and read the diff.\ngot:\n%s", path, got)
	}
}

func TestDemoDigestGolden(t *testing.T) {
	for _, id := range []string{"2026-11-23", "2026-11-30"} {
		t.Run(id, func(t *testing.T) {
			d := demoDigest(t, id)
			js, err := json.MarshalIndent(d, "", " ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "demo-"+id+".json", append(js, '\n'))
			golden(t, "demo-"+id+".txt", []byte(digest.Text(d)))
			html, err := digest.HTML(d)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "demo-"+id+".html", []byte(html))
			slack, err := json.MarshalIndent(digest.SlackMessage(d), "", " ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "demo-"+id+".slack.json", append(slack, '\n'))
			// The same input gives the same bytes.
			again, _ := json.MarshalIndent(demoDigest(t, id), "", " ")
			if string(again) != string(js) {
				t.Error("two computations of the same digest differ")
			}
		})
	}
}

// TestDemoDigestContent holds what a reader of the demo week must see, whatever the layout.
func TestDemoDigestContent(t *testing.T) {
	d := demoDigest(t, "2026-11-30")
	if len(d.Changes) != 3 {
		t.Fatalf("%d changes, want the 3 biggest", len(d.Changes))
	}
	wantChanges := []string{
		"Storefront's Workers error rate rose from 0.023 % to 0.579 % after Tuesday's deployment of dd8dc19",
		"Payments API's p95 response time rose from 257 ms to 935 ms after Saturday's deployment of e2832db",
	}
	text := digest.Text(d)
	for _, w := range wantChanges {
		if !strings.Contains(text, w) {
			t.Errorf("the text lacks %q", w)
		}
	}
	if d.Changes[0].URL != "https://status.example.com/products/storefront/#impact" {
		t.Errorf("the first change links %s", d.Changes[0].URL)
	}
	if len(d.DORA.Portfolio) != 4 || d.DORA.WindowDays != 7 {
		t.Errorf("DORA: %d keys over %d days", len(d.DORA.Portfolio), d.DORA.WindowDays)
	}
	for _, k := range d.DORA.Portfolio {
		if k.Trend == "" || (k.Value != nil && k.Level == "") {
			t.Errorf("DORA key %s without level or trend: %+v", k.Metric, k)
		}
	}
	if d.Incidents.Opened != 2 || d.Incidents.OpenAtEnd != 1 {
		t.Errorf("incidents opened %d, open at the end %d; want 2 and 1 (#130 is open)", d.Incidents.Opened, d.Incidents.OpenAtEnd)
	}
	if d.Alerts.TotalFired == 0 || !d.Alerts.Known {
		t.Errorf("alerts: %+v", d.Alerts)
	}
	for _, p := range d.Products {
		if p.Uptime == nil || p.PrevUptime == nil || p.BudgetLeft == nil || !strings.HasPrefix(p.URL, "https://status.example.com/products/") {
			t.Errorf("product %s lacks a figure or its link: %+v", p.ID, p)
		}
	}
	// Every link points into the site.
	js, _ := json.Marshal(d)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && (k == "url" || strings.HasSuffix(k, "_url")) && !strings.HasPrefix(s, "https://status.example.com/") {
					t.Errorf("%s %q is not a page of the site", k, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var doc any
	json.Unmarshal(js, &doc)
	walk(doc)
}

// TestProductAddedLaterIsNotInOlderDigests: a product with no data before a period's end (it
// joined the config later) is left out of that period's digest rather than counted unknown.
func TestProductAddedLaterIsNotInOlderDigests(t *testing.T) {
	cfg := demo.Config(3)
	per := digest.ScheduleOf(cfg).Latest(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	in := synthetic(cfg, per)
	in.Products[1].Snapshots, in.Products[1].Deployments, in.Products[1].Incidents = nil, nil, nil
	d := digest.Compute(in)
	if len(d.Products) != 2 || d.Status.Products != 2 || len(d.DORA.Products) != 2 {
		t.Errorf("%d products, status of %d: want the 2 with data", len(d.Products), d.Status.Products)
	}
	for _, p := range d.Products {
		if p.ID == in.Products[1].Product.ID {
			t.Errorf("%s has no data but is in the digest", p.ID)
		}
	}
}
