// Package cloudflarepages publishes the site with Cloudflare Pages Direct Upload, the protocol
// wrangler's `pages deploy` speaks (docs/publishing.md): project lookup, an upload JWT,
// check-missing, bucketed uploads of the missing files only, upsert-hashes, a multipart
// deployment and polling until it is live.
//
// Calls that use the account API token go through the Cloudflare client; calls that use the
// upload JWT through a copy of it that sends the JWT instead, sharing its budget. Each step
// retries by its own rules (retry.Pages*).
package cloudflarepages

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sourcegraph/conc/pool"
	"golang.org/x/time/rate"

	"github.com/portfolio-report/portfolio/generator/cloudflare"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/publish"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/skip"
)

// Config says where to publish. APIToken is a secret: it only ever comes from the environment.
type Config struct {
	AccountID string
	APIToken  string
	Project   string
	// ProductionBranch is used when the project does not report its own production branch.
	ProductionBranch string
	// BaseURL is the v4 API root, with /client/v4 (cloudflare.DefaultBaseURL when empty).
	BaseURL string
	// RateLimit is requests per second (4 when zero: 1200 per 5 minutes).
	RateLimit float64
	// SkipCaching treats every file as missing, like wrangler's --skip-caching.
	SkipCaching bool
}

// Option adjusts a Publisher for tests.
type Option func(*Publisher)

// WithClock sets the clock the JWT expiry is checked against.
func WithClock(now func() time.Time) Option { return func(p *Publisher) { p.now = now } }

// WithSleep replaces the pause between retries and polls (tests record the waits instead of
// sleeping).
func WithSleep(sleep retry.Sleeper) Option {
	return func(p *Publisher) {
		if sleep != nil {
			p.sleep = sleep
		}
	}
}

// WithRedactor scrubs errors and log lines with r, which also learns every upload JWT; by
// default a redactor of the API token alone.
func WithRedactor(r *redact.Redactor) Option {
	return func(p *Publisher) {
		if r != nil {
			p.red = r
		}
	}
}

// WithSkipCaching uploads every file, even those Cloudflare has (wrangler's --skip-caching).
func WithSkipCaching() Option { return func(p *Publisher) { p.cfg.SkipCaching = true } }

// Publisher publishes a folder to one Pages project.
type Publisher struct {
	cfg   Config
	hc    *http.Client
	log   *slog.Logger
	now   func() time.Time
	sleep retry.Sleeper
	red   *redact.Redactor
}

var _ publish.Publisher = (*Publisher)(nil)

// New returns a Publisher. httpClient may be nil (http.DefaultClient's transport is used).
func New(cfg Config, httpClient *http.Client, logger *slog.Logger, opts ...Option) (*Publisher, error) {
	var missing []string
	if cfg.APIToken == "" {
		missing = append(missing, "API token")
	}
	if cfg.AccountID == "" {
		missing = append(missing, "account ID")
	}
	if cfg.Project == "" {
		missing = append(missing, "project")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("cloudflare pages: missing %s", strings.Join(missing, ", "))
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = 4
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Publisher{cfg: cfg, hc: httpClient, log: logger, now: time.Now, sleep: retry.Sleep}
	for _, o := range opts {
		o(p)
	}
	if p.red == nil {
		p.red = redact.Of()
	}
	p.red.Add(cfg.APIToken)
	p.log = p.red.Logger(p.log) // an upload JWT learnt later is redacted too
	return p, nil
}

// FromEnv builds a Publisher from CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID,
// CLOUDFLARE_API_BASE_URL and the config's publish.cloudflare_pages. A missing token, account or
// project is a *skip.Error with the reason.
func FromEnv(getenv func(string) string, pc *config.CloudflarePages, httpClient *http.Client, logger *slog.Logger, opts ...Option) (*Publisher, error) {
	switch {
	case getenv(config.EnvCloudflareToken) == "":
		return nil, skip.Because(config.EnvCloudflareToken + " not set")
	case getenv(config.EnvCloudflareAccount) == "":
		return nil, skip.Because(config.EnvCloudflareAccount + " not set")
	case pc == nil || pc.Project == "":
		return nil, skip.Because("publish.cloudflare_pages.project not set in the config")
	}
	return New(Config{
		AccountID:        getenv(config.EnvCloudflareAccount),
		APIToken:         getenv(config.EnvCloudflareToken),
		Project:          pc.Project,
		ProductionBranch: pc.Branch,
		BaseURL:          getenv(config.EnvCloudflareBaseURL),
	}, httpClient, logger, opts...)
}

// Publish uploads the files in dir that Cloudflare does not have yet and creates a deployment
// of all of them. See publish.Publisher.
func (p *Publisher) Publish(ctx context.Context, dir string, meta publish.Meta) (publish.Deployment, error) {
	r := &run{p: p, log: p.log.With("project", p.cfg.Project)}
	r.api = cloudflare.New(cloudflare.Options{
		Token:     p.cfg.APIToken,
		BaseURL:   p.cfg.BaseURL,
		REST:      cloudflare.Limits{Budget: rate.NewLimiter(rate.Limit(p.cfg.RateLimit), 1)},
		UserAgent: "portfolio-report",
		Redactor:  p.red,
		Now:       p.now,
	}, p.hc)
	d, err := r.publish(ctx, dir, meta)
	d.Stats.Requests = r.api.Requests()
	d.Stats.Retries = int(r.retries.Load())
	if err != nil {
		return d, p.red.Error(fmt.Errorf("cloudflare pages %s: %w", p.cfg.Project, err))
	}
	return d, nil
}

// run is the state of one Publish.
type run struct {
	p       *Publisher
	log     *slog.Logger
	api     *cloudflare.Client // with the API token
	retries atomic.Int64

	mu    sync.Mutex
	token *uploadToken

	serial   atomic.Bool // set after a 524: uploads go one at a time
	serialMu sync.Mutex
}

// uploadToken is an upload JWT and the client that sends it.
type uploadToken struct {
	claims claims
	client *cloudflare.Client
}

// policy is a step's retry policy, with the publisher's sleep, counting and logging retries.
func (r *run) policy(p retry.Policy) retry.Policy {
	p = p.WithSleep(r.p.sleep)
	p.OnRetry = func(err error, wait time.Duration) {
		r.retries.Add(1)
		attrs := []any{"err", err.Error(), "wait", wait}
		if e, ok := apiError(err); ok {
			attrs = append(attrs, "status", e.Status, "codes", e.Codes)
		}
		r.log.Info("retrying", attrs...)
	}
	return p
}

func (r *run) publish(ctx context.Context, dir string, meta publish.Meta) (publish.Deployment, error) {
	cfg := r.p.cfg
	d := publish.Deployment{DryRun: meta.DryRun, Branch: meta.Branch}

	// Scan first: a missing or oversized site fails before any request.
	site, err := Scan(dir, -1)
	if err != nil {
		return d, err
	}
	d.Stats.Files, d.Stats.Bytes = len(site.Files), site.Bytes

	projectPath := "/accounts/" + url.PathEscape(cfg.AccountID) + "/pages/projects/" + url.PathEscape(cfg.Project)

	// 1. The project: it must exist, and it names the production branch.
	raw, err := r.retryGET(ctx, "get project", projectPath)
	if err != nil {
		return d, err
	}
	var project cloudflare.PagesProject
	if err := json.Unmarshal(raw.Result, &project); err != nil {
		return d, fmt.Errorf("get project: %w", err)
	}
	production := project.ProductionBranch
	if production == "" {
		production = cfg.ProductionBranch
	}
	if production == "" {
		production = "main"
	}
	if meta.Branch == "" || meta.Branch == production {
		d.Environment = "production"
	} else {
		d.Environment = "preview"
	}

	// 2. The upload JWT; its claims may lower the file limit.
	tok, err := r.refreshToken(ctx, nil, projectPath)
	if err != nil {
		return d, err
	}
	if len(site.Files) > tok.claims.MaxFiles {
		return d, fmt.Errorf("%s: %d files is over this project's limit of %d files per deployment", dir, len(site.Files), tok.claims.MaxFiles)
	}

	// 3. Which contents Cloudflare lacks. Identical files share a hash and are sent once.
	byHash := map[string]File{}
	hashes := make([]string, 0, len(site.Files))
	for _, f := range site.Files {
		if _, ok := byHash[f.Hash]; !ok {
			byHash[f.Hash] = f
			hashes = append(hashes, f.Hash)
		}
	}
	sort.Strings(hashes)
	missing := hashes
	if !cfg.SkipCaching {
		if missing, err = r.checkMissing(ctx, hashes, projectPath); err != nil {
			return d, err
		}
	}
	var toUpload []File
	for _, h := range missing {
		if f, ok := byHash[h]; ok {
			toUpload = append(toUpload, f)
		}
	}
	sort.Slice(toUpload, func(i, j int) bool { return toUpload[i].Path < toUpload[j].Path })
	d.Plan = make([]publish.PlannedFile, 0, len(toUpload))
	for _, f := range toUpload {
		d.Plan = append(d.Plan, publish.PlannedFile{Path: f.Path, Hash: f.Hash, Size: f.Size, ContentType: f.ContentType})
		d.Stats.UploadedBytes += f.Size
	}
	d.Stats.Missing = len(toUpload)
	buckets := Buckets(toUpload)
	r.log.Info("publish plan", "files", len(site.Files), "missing", len(toUpload), "buckets", len(buckets), "dry_run", meta.DryRun)
	if meta.DryRun {
		d.Stats.Buckets = len(buckets)
		return d, nil
	}

	// 4. Upload the missing files, 3 buckets at a time.
	if err := r.uploadAll(ctx, buckets, projectPath); err != nil {
		return d, err
	}
	d.Stats.Uploaded, d.Stats.Buckets = len(toUpload), len(buckets)

	// 5. Tell Cloudflare every hash is in use, so none expires; failure only warns.
	r.upsertHashes(ctx, hashes, projectPath)

	// 6. The deployment.
	form, contentType, err := deploymentForm(site, meta)
	if err != nil {
		return d, err
	}
	dep, err := r.createDeployment(ctx, projectPath, form, contentType)
	if err != nil {
		return d, err
	}

	// 7. Wait until it is live.
	dep, err = r.poll(ctx, projectPath, dep)
	fill(&d, dep)
	return d, err
}

// retryGET sends an API-token GET by retry.PagesRead: again when there was no answer, a 429
// or a 5xx.
func (r *run) retryGET(ctx context.Context, op, endpoint string) (cloudflare.Response, error) {
	var res cloudflare.Response
	err := r.policy(retry.PagesRead()).Do(ctx, func(ctx context.Context) error {
		var err error
		res, err = call(ctx, r.api, op, http.MethodGet, endpoint, nil, nil)
		return retryOn(err, transient)
	})
	return res, err
}

// refreshToken fetches a new upload JWT unless another upload already replaced stale.
func (r *run) refreshToken(ctx context.Context, stale *uploadToken, projectPath string) (*uploadToken, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.token != nil && r.token != stale {
		return r.token, nil
	}
	raw, err := r.retryGET(ctx, "get upload token", projectPath+"/upload-token")
	if err != nil {
		return nil, err
	}
	var res struct {
		JWT string `json:"jwt"`
	}
	if err := json.Unmarshal(raw.Result, &res); err != nil || res.JWT == "" {
		return nil, errors.New("get upload token: no jwt in the answer")
	}
	r.p.red.Add(res.JWT)
	c, err := parseJWT(res.JWT)
	if err != nil {
		return nil, err
	}
	r.token = &uploadToken{claims: c, client: r.api.WithToken(res.JWT)}
	return r.token, nil
}

func (r *run) currentToken() *uploadToken {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.token
}

// usable returns the current upload token, replaced first when stale is set or it has expired.
func (r *run) usable(ctx context.Context, stale bool, projectPath string) (*uploadToken, error) {
	tok := r.currentToken()
	if stale || tok.claims.expired(r.p.now()) {
		return r.refreshToken(ctx, tok, projectPath)
	}
	return tok, nil
}

// checkMissing asks which hashes Cloudflare lacks, by retry.PagesCheckMissing (any failure); a
// new JWT first when the answer was 8000013 or the JWT has expired.
func (r *run) checkMissing(ctx context.Context, hashes []string, projectPath string) ([]string, error) {
	body, err := json.Marshal(map[string][]string{"hashes": hashes})
	if err != nil {
		return nil, err
	}
	var missing []string
	refused := false
	err = r.policy(retry.PagesCheckMissing()).Do(ctx, func(ctx context.Context) error {
		tok, err := r.usable(ctx, refused, projectPath)
		if err != nil {
			return err
		}
		res, err := call(ctx, tok.client, "check missing", http.MethodPost, "/pages/assets/check-missing", body, nil)
		if err != nil {
			refused = unauthorized(err)
			return retryOn(err, anyFailure)
		}
		if err := json.Unmarshal(res.Result, &missing); err != nil {
			return fmt.Errorf("check missing: %w", err)
		}
		return nil
	})
	return missing, err
}

func (r *run) uploadAll(ctx context.Context, buckets [][]File, projectPath string) error {
	p := pool.New().WithContext(ctx).WithCancelOnError().WithFirstError().WithMaxGoroutines(UploadConcurrency)
	for _, b := range buckets {
		p.Go(func(ctx context.Context) error { return r.upload(ctx, b, projectPath) })
	}
	return p.Wait()
}

// upload sends one bucket by retry.PagesUpload: five retries after 2^n s. A 524 also waits
// 5 s·2^g, makes uploads go one at a time, and counts as an attempt only after 5 of them. A bad
// or expired JWT gets a new one and does not count (at most 10 times, so a server that always
// refuses ends it).
func (r *run) upload(ctx context.Context, files []File, projectPath string) error {
	body, err := uploadBody(files)
	if err != nil {
		return err
	}
	gateway, refreshes := 0, 0
	refused := false
	err = r.policy(retry.PagesUpload()).Do(ctx, func(ctx context.Context) error {
		tok, err := r.usable(ctx, refused, projectPath)
		if err != nil {
			return err
		}
		refused = false
		err = r.sendUpload(ctx, tok, body)
		e, ok := apiError(err)
		switch {
		case err == nil || !ok:
			return err
		case unauthorized(err) || tok.claims.expired(r.p.now()):
			if refreshes++; refreshes > 10 {
				return err
			}
			refused = true
			return &retry.Error{Err: err, After: e.RetryAfter, Free: true}
		case gatewayTimeout(err):
			r.serial.Store(true)
			extra := extraAfter524(gateway)
			gateway++
			return &retry.Error{Err: err, After: e.RetryAfter, Extra: extra, Free: gateway <= 5}
		}
		return retry.Retryable(err, e.RetryAfter)
	})
	if err != nil {
		return fmt.Errorf("%w (%d files)", err, len(files))
	}
	return nil
}

func (r *run) sendUpload(ctx context.Context, tok *uploadToken, body []byte) error {
	if r.serial.Load() {
		r.serialMu.Lock()
		defer r.serialMu.Unlock()
	}
	_, err := call(ctx, tok.client, "upload", http.MethodPost, "/pages/assets/upload", body, nil)
	return err
}

// uploadBody is the JSON array upload takes: each file's content in base64 under its hash.
func uploadBody(files []File) ([]byte, error) {
	type meta struct {
		ContentType string `json:"contentType"`
	}
	type item struct {
		Key      string `json:"key"`
		Value    string `json:"value"`
		Metadata meta   `json:"metadata"`
		Base64   bool   `json:"base64"`
	}
	items := make([]item, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f.abs)
		if err != nil {
			return nil, fmt.Errorf("upload: %w", err)
		}
		items = append(items, item{Key: f.Hash, Value: base64.StdEncoding.EncodeToString(b), Metadata: meta{f.ContentType}, Base64: true})
	}
	return json.Marshal(items)
}

// upsertHashes marks every hash as used, by retry.PagesUpsertHashes; a failure only warns
// (wrangler).
func (r *run) upsertHashes(ctx context.Context, hashes []string, projectPath string) {
	body, _ := json.Marshal(map[string][]string{"hashes": hashes}) // strings always marshal
	refused := false
	err := r.policy(retry.PagesUpsertHashes()).Do(ctx, func(ctx context.Context) error {
		tok, err := r.usable(ctx, refused, projectPath)
		if err != nil {
			return err
		}
		_, err = call(ctx, tok.client, "upsert hashes", http.MethodPost, "/pages/assets/upsert-hashes", body, nil)
		refused = unauthorized(err)
		return retryOn(err, anyFailure)
	})
	if err != nil {
		r.log.Warn("upsert hashes failed; the deployment goes on", "err", err.Error())
	}
}

// deploymentForm is the multipart body of the deployment (wrangler api/pages/deploy.ts).
func deploymentForm(site Site, meta publish.Meta) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	manifest, err := json.Marshal(site.Manifest()) // map keys are sorted: the same site, the same bytes
	if err != nil {
		return nil, "", err
	}
	fields := [][2]string{{"manifest", string(manifest)}}
	if meta.Branch != "" {
		fields = append(fields, [2]string{"branch", meta.Branch})
	}
	if meta.CommitMessage != "" {
		fields = append(fields, [2]string{"commit_message", truncateUTF8(meta.CommitMessage, maxCommitMsgBytes)})
	}
	if meta.CommitHash != "" {
		fields = append(fields, [2]string{"commit_hash", meta.CommitHash})
	}
	if meta.CommitDirty != nil {
		fields = append(fields, [2]string{"commit_dirty", fmt.Sprint(*meta.CommitDirty)})
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	for _, part := range []struct {
		name string
		body []byte
	}{{"_headers", site.Headers}, {"_redirects", site.Redirects}} {
		if part.body == nil {
			continue
		}
		fw, err := w.CreateFormFile(part.name, part.name)
		if err != nil {
			return nil, "", err
		}
		fw.Write(part.body) // writes to a bytes.Buffer do not fail
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// createDeployment posts the form by retry.PagesCreateDeployment, repeated only on code
// 8000000 (wrangler) or a 429 (the request was not taken).
func (r *run) createDeployment(ctx context.Context, projectPath string, form []byte, contentType string) (cloudflare.PagesProjectDeployment, error) {
	hdr := http.Header{"Content-Type": {contentType}}
	var dep cloudflare.PagesProjectDeployment
	err := r.policy(retry.PagesCreateDeployment()).Do(ctx, func(ctx context.Context) error {
		res, err := call(ctx, r.api, "create deployment", http.MethodPost, projectPath+"/deployments", form, hdr)
		if err != nil {
			return retryOn(err, func(e *cloudflare.APIError) bool {
				return e.Has(codeUnknown) || e.Status == http.StatusTooManyRequests
			})
		}
		if err := json.Unmarshal(res.Result, &dep); err != nil {
			return fmt.Errorf("create deployment: %w", err)
		}
		return nil
	})
	return dep, err
}

// poll re-reads the deployment after 1, 2, 4, 8, 16 s until its latest stage is deploy or it
// succeeded or failed. A failure reads the build log and is an error.
func (r *run) poll(ctx context.Context, projectPath string, dep cloudflare.PagesProjectDeployment) (cloudflare.PagesProjectDeployment, error) {
	endpoint := projectPath + "/deployments/" + url.PathEscape(dep.ID)
	for i := 0; i < 5 && !settled(dep); i++ {
		if err := r.p.sleep(ctx, backoff(i)); err != nil {
			return dep, fmt.Errorf("poll deployment: %w", err)
		}
		raw, err := r.retryGET(ctx, "poll deployment", endpoint)
		if err != nil {
			return dep, err
		}
		var next cloudflare.PagesProjectDeployment
		if err := json.Unmarshal(raw.Result, &next); err != nil {
			return dep, fmt.Errorf("poll deployment: %w", err)
		}
		dep = next
	}
	switch {
	case dep.LatestStage.Status == "failure":
		return dep, fmt.Errorf("deployment %s failed in stage %s%s", dep.ID, dep.LatestStage.Name, r.buildLog(ctx, endpoint))
	case !settled(dep):
		r.log.Warn("deployment still in progress after polling", "id", dep.ID, "stage", dep.LatestStage.Name, "status", dep.LatestStage.Status)
	}
	return dep, nil
}

func settled(d cloudflare.PagesProjectDeployment) bool {
	return d.LatestStage.Name == "deploy" || d.LatestStage.Status == "success" || d.LatestStage.Status == "failure"
}

// buildLog returns the last lines of a failed deployment's log, for the error message.
func (r *run) buildLog(ctx context.Context, endpoint string) string {
	raw, err := r.retryGET(ctx, "deployment logs", endpoint+"/history/logs?size=10000000")
	if err != nil {
		return ""
	}
	var logs cloudflare.PagesDeploymentLogs
	if json.Unmarshal(raw.Result, &logs) != nil || len(logs.Data) == 0 {
		return ""
	}
	lines := logs.Data
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	var b strings.Builder
	b.WriteString(":")
	for _, l := range lines {
		b.WriteString("\n  ")
		b.WriteString(strings.ToValidUTF8(l.Line, "?"))
	}
	return b.String()
}

func fill(d *publish.Deployment, dep cloudflare.PagesProjectDeployment) {
	d.ID, d.URL, d.Aliases = dep.ID, dep.URL, dep.Aliases
	if dep.Environment != "" {
		d.Environment = dep.Environment
	}
	if m := dep.DeploymentTrigger.Metadata; m != nil && m.Branch != "" {
		d.Branch = m.Branch
	}
	d.Stage, d.Status = dep.LatestStage.Name, dep.LatestStage.Status
	if dep.CreatedOn != nil {
		d.CreatedOn = dep.CreatedOn.UTC()
	}
}

// backoff is 2^n seconds: 1, 2, 4, 8, 16 … (the polls' waits)
func backoff(n int) time.Duration { return time.Second << min(n, 6) }
