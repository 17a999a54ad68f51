package site_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/site"
	"github.com/portfolio-report/portfolio/generator/store"
)

// goldenPages are the files compared with testdata/golden: one page of each type, and the
// other kinds of output.
var goldenPages = []string{
	"index.html", "products/index.html", "dora/index.html", "products/storefront/index.html", "products/docs/index.html",
	"products/storefront/days/index.html", "alerts/index.html", "alerts/2026-06/index.html", "404.html",
	"api/summary.json", "api/products/storefront.json", "api/products/storefront/days.json", "api/alerts.json", "api/dora.json", "api/alerts/2026-06-29.json",
	"feed.xml", "feeds/storefront.xml", "sitemap.xml", "robots.txt", "_headers", "badges/storefront/uptime.svg", "badges/storefront/status.json",
	"digest/index.html", "digest/2026-06-29/index.html", "api/digest/index.json", "api/digest/2026-06-29.json",
}

// TestGolden compares one page of each type with testdata/golden/ (3 days of demo data keep the
// files small). Refresh with: go test ./generator/site -run TestGolden -update
func TestGolden(t *testing.T) {
	cfg, st := fixture(t, 3)
	dir, _ := build(t, cfg, st)
	files := siteFiles(t, dir)
	golden := filepath.Join("testdata", "golden")
	if *update {
		if err := os.RemoveAll(golden); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range goldenPages {
		t.Run(name, func(t *testing.T) {
			got, ok := files[name]
			if !ok {
				t.Fatalf("the site has no %s", name)
			}
			file := filepath.Join(golden, filepath.FromSlash(name))
			if *update {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run with -update and read the diff):\n%s", name, file, firstDiff(want, got))
			}
		})
	}
}

// firstDiff shows the first differing line.
func firstDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant: %.300s\ngot:  %.300s", i+1, a, b)
		}
	}
	return "(same lines)"
}

// TestDeterministic builds the same data at the same now twice: the sites must be identical,
// byte for byte. A second build into the same folder replaces it whole (no stale files).
func TestDeterministic(t *testing.T) {
	cfg, st := fixture(t, 14)
	dir1, res := build(t, cfg, st)
	dir2, _ := build(t, cfg, st)
	a, b := siteFiles(t, dir1), siteFiles(t, dir2)
	if len(a) != len(b) || len(a) != res.Files {
		t.Fatalf("builds wrote %d and %d files, Result says %d", len(a), len(b), res.Files)
	}
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s differs between two builds:\n%s", name, firstDiff(data, b[name]))
		}
	}

	stale := filepath.Join(dir1, "products", "gone", "index.html")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := site.Build(context.Background(), site.Options{Config: cfg, Store: st, Out: dir1, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a file of the previous site is still there after a rebuild: %v", err)
	}
	if c := siteFiles(t, dir1); len(c) != len(a) {
		t.Errorf("rebuild has %d files, want %d", len(c), len(a))
	}
	entries, _ := os.ReadDir(filepath.Dir(dir1))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("temporary folders left beside the site: %v", names)
	}
}

// TestBuildRefuses checks that a failed build leaves the previous site, and that a folder that
// is not a built site is never replaced.
func TestBuildRefuses(t *testing.T) {
	cfg, st := fixture(t, 2)
	tests := []struct {
		name    string
		prepare func(t *testing.T, out string) site.Options
		wantErr string
	}{
		{"a folder with other files", func(t *testing.T, out string) site.Options {
			os.MkdirAll(out, 0o755)
			os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644)
			return site.Options{Config: cfg, Store: st, Out: out, Now: now}
		}, "holds files but no built site"},
		{"no now", func(t *testing.T, out string) site.Options {
			return site.Options{Config: cfg, Store: st, Out: out}
		}, "no now"},
		{"a product id too long for a file name", func(t *testing.T, out string) site.Options {
			c := *cfg
			c.Products = append([]config.Product{{ID: strings.Repeat("a", 300), Name: "Long"}}, cfg.Products...)
			return site.Options{Config: &c, Store: st, Out: out, Now: now}
		}, "want a lowercase slug of at most 63 characters"},
		{"a base URL that would add a line to _headers", func(t *testing.T, out string) site.Options {
			c := *cfg
			c.Site.BaseURL = "https://status.example.com/x%0d%0aAccess-Control-Allow-Origin:%20*"
			return site.Options{Config: &c, Store: st, Out: out, Now: now}
		}, "would break _headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "public")
			opts := tt.prepare(t, out)
			before := snapshotDir(t, out)
			_, err := site.Build(context.Background(), opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if after := snapshotDir(t, out); after != before {
				t.Errorf("the output folder changed after a failed build")
			}
		})
	}
}

// TestDamagedDataHurtsOneProduct damages a file of two products: the build succeeds, the two
// product pages say which file and line, the other pages are as they were.
func TestDamagedDataHurtsOneProduct(t *testing.T) {
	cfg, st := fixture(t, 2)
	good, _ := build(t, cfg, st)
	incidents := filepath.Join(st.Dir(), "products", "storefront", "incidents.json")
	os.WriteFile(incidents, []byte(`{"schema_version":1,"kind":"incidents","data":[`), 0o644)
	logs, _ := filepath.Glob(filepath.Join(st.Dir(), "snapshots", "*", "docs.*.jsonl"))
	sort.Strings(logs)
	dayLog := logs[len(logs)-1]
	b, _ := os.ReadFile(dayLog)
	os.WriteFile(dayLog, append(b, "garbage\n"...), 0o644)
	lines := strings.Count(string(b), "\n") + 1

	dir, res := build(t, cfg, st)
	if len(res.Damaged) != 2 || res.Damaged[0].Product != "storefront" || res.Damaged[1].Product != "docs" {
		t.Fatalf("Result.Damaged = %+v, want storefront and docs", res.Damaged)
	}
	for _, c := range []struct{ page, want string }{
		{"products/storefront/index.html", "data damaged: " + incidents + ":1: "},
		{"products/docs/index.html", fmt.Sprintf("data damaged: %s:%d: malformed JSON", dayLog, lines)},
	} {
		page, _ := os.ReadFile(filepath.Join(dir, c.page))
		if !strings.Contains(string(page), c.want) {
			t.Errorf("%s does not say %q", c.page, c.want)
		}
	}
	// The header and footer count the portfolio's stale sources (docs' are now unknown): the
	// main part of the page is the product's own.
	main := regexp.MustCompile(`(?s)<main.*</main>`)
	a, _ := os.ReadFile(filepath.Join(good, "products", "payments-api", "index.html"))
	b2, _ := os.ReadFile(filepath.Join(dir, "products", "payments-api", "index.html"))
	a, b2 = main.Find(a), main.Find(b2)
	if len(a) == 0 || !bytes.Equal(a, b2) {
		t.Errorf("the page of a product whose data is whole changed:\n%s", firstDiff(a, b2))
	}
}

func snapshotDir(t *testing.T, dir string) string {
	if _, err := os.Stat(dir); err != nil {
		return "absent"
	}
	files := siteFiles(t, dir)
	names := make([]string, 0, len(files))
	for n, d := range files {
		names = append(names, fmt.Sprintf("%s:%d", n, len(d)))
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

var attrURL = regexp.MustCompile(`(?i)\s(?:href|src|action|formaction|xlink:href)\s*=\s*"([^"]*)"`)

// checkInertHTML fails on anything in an HTML document that could run a script other than the
// site's own files: a script element that is neither a static file nor JSON data, an event
// handler attribute, or an unsafe URL.
func checkInertHTML(t *testing.T, where, doc string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(doc))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		attrs := map[string]string{}
		for _, a := range tok.Attr {
			attrs[strings.ToLower(a.Key)] = a.Val
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				t.Errorf("%s: <%s> has an event handler %s=%q", where, tok.Data, a.Key, a.Val)
			}
			switch strings.ToLower(a.Key) {
			case "href", "src", "action", "formaction", "xlink:href":
				if !site.SafeURL(a.Val) {
					t.Errorf("%s: <%s %s=%q> is not a safe URL", where, tok.Data, a.Key, a.Val)
				}
			}
		}
		switch tok.Data {
		case "script":
			src, isSrc := attrs["src"]
			if !(isSrc && strings.HasPrefix(src, "/static/js/")) && attrs["type"] != "application/json" {
				t.Errorf("%s: a script that is neither a static file nor JSON: %s", where, tok.String())
			}
		case "iframe", "object", "embed", "base", "form":
			if tok.Data != "form" || attrs["action"] != "" {
				t.Errorf("%s: unexpected <%s>", where, tok.Data)
			}
		}
	}
}

// TestXSS builds a site whose data holds hostile text (an incident titled <script>, a body
// with raw HTML and javascript: links in several disguises, an alert summary with a tag) and
// checks that every page, the feed and the API keep it inert.
func TestXSS(t *testing.T) {
	cfg, st := fixture(t, 2)
	dir, _ := build(t, cfg, st)
	files := siteFiles(t, dir)
	for name, data := range files {
		if strings.HasPrefix(name, "static/") {
			continue
		}
		s := string(data)
		if strings.Contains(s, "<script>alert") || strings.Contains(strings.ToLower(s), "<img src=x") {
			t.Errorf("%s holds the hostile markup unescaped", name)
		}
		switch {
		case strings.HasSuffix(name, ".html"):
			checkInertHTML(t, name, s)
		case strings.HasSuffix(name, ".json"):
			if strings.Contains(s, "<") || strings.Contains(s, ">") {
				t.Errorf("%s holds a raw < or >: JSON text is escaped", name)
			}
		}
	}
	// The product page shows the title as text.
	page := string(files["products/storefront/index.html"])
	if !strings.Contains(page, "#9999 &lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the product page does not show the hostile incident title as text")
	}
	for _, bad := range []string{"alert(4)", "alert(5)", "alert(6)", "alert(7)", "alert(9)", "alert(10)", "alert(11)"} {
		if m := regexp.MustCompile(`(?i)href="[^"]*` + regexp.QuoteMeta(bad)).FindString(page); m != "" {
			t.Errorf("a link to %s survived: %s", bad, m)
		}
	}
	if !strings.Contains(page, `href="https://example.com/ok"`) {
		t.Errorf("the safe link of the incident body is gone")
	}

	// The feed: its HTML content is what a feed reader renders.
	var feed struct {
		Entries []struct {
			Title   string `xml:"title"`
			Content struct {
				Type string `xml:"type,attr"`
				Body string `xml:",chardata"`
			} `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(files["feed.xml"], &feed); err != nil {
		t.Fatal(err)
	}
	found := false
	for i, e := range feed.Entries {
		switch e.Content.Type {
		case "html":
			checkInertHTML(t, fmt.Sprintf("feed.xml entry %d content", i), e.Content.Body)
		case "text": // shown as typed
		default:
			t.Errorf("feed.xml entry %d: content type %q, want html or text", i, e.Content.Type)
		}
		if strings.Contains(e.Title, xssTitle) {
			found = true // the title is text (type="text"), shown as typed
		}
	}
	if !found {
		t.Errorf("feed.xml has no entry for the hostile incident")
	}

	// The API keeps the text as data.
	var api struct {
		Incidents []struct{ Title, URL string } `json:"incidents"`
	}
	if err := json.Unmarshal(files["api/products/storefront.json"], &api); err != nil {
		t.Fatal(err)
	}
	ok := false
	for _, i := range api.Incidents {
		if i.Title == xssTitle {
			ok = true
			if i.URL != "" {
				t.Errorf("the API kept the incident's javascript: URL %q", i.URL)
			}
		}
	}
	if !ok {
		t.Errorf("api/products/storefront.json lost the incident title")
	}
}

// TestLinks checks that every href and src of every page resolves to a file of the site, and
// that every #fragment names an element of its page.
func TestLinks(t *testing.T) {
	cfg, st := fixture(t, 7)
	dir, _ := build(t, cfg, st)
	files := siteFiles(t, dir)
	ids := map[string]map[string]bool{}
	idsOf := func(file string) map[string]bool {
		if m, ok := ids[file]; ok {
			return m
		}
		m := map[string]bool{}
		for _, x := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllStringSubmatch(string(files[file]), -1) {
			m[html.UnescapeString(x[1])] = true
		}
		ids[file] = m
		return m
	}
	checked := 0
	for name, data := range files {
		if !strings.HasSuffix(name, ".html") {
			continue
		}
		for _, m := range attrURL.FindAllStringSubmatch(string(data), -1) {
			raw := html.UnescapeString(m[1])
			u, err := url.Parse(raw)
			if err != nil {
				t.Errorf("%s: bad URL %q", name, raw)
				continue
			}
			if u.Scheme != "" || u.Host != "" {
				continue // external
			}
			target := name
			if u.Path != "" {
				p := u.Path
				if !strings.HasPrefix(p, "/") {
					p = path.Join(path.Dir("/"+name), p)
					if strings.HasSuffix(u.Path, "/") {
						p += "/"
					}
				}
				if strings.HasSuffix(p, "/") {
					p += "index.html"
				}
				target = strings.TrimPrefix(p, "/")
			}
			checked++
			if _, ok := files[target]; !ok {
				t.Errorf("%s: link %q: no file %s in the site", name, raw, target)
				continue
			}
			if u.Fragment != "" && strings.HasSuffix(target, ".html") && !idsOf(target)[u.Fragment] {
				t.Errorf("%s: link %q: %s has no element with id %q", name, raw, target, u.Fragment)
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d internal links checked: is the link pattern broken?", checked)
	}
}

// TestBudgets builds the committed-style demo data (90 days) and holds the product pages to
// 150 KB of HTML. It prints the sizes.
func TestBudgets(t *testing.T) {
	cfg, st := fixture(t, 90)
	dir, res := build(t, cfg, st)
	files := siteFiles(t, dir)
	t.Logf("demo site: %d pages, %d files, %d bytes", res.Pages, res.Files, res.Bytes)
	const budget = 150 << 10
	for _, p := range cfg.Products {
		name := "products/" + p.ID + "/index.html"
		n := len(files[name])
		t.Logf("%s: %.1f KB of HTML (budget 150 KB)", name, float64(n)/1024)
		if n > budget {
			t.Errorf("%s is %d bytes, over the budget of %d", name, n, budget)
		}
	}
	for _, name := range []string{"index.html", "dora/index.html", "alerts/index.html"} {
		t.Logf("%s: %.1f KB", name, float64(len(files[name]))/1024)
	}
}

// TestDemoBanner shows the banner on every page of demo data, and on none otherwise.
func TestDemoBanner(t *testing.T) {
	cfg, st := fixture(t, 1)
	dir, _ := build(t, cfg, st)
	files := siteFiles(t, dir)
	for name, data := range files {
		if strings.HasSuffix(name, ".html") && !bytes.Contains(data, []byte(`class="demo-banner"`)) {
			t.Errorf("%s has no demo banner", name)
		}
	}
	if err := st.SaveMeta(store.Meta{Generator: "collect"}); err != nil {
		t.Fatal(err)
	}
	dir, _ = build(t, cfg, st)
	files = siteFiles(t, dir)
	for name, data := range files {
		if strings.HasSuffix(name, ".html") && bytes.Contains(data, []byte(`class="demo-banner"`)) {
			t.Errorf("%s has the demo banner on real data", name)
		}
	}
}

// TestProductWithoutData shows a product that has no history yet: unknown status, empty
// charts that say so, every source never seen, and a page that still links correctly.
func TestProductWithoutData(t *testing.T) {
	cfg, st := fixture(t, 2)
	p := cfg.Products[2]
	p.ID, p.Name, p.Group = "newbie", "Newbie <b>beta</b>", ""
	cfg.Products = append(cfg.Products, p)
	dir, _ := build(t, cfg, st)
	page := string(siteFiles(t, dir)["products/newbie/index.html"])
	for _, want := range []string{
		"Newbie &lt;b&gt;beta&lt;/b&gt;",
		`status-unknown`,
		"No data for this range.",
		"No deployments recorded.",
		"stale: no data yet",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page of a product without data lacks %q", want)
		}
	}
	if strings.Contains(page, `class="chart"`) {
		t.Errorf("a product without data has a chart container; want the no-data text")
	}
	overview := string(siteFiles(t, dir)["index.html"])
	if !strings.Contains(overview, `<h3 class="group">Other</h3>`) {
		t.Errorf("a product without a group is not listed under Other")
	}
}

// TestBuildRemovesLeftoversOfAKilledBuild: a build killed before its swap leaves its new site and
// possibly the previous one moved aside; the next build removes both, but not a folder of a
// build still running in another process.
func TestBuildRemovesLeftoversOfAKilledBuild(t *testing.T) {
	cfg, st := fixture(t, 2)
	parent := t.TempDir()
	out := filepath.Join(parent, "public")
	dead := []string{".public.new-2147483000-123", ".public.new-2147483000-123.old", ".public.new-123"}
	for _, d := range append(dead, ".public.new-1-999") { // pid 1 is alive
		os.MkdirAll(filepath.Join(parent, d), 0o755)
		os.WriteFile(filepath.Join(parent, d, "index.html"), []byte("old"), 0o644)
	}
	if _, err := site.Build(context.Background(), site.Options{Config: cfg, Store: st, Out: out, Now: now}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(parent)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != ".public.new-1-999 public" {
		t.Errorf("beside the site: %s, want only public and the live build's folder", got)
	}
}
