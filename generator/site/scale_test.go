package site_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/site"
	"github.com/portfolio-report/portfolio/generator/store"
)

// The portfolio of the scale tests: 200 synthetic products with 14 days of history (the demo
// replays its alerts over those days: some 200 firing alerts, 80 of them critical), built once.
var (
	scaleOnce sync.Once
	scaleDir  string
	scaleTmp  string
	scaleErr  error
)

func scaleSite(t *testing.T) string {
	t.Helper()
	scaleOnce.Do(func() {
		var tmp string
		if tmp, scaleErr = os.MkdirTemp("", "portfolio-site-scale-"); scaleErr != nil {
			return
		}
		scaleTmp = tmp // TestMain removes it
		cfg := demo.Config(200)
		st := store.Open(filepath.Join(tmp, "data"))
		if scaleErr = demo.Generate(cfg, st, demo.Options{Seed: 1, Days: 14, Now: now}); scaleErr != nil {
			return
		}
		scaleDir = filepath.Join(tmp, "public")
		_, scaleErr = site.Build(context.Background(), site.Options{Config: cfg, Store: st, Out: scaleDir, Now: now})
	})
	if scaleErr != nil {
		t.Fatal(scaleErr)
	}
	return scaleDir
}

// TestBudgetsAtScale holds the pages of a 200-product portfolio to their budgets: the alerts
// pages (active alerts, every history page) and the DORA page at 150 KB of HTML, the
// overview at 250 KB, a product page at 100 KB.
func TestBudgetsAtScale(t *testing.T) {
	dir := scaleSite(t)
	s := sizesOf(t, dir)
	budget := map[string]int{"alerts": 150 << 10, "alerthistory": 150 << 10, "dora": 150 << 10, "overview": 250 << 10,
		"product": 100 << 10, "products": 150 << 10, "days": 50 << 10, "digest": 150 << 10, "digests": 50 << 10}
	for kind, max := range budget {
		n, ok := s.largest[kind]
		if !ok {
			t.Errorf("no %s page in the site", kind)
			continue
		}
		t.Logf("largest %s page: %s, %.1f KB (budget %d KB)", kind, s.largestPath[kind], float64(n)/1024, max>>10)
		if n > max {
			t.Errorf("%s is %d bytes, over its budget of %d", s.largestPath[kind], n, max)
		}
	}
	if s.chartJS > 200<<10 {
		t.Errorf("%s loads %d bytes of JavaScript gzipped, over 200 KB", s.chartJSPage, s.chartJS)
	}
}

// TestBrowserAtScale opens the overview and the alerts page of 200 products in Chromium at
// 1440×900: the first product card is on the first screen, the filters work, no console
// error, and axe-core finds nothing, light and dark.
func TestBrowserAtScale(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("chromium not found on PATH (install the Debian package chromium): the browser test needs a real browser")
	}
	dir := scaleSite(t)
	srv := httptest.NewServer(site.Handler(dir))
	defer srv.Close()
	var sum struct {
		Products []struct{ ID, Status string } `json:"products"`
	}
	if err := json.Unmarshal(siteFiles(t, dir)["api/summary.json"], &sum); err != nil {
		t.Fatal(err)
	}
	notOK := 0
	for _, p := range sum.Products {
		if p.Status != "operational" {
			notOK++
		}
	}

	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(bin),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1440, 900))
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	var probs browserProblems
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				probs.add("console.%s", e.Type)
			}
		case *runtime.EventExceptionThrown:
			probs.add("exception: %s", e.ExceptionDetails.Text)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := callErr(chromedp.Call(ctx, runtime.Enable, cdp.Empty{})); err != nil {
		t.Fatal(err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelT()
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 1440, Height: 900, DeviceScaleFactor: 1}); err != nil {
		t.Fatal(err)
	}
	open := func(p string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+p), chromedp.WaitReady(chromedp.CSS("footer")), chromedp.Sleep(300*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if err := chartsReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	visible := `Array.from(document.querySelectorAll('[data-search]')).filter(e => e.offsetParent !== null).length`

	t.Run("overview", func(t *testing.T) {
		open("/")
		box, err := eval[[]float64](ctx, `(() => { const r = document.querySelector('.card').getBoundingClientRect(); return [r.top, r.bottom]; })()`)
		if err != nil {
			t.Fatal(err)
		}
		if box[0] < 0 || box[1] > 900 {
			t.Errorf("the first product card spans %v–%v px: not within the first 1440×900 screen", box[0], box[1])
		}
		all, _ := eval[int](ctx, visible)
		if all != 200 {
			t.Errorf("%d product cards shown, want 200", all)
		}
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), "product-007")); err != nil {
			t.Fatal(err)
		}
		if n, _ := eval[int](ctx, visible); n != 1 {
			t.Errorf("search for product-007: %d cards shown, want 1", n)
		}
		if _, err := eval[bool](ctx, `(() => { const f = document.querySelector('[data-product-filter]'); f.q.value = ''; f.status.value = '!operational'; f.status.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`); err != nil {
			t.Fatal(err)
		}
		if n, _ := eval[int](ctx, visible); n != notOK {
			t.Errorf("not operational: %d cards shown, want %d", n, notOK)
		}
		for _, pr := range probs.take() {
			t.Error(pr)
		}
	})
	t.Run("alerts", func(t *testing.T) {
		open("/alerts/")
		n, _ := eval[int](ctx, `document.querySelectorAll('.alert-item').length`)
		if n < 40 {
			t.Errorf("%d alerts listed, want the demo's 40 or more", n)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`input[name="severity"][value="critical"]`))); err != nil {
			t.Fatal(err)
		}
		crit, _ := eval[int](ctx, `Array.from(document.querySelectorAll('.alert-item[data-severity="critical"]')).filter(e => e.offsetParent !== null).length`)
		if crit != 0 {
			t.Errorf("%d critical alerts shown with critical unticked", crit)
		}
		for _, pr := range probs.take() {
			t.Error(pr)
		}
	})
	t.Run("axe", func(t *testing.T) {
		axe, err := readAxe()
		if err != nil {
			t.Fatal(err)
		}
		for _, scheme := range []string{"light", "dark"} {
			if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"/", "/alerts/", "/products/", "/dora/"} {
				open(p)
				if _, err := eval[bool](ctx, axe+";true"); err != nil {
					t.Fatal(err)
				}
				found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](axeRun, chromedp.EvalAwaitPromise))
				if err != nil {
					t.Fatalf("%s: axe.run: %v", p, err)
				}
				for _, v := range found {
					t.Errorf("%s, %s: %s", p, scheme, v)
				}
			}
		}
		_, _ = chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
		for _, pr := range probs.take() {
			t.Error(pr)
		}
	})
}

// TestAlertsCenterListsEveryCriticalAlert: at 200 products the alerts center lists every
// firing critical alert, the newest warning and info alerts up to their caps, and says how many
// more there are and where (api/alerts.json lists them all).
func TestAlertsCenterListsEveryCriticalAlert(t *testing.T) {
	dir := scaleSite(t)
	raw, err := os.ReadFile(filepath.Join(dir, "api", "alerts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var api struct {
		Active []struct {
			Severity, Rule, Since string
		} `json:"active"`
	}
	if err := json.Unmarshal(raw, &api); err != nil {
		t.Fatal(err)
	}
	firing := map[string]int{}
	for _, a := range api.Active {
		if a.Rule != "deployment" {
			firing[a.Severity]++
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "alerts", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for sev, limit := range map[string]int{"critical": 1 << 30, "warning": 60, "info": 20} {
		listed := strings.Count(string(page), `<li class="alert-item sev-border-`+sev+`"`)
		want := min(firing[sev], limit)
		if listed != want {
			t.Errorf("%s: %d listed of %d firing, want %d", sev, listed, firing[sev], want)
		}
		if more := firing[sev] - listed; more > 0 {
			note := fmt.Sprintf("The newest %d are listed; %d older %s alert", listed, more, sev)
			if !strings.Contains(string(page), note) {
				t.Errorf("%s: no note %q", sev, note)
			}
		}
	}
	// The overview's short list of critical alerts starts with the newest.
	var newest string
	for _, a := range api.Active {
		if a.Severity == "critical" && a.Since > newest {
			newest = a.Since
		}
	}
	overview, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	box := string(overview)[strings.Index(string(overview), "Critical alerts"):]
	if m := regexp.MustCompile(`<time datetime="([^"]+)"`).FindStringSubmatch(box); m == nil || m[1] != newest {
		t.Errorf("the overview's critical alerts start at %v, want the newest, since %s", m, newest)
	}
	if firing["critical"] < 20 || firing["warning"] <= 60 {
		t.Errorf("the scale portfolio fires %v: too few to check the caps", firing)
	}
}
