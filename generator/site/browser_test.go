package site_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/portfolio-report/portfolio/generator/site"
)

// chromium finds the browser, or "" when there is none.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserProblems collects what the page must not do: console errors, exceptions, failed
// requests and error responses (CSP violations arrive as log entries).
type browserProblems struct {
	mu   sync.Mutex
	list []string
}

func (b *browserProblems) add(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.list = append(b.list, fmt.Sprintf(format, args...))
}

func (b *browserProblems) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.list
	b.list = nil
	return l
}

// TestBrowser opens every page of the demo site in headless Chromium, served like Cloudflare
// Pages with the site's own _headers (so the CSP applies), and fails on any console error,
// exception or failed request; checks every chart drew a canvas; uses the range switch and
// the alert filters; runs axe-core in every page, light and dark, at 1440 and 360 px, and
// fails on any violation; checks each chart's drawn value axis against its data on every
// range; and saves screenshots to testout/site/.
func TestBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("chromium not found on PATH (install the Debian package chromium): the browser test needs a real browser")
	}
	cfg, st := fixture(t, 90)
	dir, _ := build(t, cfg, st)
	srv := httptest.NewServer(site.Handler(dir))
	defer srv.Close()
	shots := filepath.Join("..", "..", "testout", "site")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()

	var probs browserProblems
	expect404 := map[string]bool{}
	var reqMu sync.Mutex
	reqURL := map[network.RequestID]string{}
	// The first call starts the browser; it gets no timeout, which would end the browser.
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
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
			reqMu.Lock()
			ok := expect404[e.Entry.URL]
			reqMu.Unlock()
			if e.Entry.Level == cdplog.EntryLevelError && !ok {
				probs.add("log %s: %s (%s)", e.Entry.Source, e.Entry.Text, e.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			reqMu.Lock()
			reqURL[e.RequestID] = e.Request.URL
			reqMu.Unlock()
		case *network.EventLoadingFailed:
			reqMu.Lock()
			u := reqURL[e.RequestID]
			reqMu.Unlock()
			probs.add("request failed: %s: %s %s", u, e.ErrorText, e.BlockedReason)
		case *network.EventResponseReceived:
			reqMu.Lock()
			ok := expect404[e.Response.URL]
			reqMu.Unlock()
			if e.Response.Status >= 400 && !ok {
				probs.add("HTTP %d for %s", e.Response.Status, e.Response.URL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	enableEvents(t, ctx)
	ctx, cancelT := context.WithTimeout(ctx, 8*time.Minute)
	defer cancelT()

	var pages []string
	for name := range siteFiles(t, dir) {
		if strings.HasSuffix(name, ".html") && name != "404.html" {
			pages = append(pages, "/"+strings.TrimSuffix(name, "index.html"))
		}
	}
	sort.Strings(pages)
	reqMu.Lock()
	expect404[srv.URL+"/no/such/page/"] = true
	reqMu.Unlock()

	shotName := func(p string) string {
		n := strings.Trim(strings.ReplaceAll(p, "/", "_"), "_")
		if n == "" {
			n = "overview"
		}
		return n
	}
	save := func(name string, img []byte) {
		if err := os.WriteFile(filepath.Join(shots, name+".png"), img, 0o644); err != nil {
			t.Error(err)
		}
	}
	// open loads a page and waits for the deferred scripts, the charts' data and ECharts'
	// first frame.
	open := func(url string) error {
		if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("footer")), chromedp.Sleep(300*time.Millisecond)); err != nil {
			return err
		}
		return chartsReady(ctx)
	}

	for _, p := range append(pages, "/no/such/page/") {
		t.Run(p, func(t *testing.T) {
			if err := open(srv.URL + p); err != nil {
				t.Fatal(err)
			}
			charts, err := eval[int](ctx, `document.querySelectorAll('.chart[data-option]').length`)
			if err != nil {
				t.Fatal(err)
			}
			undrawn, err := eval[[]string](ctx, drawnCheck)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range undrawn {
				t.Errorf("chart not drawn: %s", u)
			}
			if chartPage(p) {
				if charts == 0 {
					t.Errorf("%s: no chart on the page", p)
				}
			}
			img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			save(shotName(p), img)
			for _, pr := range probs.take() {
				t.Errorf("%s: %s", p, pr)
			}
		})
	}

	t.Run("range switch", func(t *testing.T) {
		p := "/products/" + cfg.Products[0].ID + "/"
		if err := open(srv.URL + p); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-range-switch] button`)), chromedp.Sleep(200*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if err := chartsReady(ctx); err != nil {
			t.Fatal(err)
		}
		pressed, err := eval[string](ctx, `document.querySelector('[data-range-switch] button[aria-pressed="true"]').textContent`)
		if err != nil {
			t.Fatal(err)
		}
		if pressed != "24 h" {
			t.Errorf("pressed range = %q, want 24 h", pressed)
		}
		undrawn, err := eval[[]string](ctx, drawnCheck)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range undrawn {
			t.Errorf("after switching to 24 h: %s", u)
		}
		img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		save("product_24h", img)
		for _, pr := range probs.take() {
			t.Error(pr)
		}
	})

	t.Run("alert filters", func(t *testing.T) {
		visible := `Array.from(document.querySelectorAll('.alert-item')).filter(e => e.offsetParent !== null).length`
		if err := open(srv.URL + "/alerts/"); err != nil {
			t.Fatal(err)
		}
		all, err := eval[int](ctx, visible)
		if err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`input[name="severity"][value="critical"]`))); err != nil {
			t.Fatal(err)
		}
		afterSeverity, err := eval[int](ctx, visible)
		if err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`select[name="product"]`), cfg.Products[1].ID)); err != nil {
			t.Fatal(err)
		}
		if _, err := eval[bool](ctx, `document.querySelector('select[name="product"]').dispatchEvent(new Event('change', {bubbles: true}))`); err != nil {
			t.Fatal(err)
		}
		afterProduct, err := eval[int](ctx, visible)
		if err != nil {
			t.Fatal(err)
		}
		count, err := eval[string](ctx, `document.querySelector('[data-filter-count]').textContent`)
		if err != nil {
			t.Fatal(err)
		}
		// 3 active alerts (one a muted deployment_regression) + 4 changes (the deployment notice
		// and its change are listed apart, not as alerts); 1 critical alert and 1 critical change.
		if all != 7 || afterSeverity != 5 {
			t.Errorf("visible alerts: all %d, without critical %d; want 7 and 5", all, afterSeverity)
		}
		// Of the second product, without critical: 2 active alerts (one muted) and 1 change.
		if afterProduct != 3 {
			t.Errorf("visible alerts of %s without critical: %d, want 3", cfg.Products[1].ID, afterProduct)
		}
		if !strings.Contains(count, "3 of 7") {
			t.Errorf("filter count %q, want 3 of 7 shown", count)
		}
		img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		save("alerts_filtered", img)
		for _, pr := range probs.take() {
			t.Error(pr)
		}
	})

	t.Run("phone and dark", func(t *testing.T) {
		dark := func(v string) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}}})
			return err
		}
		defer func() {
			_, _ = chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
			_ = dark("light")
		}()
		if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: 360, Height: 740, DeviceScaleFactor: 2, Mobile: true}); err != nil {
			t.Fatal(err)
		}
		if err := dark("dark"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"/", "/products/" + cfg.Products[0].ID + "/", "/dora/", "/alerts/"} {
			if err := open(srv.URL + p); err != nil {
				t.Fatal(err)
			}
			// Nothing may be wider than the phone's screen (tables scroll inside their box).
			overflow, err := eval[int](ctx, `document.documentElement.scrollWidth - document.documentElement.clientWidth`)
			if err != nil {
				t.Fatal(err)
			}
			if overflow > 0 {
				t.Errorf("%s at 360 px: the page is %d px wider than the screen", p, overflow)
			}
			if p == "/dora/" {
				// The DORA page's tables fit a phone whole: nothing of them hides behind a scroll.
				cut, err := eval[[]string](ctx, `Array.from(document.querySelectorAll('table.levels, table.dora-table'))
					.filter(t => t.parentElement.scrollWidth > t.parentElement.clientWidth).map(t => t.className)`)
				if err != nil {
					t.Fatal(err)
				}
				if len(cut) > 0 {
					t.Errorf("/dora/ at 360 px: %v wider than the screen", cut)
				}
			}
			img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			save("phone_dark_"+shotName(p), img)
		}
		for _, pr := range probs.take() {
			t.Error(pr)
		}
	})
	t.Run("chart y-ranges", func(t *testing.T) {
		for _, p := range pages {
			if err := open(srv.URL + p); err != nil {
				t.Fatal(err)
			}
			keys, err := eval[[]string](ctx, `Array.from(document.querySelectorAll('[data-range-switch] button')).map(b => b.getAttribute('data-range'))`)
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) == 0 {
				keys = []string{""} // no switch: the charts as drawn
			}
			checked := 0
			for _, key := range keys {
				if key != "" {
					if _, err := eval[bool](ctx, `(document.querySelector('[data-range-switch] button[data-range="`+key+`"]').click(), true)`); err != nil {
						t.Fatal(err)
					}
					if err := chartsReady(ctx); err != nil {
						t.Fatal(err)
					}
				}
				res, err := eval[struct {
					Checked, Empty, Total int
					Problems              []string
				}](ctx, yRangeCheck)
				if err != nil {
					t.Fatal(err)
				}
				if res.Checked+res.Empty != res.Total {
					t.Errorf("%s %s: %d charts checked and %d empty of %d", p, key, res.Checked, res.Empty, res.Total)
				}
				checked += res.Checked
				for _, pr := range res.Problems {
					t.Errorf("%s %s: %s", p, key, pr)
				}
			}
			if checked == 0 && chartPage(p) {
				t.Errorf("%s: no chart checked", p)
			}
		}
		for _, pr := range probs.take() {
			t.Error(pr)
		}
	})

	t.Run("axe", func(t *testing.T) {
		axe, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			_, _ = chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
			_, _ = chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
		}()
		for _, scheme := range []string{"light", "dark"} {
			for _, width := range []int64{1440, 360} {
				if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
					Width: width, Height: 900, DeviceScaleFactor: 1, Mobile: width < 600}); err != nil {
					t.Fatal(err)
				}
				if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
					t.Fatal(err)
				}
				for _, p := range append(pages, "/no/such/page/") {
					if err := open(srv.URL + p); err != nil {
						t.Fatal(err)
					}
					if _, err := eval[bool](ctx, string(axe)+";true"); err != nil {
						t.Fatalf("loading axe-core: %v", err)
					}
					found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](axeRun, chromedp.EvalAwaitPromise))
					if err != nil {
						t.Fatalf("%s: axe.run: %v", p, err)
					}
					for _, v := range found {
						t.Errorf("%s, %s, %d px: %s", p, scheme, width, v)
					}
				}
			}
		}
		for _, pr := range probs.take() {
			t.Error(pr)
		}
	})
}

// chartPage reports whether a page has charts: the overview, the DORA page and a product's
// page (not its day-by-day page, nor the products' table).
func chartPage(p string) bool {
	return p == "/" || strings.HasPrefix(p, "/dora") || (strings.HasPrefix(p, "/products/") && strings.Count(p, "/") == 3)
}

// axeRun runs axe-core with its default rules (WCAG 2.x A and AA and best practices) and lists
// each violation with the first elements it names.
const axeRun = `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v =>
  v.id + ' (' + v.impact + '): ' + v.help + ': ' + v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' [' + (n.failureSummary || '').replace(/\s+/g, ' ') + ']').join('; ')))`

// yRangeCheck compares each chart's drawn value axis with its data. A chart on the range
// switch must draw the axis its range names (the fitted one), hold every point of that range
// inside it, and draw its threshold exactly when the range says so, inside the axis. Other
// charts (bars) must hold every value, stacks summed, inside the axis they draw.
const yRangeCheck = `(() => {
  const problems = [];
  let checked = 0, empty = 0, total = 0;
  document.querySelectorAll('.chart[data-option]').forEach(el => {
    total++;
    const inst = echarts.getInstanceByDom(el);
    if (!inst) { problems.push(el.id + ': not drawn'); return; }
    const ext = inst.getModel().getComponent('yAxis', 0).axis.scale.getExtent();
    const opt = inst.getOption();
    const rsrc = el.getAttribute('data-ranges') && document.getElementById(el.getAttribute('data-ranges'));
    if (rsrc) {
      const doc = JSON.parse(rsrc.textContent);
      const pressed = document.querySelector('[data-range-switch] button[aria-pressed="true"]');
      const key = pressed ? pressed.getAttribute('data-range') : doc.default;
      const r = doc.ranges[key];
      if (r.empty) { empty++; if (!el.classList.contains('is-empty')) problems.push(el.id + ': empty range drawn'); return; }
      checked++;
      if (el.getAttribute('data-drawn') !== key) problems.push(el.id + ': shows ' + el.getAttribute('data-drawn') + ', the switch says ' + key);
      if (Math.abs(ext[0] - r.y.min) > 1e-9 || Math.abs(ext[1] - r.y.max) > 1e-9) problems.push(el.id + ': drawn y ' + ext + ', fitted ' + r.y.min + ',' + r.y.max);
      let points = 0;
      opt.series.forEach((s, i) => {
        if (/^deploy|^band_low/.test(s.id || '')) return;
        const band = /^band/.test(s.id || '');
        (s.data || []).forEach(d => {
          const v = band ? d[2] : d[1];
          if (v === null || v === undefined) return;
          points++;
          if (d[0] < r.x[0] || d[0] > r.x[1]) problems.push(el.id + ': series ' + i + ' point at ' + new Date(d[0]).toISOString() + ' outside the x range');
          if (v < ext[0] || v > ext[1]) problems.push(el.id + ': series ' + i + ' value ' + v + ' at ' + new Date(d[0]).toISOString() + ' outside the drawn ' + ext);
        });
      });
      if (!points) problems.push(el.id + ': no point drawn on a range with data');
      const ml = (opt.series[0].markLine || {}).data || [];
      if (doc.threshold && (ml.length > 0) !== r.mark) problems.push(el.id + ': threshold drawn ' + (ml.length > 0) + ', range says ' + r.mark);
      if (ml.length > 0 && (doc.threshold.yAxis < ext[0] || doc.threshold.yAxis > ext[1])) problems.push(el.id + ': threshold ' + doc.threshold.yAxis + ' outside the drawn ' + ext);
      const note = el.parentNode.querySelector('[data-note]');
      if (note && note.hidden !== !r.note) problems.push(el.id + ': note shown ' + !note.hidden + ' for ' + JSON.stringify(r.note));
      return;
    }
    checked++;
    const sums = [];
    opt.series.forEach(s => (s.data || []).forEach((d, k) => {
      const v = d && typeof d === 'object' && !Array.isArray(d) ? d.value : d;
      if (typeof v !== 'number') return;
      const total = s.stack ? (sums[k] = (sums[k] || 0) + v) : v;
      if (total < ext[0] || total > ext[1]) problems.push(el.id + ': ' + s.name + ' ' + total + ' outside the drawn ' + ext);
    }));
  });
  return {Checked: checked, Empty: empty, Total: total, Problems: problems};
})()`

// The vendored axe-core (testdata/axe, see its README and update.sh).
const (
	axeVersion = "4.14.1"
	axeSHA256  = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
)

func readAxe() (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	return string(b), err
}

// TestAxeVendored: testdata/axe holds the axe-core the browser test names, with its licence.
func TestAxeVendored(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "/*! axe v"+axeVersion+"\n") {
		t.Errorf("axe.min.js starts %q, want axe v%s", data[:min(len(data), 20)], axeVersion)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != axeSHA256 {
		t.Errorf("axe.min.js has SHA-256 %x, want %s (npm's axe-core %s): re-run testdata/axe/update.sh", sum, axeSHA256, axeVersion)
	}
	lic, err := os.ReadFile(filepath.Join("testdata", "axe", "LICENSE"))
	if err != nil || !strings.Contains(string(lic), "Mozilla Public License, version 2.0") {
		t.Errorf("testdata/axe/LICENSE: want the MPL 2.0 text (%v)", err)
	}
	script, err := os.ReadFile(filepath.Join("testdata", "axe", "update.sh"))
	if err != nil || !strings.Contains(string(script), "VERSION="+axeVersion+"\n") {
		t.Errorf("update.sh does not pin %s (%v)", axeVersion, err)
	}
}

// chartsReady waits until every chart of the page shows its range with its data (charts.js
// fetches a product's chart files): window.portfolioCharts.ready.
func chartsReady(ctx context.Context) error {
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(window.portfolioCharts ? window.portfolioCharts.ready : Promise.resolve()).then(() => true)`, chromedp.EvalAwaitPromise))
	return err
}

func eval[T any](ctx context.Context, expr string) (T, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

func callErr(_ cdp.Empty, err error) error { return err }

// drawnCheck lists the chart containers without a drawn canvas (no canvas, a zero-size one, or
// one with no painted pixel).
const drawnCheck = `Array.from(document.querySelectorAll('.chart[data-option]')).map(el => {
  if (el.classList.contains('is-empty')) return '';
  const c = el.querySelector('canvas');
  if (!c) return el.id + ': no canvas';
  if (!c.width || !c.height) return el.id + ': zero-size canvas';
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return '';
  return el.id + ': blank canvas';
}).filter(Boolean)`

// enableEvents turns on the network, log and runtime events the browser tests listen to (failed
// requests, console messages, exceptions).
func enableEvents(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, err := range []error{
		callErr(chromedp.Call(ctx, network.Enable, network.EnableParams{})),
		callErr(chromedp.Call(ctx, cdplog.Enable, cdp.Empty{})),
		callErr(chromedp.Call(ctx, runtime.Enable, cdp.Empty{})),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}
