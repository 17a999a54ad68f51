// Package site renders the static website from the config and the data: the overview, the DORA
// dashboard, a page per product, the alerts center, a JSON API, badges, an Atom feed, a sitemap,
// a 404 page and Cloudflare Pages' _headers. Templates come from templates/ and static files
// from static/ of an fs.FS (embedded by default). Charts are go-echarts options rendered as JSON
// and drawn by static/js/charts.js: no inline script, so the CSP allows scripts from 'self' only.
//
// The output is a function of the config, the data and now: the same inputs give a
// byte-identical site.
package site

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sourcegraph/conc/iter"

	portfolio "github.com/portfolio-report/portfolio"
	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/store"
)

// Options configure a build.
type Options struct {
	Config *config.Config
	Store  *store.Store
	Out    string    // the folder the site is written to; replaced whole
	Now    time.Time // the clock: "data as of", windows, ages
	FS     fs.FS     // holds templates/ and static/; default portfolio.Files
	Log    *slog.Logger
	// Redactor replaces any secret that reached the data before a file is written (nil: none).
	Redactor *redact.Redactor
}

// Result counts what a build wrote.
type Result struct {
	Pages int   // HTML pages
	Files int   // every file, pages included
	Bytes int64 // their total size
	// Damaged lists the damaged data files left out, one "data damaged: file:line: …" each,
	// by product: their pages say so, the rest of the site is whole.
	Damaged []Damaged
}

// Damaged is one product's damaged data, as its page shows it.
type Damaged struct {
	Product string
	Text    string
}

// build is the state of one build.
type build struct {
	opts   Options
	cfg    *config.Config
	now    time.Time
	loc    *time.Location
	base   string // path prefix of the site from site.base_url, "" or "/sub"
	md     *markdown
	assets map[string]string // static name ("css/site.css") → fingerprinted URL path
	// faviconDir is the folder of the favicon of each status, "/static/favicons.<hash>/".
	faviconDir string
	meta       store.Meta

	products   []*productView
	byID       map[string]*productView
	alerts     *alertsView
	alertState alert.State // data/alerts.json as read, for the products' statuses
	// alertsFound says data/alerts.json exists: an alert evaluation has run.
	alertsFound bool
	digests     *digestState // the weekly digests (digest.go)

	mu    sync.Mutex
	files map[string][]byte // site path → content
}

// Build renders the site into opts.Out. The site is written into a fresh folder beside Out and
// swapped in when complete, so a failed build leaves the previous site as it was, and files of
// the previous site that the new one lacks are gone.
func Build(ctx context.Context, opts Options) (Result, error) {
	b, err := newBuild(opts)
	if err != nil {
		return Result{}, err
	}
	if err := b.render(ctx); err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	res, err := b.write(opts.Out)
	if err != nil {
		return Result{}, err
	}
	for _, p := range b.products {
		for _, t := range p.Damaged {
			res.Damaged = append(res.Damaged, Damaged{Product: p.ID, Text: t})
		}
	}
	b.opts.Log.Debug("site built", "out", opts.Out, "pages", res.Pages, "files", res.Files, "bytes", res.Bytes)
	return res, nil
}

func newBuild(opts Options) (*build, error) {
	if opts.Config == nil {
		return nil, errors.New("site: no config")
	}
	if opts.Store == nil {
		return nil, errors.New("site: no store")
	}
	if opts.Now.IsZero() {
		return nil, errors.New("site: no now given")
	}
	if opts.FS == nil {
		opts.FS = portfolio.Files
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	b := &build{
		opts:  opts,
		cfg:   opts.Config,
		now:   opts.Now.UTC(),
		loc:   opts.Config.Site.Location(),
		md:    newMarkdown(),
		files: map[string][]byte{},
		byID:  map[string]*productView{},
	}
	if u, err := url.Parse(opts.Config.Site.BaseURL); err == nil {
		b.base = strings.TrimRight(u.Path, "/")
	}
	// config.Load refuses both; a config built in code is checked here, before a product's id
	// becomes a path and the base path a line of _headers.
	if config.UnsafeURLText(opts.Config.Site.BaseURL) || strings.ContainsAny(b.base, " \t") {
		return nil, fmt.Errorf("site: site.base_url %q holds a control character, an encoded line break or a space: it would break _headers", opts.Config.Site.BaseURL)
	}
	for _, p := range opts.Config.Products {
		if !config.ValidProductID(p.ID) {
			return nil, fmt.Errorf("site: product id %.70q: want a lowercase slug of at most %d characters (it names files and folders)", p.ID, config.MaxProductIDLength)
		}
	}
	return b, nil
}

// render computes every page and file into b.files.
func (b *build) render(ctx context.Context) error {
	var err error
	if b.meta, err = b.opts.Store.Meta(); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	if err := b.loadAssets(); err != nil {
		return err
	}
	b.favicons()
	tpl, err := b.parseTemplates()
	if err != nil {
		return err
	}
	if b.alertState, b.alertsFound, err = alert.LoadFile(b.opts.Store); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	b.startDigests()
	// Each product is read and computed on its own goroutine; results keep config order.
	b.products, err = iter.MapErr(b.cfg.Products, func(p *config.Product) (*productView, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d, err := loadProduct(b, *p)
		if err != nil {
			return nil, err
		}
		if len(d.damaged) == 0 {
			d.observed = map[string]alert.Observation{}
			for _, o := range alert.Rules(alert.ProductInput{Product: *p, Snapshots: d.snaps, Deployments: d.deps}, d.at) {
				if !o.NoData {
					d.observed[o.Fingerprint()] = o
				}
			}
		}
		v := b.productView(d)
		b.summarizeDigests(d)
		d.snaps, d.long = nil, nil // computed: the pages need the figures, not 90 days of snapshots
		return v, nil
	})
	if err != nil {
		return fmt.Errorf("site: %w", err)
	}
	for _, p := range b.products {
		b.byID[p.ID] = p
	}
	b.finishDigests()
	al, err := b.loadAlerts()
	if err != nil {
		return fmt.Errorf("site: %w", err)
	}
	dv := b.doraView()
	pages := b.pages(dv, al)
	errs := make([]error, len(pages))
	iter.ForEachIdx(pages, func(i int, pp **page) {
		pg := *pp
		if ctx.Err() != nil {
			errs[i] = ctx.Err()
			return
		}
		data, err := tpl.render(pg)
		if err != nil {
			errs[i] = fmt.Errorf("site: %s: %w", pg.Path, err)
			return
		}
		b.put(pg.Path, data)
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := b.api(dv, al); err != nil {
		return err
	}
	if err := b.digestAPI(); err != nil {
		return err
	}
	b.badges()
	if err := b.feed(al); err != nil {
		return err
	}
	if err := b.sitemap(pages); err != nil {
		return err
	}
	b.put("_headers", b.headers())
	b.put("robots.txt", b.robots())
	return b.version() // last: it hashes every other file
}

// put adds a file to the site.
func (b *build) put(name string, data []byte) {
	data = b.opts.Redactor.Bytes(data)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.files[name] = data
}

// url is the site path p ("/dora/") under the base URL's path.
func (b *build) url(p string) string { return b.base + p }

// absURL is the absolute URL of site path p, for the feed and the sitemap.
func (b *build) absURL(p string) string {
	base := strings.TrimRight(b.cfg.Site.BaseURL, "/")
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return p
	}
	return strings.TrimSuffix(base, b.base) + b.url(p)
}

// write puts the files into a new folder beside out and swaps it in.
func (b *build) write(out string) (Result, error) {
	out = filepath.Clean(out)
	if err := checkOut(out); err != nil {
		return Result{}, err
	}
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return Result{}, fmt.Errorf("site: %w", err)
	}
	removeLeftovers(parent, filepath.Base(out))
	tmp, err := os.MkdirTemp(parent, fmt.Sprintf(".%s.new-%d-", filepath.Base(out), os.Getpid()))
	if err != nil {
		return Result{}, fmt.Errorf("site: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		_ = os.RemoveAll(tmp)
		return Result{}, fmt.Errorf("site: %w", err)
	}
	names := make([]string, 0, len(b.files))
	for n := range b.files {
		names = append(names, n)
	}
	sort.Strings(names)
	var res Result
	errs := make([]error, len(names))
	iter.ForEachIdx(names, func(i int, n *string) {
		p := filepath.Join(tmp, filepath.FromSlash(*n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			errs[i] = err
			return
		}
		errs[i] = os.WriteFile(p, b.files[*n], 0o644)
	})
	if err := errors.Join(errs...); err != nil {
		_ = os.RemoveAll(tmp)
		return Result{}, fmt.Errorf("site: write %s: %w", out, err)
	}
	for _, n := range names {
		res.Files++
		res.Bytes += int64(len(b.files[n]))
		if strings.HasSuffix(n, ".html") {
			res.Pages++
		}
	}
	old := ""
	if _, err := os.Stat(out); err == nil {
		old = tmp + ".old"
		if err := os.Rename(out, old); err != nil {
			_ = os.RemoveAll(tmp)
			return Result{}, fmt.Errorf("site: replace %s: %w", out, err)
		}
	}
	if err := os.Rename(tmp, out); err != nil {
		if old != "" {
			_ = os.Rename(old, out)
		}
		_ = os.RemoveAll(tmp)
		return Result{}, fmt.Errorf("site: replace %s: %w", out, err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return res, fmt.Errorf("site: remove the previous site: %w", err)
		}
	}
	return res, nil
}

// removeLeftovers deletes the folders a build killed halfway left beside out: its new site
// (".public.new-<pid>-*") and the previous one moved aside (…".old"), when the process that
// made them is gone. A build of another live process keeps its folder.
func removeLeftovers(parent, base string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	prefix := "." + base + ".new-"
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		if pid, err := strconv.Atoi(pidText); err == nil && (pid == os.Getpid() || processAlive(pid)) {
			continue // a build in flight
		}
		_ = os.RemoveAll(filepath.Join(parent, e.Name()))
	}
}

// processAlive reports whether a process with pid runs on this machine (signal 0 asks without
// sending anything; where that is not supported the process counts as gone).
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM) // EPERM: alive, another user's
}

// checkOut refuses an output folder that a build must not replace: the current folder, a
// root, or a folder holding something other than a previous build (it is deleted whole).
func checkOut(out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("site: --out %s: %w", out, err)
	}
	wd, _ := os.Getwd()
	if out == "." || abs == wd || filepath.Dir(abs) == abs {
		return fmt.Errorf("site: --out %s: refusing to replace this folder; name a folder for the site, like public", out)
	}
	entries, err := os.ReadDir(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("site: --out %s: %w", out, err)
	}
	if len(entries) == 0 {
		return nil
	}
	for _, marker := range []string{"index.html", "_headers"} {
		if _, err := os.Stat(filepath.Join(out, marker)); err != nil {
			return fmt.Errorf("site: --out %s: the folder holds files but no built site (no %s); refusing to replace it", out, marker)
		}
	}
	return nil
}

// linkPath is the URL path of a page file: "products/x/index.html" → "/products/x/".
func linkPath(file string) string {
	if file == "index.html" {
		return "/"
	}
	if strings.HasSuffix(file, "/index.html") {
		return "/" + strings.TrimSuffix(file, "index.html")
	}
	return "/" + path.Clean(file)
}
