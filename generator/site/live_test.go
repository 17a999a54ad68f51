package site_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/site"
	"github.com/portfolio-report/portfolio/generator/store"
)

// liveFixture is the repository's config with `days` of demo history up to at and the sample
// alert state, less the alerts of drop (by fingerprint), plus extra.
func liveFixture(t testing.TB, days int, at time.Time, drop []string, extra ...alert.Alert) (*config.Config, *store.Store) {
	t.Helper()
	cfg := repoConfig(t)
	st := store.Open(filepath.Join(t.TempDir(), "data"))
	if err := demo.Generate(cfg, st, demo.Options{Seed: 1, Days: days, Now: at}); err != nil {
		t.Fatal(err)
	}
	state := sampleAlerts(cfg)
	var kept []alert.Alert
	for _, a := range state.Alerts {
		dropped := false
		for _, d := range drop {
			dropped = dropped || a.Fingerprint == d
		}
		if !dropped {
			kept = append(kept, a)
		}
	}
	state.Alerts = append(kept, extra...)
	state.LastRun = at
	if err := alert.Save(st, state); err != nil {
		t.Fatal(err)
	}
	return cfg, st
}

// probeDown is a firing critical alert that puts product id in partial outage.
func probeDown(id string, at time.Time) alert.Alert {
	return alert.Alert{Fingerprint: "live-" + id, Product: id, Rule: alert.RuleProbeDown, Severity: alert.Critical,
		Status: alert.Firing, Since: at.Add(-30 * time.Minute), FiringSince: at.Add(-30 * time.Minute),
		Value: 3, Threshold: 2, Unit: "failures", Summary: "Health endpoint failed 3 runs in a row"}
}

func buildInto(t testing.TB, out string, cfg *config.Config, st *store.Store, at time.Time) {
	t.Helper()
	if _, err := site.Build(context.Background(), site.Options{Config: cfg, Store: st, Out: out, Now: at}); err != nil {
		t.Fatal(err)
	}
}

type versionDoc struct {
	SchemaVersion int     `json:"schema_version"`
	DataAsOf      *string `json:"data_as_of"`
	Status        string  `json:"status"`
	Hash          string  `json:"hash"`
}

func readVersion(t *testing.T, files map[string][]byte) versionDoc {
	t.Helper()
	data, ok := files["api/version.json"]
	if !ok {
		t.Fatal("the site has no api/version.json")
	}
	var v versionDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("api/version.json: %v", err)
	}
	return v
}

// TestVersionDocument: api/version.json is one short line with the newest data's time, the
// portfolio's status and a hash that follows the site's content: same inputs, same bytes; new
// data or a new status, a new hash.
func TestVersionDocument(t *testing.T) {
	cfg, st := liveFixture(t, 3, now, nil)
	a := siteFiles(t, func() string { d, _ := build(t, cfg, st); return d }())
	b := siteFiles(t, func() string { d, _ := build(t, cfg, st); return d }())
	raw := a["api/version.json"]
	if !bytes.Equal(raw, b["api/version.json"]) {
		t.Errorf("two builds of the same data wrote different version documents:\n%s\n%s", raw, b["api/version.json"])
	}
	if n := bytes.Count(raw, []byte("\n")); n != 1 || !bytes.HasSuffix(raw, []byte("\n")) || len(raw) > 160 {
		t.Errorf("api/version.json is %d bytes on %d lines, want one line under 160 bytes: %s", len(raw), n, raw)
	}
	v := readVersion(t, a)
	var sum struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(a["api/summary.json"], &sum); err != nil {
		t.Fatal(err)
	}
	if v.SchemaVersion != site.APISchemaVersion || v.Status != sum.Status || v.DataAsOf == nil || *v.DataAsOf != now.Format(time.RFC3339) ||
		!regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(v.Hash) {
		t.Errorf("api/version.json = %s; want schema %d, status %q (the summary's), data_as_of %s, a 16-digit hex hash",
			raw, site.APISchemaVersion, sum.Status, now.Format(time.RFC3339))
	}

	t.Run("new status, new hash", func(t *testing.T) {
		cfg2, st2 := liveFixture(t, 3, now, nil, probeDown(cfg.Products[2].ID, now))
		c := readVersion(t, siteFiles(t, func() string { d, _ := build(t, cfg2, st2); return d }()))
		if c.Hash == v.Hash {
			t.Errorf("an alert more left the hash at %s", v.Hash)
		}
	})
	t.Run("new data, new hash and time", func(t *testing.T) {
		later := now.Add(time.Hour)
		cfg2, st2 := liveFixture(t, 3, later, nil)
		out := filepath.Join(t.TempDir(), "public")
		buildInto(t, out, cfg2, st2, later)
		c := readVersion(t, siteFiles(t, out))
		if c.Hash == v.Hash || c.DataAsOf == nil || *c.DataAsOf != later.Format(time.RFC3339) {
			t.Errorf("an hour more data: hash %s (before %s), data_as_of %v; want a new hash and %s", c.Hash, v.Hash, c.DataAsOf, later.Format(time.RFC3339))
		}
	})
}

// TestLiveHeaders: served like Pages (the handler reads the site's _headers), version.json is
// never cached and every other file has exactly one Cache-Control: the rules never overlap,
// since Pages would join their values.
func TestLiveHeaders(t *testing.T) {
	cfg, st := fixture(t, 3)
	dir, _ := build(t, cfg, st)
	srv := httptest.NewServer(site.Handler(dir))
	defer srv.Close()
	get := func(p string) *http.Response {
		t.Helper()
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if cc := get("/api/version.json").Header.Values("Cache-Control"); len(cc) != 1 || cc[0] != "max-age=0, must-revalidate" {
		t.Errorf("api/version.json Cache-Control %q, want only max-age=0, must-revalidate", cc)
	}
	for name := range siteFiles(t, dir) {
		if name == "_headers" {
			continue
		}
		resp := get("/" + name)
		cc := resp.Header.Values("Cache-Control")
		if len(cc) != 1 {
			t.Errorf("/%s has %d Cache-Control headers %q, want 1", name, len(cc), cc)
		}
		if strings.HasPrefix(name, "api/") && resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("/%s: no Access-Control-Allow-Origin: *", name)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "script-src 'self';") {
			t.Errorf("/%s: CSP %q, want script-src 'self' only", name, csp)
		}
	}
}

// TestFavicons: a favicon per status in its colour; the overview links its status's, every
// other page the plain one, and live.js learns the folder of all of them.
func TestFavicons(t *testing.T) {
	cfg, st := fixture(t, 3)
	dir, _ := build(t, cfg, st)
	files := siteFiles(t, dir)
	colours := map[string]string{"operational": "#18763a", "degraded": "#8a5a00", "partial_outage": "#b33f00",
		"major_outage": "#b42318", "maintenance": "#0a58ca", "unknown": "#57606a"}
	folder := regexp.MustCompile(`data-icons="(/static/favicons\.[0-9a-f]{10}/)"`).FindSubmatch(files["products/index.html"])
	if folder == nil {
		t.Fatal("products page: no live script naming the favicons' folder")
	}
	for s, c := range colours {
		svg, ok := files[strings.TrimPrefix(string(folder[1]), "/")+s+".svg"]
		if !ok || !bytes.Contains(svg, []byte(`fill="`+c+`"`)) {
			t.Errorf("favicon of %s: %q, want an SVG filled %s", s, svg, c)
		}
	}
	v := readVersion(t, files)
	if want := `<link rel="icon" href="` + string(folder[1]) + v.Status + `.svg"`; !bytes.Contains(files["index.html"], []byte(want)) {
		t.Errorf("overview: want %s", want)
	}
}

// TestLiveWithoutJavaScript: what the live layer adds to a page is inert without JavaScript:
// the stale banner hidden, the relative time and the announcements empty, no inline script;
// every page but the 404 page loads live.js.
func TestLiveWithoutJavaScript(t *testing.T) {
	cfg, st := fixture(t, 3)
	dir, _ := build(t, cfg, st)
	banner := regexp.MustCompile(`<div class="stale-banner"[^>]*>`)
	inline := regexp.MustCompile(`<script(?:\s+type="application/json"[^>]*)?>|<script\s[^>]*>[^<]`)
	for name, data := range siteFiles(t, dir) {
		if !strings.HasSuffix(name, ".html") {
			continue
		}
		page := string(data)
		if name == "404.html" {
			if strings.Contains(page, "live.js") || strings.Contains(page, "data-live-stale") {
				t.Errorf("%s: the 404 page has the live layer", name)
			}
			continue
		}
		if !regexp.MustCompile(`<script src="/static/js/live\.[0-9a-f]{10}\.js" data-version="/api/version\.json" data-icons="/static/favicons\.[0-9a-f]{10}/" defer></script>`).MatchString(page) {
			t.Errorf("%s: no deferred live.js with the version's URL and the favicons' folder", name)
		}
		if b := banner.FindString(page); !strings.HasSuffix(b, " hidden>") || !strings.Contains(b, `data-live-stale="2700"`) || !strings.Contains(b, `data-run-interval="15 min"`) {
			t.Errorf("%s: stale banner %q, want hidden, stale after 2700 s of a 15 min interval", name, b)
		}
		if !strings.Contains(page, `<div class="visually-hidden" aria-live="polite" data-live-announce=""></div>`) {
			t.Errorf("%s: no empty aria-live region", name)
		}
		if strings.Contains(page, "data-live-ago") && !strings.Contains(page, `<span class="ago" data-live-ago=""></span>`) {
			t.Errorf("%s: the relative time is not empty", name)
		}
		for _, m := range inline.FindAllString(page, -1) {
			if !strings.Contains(m, `type="application/json"`) {
				t.Errorf("%s: inline script %q", name, m)
			}
		}
	}
}

// TestLiveRunInterval: site.run_interval sets when the banner calls the data stale.
func TestLiveRunInterval(t *testing.T) {
	for _, tt := range []struct{ interval, stale, words string }{
		{"", "2700", "15 min"},
		{"5m", "900", "5 min"},
		{"1h", "10800", "1 h"},
		{"1h30m", "16200", "1 h 30 min"},
	} {
		t.Run(tt.interval, func(t *testing.T) {
			cfg, st := fixture(t, 1)
			cfg.Site.RunInterval = tt.interval
			dir, _ := build(t, cfg, st)
			page := string(siteFiles(t, dir)["dora/index.html"])
			if want := `data-live-stale="` + tt.stale + `" data-run-interval="` + tt.words + `"`; !strings.Contains(page, want) {
				t.Errorf("run_interval %q: want %s", tt.interval, want)
			}
		})
	}
}
