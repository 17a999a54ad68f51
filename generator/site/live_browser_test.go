package site_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/portfolio-report/portfolio/generator/site"
)

// liveBrowser starts headless Chromium that records console errors, exceptions, failed
// requests and error responses into probs.
func liveBrowser(t *testing.T) (context.Context, *browserProblems) {
	t.Helper()
	bin := chromium()
	if bin == "" {
		t.Skip("chromium not found on PATH (install the Debian package chromium): the browser test needs a real browser")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// prefers-reduced-data is not shipped yet: behind this feature, Chromium matches it.
		chromedp.Flag("enable-blink-features", "PrefersReducedData"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	probs := &browserProblems{}
	var mu sync.Mutex
	urls := map[network.RequestID]string{}
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert || e.Type == runtime.ConsoleAPICalledTypeWarning {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				probs.add("console.%s: %s", e.Type, strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			desc := d.Text
			if d.Exception != nil {
				desc += " " + d.Exception.Description
			}
			probs.add("exception at %s:%d: %s", d.URL, d.LineNumber, desc)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				probs.add("log %s: %s (%s)", e.Entry.Source, e.Entry.Text, e.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			mu.Lock()
			urls[e.RequestID] = e.Request.URL
			mu.Unlock()
		case *network.EventLoadingFailed:
			mu.Lock()
			u := urls[e.RequestID]
			mu.Unlock()
			probs.add("request failed: %s: %s %s", u, e.ErrorText, e.BlockedReason)
		case *network.EventResponseReceived:
			if e.Response.Status >= 400 {
				probs.add("HTTP %d for %s", e.Response.Status, e.Response.URL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	enableEvents(t, ctx)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelT)
	return ctx, probs
}

// countingServer serves the site like Pages and counts the requests for api/version.json.
func countingServer(t *testing.T, dir string) (*httptest.Server, *atomic.Int64) {
	var polls atomic.Int64
	h := site.Handler(dir)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/version.json" {
			polls.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &polls
}

func openPage(ctx context.Context, url string) error {
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("footer"))); err != nil {
		return err
	}
	// live.js asks for the version at once: the first answer is what later ones compare to.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise(r => { const w = () => window.portfolioLive && portfolioLive.polls > 0 ? r(true) : setTimeout(w, 20); w(); })`, chromedp.EvalAwaitPromise)); err != nil {
		return err
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`portfolioLive.check().then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		return err
	}
	return chartsReady(ctx)
}

// liveState is what the test reads of an open product page.
type liveState struct {
	Marker   int     // a window variable set before the update: gone after a reload
	Status   string  // the product's status
	Favicon  string  // the favicon's URL
	Said     string  // the aria-live region
	Open     bool    // the <details> the reader opened, still in the page and open
	Top      float64 // where it is in the viewport
	ScrollY  float64 // the scroll position
	LastX    float64 // the time of the response time chart's newest point
	Drawn    string  // the range it shows
	Ago      string  // "(4 min ago)" after "Data as of"
	Banner   string  // the stale banner's text, when it shows
	Navs     int     // navigations of the document (1 without a reload)
	Canvases int     // charts with a drawn canvas
}

const readLive = `(() => {
  const el = document.querySelector('.chart[data-ranges]');
  const opt = echarts.getInstanceByDom(el).getOption();
  const pts = opt.series.filter(s => !/^deploy|^band/.test(s.id || ''))[0].data.filter(d => d[1] !== null);
  return {
    Marker: window.liveMarker || 0,
    Status: document.querySelector('[data-live-status] .status').textContent,
    Favicon: document.querySelector('link[rel="icon"]').getAttribute('href'),
    Said: document.querySelector('[data-live-announce]').textContent,
    Open: document.contains(window.liveDetails) && window.liveDetails.open,
    Top: window.liveDetails.getBoundingClientRect().top,
    ScrollY: window.scrollY,
    LastX: pts.length ? pts[pts.length - 1][0] : 0,
    Drawn: el.getAttribute('data-drawn'),
    Ago: document.querySelector('[data-live-ago]').textContent,
    Banner: document.querySelector('[data-live-stale]').hidden ? '' : document.querySelector('[data-live-stale]').textContent,
    Navs: performance.getEntriesByType('navigation').length,
    Canvases: Array.from(document.querySelectorAll('.chart[data-option] canvas')).length,
  };
})()`

// TestBrowserLive: a product page left open follows a second build published into the same
// folder: its status, favicon and charts change in place, without a reload, keeping the
// reader's open <details> and scroll position, and the change is announced; no console error.
func TestBrowserLive(t *testing.T) {
	ctx, probs := liveBrowser(t)
	out := filepath.Join(t.TempDir(), "public")
	// The first build: the product degraded (a warning alert), the portfolio degraded.
	cfg, st := liveFixture(t, 14, now, []string{"a1"})
	id := cfg.Products[1].ID
	buildInto(t, out, cfg, st, now)
	srv, _ := countingServer(t, out)

	if err := openPage(ctx, srv.URL+"/products/"+id+"/"); err != nil {
		t.Fatal(err)
	}
	// The reader opens a <details>, scrolls, and the test marks the window.
	if _, err := eval[bool](ctx, `(() => {
	  // Room below the page, so that no scroll position is cut at its end when it shrinks.
	  document.body.style.paddingBottom = '2000px';
	  const d = window.liveDetails = document.querySelector('details.product-recs');
	  d.open = true;
	  window.liveMarker = 42;
	  d.scrollIntoView();
	  window.scrollBy(0, -2);
	  return true; })()`); err != nil {
		t.Fatal(err)
	}
	before, err := eval[liveState](ctx, readLive)
	if err != nil {
		t.Fatal(err)
	}
	if before.Status != "Degraded" || !strings.HasSuffix(before.Favicon, "/degraded.svg") || before.Drawn != "7d" ||
		!strings.HasPrefix(before.Ago, " (") || before.Navs != 1 {
		t.Fatalf("before the second build: %+v; want Degraded, its favicon, the 7 d range drawn, a relative time", before)
	}
	// The test's data are of 30 Jun 2026, long before the browser's clock.
	if !strings.Contains(before.Ago, "days ago") || !strings.Contains(before.Banner, "the report runs every 15 min") {
		t.Errorf("data months old: \"Data as of\" says %q, the stale banner %q; want days ago, and the banner", before.Ago, before.Banner)
	}

	// The second build, two hours later: the product in partial outage (a critical alert).
	later := now.Add(2 * time.Hour)
	cfg2, st2 := liveFixture(t, 14, later, []string{"a1"}, probeDown(id, later))
	buildInto(t, out, cfg2, st2, later)
	updated, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`portfolioLive.check()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if err := chartsReady(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := eval[liveState](ctx, readLive)
	if err != nil {
		t.Fatal(err)
	}
	if !updated {
		t.Error("portfolioLive.check() saw no change after the second build")
	}
	if after.Marker != 42 || after.Navs != 1 {
		t.Errorf("the page was reloaded: marker %d, navigations %d", after.Marker, after.Navs)
	}
	if after.Status != "Partial outage" {
		t.Errorf("status after the second build %q, want Partial outage", after.Status)
	}
	if !strings.HasSuffix(after.Favicon, "/partial_outage.svg") {
		t.Errorf("favicon %s, want the partial outage one", after.Favicon)
	}
	if !strings.Contains(after.Said, "Partial outage") {
		t.Errorf("aria-live region says %q, want the new status", after.Said)
	}
	if !after.Open {
		t.Error("the <details> the reader opened was closed by the update")
	}
	// What the reader looks at stays where it was: Chromium's scroll anchoring makes up for
	// content above that grew or shrank (here an alert more in the health section).
	if d := after.Top - before.Top; d < -1 || d > 1 || after.ScrollY < before.ScrollY-200 {
		t.Errorf("the opened <details> moved in the viewport from %v to %v px (scroll %v → %v)", before.Top, after.Top, before.ScrollY, after.ScrollY)
	}
	if got := time.Duration(after.LastX-before.LastX) * time.Millisecond; got != 2*time.Hour {
		t.Errorf("the response time chart's newest point moved by %v, want 2h (one 7 d bucket an hour)", got)
	}
	if after.Drawn != "7d" || after.Canvases != before.Canvases {
		t.Errorf("after the update: range %q, %d charts drawn; want 7d and %d", after.Drawn, after.Canvases, before.Canvases)
	}
	undrawn, err := eval[[]string](ctx, drawnCheck)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range undrawn {
		t.Errorf("after the update: %s", u)
	}
	// Nothing to do when nothing changed.
	again, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`portfolioLive.check()`, chromedp.EvalAwaitPromise))
	if err != nil || again {
		t.Errorf("a second check without a new build updated the page (%v, %v)", again, err)
	}

	// A third build an hour later, the alert resolved: content above the reader shrinks. The
	// reader switched to 24 h, and the browser has no scroll anchoring (as Safari): live.js
	// keeps the view in place itself.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('[data-range-switch] button[data-range="24h"]').click(),
	  document.documentElement.style.overflowAnchor = 'none', document.body.style.overflowAnchor = 'none',
	  portfolioCharts.ready.then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	if _, err := eval[bool](ctx, `window.liveDetails.scrollIntoView(), window.scrollBy(0, -2), true`); err != nil {
		t.Fatal(err)
	}
	before, err = eval[liveState](ctx, readLive)
	if err != nil {
		t.Fatal(err)
	}
	third := later.Add(time.Hour)
	cfg3, st3 := liveFixture(t, 14, third, []string{"a1"})
	buildInto(t, out, cfg3, st3, third)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`portfolioLive.check().then(() => portfolioCharts.ready).then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	after, err = eval[liveState](ctx, readLive)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != "Degraded" || after.Marker != 42 || !after.Open || after.Drawn != "24h" || !strings.Contains(after.Said, "Degraded") {
		t.Errorf("after the third build: %+v; want Degraded, no reload, the <details> open, the 24 h range, the change announced", after)
	}
	if d := after.Top - before.Top; d < -1 || d > 1 {
		t.Errorf("without scroll anchoring the opened <details> moved in the viewport from %v to %v px (%+v → %+v)", before.Top, after.Top, before, after)
	}
	// 24 h has a bucket every 15 minutes: an hour more data, the newest point an hour later.
	if got := time.Duration(after.LastX-before.LastX) * time.Millisecond; got != time.Hour {
		t.Errorf("the 24 h chart's newest point moved by %v, want 1h", got)
	}
	for _, p := range probs.take() {
		t.Error(p)
	}
}

// TestBrowserLivePolling: a visible page polls at its interval, a hidden one not at all, and
// one that comes back asks at once; with prefers-reduced-data nothing polls. The server counts
// the requests. Also: fresh data shows minutes and no stale banner, and the overview's product
// filter holds through an update.
func TestBrowserLivePolling(t *testing.T) {
	ctx, probs := liveBrowser(t)
	// Data of the last run, by the browser's clock: fresh.
	fresh := time.Now().UTC().Truncate(15 * time.Minute)
	cfg, st := liveFixture(t, 3, fresh, nil)
	out := filepath.Join(t.TempDir(), "public")
	buildInto(t, out, cfg, st, fresh)
	srv, polls := countingServer(t, out)
	if err := openPage(ctx, srv.URL+"/"); err != nil {
		t.Fatal(err)
	}
	shown, err := eval[struct{ Ago, Banner string }](ctx, `({Ago: document.querySelector('[data-live-ago]').textContent,
	  Banner: document.querySelector('[data-live-stale]').hidden ? '' : 'shown'})`)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^ \((just now|\d+ min ago)\)$`).MatchString(shown.Ago) || shown.Banner != "" {
		t.Errorf("fresh data: \"Data as of\" says %q, stale banner %q; want minutes ago and no banner", shown.Ago, shown.Banner)
	}
	visibility := func(hidden bool) {
		t.Helper()
		state := map[bool]string{true: "hidden", false: "visible"}[hidden]
		js := `Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => '` + state + `'});
		Object.defineProperty(document, 'hidden', {configurable: true, get: () => ` + map[bool]string{true: "true", false: "false"}[hidden] + `});
		document.dispatchEvent(new Event('visibilitychange')); true`
		if _, err := eval[bool](ctx, js); err != nil {
			t.Fatal(err)
		}
	}
	sleep := func(d time.Duration) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Sleep(d)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := eval[bool](ctx, `portfolioLive.every(200), true`); err != nil {
		t.Fatal(err)
	}
	n0 := polls.Load()
	sleep(1500 * time.Millisecond)
	if visible := polls.Load() - n0; visible < 4 {
		t.Fatalf("a visible page polled %d times in 1.5 s at a 200 ms interval, want at least 4", visible)
	}
	visibility(true)
	sleep(300 * time.Millisecond) // a request under way may finish
	n1 := polls.Load()
	sleep(2 * time.Second)
	if hidden := polls.Load() - n1; hidden != 0 {
		t.Errorf("a hidden page polled %d times in 2 s", hidden)
	}
	visibility(false)
	sleep(150 * time.Millisecond)
	if back := polls.Load() - n1; back < 1 {
		t.Errorf("a page shown again did not poll at once")
	}

	t.Run("overview with a filter", func(t *testing.T) {
		// The reader filters the products; a new build puts one in partial outage.
		pay := cfg.Products[1].ID
		if _, err := eval[bool](ctx, `portfolioLive.every(60000), (() => {
		  const q = document.querySelector('[data-product-filter] input[name="q"]');
		  q.value = '`+pay+`'; q.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`); err != nil {
			t.Fatal(err)
		}
		cfg2, st2 := liveFixture(t, 3, fresh, nil, probeDown(pay, fresh))
		buildInto(t, out, cfg2, st2, fresh)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`portfolioLive.check().then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatal(err)
		}
		got, err := eval[struct {
			Headline, Query, Count, Said string
			Shown                        []string
		}](ctx, `({Headline: document.querySelector('#overall').textContent,
		  Query: document.querySelector('[data-product-filter] input[name="q"]').value,
		  Count: document.querySelector('[data-filter-count]').textContent,
		  Said: document.querySelector('[data-live-announce]').textContent,
		  Shown: Array.from(document.querySelectorAll('[data-search]')).filter(e => !e.hidden).map(e => e.getAttribute('data-status'))})`)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got.Headline, "partial outage") || !strings.Contains(got.Said, "partial outage") {
			t.Errorf("headline %q, announced %q; want the partial outage", got.Headline, got.Said)
		}
		if got.Query != pay || len(got.Shown) != 1 || got.Shown[0] != "partial_outage" || !strings.HasPrefix(got.Count, "1 of ") {
			t.Errorf("the filter after the update: query %q, shown %v, count %q; want the one product, in partial outage", got.Query, got.Shown, got.Count)
		}
	})

	t.Run("a page gone", func(t *testing.T) {
		// The reader has the third product's page open; the next build has no such product.
		gone := cfg.Products[2].ID
		if err := openPage(ctx, srv.URL+"/products/"+gone+"/"); err != nil {
			t.Fatal(err)
		}
		cfg3, st3 := liveFixture(t, 3, fresh, nil)
		cfg3.Products = cfg3.Products[:2]
		buildInto(t, out, cfg3, st3, fresh)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`portfolioLive.check().then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatal(err)
		}
		got, err := eval[struct{ Banner, Said string }](ctx, `({Banner: document.querySelector('[data-live-stale]').hidden ? '' : document.querySelector('[data-live-stale]').textContent,
		  Said: document.querySelector('[data-live-announce]').textContent})`)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got.Banner, "no longer part of the report") || got.Said != got.Banner {
			t.Errorf("a page the new build lacks: banner %q, announced %q", got.Banner, got.Said)
		}
		n := polls.Load()
		if _, err := eval[bool](ctx, `portfolioLive.every(100), true`); err != nil {
			t.Fatal(err)
		}
		sleep(600 * time.Millisecond)
		if more := polls.Load() - n; more != 0 {
			t.Errorf("a page that is gone polled %d times more", more)
		}
		// The page's own 404 is expected: the browser logs it.
		for _, p := range probs.take() {
			if !strings.Contains(p, "404") {
				t.Error(p)
			}
		}
	})

	t.Run("prefers-reduced-data", func(t *testing.T) {
		// Another page of the site first (same origin, same renderer), where the emulated media
		// feature is seen to apply before the page under test loads; it polls once as it opens
		// (before the emulation), and not again for a minute.
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/products/"), chromedp.WaitReady(chromedp.CSS("footer")), chromedp.Sleep(300*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-reduced-data", Value: "reduce"}}}); err != nil {
			t.Fatal(err)
		}
		defer func() { _, _ = chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}) }()
		supported, err := eval[bool](ctx, `matchMedia('(prefers-reduced-data: reduce)').matches`)
		if err != nil {
			t.Fatal(err)
		}
		if !supported {
			t.Fatal("Chromium does not emulate prefers-reduced-data: the test cannot check it")
		}
		n := polls.Load()
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/dora/"), chromedp.WaitReady(chromedp.CSS("footer")), chromedp.Sleep(time.Second)); err != nil {
			t.Fatal(err)
		}
		reduced, err := eval[bool](ctx, `matchMedia('(prefers-reduced-data: reduce)').matches`)
		if err != nil || !reduced {
			t.Fatalf("the page under test does not match prefers-reduced-data (%v)", err)
		}
		if got := polls.Load() - n; got != 0 {
			t.Errorf("with prefers-reduced-data the page polled %d times", got)
		}
		ago, err := eval[string](ctx, `document.querySelector('[data-live-ago]').textContent`)
		if err != nil || !strings.Contains(ago, "ago") {
			t.Errorf("with prefers-reduced-data, \"Data as of\" says %q (%v), want a relative time", ago, err)
		}
	})
	for _, p := range probs.take() {
		t.Error(p)
	}
}
