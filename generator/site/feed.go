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

const feedEntries = 50

// feed writes feed.xml: incidents opened and closed, and alert transitions, newest first.
func (b *build) feed(al *alertsView) error {
	host := "portfolio"
	if u, err := url.Parse(b.cfg.Site.BaseURL); err == nil && u.Host != "" {
		host = u.Host
	}
	tag := func(kind string, parts ...string) string {
		return "tag:" + host + ",2024:" + kind + "/" + strings.Join(parts, "/")
	}
	var entries []atomEntry
	for _, p := range b.products {
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
				Links:     []atomLink{{Href: b.absURL("/products/" + p.ID + "/"), Rel: "alternate", Type: "text/html"}},
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
	for _, t := range al.Transitions {
		at, _ := time.Parse(time.RFC3339, t.At.UTC)
		subject := t.Rule
		if t.Subject != "" {
			subject += " (" + t.Subject + ")"
		}
		e := atomEntry{
			Title:   atomText{Type: "text", Body: fmt.Sprintf("[%s] %s alert %s: %s → %s", t.ProductName, t.Severity, subject, t.From, t.To)},
			ID:      tag("alert", t.Fingerprint, t.At.UTC, t.To),
			Updated: t.At.UTC,
			Links:   []atomLink{{Href: b.absURL("/alerts/"), Rel: "alternate", Type: "text/html"}},
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
	f := atomFeed{
		Title:    b.cfg.Site.Title + ": incidents and alerts",
		Subtitle: b.statusLine(),
		ID:       tag("feed", "incidents-and-alerts"),
		Updated:  b.now.Format(time.RFC3339),
		Links: []atomLink{
			{Href: b.absURL("/feed.xml"), Rel: "self", Type: "application/atom+xml"},
			{Href: b.absURL("/"), Rel: "alternate", Type: "text/html"},
		},
		Author:  atomAuthor{Name: b.cfg.Site.Title},
		Entries: entries,
	}
	data, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("site: feed.xml: %w", err)
	}
	b.put("feed.xml", append(append([]byte(xml.Header), data...), '\n'))
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

// sitemap writes sitemap.xml of every page but the 404 page.
func (b *build) sitemap(pages []*page) error {
	var s sitemapURLSet
	for _, pg := range pages {
		if pg.Kind == "404" {
			continue
		}
		s.URLs = append(s.URLs, sitemapURL{Loc: b.absURL(pg.Link), LastMod: b.now.Format(time.RFC3339)})
	}
	data, err := xml.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("site: sitemap.xml: %w", err)
	}
	b.put("sitemap.xml", append(append([]byte(xml.Header), data...), '\n'))
	return nil
}

// headers is Cloudflare Pages' _headers: security headers everywhere; fingerprinted static
// files cached for a year; pages, API, badges and feed for five minutes (the data changes
// every run). Cache rules do not overlap, since Pages joins the values of every matching rule.
func (b *build) headers() []byte {
	var s strings.Builder
	p := b.base
	fmt.Fprintf(&s, "%s/*\n", p)
	s.WriteString("  Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'\n")
	s.WriteString("  X-Content-Type-Options: nosniff\n")
	s.WriteString("  Referrer-Policy: strict-origin-when-cross-origin\n")
	s.WriteString("  X-Frame-Options: DENY\n")
	s.WriteString("  Permissions-Policy: camera=(), microphone=(), geolocation=()\n")
	fmt.Fprintf(&s, "\n%s/static/*\n  Cache-Control: public, max-age=31536000, immutable\n", p)
	for _, path := range []string{"/", "/index.html", "/404.html", "/dora/*", "/products/*", "/alerts/*", "/feed.xml", "/sitemap.xml"} {
		fmt.Fprintf(&s, "\n%s%s\n  Cache-Control: public, max-age=300, must-revalidate\n", p, path)
	}
	fmt.Fprintf(&s, "\n%s/api/*\n  Cache-Control: public, max-age=300, must-revalidate\n  Access-Control-Allow-Origin: *\n", p)
	fmt.Fprintf(&s, "\n%s/badges/*\n  Cache-Control: public, max-age=300, must-revalidate\n  Access-Control-Allow-Origin: *\n", p)
	return []byte(s.String())
}
