package site

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/status"
)

// Atom (RFC 4287) of incidents and alert transitions, written with encoding/xml so every text
// is escaped.
type atomFeed struct {
	XMLName  xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title    string      `xml:"title"`
	Subtitle string      `xml:"subtitle,omitempty"`
	ID       string      `xml:"id"`
	Updated  string      `xml:"updated"`
	Links    []atomLink  `xml:"link"`
	Author   atomAuthor  `xml:"author"`
	Entries  []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	Title     atomText   `xml:"title"`
	ID        string     `xml:"id"`
	Updated   string     `xml:"updated"`
	Published string     `xml:"published,omitempty"`
	Links     []atomLink `xml:"link"`
	Category  *struct {
		Term string `xml:"term,attr"`
	} `xml:"category"`
	Content atomText `xml:"content"`
	sortKey time.Time
}

// feedEntries is the most entries a feed holds: the newest events of the last 90 days. At 200
// products, 200 entries cover a few days; at a few products, the whole 90.
const feedEntries = 200

// feedEvents are the Atom entries of the incidents and alert changes of the last 90 days
// (deployment notices left out: they are not alerts), each linking to its own place on the
// site: the incident on its product's page, the alert's row on its history page.
func (b *build) feedEvents(al *alertsView, tag func(string, ...string) string, product string) []atomEntry {
	var entries []atomEntry
	for _, p := range b.products {
		if product != "" && p.ID != product {
			continue
		}
		for _, inc := range p.data.incs {
			state := "open"
			updated := inc.CreatedAt
			if inc.ClosedAt != nil {
				state, updated = "closed", *inc.ClosedAt
			}
			if inc.ClosedAt != nil && updated.Before(b.now.Add(-history)) {
				continue
			}
			e := atomEntry{
				Title:     atomText{Type: "text", Body: fmt.Sprintf("[%s] %s incident #%d: %s", p.Name, state, inc.Number, inc.Title)},
				ID:        tag("incident", p.ID, fmt.Sprint(inc.Number)),
				Updated:   updated.UTC().Format(time.RFC3339),
				Published: inc.CreatedAt.UTC().Format(time.RFC3339),
				Links:     []atomLink{{Href: b.absURL(fmt.Sprintf("/products/%s/#incident-%d", p.ID, inc.Number)), Rel: "alternate", Type: "text/html"}},
				Content:   atomText{Type: "html", Body: string(b.md.RenderLinked(inc.Body, 0, inc.URL))},
				sortKey:   updated,
			}
			if SafeURL(inc.URL) && inc.URL != "" {
				e.Links = append(e.Links, atomLink{Href: inc.URL, Rel: "related"})
			}
			e.Category = &struct {
				Term string `xml:"term,attr"`
			}{"incident"}
			entries = append(entries, e)
		}
	}
	// The history page of each episode, by the fingerprint and the time it fired.
	page := map[string]string{}
	for _, m := range al.Months {
		for _, e := range m.Episodes {
			page[e.ID] = "/alerts/" + m.Key + "/#" + e.ID
		}
	}
	firing := map[string]time.Time{}
	for i := len(al.Transitions) - 1; i >= 0; i-- { // oldest first
		t := al.Transitions[i]
		at, _ := time.Parse(time.RFC3339, t.At.UTC)
		if t.To == "firing" {
			firing[t.Fingerprint] = at
		}
		if t.Rule == "deployment" || (product != "" && t.Product != product) {
			continue
		}
		subject := t.Rule
		if t.Subject != "" {
			subject += " (" + t.Subject + ")"
		}
		link := "/alerts/"
		if f, ok := firing[t.Fingerprint]; ok {
			if p, ok := page[episodeID(t.Fingerprint, f)]; ok {
				link = p
			}
		}
		e := atomEntry{
			Title:   atomText{Type: "text", Body: fmt.Sprintf("[%s] %s alert %s: %s → %s", t.ProductName, t.Severity, subject, t.From, t.To)},
			ID:      tag("alert", t.Fingerprint, t.At.UTC, t.To),
			Updated: t.At.UTC,
			Links:   []atomLink{{Href: b.absURL(link), Rel: "alternate", Type: "text/html"}},
			Content: atomText{Type: "text", Body: fmt.Sprintf("%s Value %s, threshold %s.", t.Summary, t.Value, t.Threshold)},
			sortKey: at,
		}
		e.Category = &struct {
			Term string `xml:"term,attr"`
		}{"alert"}
		entries = append(entries, e)
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if !entries[i].sortKey.Equal(entries[j].sortKey) {
			return entries[i].sortKey.After(entries[j].sortKey)
		}
		return entries[i].ID < entries[j].ID
	})
	if len(entries) > feedEntries {
		entries = entries[:feedEntries]
	}
	return entries
}

// feed writes feed.xml, the portfolio's incidents and alerts, and feeds/<product>.xml, each
// product's: the newest first, at most feedEntries of the last 90 days. A feed's updated time
// is its newest entry's, so a feed changes only when an entry does (or the status it names).
func (b *build) feed(al *alertsView) error {
	host := "portfolio"
	if u, err := url.Parse(b.cfg.Site.BaseURL); err == nil && u.Host != "" {
		host = u.Host
	}
	tag := func(kind string, parts ...string) string {
		return "tag:" + host + ",2024:" + kind + "/" + strings.Join(parts, "/")
	}
	write := func(name, title, subtitle, id, self, alt string, entries []atomEntry) error {
		updated := time.Unix(0, 0).UTC()
		if len(entries) > 0 {
			updated = entries[0].sortKey.UTC()
		}
		f := atomFeed{
			Title: title, Subtitle: subtitle, ID: id, Updated: updated.Format(time.RFC3339),
			Links: []atomLink{
				{Href: b.absURL(self), Rel: "self", Type: "application/atom+xml"},
				{Href: b.absURL(alt), Rel: "alternate", Type: "text/html"},
			},
			Author:  atomAuthor{Name: b.cfg.Site.Title},
			Entries: entries,
		}
		data, err := xml.MarshalIndent(f, "", "  ")
		if err != nil {
			return fmt.Errorf("site: %s: %w", name, err)
		}
		b.put(name, append(append([]byte(xml.Header), data...), '\n'))
		return nil
	}
	if err := write("feed.xml", b.cfg.Site.Title+": incidents and alerts", b.statusLine(), tag("feed", "incidents-and-alerts"),
		"/feed.xml", "/", b.feedEvents(al, tag, "")); err != nil {
		return err
	}
	for _, p := range b.products {
		sub := "Status: " + status.Label(p.Status) + "."
		if err := write("feeds/"+p.ID+".xml", p.Name+": incidents and alerts", sub, tag("feed", "product", p.ID),
			"/feeds/"+p.ID+".xml", "/products/"+p.ID+"/", b.feedEvents(al, tag, p.ID)); err != nil {
			return err
		}
	}
	return nil
}

// statusLine is the portfolio's status in a sentence, with every product that is not
// operational: "Status: 2 of 3 products degraded. Docs: degraded; Storefront: degraded."
func (b *build) statusLine() string {
	var statuses, worse []string
	for _, p := range b.products {
		statuses = append(statuses, p.Status)
		if p.Status != status.Operational {
			worse = append(worse, p.Name+": "+status.Label(p.Status))
		}
	}
	line := "Status: " + status.Headline(statuses) + "."
	if len(worse) > 0 && len(worse) <= 20 {
		line += " " + strings.Join(worse, "; ") + "."
	}
	return line
}

type sitemapURLSet struct {
	XMLName xml.Name     `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// sitemap writes sitemap.xml of every page but the 404 page, each with the time of its data
// as lastmod (none for a page without one), never the build's: a crawler then fetches what
// changed.
func (b *build) sitemap(pages []*page) error {
	var s sitemapURLSet
	for _, pg := range pages {
		if pg.Kind == "404" {
			continue
		}
		u := sitemapURL{Loc: b.absURL(pg.Link)}
		if pg.DataAsOf != nil {
			u.LastMod = pg.DataAsOf.UTC
		}
		s.URLs = append(s.URLs, u)
	}
	data, err := xml.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("site: sitemap.xml: %w", err)
	}
	b.put("sitemap.xml", append(append([]byte(xml.Header), data...), '\n'))
	return nil
}

// headers is Cloudflare Pages' _headers: security headers everywhere; fingerprinted static
// files and chart files cached for a year; pages, API, badges and feeds for five minutes (the
// data changes every run), feeds as application/atom+xml. Cache rules do not overlap, since
// Pages joins the values of every matching rule.
func (b *build) headers() []byte {
	var s strings.Builder
	p := b.base
	fmt.Fprintf(&s, "%s/*\n", p)
	s.WriteString("  Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'\n")
	s.WriteString("  X-Content-Type-Options: nosniff\n")
	s.WriteString("  Referrer-Policy: strict-origin-when-cross-origin\n")
	s.WriteString("  X-Frame-Options: DENY\n")
	s.WriteString("  Permissions-Policy: camera=(), microphone=(), geolocation=()\n")
	for _, path := range []string{"/static/*", "/data/*"} {
		fmt.Fprintf(&s, "\n%s%s\n  Cache-Control: public, max-age=31536000, immutable\n", p, path)
	}
	for _, path := range []string{"/", "/index.html", "/404.html", "/dora/*", "/products/*", "/alerts/*", "/digest/*", "/sitemap.xml", "/robots.txt"} {
		fmt.Fprintf(&s, "\n%s%s\n  Cache-Control: public, max-age=300, must-revalidate\n", p, path)
	}
	// Feeds as what they are (Pages would send .xml as application/xml).
	for _, path := range []string{"/feed.xml", "/feeds/*"} {
		fmt.Fprintf(&s, "\n%s%s\n  Content-Type: application/atom+xml; charset=utf-8\n  Cache-Control: public, max-age=300, must-revalidate\n", p, path)
	}
	// The API: every document may be read from anywhere; each is cached for 5 minutes but
	// api/version.json, which open pages poll and must see fresh. Pages joins the values of
	// every rule that matches, so the cache rules name the API's files and folders one by one
	// instead of api/*.
	fmt.Fprintf(&s, "\n%s/api/*\n  Access-Control-Allow-Origin: *\n", p)
	for _, path := range b.apiCachePaths() {
		fmt.Fprintf(&s, "\n%s%s\n  Cache-Control: public, max-age=300, must-revalidate\n", p, path)
	}
	fmt.Fprintf(&s, "\n%s/%s\n  Cache-Control: max-age=0, must-revalidate\n", p, versionFile)
	fmt.Fprintf(&s, "\n%s/badges/*\n  Cache-Control: public, max-age=300, must-revalidate\n  Access-Control-Allow-Origin: *\n", p)
	return []byte(s.String())
}

// robots is robots.txt: everything may be crawled, and the sitemap says what changed when.
func (b *build) robots() []byte {
	s := "User-agent: *\nAllow: /\n"
	if u, err := url.Parse(b.cfg.Site.BaseURL); err == nil && u.Host != "" {
		s += "Sitemap: " + b.absURL("/sitemap.xml") + "\n"
	}
	return []byte(s)
}
