package site_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestImpactShown: the demo's suspect deployment is in the product page's impact table (a real
// table with a caption and headers, each verdict in words), its marker is flagged on the charts,
// the DORA page counts it beside the change failure rate, and the product API has its figures.
func TestImpactShown(t *testing.T) {
	cfg, st := fixture(t, 14)
	dir, _ := build(t, cfg, st)
	files := siteFiles(t, dir)
	id := cfg.Products[0].ID
	page := string(files["products/"+id+"/index.html"])

	var api struct {
		Impact struct {
			Suspects   int    `json:"suspects"`
			ReportsURL string `json:"reports_url"`
		} `json:"deployment_impact"`
	}
	if err := json.Unmarshal(files["api/products/"+id+".json"], &api); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Impact struct {
			Reports []struct {
				SHA     string `json:"sha"`
				Suspect bool   `json:"suspect"`
				Metrics []struct {
					Metric, Verdict, Reason string
					Before, After           *float64
				} `json:"metrics"`
			} `json:"reports"`
		}
	}
	if !strings.HasSuffix(api.Impact.ReportsURL, "/api/products/"+id+"/impact.json") {
		t.Errorf("api: reports_url %q, want the product's impact document", api.Impact.ReportsURL)
	}
	if err := json.Unmarshal(files["api/products/"+id+"/impact.json"], &doc.Impact); err != nil {
		t.Fatal(err)
	}
	if api.Impact.Suspects == 0 {
		t.Fatalf("api: no suspect deployment in the demo's 14 days")
	}
	// The demo's slow release: response time and errors up, then the next deployment fixes it.
	var suspect, fix string
	for i, r := range doc.Impact.Reports { // newest first: the fix is the one before
		slow := false
		for _, m := range r.Metrics {
			if m.Verdict == "regression" && (m.Before == nil || m.After == nil || *m.After <= *m.Before || m.Reason == "") {
				t.Errorf("api: %s regression of %s without figures that rose: %+v", r.SHA[:7], m.Metric, m)
			}
			slow = slow || (m.Metric == "response_time" && m.Verdict == "regression")
		}
		if slow && i > 0 {
			suspect, fix = r.SHA[:7], doc.Impact.Reports[i-1].SHA[:7]
			improved := false
			for _, m := range doc.Impact.Reports[i-1].Metrics {
				improved = improved || (m.Metric == "response_time" && m.Verdict == "improvement")
			}
			if !improved {
				t.Errorf("api: the deployment after the slow release %s (%s) did not improve response time", suspect, fix)
			}
		}
	}
	if suspect == "" {
		t.Fatal("api: no slow release followed by another deployment")
	}

	sec := page[strings.Index(page, `<section aria-labelledby="impact-h"`):]
	sec = sec[:strings.Index(sec, "</section>")]
	for _, want := range []string{
		`<table class="impact">`, `<caption id="impact-cap">`, `<th scope="col">Response time (p95)</th>`, `<th scope="col">Verdict</th>`,
		`<code>` + suspect + `</code>`, `<strong>suspect</strong>`, `<small>regression</small>`,
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("impact section lacks %s", want)
		}
	}
	// Every row's verdict is a word, never colour alone.
	for _, row := range regexp.MustCompile(`(?s)<tr><th scope="row">.*?</tr>`).FindAllString(sec, -1) {
		if !regexp.MustCompile(`<strong>(suspect|improved|no change|not enough data)</strong>`).MatchString(row) {
			t.Errorf("row without a verdict in words: %s", row)
		}
	}

	// The markers are a file of their own that the page's chart document names.
	var markers string
	if m := regexp.MustCompile(`<script type="application/json" id="chart-data">(.*?)</script>`).FindStringSubmatch(page); m != nil {
		var doc chartDataDoc
		if err := json.Unmarshal([]byte(m[1]), &doc); err != nil {
			t.Fatal(err)
		}
		markers = string(files[strings.TrimPrefix(doc.Markers, "/")])
	}
	if !strings.Contains(markers, `"id":"deploy_suspect"`) || !strings.Contains(markers, suspect+` success · suspect:\nresponse time (p95) ×`) {
		t.Errorf("charts: the suspect %s is not flagged among the markers", suspect)
	}

	dora := string(files["dora/index.html"])
	// The suspects column follows the change failure rate's (the third figure) in each row.
	cell := regexp.MustCompile(`<a href="/products/` + id + `/#dora-tiles">[^<]*</a></th>(?:<td>.*?</td>){3}<td><a href="/products/` + id + `/#impact">([0-9]+)</a>`).FindStringSubmatch(dora)
	if cell == nil || cell[1] == "0" {
		t.Errorf("DORA page: no suspect count beside %s's change failure rate", id)
	}
}
