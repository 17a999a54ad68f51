package site_test

import (
	"encoding/json"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/status"
)

// TestStatusEverywhere builds a site in which each product has another status, and checks
// that the overview card, the product page, the status badge, api/summary.json, the product's
// API document and the feed all say the same, and that the headline counts them.
func TestStatusEverywhere(t *testing.T) {
	cfg, st := fixture(t, 3)
	// Product 2 is in a maintenance window: its status is maintenance whatever its checks say.
	cfg.Products[2].Maintenance = []config.Maintenance{{Start: now.Add(-time.Hour).Format(time.RFC3339),
		End: now.Add(2 * time.Hour).Format(time.RFC3339), Summary: "Database upgrade"}}
	// Product 0's critical alert is recovering: not operational, but no longer an outage.
	s := sampleAlerts(cfg)
	for i := range s.Alerts {
		if s.Alerts[i].Fingerprint == "a1" {
			s.Alerts[i].Recoveries = 1
			s.Alerts[i].Value = 0
		}
	}
	if err := alert.Save(st, s); err != nil {
		t.Fatal(err)
	}
	dir, _ := build(t, cfg, st)
	files := siteFiles(t, dir)

	var sum struct {
		Status       string         `json:"status"`
		Headline     string         `json:"headline"`
		StatusCounts map[string]int `json:"status_counts"`
		Products     []struct {
			ID      string   `json:"id"`
			Status  string   `json:"status"`
			Reasons []string `json:"status_reasons"`
		} `json:"products"`
	}
	if err := json.Unmarshal(files["api/summary.json"], &sum); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		cfg.Products[0].ID: status.Degraded,    // open incident, critical alert recovering
		cfg.Products[1].ID: status.Degraded,    // warning alert firing
		cfg.Products[2].ID: status.Maintenance, // maintenance window
	}
	overview := string(files["index.html"])
	var feed struct {
		Subtitle string `xml:"subtitle"`
	}
	if err := xml.Unmarshal(files["feed.xml"], &feed); err != nil {
		t.Fatal(err)
	}
	for _, p := range sum.Products {
		t.Run(p.ID, func(t *testing.T) {
			if p.Status != want[p.ID] {
				t.Errorf("api/summary.json: status %s, want %s (reasons %q)", p.Status, want[p.ID], p.Reasons)
			}
			card := regexp.MustCompile(`<li class="card status-edge-([a-z_]+)" data-status="([a-z_]+)"[^>]*>\s*<p class="card-head"><a href="/products/` + p.ID + `/">`).FindStringSubmatch(overview)
			if card == nil || card[1] != p.Status || card[2] != p.Status {
				t.Errorf("overview card: %v, want status %s", card, p.Status)
			}
			page := string(files["products/"+p.ID+"/index.html"])
			head := regexp.MustCompile(`</h1>\s*<span class="status status-([a-z_]+)">`).FindStringSubmatch(page)
			if head == nil || head[1] != p.Status {
				t.Errorf("product page: %v, want status %s", head, p.Status)
			}
			for _, r := range p.Reasons {
				if !strings.Contains(page, template(r)) {
					t.Errorf("product page lacks the reason %q", r)
				}
			}
			var badge struct{ Message string }
			if err := json.Unmarshal(files["badges/"+p.ID+"/status.json"], &badge); err != nil {
				t.Fatal(err)
			}
			if badge.Message != status.Label(p.Status) {
				t.Errorf("badge says %q, want %q", badge.Message, status.Label(p.Status))
			}
			if !strings.Contains(string(files["badges/"+p.ID+"/status.svg"]), ">"+status.Label(p.Status)+"</text>") {
				t.Errorf("badge SVG does not say %q", status.Label(p.Status))
			}
			var doc struct{ Status string }
			if err := json.Unmarshal(files["api/products/"+p.ID+".json"], &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Status != p.Status {
				t.Errorf("api/products/%s.json: %s, want %s", p.ID, doc.Status, p.Status)
			}
		})
	}
	if got := sum.Products[0].Reasons; len(got) == 0 || !strings.Contains(strings.Join(got, "|"), "critical alert (probe_down), recovering") {
		t.Errorf("reasons of %s = %q, want the recovering critical alert", sum.Products[0].ID, got)
	}
	if r := sum.Products[2].Reasons; len(r) != 1 || !strings.Contains(r[0], "Database upgrade") {
		t.Errorf("reasons under maintenance = %q", r)
	}
	const headline = "2 of 3 products degraded"
	if sum.Status != status.Degraded || sum.Headline != headline || sum.StatusCounts[status.Degraded] != 2 || sum.StatusCounts[status.Maintenance] != 1 {
		t.Errorf("summary: status %s, headline %q, counts %v", sum.Status, sum.Headline, sum.StatusCounts)
	}
	if !strings.Contains(overview, `<h1 id="overall" data-live-status="">`+headline+`</h1>`) {
		t.Errorf("overview headline is not %q", headline)
	}
	if !strings.HasPrefix(feed.Subtitle, "Status: "+headline+".") || !strings.Contains(feed.Subtitle, cfg.Products[2].Name+": under maintenance") {
		t.Errorf("feed subtitle = %q", feed.Subtitle)
	}
}

// TestRecoveringAlert: an alert whose rule no longer breaches but has not resolved says so on
// the pages and in the API, with what it needs to resolve.
func TestRecoveringAlert(t *testing.T) {
	cfg, st := fixture(t, 3)
	s := sampleAlerts(cfg)
	for i := range s.Alerts {
		if s.Alerts[i].Fingerprint == "a1" {
			s.Alerts[i].Recoveries = 1 // success_threshold is 2 in the repository's config
		}
	}
	if err := alert.Save(st, s); err != nil {
		t.Fatal(err)
	}
	dir, _ := build(t, cfg, st)
	files := siteFiles(t, dir)
	const text = "Recovering: not breached for 1 run; resolves after 2 runs in a row without a breach (1 more run, about 15 min)."
	for _, page := range []string{"alerts/index.html", "products/" + cfg.Products[0].ID + "/index.html"} {
		if !strings.Contains(string(files[page]), text) {
			t.Errorf("%s does not say %q", page, text)
		}
	}
	// The overview's short list marks it.
	if !regexp.MustCompile(`probe_down</span> <span class="recovering">recovering</span>`).MatchString(string(files["index.html"])) {
		t.Errorf("the overview's critical alerts do not mark the recovering alert")
	}
	var doc struct {
		Active []struct {
			Fingerprint   string `json:"fingerprint"`
			Recovering    bool   `json:"recovering"`
			ResolvesAfter int    `json:"resolves_after_runs"`
		} `json:"active"`
	}
	if err := json.Unmarshal(files["api/alerts.json"], &doc); err != nil {
		t.Fatal(err)
	}
	for _, a := range doc.Active {
		want := a.Fingerprint == "a1"
		if a.Recovering != want || (want && a.ResolvesAfter != 1) {
			t.Errorf("alert %s: recovering %v, resolves after %d runs", a.Fingerprint, a.Recovering, a.ResolvesAfter)
		}
	}
}

// template is s as html/template writes it into a page.
func template(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;")
	return r.Replace(s)
}
