package cloudflarepages_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/publish"
	"github.com/portfolio-report/portfolio/generator/publish/cloudflarepages"
	"github.com/portfolio-report/portfolio/generator/skip"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// siteFiles is a small site with the shapes a real one has: nested pages, assets, a file
// identical to another, and the root _headers/_redirects that go with the deployment.
var siteFiles = map[string]string{
	"index.html":              "<!doctype html><title>Portfolio</title>",
	"products/api/index.html": "<!doctype html><title>API</title>",
	"products/web/index.html": "<!doctype html><title>Web</title>",
	"static/css/site.css":     "body{font-family:system-ui}",
	"static/js/charts.js":     "document.querySelectorAll('.chart')",
	"static/img/logo.png":     "\x89PNG\r\n\x1a\nfake",
	"static/img/copy.png":     "\x89PNG\r\n\x1a\nfake", // same content as logo.png: same hash
	"data/report.json":        `{"products":2}`,
	"_headers":                "/*\n  Content-Security-Policy: default-src 'self'\n",
	"_redirects":              "/old /products/api/ 301\n",
}

func writeSite(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// harness is a publisher wired to a fake, recording its waits and logs.
type harness struct {
	fake *fake.Pages
	pub  *cloudflarepages.Publisher
	logs *bytes.Buffer

	mu    sync.Mutex
	waits []time.Duration
}

func (h *harness) Waits() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.waits)
}

func newHarness(t *testing.T, f *fake.Pages, tweak func(*cloudflarepages.Config), opts ...cloudflarepages.Option) *harness {
	t.Helper()
	if f == nil {
		f = fake.NewPages(t)
	}
	h := &harness{fake: f, logs: &bytes.Buffer{}}
	cfg := cloudflarepages.Config{AccountID: f.AccountID, APIToken: f.Token, Project: f.Project, BaseURL: f.URL, RateLimit: 1000}
	if tweak != nil {
		tweak(&cfg)
	}
	opts = append([]cloudflarepages.Option{cloudflarepages.WithSleep(func(ctx context.Context, d time.Duration) error {
		h.mu.Lock()
		h.waits = append(h.waits, d)
		h.mu.Unlock()
		return ctx.Err()
	})}, opts...)
	var err error
	h.pub, err = cloudflarepages.New(cfg, nil, slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestPublishUploadsTheSiteAndDeploysIt(t *testing.T) {
	h := newHarness(t, nil, nil)
	dir := writeSite(t, siteFiles)
	dirty := false
	d, err := h.pub.Publish(context.Background(), dir, publish.Meta{CommitHash: "0123abc", CommitMessage: "data: snapshot", CommitDirty: &dirty})
	if err != nil {
		t.Fatal(err)
	}

	deps := h.fake.Deployments()
	if len(deps) != 1 {
		t.Fatalf("%d deployments, want 1", len(deps))
	}
	got := deps[0]
	// The manifest is every asset of the site ("/path" → hash of its content and extension),
	// and nothing else: _headers and _redirects travel as their own parts.
	want := map[string]string{}
	for name, content := range siteFiles {
		if name == "_headers" || name == "_redirects" {
			continue
		}
		want["/"+name] = cloudflarepages.Hash([]byte(content), name)
	}
	if !maps.Equal(got.Manifest, want) {
		t.Errorf("manifest:\n got %v\nwant %v", got.Manifest, want)
	}
	if got.Headers != siteFiles["_headers"] || got.Redirects != siteFiles["_redirects"] {
		t.Errorf("_headers/_redirects parts = %q, %q", got.Headers, got.Redirects)
	}
	if got.Branch != "" || got.CommitHash != "0123abc" || got.CommitMessage != "data: snapshot" || got.CommitDirty != "false" {
		t.Errorf("form fields: branch %q, commit %q %q dirty %q", got.Branch, got.CommitHash, got.CommitMessage, got.CommitDirty)
	}

	// Every stored asset is the file's bytes with a bare content type; the duplicate PNG once.
	assets := h.fake.Assets()
	if len(assets) != len(want)-1 {
		t.Errorf("%d assets stored, want %d (two files share content)", len(assets), len(want)-1)
	}
	for path, hash := range want {
		a, ok := assets[hash]
		if !ok || string(a.Content) != siteFiles[path[1:]] {
			t.Errorf("%s: stored %q, want the file's content", path, a.Content)
		}
		if a.ContentType != cloudflarepages.ContentType(path) {
			t.Errorf("%s: content type %q", path, a.ContentType)
		}
	}
	if !slices.Equal(h.fake.Upserted(), slices.Sorted(maps.Keys(assets))) {
		t.Errorf("upsert-hashes got %v", h.fake.Upserted())
	}

	if d.URL == "" || d.URL != got.Deployment.URL || d.Environment != "production" || d.Status != "success" {
		t.Errorf("deployment = %+v", d)
	}
	if d.Stats.Files != 8 || d.Stats.Uploaded != 7 || d.Stats.Missing != 7 || d.Stats.Requests != len(h.fake.Calls()) {
		t.Errorf("stats = %+v (fake saw %d requests)", d.Stats, len(h.fake.Calls()))
	}
	wantRoutes := []string{"project", "upload-token", "check-missing", "upload", "upload", "upload", "upsert-hashes", "create-deployment"}
	if !slices.Equal(h.fake.Routes(), wantRoutes) {
		t.Errorf("routes:\n got %v\nwant %v", h.fake.Routes(), wantRoutes)
	}
	if !strings.HasPrefix(d.Summary(), "deployed https://") {
		t.Errorf("summary = %q", d.Summary())
	}
}

func TestRepublishingAnUnchangedSiteUploadsNothing(t *testing.T) {
	h := newHarness(t, nil, nil)
	dir := writeSite(t, siteFiles)
	first, err := h.pub.Publish(context.Background(), dir, publish.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	before := len(h.fake.Uploads())
	second, err := h.pub.Publish(context.Background(), dir, publish.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(h.fake.Uploads()) - before; n != 0 || second.Stats.Uploaded != 0 || second.Stats.UploadedBytes != 0 {
		t.Errorf("republish uploaded %d requests, stats %+v; want none", n, second.Stats)
	}
	deps := h.fake.Deployments()
	if len(deps) != 2 || !maps.Equal(deps[0].Manifest, deps[1].Manifest) {
		t.Errorf("the second deployment must carry the same manifest")
	}
	t.Logf("requests: first publish %d, unchanged republish %d", first.Stats.Requests, second.Stats.Requests)
	// project, token, check-missing, 3 uploads, upsert-hashes, deployment; then without uploads.
	if first.Stats.Requests != 8 || second.Stats.Requests != 5 {
		t.Errorf("requests: first %d, republish %d; want 8 and 5", first.Stats.Requests, second.Stats.Requests)
	}

	// One changed file: only it is uploaded.
	changed := maps.Clone(siteFiles)
	changed["data/report.json"] = `{"products":3}`
	dir2 := writeSite(t, changed)
	before = len(h.fake.Uploads())
	third, err := h.pub.Publish(context.Background(), dir2, publish.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	ups := h.fake.Uploads()[before:]
	if len(ups) != 1 || !slices.Equal(ups[0].Keys, []string{cloudflarepages.Hash([]byte(changed["data/report.json"]), "report.json")}) {
		t.Errorf("uploads after changing one file: %+v", ups)
	}
	if third.Stats.Uploaded != 1 || third.Stats.Requests != 6 {
		t.Errorf("stats = %+v", third.Stats)
	}
}

func TestBranchMakesAPreviewDeployment(t *testing.T) {
	tests := []struct {
		name, branch, wantEnv string
	}{
		{"no branch is production", "", "production"},
		{"the production branch is production", "main", "production"},
		{"another branch is a preview", "feature/new-chart", "preview"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil, nil)
			d, err := h.pub.Publish(context.Background(), writeSite(t, siteFiles), publish.Meta{Branch: tt.branch})
			if err != nil {
				t.Fatal(err)
			}
			if d.Environment != tt.wantEnv {
				t.Errorf("environment = %q, want %q", d.Environment, tt.wantEnv)
			}
			if got := h.fake.Deployments()[0].Branch; got != tt.branch {
				t.Errorf("branch field = %q, want %q", got, tt.branch)
			}
			if tt.wantEnv == "preview" && (len(d.Aliases) != 1 || !strings.Contains(d.Aliases[0], "feature-new-chart.")) {
				t.Errorf("aliases = %v", d.Aliases)
			}
		})
	}
}

func TestDryRunListsWhatWouldBeUploaded(t *testing.T) {
	h := newHarness(t, nil, nil)
	dir := writeSite(t, siteFiles)
	d, err := h.pub.Publish(context.Background(), dir, publish.Meta{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, p := range d.Plan {
		paths = append(paths, p.Path)
	}
	want := []string{"data/report.json", "index.html", "products/api/index.html", "products/web/index.html",
		"static/css/site.css", "static/img/copy.png", "static/js/charts.js"} // copy.png stands for logo.png too
	if !slices.Equal(paths, want) || !d.DryRun || d.URL != "" {
		t.Errorf("plan = %v, deployment %+v", paths, d)
	}
	if len(h.fake.Uploads()) != 0 || len(h.fake.Deployments()) != 0 {
		t.Error("a dry run must not upload or deploy")
	}
	if !strings.HasPrefix(d.Summary(), "dry run: would upload 7 of 8 files") {
		t.Errorf("summary = %q", d.Summary())
	}

	if _, err := h.pub.Publish(context.Background(), dir, publish.Meta{}); err != nil {
		t.Fatal(err)
	}
	d, err = h.pub.Publish(context.Background(), dir, publish.Meta{DryRun: true})
	if err != nil || len(d.Plan) != 0 {
		t.Errorf("dry run after publishing: plan %v, err %v; want nothing to upload", d.Plan, err)
	}
}

func TestBucketsReachTheAPIWithinLimits(t *testing.T) {
	files := map[string]string{}
	for i := range 2100 {
		files[fmt.Sprintf("p/%04d.html", i)] = fmt.Sprintf("<p>%d</p>", i)
	}
	h := newHarness(t, nil, nil)
	d, err := h.pub.Publish(context.Background(), writeSite(t, files), publish.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	ups := h.fake.Uploads()
	total := 0
	for _, u := range ups {
		if len(u.Keys) > cloudflarepages.MaxBucketFiles || u.Bytes > cloudflarepages.MaxBucketBytes {
			t.Errorf("upload of %d files, %d bytes is over the limits", len(u.Keys), u.Bytes)
		}
		total += len(u.Keys)
	}
	if total != 2100 || len(ups) != 3 || d.Stats.Buckets != 3 {
		t.Errorf("%d files in %d uploads (stats %+v), want 2100 in 3", total, len(ups), d.Stats)
	}
}

func TestJWTFileLimitIsEnforced(t *testing.T) {
	f := fake.NewPages(t)
	f.MaxFileCount = 3
	h := newHarness(t, f, nil)
	_, err := h.pub.Publish(context.Background(), writeSite(t, siteFiles), publish.Meta{})
	if err == nil || !strings.Contains(err.Error(), "8 files is over this project's limit of 3 files") {
		t.Errorf("err = %v", err)
	}
	if len(f.Uploads()) != 0 {
		t.Error("nothing may be uploaded when the site is over the limit")
	}
}

func unauthorized(msg string) string { return fake.CloudflareErrorBody(8000013, msg) }

func TestFaultsAreRetriedByTheRules(t *testing.T) {
	const (
		checkMissing = "POST /pages/assets/check-missing"
		upload       = "POST /pages/assets/upload"
		upsert       = "POST /pages/assets/upsert-hashes"
		deploy       = "/deployments "
		project      = "GET /accounts/"
	)
	s := time.Second
	tests := []struct {
		name      string
		faults    []fake.InjectedFault
		oneFile   bool // one bucket, so upload faults meet a single uploader
		wantWaits []time.Duration
		wantJWTs  int
		wantErr   string // empty: the publish succeeds
		wantLog   string
	}{
		{
			name:      "8000013 inside an HTTP 200 on check-missing gets a new JWT",
			faults:    []fake.InjectedFault{{Match: checkMissing, Status: 200, Body: unauthorized("Authorization failed"), Times: 1}},
			wantWaits: []time.Duration{1 * s}, wantJWTs: 2,
		},
		{
			name:      "success:false with another code in a 200 is an error, retried",
			faults:    []fake.InjectedFault{{Match: checkMissing, Status: 200, Body: fake.CloudflareErrorBody(8000000, "unknown"), Times: 2}},
			wantWaits: []time.Duration{1 * s, 2 * s}, wantJWTs: 1,
		},
		{
			name:      "malformed JSON on check-missing is retried",
			faults:    []fake.InjectedFault{{Match: checkMissing, Status: 200, Body: `{"success":tru`, Times: 1}},
			wantWaits: []time.Duration{1 * s}, wantJWTs: 1,
		},
		{
			name:      "429 waits the retry-after",
			faults:    []fake.InjectedFault{{Match: checkMissing, Status: 429, RetryAfter: "7", Times: 1}},
			wantWaits: []time.Duration{7 * s}, wantJWTs: 1,
		},
		{
			name:    "a retry-after longer than MaxWait fails instead of stalling the job",
			faults:  []fake.InjectedFault{{Match: checkMissing, Status: 429, RetryAfter: "300", Times: 1}},
			wantErr: "check missing: HTTP 429: 10429 Too Many Requests (retry after 5m0s); not waiting longer than 2m0s",
		},
		{
			name:      "check-missing gives up after 5 retries",
			faults:    []fake.InjectedFault{{Match: checkMissing, Status: 500}},
			wantWaits: []time.Duration{1 * s, 2 * s, 4 * s, 8 * s, 16 * s},
			wantErr:   "check missing: HTTP 500: 10500 Internal Server Error",
		},
		{
			name:      "524 on upload waits 2^n plus 5·2^g seconds and goes on",
			oneFile:   true,
			faults:    []fake.InjectedFault{{Match: upload, Status: 524, Times: 2}},
			wantWaits: []time.Duration{6 * s, 11 * s}, wantJWTs: 1,
		},
		{
			name:      "six 524s in a row: the first five do not count as attempts",
			oneFile:   true,
			faults:    []fake.InjectedFault{{Match: upload, Status: 524, Times: 6}},
			wantWaits: []time.Duration{6 * s, 11 * s, 21 * s, 41 * s, 81 * s, 120 * s}, wantJWTs: 1,
		},
		{
			name:    "8000013 on upload gets a new JWT without using up attempts",
			oneFile: true,
			faults:  []fake.InjectedFault{{Match: upload, Status: 200, Body: unauthorized("expired"), Times: 7}},
			// 7 refreshes, each after the 2^0 s wait: more than the 5 attempts an upload has.
			wantWaits: []time.Duration{s, s, s, s, s, s, s}, wantJWTs: 8,
		},
		{
			name:      "upload errors use up 5 retries, then the publish fails",
			oneFile:   true,
			faults:    []fake.InjectedFault{{Match: upload, Status: 502}},
			wantWaits: []time.Duration{1 * s, 2 * s, 4 * s, 8 * s, 16 * s},
			wantErr:   "upload: HTTP 502: 10502 Bad Gateway",
		},
		{
			name:      "a 5xx on the project lookup is retried",
			faults:    []fake.InjectedFault{{Match: project, Status: 503, Times: 1}},
			wantWaits: []time.Duration{1 * s}, wantJWTs: 1,
		},
		{
			name:      "upsert-hashes failing twice only warns",
			faults:    []fake.InjectedFault{{Match: upsert, Status: 500, Times: 2}},
			wantWaits: []time.Duration{1 * s}, wantJWTs: 1,
			wantLog: "upsert hashes failed; the deployment goes on",
		},
		{
			name:      "creating the deployment is retried on 8000000",
			faults:    []fake.InjectedFault{{Match: deploy, Status: 500, Body: fake.CloudflareErrorBody(8000000, "unknown error"), Times: 2}},
			wantWaits: []time.Duration{1 * s, 2 * s}, wantJWTs: 1,
		},
		{
			name:      "creating the deployment gives up after 3 tries",
			faults:    []fake.InjectedFault{{Match: deploy, Status: 500, Body: fake.CloudflareErrorBody(8000000, "unknown error")}},
			wantWaits: []time.Duration{1 * s, 2 * s},
			wantErr:   "create deployment: HTTP 500: 8000000 unknown error",
		},
		{
			name:    "creating the deployment is not retried on other errors",
			faults:  []fake.InjectedFault{{Match: deploy, Status: 400, Body: fake.CloudflareErrorBody(8000057, "bad branch")}},
			wantErr: "create deployment: HTTP 400: 8000057 bad branch",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil, nil)
			for _, f := range tt.faults {
				h.fake.Inject(f)
			}
			files := siteFiles
			if tt.oneFile {
				files = map[string]string{"index.html": "<h1>hello</h1>"}
			}
			d, err := h.pub.Publish(context.Background(), writeSite(t, files), publish.Meta{})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("publish failed: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if !slices.Equal(h.Waits(), tt.wantWaits) {
				t.Errorf("waits = %v, want %v", h.Waits(), tt.wantWaits)
			}
			if tt.wantJWTs != 0 && len(h.fake.JWTs()) != tt.wantJWTs {
				t.Errorf("%d JWTs issued, want %d", len(h.fake.JWTs()), tt.wantJWTs)
			}
			if tt.wantErr == "" {
				if len(h.fake.Deployments()) != 1 || d.URL == "" {
					t.Errorf("want one deployment, got %d (%+v)", len(h.fake.Deployments()), d)
				}
				if d.Stats.Retries != len(tt.wantWaits) {
					t.Errorf("stats.retries = %d, want %d", d.Stats.Retries, len(tt.wantWaits))
				}
			}
			if tt.wantLog != "" && !strings.Contains(h.logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, h.logs)
			}
		})
	}
}

// clockAfter moves the publisher's clock forward once check-missing has answered, so the upload
// JWT is expired by the time the uploads start.
type clockAfter struct {
	mu    sync.Mutex
	later bool
	base  http.RoundTripper
}

func (c *clockAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if strings.HasSuffix(r.URL.Path, "/check-missing") {
		c.mu.Lock()
		c.later = true
		c.mu.Unlock()
	}
	return resp, err
}

func (c *clockAfter) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.later {
		return time.Now().Add(time.Hour)
	}
	return time.Now()
}

func TestExpiredJWTIsReplacedBeforeUploading(t *testing.T) {
	f := fake.NewPages(t)
	clock := &clockAfter{base: http.DefaultTransport}
	f.TokenTTL = 30 * time.Minute
	cfg := cloudflarepages.Config{AccountID: f.AccountID, APIToken: f.Token, Project: f.Project, BaseURL: f.URL, RateLimit: 1000}
	var issuedLate int
	pub, err := cloudflarepages.New(cfg, &http.Client{Transport: clock}, nil, cloudflarepages.WithClock(func() time.Time {
		return clock.now()
	}))
	if err != nil {
		t.Fatal(err)
	}
	// The fake's tokens last 30 minutes; the clock jumps an hour. Every token the fake issues
	// after the jump looks expired too, so give the fake the same clock.
	f.Now = clock.now
	_, err = pub.Publish(context.Background(), writeSite(t, siteFiles), publish.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Routes() {
		if r == "unauthorized" {
			issuedLate++
		}
	}
	if len(f.JWTs()) < 2 || issuedLate != 0 {
		t.Errorf("%d JWTs, %d unauthorized answers; want a fresh JWT before uploading and no refusal", len(f.JWTs()), issuedLate)
	}
}

func TestDeploymentIsPolledUntilLive(t *testing.T) {
	f := fake.NewPages(t)
	f.PollsUntilDone = 2
	h := newHarness(t, f, nil)
	d, err := h.pub.Publish(context.Background(), writeSite(t, siteFiles), publish.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Stage != "deploy" || d.Status != "success" || f.Count("get-deployment") != 2 {
		t.Errorf("stage %s %s after %d polls", d.Stage, d.Status, f.Count("get-deployment"))
	}
	if !slices.Equal(h.Waits(), []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("waits = %v", h.Waits())
	}
}

func TestPollingStopsAfterFivePolls(t *testing.T) {
	f := fake.NewPages(t)
	f.PollsUntilDone = 100
	h := newHarness(t, f, nil)
	d, err := h.pub.Publish(context.Background(), writeSite(t, siteFiles), publish.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Count("get-deployment") != 5 || d.Status != "active" || !strings.Contains(h.logs.String(), "still in progress") {
		t.Errorf("%d polls, status %q", f.Count("get-deployment"), d.Status)
	}
}

func TestFailedDeploymentReportsItsLog(t *testing.T) {
	f := fake.NewPages(t)
	f.FailDeployments = true
	h := newHarness(t, f, nil)
	_, err := h.pub.Publish(context.Background(), writeSite(t, siteFiles), publish.Meta{})
	if err == nil || !strings.Contains(err.Error(), "failed in stage deploy") || !strings.Contains(err.Error(), "assets exceed quota") {
		t.Errorf("err = %v", err)
	}
	if f.Count("deployment-logs") != 1 {
		t.Errorf("logs read %d times", f.Count("deployment-logs"))
	}
}

func TestTokensNeverReachErrorsOrLogs(t *testing.T) {
	f := fake.NewPages(t)
	h := newHarness(t, f, nil)
	// A server that echoes the credential back in its error message.
	f.Inject(fake.InjectedFault{Match: "GET /accounts/", Status: 403, Times: 1,
		Body: fake.CloudflareErrorBody(9109, "Invalid access token "+f.Token)})
	_, err := h.pub.Publish(context.Background(), writeSite(t, siteFiles), publish.Meta{})
	if err == nil {
		t.Fatal("want an error for the 403")
	}
	if strings.Contains(err.Error(), f.Token) || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("error leaks the token: %v", err)
	}

	// Upload JWTs echoed back in every retried fault must not show either.
	f2 := fake.NewPages(t)
	h2 := newHarness(t, f2, nil)
	f2.Inject(fake.InjectedFault{Match: "POST /pages/assets/upload", Status: 200, Times: 2,
		Body: unauthorized("token " + f2.IssueJWT(time.Now()) + " expired")})
	f2.Inject(fake.InjectedFault{Match: "POST /pages/assets/upsert-hashes", Status: 500})
	if _, err := h2.pub.Publish(context.Background(), writeSite(t, siteFiles), publish.Meta{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range append(f2.JWTs()[1:], f2.Token) {
		if strings.Contains(h2.logs.String(), s) {
			t.Errorf("log holds a secret:\n%s", h2.logs)
		}
	}
	// A JWT is a secret even in a warning: the upsert failure is logged.
	if !strings.Contains(h2.logs.String(), "upsert hashes failed") {
		t.Errorf("expected the upsert warning in the log:\n%s", h2.logs)
	}
}

func TestCancelStopsARetryWait(t *testing.T) {
	f := fake.NewPages(t)
	f.Inject(fake.InjectedFault{Match: "POST /pages/assets/check-missing", Status: 429, RetryAfter: "60"})
	cfg := cloudflarepages.Config{AccountID: f.AccountID, APIToken: f.Token, Project: f.Project, BaseURL: f.URL, RateLimit: 1000}
	pub, err := cloudflarepages.New(cfg, nil, nil) // the real sleep
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = pub.Publish(ctx, writeSite(t, siteFiles), publish.Meta{})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Errorf("err = %v after %s; want the deadline, promptly", err, time.Since(start))
	}
}

func TestWrongAccountOrProjectIsAClearError(t *testing.T) {
	h := newHarness(t, nil, func(c *cloudflarepages.Config) { c.Project = "nope" })
	_, err := h.pub.Publish(context.Background(), writeSite(t, siteFiles), publish.Meta{})
	if err == nil || !strings.Contains(err.Error(), "cloudflare pages nope: get project: HTTP 404: 8000007 Project not found") {
		t.Errorf("err = %v", err)
	}
}

func TestFromEnvSkipsWithoutCredentials(t *testing.T) {
	pc := &config.CloudflarePages{Project: "portfolio"}
	tests := []struct {
		name string
		env  map[string]string
		pc   *config.CloudflarePages
		want string
	}{
		{"no token", map[string]string{"CLOUDFLARE_ACCOUNT_ID": "a"}, pc, "CLOUDFLARE_API_TOKEN not set"},
		{"no account", map[string]string{"CLOUDFLARE_API_TOKEN": "t0ken"}, pc, "CLOUDFLARE_ACCOUNT_ID not set"},
		{"no project", map[string]string{"CLOUDFLARE_API_TOKEN": "t0ken", "CLOUDFLARE_ACCOUNT_ID": "a"}, nil,
			"publish.cloudflare_pages.project not set in the config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cloudflarepages.FromEnv(func(k string) string { return tt.env[k] }, tt.pc, nil, nil)
			if !errors.As(err, new(*skip.Error)) || err.Error() != tt.want {
				t.Errorf("err = %v, want %q (a *skip.Error)", err, tt.want)
			}
		})
	}
	env := map[string]string{"CLOUDFLARE_API_TOKEN": "t0ken", "CLOUDFLARE_ACCOUNT_ID": "a", "CLOUDFLARE_API_BASE_URL": "http://127.0.0.1:1/client/v4"}
	if _, err := cloudflarepages.FromEnv(func(k string) string { return env[k] }, pc, nil, nil); err != nil {
		t.Errorf("with credentials: %v", err)
	}
}

func TestHungUploadTimesOutAndIsRetried(t *testing.T) {
	f := fake.NewPages(t)
	f.Inject(fake.InjectedFault{Match: "POST /pages/assets/upload", Hang: true, Times: 1})
	var waits []time.Duration
	cfg := cloudflarepages.Config{AccountID: f.AccountID, APIToken: f.Token, Project: f.Project, BaseURL: f.URL, RateLimit: 1000}
	pub, err := cloudflarepages.New(cfg, &http.Client{Timeout: 300 * time.Millisecond}, nil,
		cloudflarepages.WithSleep(func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }))
	if err != nil {
		t.Fatal(err)
	}
	d, err := pub.Publish(context.Background(), writeSite(t, map[string]string{"index.html": "hi"}), publish.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(waits, []time.Duration{time.Second}) || d.Stats.Uploaded != 1 || len(f.Uploads()) != 1 {
		t.Errorf("waits %v, stats %+v", waits, d.Stats)
	}
}
