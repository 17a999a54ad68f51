// Package initconfig proposes a portfolio.json from what an organisation's repositories, its
// Cloudflare zones and its PostHog project really hold (portfolio init): one product per
// non-archived repository, its deploy source, incident label and homepage, the zone that
// serves the homepage and the PostHog host it reports under. Every guess comes with the
// reason for it, printed beside the file rather than stored in it (the schema has no place
// for notes). See docs/getting-started.md.
package initconfig

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/portfolio-report/portfolio/generator/cloudflare"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/repos"
	"github.com/portfolio-report/portfolio/generator/source/posthog"
)

// Options say whose repositories to read and with which clients.
type Options struct {
	// Org is an organisation (or a user) whose non-archived repositories become products.
	Org string
	// Repos are the repositories ("owner/name") to make products of instead; archived ones
	// are kept when named.
	Repos []string

	GitHub *repos.Client // required
	// Cloudflare, when set, finds the zone that serves each product's URL (within
	// CloudflareAccount when that is set). CloudflareSkip says why it is not set.
	Cloudflare        *cloudflare.Client
	CloudflareAccount string
	CloudflareSkip    string
	// PostHog, when set, finds the hosts the project saw events from. PostHogSkip says why it
	// is not set.
	PostHog     *posthog.Source
	PostHogSkip string

	Now         time.Time
	Concurrency int // repositories read at once; default 4 (GitHub asks for little concurrency)
	Log         *slog.Logger
}

// Windows the guesses look back over.
const (
	// RunWindow is how far back deploy workflow runs are counted.
	RunWindow = 90 * 24 * time.Hour
	// HostWindow is how far back PostHog hosts are read.
	HostWindow = 7 * 24 * time.Hour
)

// Proposal is a proposed portfolio.json with the reasons for it.
type Proposal struct {
	Document Document
	// Products holds, in the document's order, each product's reasons.
	Products []ProductReasons
	// Skipped lists the repositories left out, and why.
	Skipped []Skipped
	// Notes are what applies to the whole proposal: a source not consulted, hosts nobody claims.
	Notes []string
}

// ProductReasons are the reasons behind one proposed product.
type ProductReasons struct {
	ID, Repository string
	Reasons        []Reason
}

// Reason explains one field of a product: what was found, and what it means.
type Reason struct {
	Field string // the product's field, like deploy or cloudflare.zone_id
	Why   string
}

// Skipped is a repository that is not proposed as a product.
type Skipped struct {
	Repository, Why string
}

// repo is what a repository list says of one repository.
type repo struct {
	full, name, description, homepage, defaultBranch string
	archived, fork                                   bool
}

// Propose reads the repositories and the other sources and proposes a config.
func Propose(ctx context.Context, o Options) (*Proposal, error) {
	if o.GitHub == nil {
		return nil, errors.New("init: no GitHub client")
	}
	if o.Org == "" && len(o.Repos) == 0 {
		return nil, errors.New("init: want --org ORG or --repos owner/name,…")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC()
	}
	p := &Proposal{}
	list, err := listRepos(ctx, o)
	if err != nil {
		return nil, err
	}
	var keep []repo
	for _, r := range list {
		if r.archived && o.Org != "" {
			p.Skipped = append(p.Skipped, Skipped{r.full, "archived"})
			continue
		}
		keep = append(keep, r)
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("init: %s has no repository to make a product of (%d archived)", cmp.Or(o.Org, strings.Join(o.Repos, ", ")), len(p.Skipped))
	}

	zones, zoneNote := readZones(ctx, o)
	hosts, hostNote := readHosts(ctx, o)
	p.Notes = append(p.Notes, zoneNote, hostNote)

	found := make([]productGuess, len(keep))
	pl := pool.New().WithMaxGoroutines(o.Concurrency)
	for i, r := range keep {
		pl.Go(func() { found[i] = guessProduct(ctx, o, r) })
	}
	pl.Wait()

	ids := map[string]int{}
	claimed := map[string]bool{}
	for i := range found {
		g := &found[i]
		g.doc.ID = uniqueID(slug(keep[i].name), ids)
		if host := hostOf(g.doc.URL); host != "" {
			g.guessZone(host, zones)
			if g.guessHost(host, hosts) {
				claimed[host] = true
			}
		}
		p.Document.Products = append(p.Document.Products, g.doc)
		p.Products = append(p.Products, ProductReasons{ID: g.doc.ID, Repository: keep[i].full, Reasons: g.reasons})
	}
	if n := unclaimedHosts(hosts, claimed); n != "" {
		p.Notes = append(p.Notes, n)
	}
	p.Notes = slices.DeleteFunc(p.Notes, func(s string) bool { return s == "" })
	p.Document.Schema = "./portfolio.schema.json"
	p.Document.Site.Title = cmp.Or(o.Org, ownerOf(keep[0].full)) + " portfolio"
	return p, nil
}

// productGuess is one product being proposed.
type productGuess struct {
	doc     Product
	reasons []Reason
}

func (g *productGuess) say(field, format string, args ...any) {
	g.reasons = append(g.reasons, Reason{Field: field, Why: fmt.Sprintf(format, args...)})
}

// guessProduct reads one repository: its deploy source, incident label and homepage.
func guessProduct(ctx context.Context, o Options, r repo) productGuess {
	g := productGuess{doc: Product{Name: r.name, Repository: r.full, Description: firstLine(r.description)}}
	if r.archived {
		g.say("repository", "%s is archived: kept because --repos names it", r.full)
	}
	if r.fork {
		g.say("repository", "%s is a fork: drop it if it is not a product of yours", r.full)
	}
	u, why := homepageURL(r.homepage)
	g.say("url", "%s", why)
	if u != "" {
		g.doc.URL, g.doc.HealthEndpoint = u, "/"
		g.say("health_endpoint", "the home page, so uptime is measured from the first run: name the product's health endpoint (like /healthz) when it has one")
	}
	g.guessDeploy(ctx, o, r)
	g.guessLabel(ctx, o, r)
	return g
}

// homepageURL is the repository's homepage as a product URL, and why.
func homepageURL(home string) (string, string) {
	home = strings.TrimSpace(home)
	if home == "" {
		return "", "no homepage on GitHub: set url to probe the product and match its Cloudflare zone and PostHog host"
	}
	u, err := url.Parse(home)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Hostname() != "" && u.User == nil {
		return home, "the repository's homepage on GitHub"
	}
	if err == nil && u.Scheme == "" {
		if v, err := url.Parse("https://" + home); err == nil && v.Hostname() != "" && v.User == nil && !strings.ContainsAny(home, " \t") {
			return v.String(), fmt.Sprintf("the repository's homepage on GitHub, %q, with https:// added", home)
		}
	}
	return "", fmt.Sprintf("the homepage on GitHub, %q, is not an http(s) URL: set url by hand", home)
}

// hostOf is the host name of an http(s) URL, lowercase; "" when there is none.
func hostOf(u string) string {
	v, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(v.Hostname(), "."))
}

func ownerOf(full string) string {
	o, _, _ := strings.Cut(full, "/")
	return o
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 300 {
		s = string(r[:299]) + "…"
	}
	return s
}

var notSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slug is a product id made of a repository name: lowercase letters and digits in
// dash-separated runs, as the schema wants.
func slug(name string) string {
	s := strings.Trim(notSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
	// A repository name may be 100 characters; an id at most config.MaxProductIDLength, with
	// room for uniqueID's "-2".
	if len(s) > config.MaxProductIDLength-4 {
		s = strings.TrimRight(s[:config.MaxProductIDLength-4], "-")
	}
	if s == "" {
		return "product"
	}
	return s
}

// uniqueID is id, or id-2, id-3… when taken.
func uniqueID(id string, taken map[string]int) string {
	n := taken[id]
	taken[id]++
	if n == 0 {
		return id
	}
	for {
		c := fmt.Sprintf("%s-%d", id, n+1)
		if taken[c] == 0 {
			taken[c]++
			return c
		}
		n++
	}
}
