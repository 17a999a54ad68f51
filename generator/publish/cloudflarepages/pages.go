// Package cloudflarepages publishes the site with Cloudflare Pages Direct Upload, the protocol
// wrangler's `pages deploy` speaks (see shared/specs/cloudflare.md §1): project lookup, an
// upload JWT, check-missing, bucketed uploads of the missing files only, upsert-hashes, a
// multipart deployment and polling until it is live.
//
// Calls that use the account API token go through one cloudflare-go client's Raw; calls that use
// the upload JWT go through a second client made with that JWT, because cloudflare-go sets its
// own Authorization header over any passed to Raw.
package cloudflarepages

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/portfolio-report/portfolio/generator/retry"
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

	"github.com/cloudflare/cloudflare-go"
	"github.com/sourcegraph/conc/pool"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/publish"
)

// DefaultBaseURL is the Cloudflare v4 API.
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

// Config says where to publish. APIToken is a secret: it only ever comes from the environment.
type Config struct {
	AccountID string
	APIToken  string
	Project   string
	// ProductionBranch is used when the project does not report its own production branch.
	ProductionBranch string
	// BaseURL is the v4 API root, with /client/v4 (DefaultBaseURL when empty).
	BaseURL string
	// RateLimit is requests per second per client (4 when zero: 1200 per 5 minutes).
	RateLimit float64
	// MaxWait is the longest single pause: backoffs are cut to it, and a server asking for a
	// longer retry-after fails the publish instead (2 minutes when zero).
	MaxWait time.Duration
	// SkipCaching treats every file as missing, like wrangler's --skip-caching.
	SkipCaching bool
}

// Option adjusts a Publisher for tests.
type Option func(*Publisher)

// WithClock sets the clock the JWT expiry is checked against.
func WithClock(now func() time.Time) Option { return func(p *Publisher) { p.now = now } }

// WithSleep replaces the pause between retries (tests record the waits instead of sleeping).
func WithSleep(sleep func(context.Context, time.Duration) error) Option {
	return func(p *Publisher) { p.sleep = sleep }
}

// WithSkipCaching uploads every file, even those Cloudflare has (wrangler's --skip-caching).
func WithSkipCaching() Option { return func(p *Publisher) { p.cfg.SkipCaching = true } }

// Publisher publishes a folder to one Pages project.
type Publisher struct {
	cfg   Config
	hc    *http.Client
	log   *slog.Logger
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
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
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = 4
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 2 * time.Minute
	}
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	base := httpClient.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc := *httpClient
	hc.Transport = observingTransport{base: base}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Publisher{cfg: cfg, hc: &hc, log: logger, now: time.Now, sleep: retry.Sleep}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// FromEnv builds a Publisher from CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID,
// CLOUDFLARE_API_BASE_URL and the config's publish.cloudflare_pages. A missing token, account or
// project is a publish.ErrSkipped with the reason.
func FromEnv(getenv func(string) string, pc *config.CloudflarePages, httpClient *http.Client, logger *slog.Logger, opts ...Option) (*Publisher, error) {
	switch {
	case getenv(config.EnvCloudflareToken) == "":
		return nil, publish.Skip(config.EnvCloudflareToken + " not set")
	case getenv(config.EnvCloudflareAccount) == "":
		return nil, publish.Skip(config.EnvCloudflareAccount + " not set")
	case pc == nil || pc.Project == "":
		return nil, publish.Skip("publish.cloudflare_pages.project not set in the config")
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
	r.secrets = []string{p.cfg.APIToken}
	d, err := r.publish(ctx, dir, meta)
	d.Stats.Requests = int(r.requests.Load())
	d.Stats.Retries = int(r.retries.Load())
	if err != nil {
		return d, r.redact(fmt.Errorf("cloudflare pages %s: %w", p.cfg.Project, err))
	}
	return d, nil
}

// run is the state of one Publish.
type run struct {
	p        *Publisher
	log      *slog.Logger
	api      *apiClient
	requests atomic.Int64
	retries  atomic.Int64

	mu      sync.Mutex
	secrets []string // the API token and every upload JWT, for redaction
	token   *uploadToken

	serial   atomic.Bool // set after a 524: uploads go one at a time
	serialMu sync.Mutex
}

// uploadToken is an upload JWT and the client that sends it.
type uploadToken struct {
	jwt    string
	claims claims
	client *apiClient
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

	r.api, err = newAPIClient(cfg.APIToken, cfg.BaseURL, r.p.hc, cfg.RateLimit, &r.requests)
	if err != nil {
		return d, err
	}
	projectPath := "/accounts/" + url.PathEscape(cfg.AccountID) + "/pages/projects/" + url.PathEscape(cfg.Project)

	// 1. The project: it must exist, and it names the production branch.
	raw, err := r.retryGET(ctx, "get project", projectPath)
	if err != nil {
		return d, err
	}
	var project cloudflare.PagesProject
	if err := json.Unmarshal(raw, &project); err != nil {
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

// retryGET sends an idempotent API-token GET, repeating it up to 3 times (after 1, 2, 4 s, or
// the server's retry-after) when there was no answer, a 429 or a 5xx.
func (r *run) retryGET(ctx context.Context, op, endpoint string) (json.RawMessage, error) {
	for attempt := 0; ; attempt++ {
		raw, err := r.api.call(ctx, op, http.MethodGet, endpoint, nil, nil)
		f, ok := err.(*fault)
		if err == nil || !ok || !f.transient() || attempt >= 3 {
			return raw, err
		}
		if err := r.pause(ctx, f, backoff(attempt)); err != nil {
			return nil, err
		}
	}
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
	if err := json.Unmarshal(raw, &res); err != nil || res.JWT == "" {
		return nil, errors.New("get upload token: no jwt in the answer")
	}
	r.secrets = append(r.secrets, res.JWT)
	c, err := parseJWT(res.JWT)
	if err != nil {
		return nil, err
	}
	client, err := newAPIClient(res.JWT, r.p.cfg.BaseURL, r.p.hc, r.p.cfg.RateLimit, &r.requests)
	if err != nil {
		return nil, err
	}
	r.token = &uploadToken{jwt: res.JWT, claims: c, client: client}
	return r.token, nil
}

func (r *run) currentToken() *uploadToken {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.token
}

// checkMissing asks which hashes Cloudflare lacks: up to 5 retries after 1, 2, 4, 8, 16 s; a new
// JWT first when the answer is 8000013 or the JWT has expired.
func (r *run) checkMissing(ctx context.Context, hashes []string, projectPath string) ([]string, error) {
	body, err := json.Marshal(map[string][]string{"hashes": hashes})
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		tok := r.currentToken()
		if tok.claims.expired(r.p.now()) {
			if tok, err = r.refreshToken(ctx, tok, projectPath); err != nil {
				return nil, err
			}
		}
		raw, err := tok.client.call(ctx, "check missing", http.MethodPost, "/pages/assets/check-missing", body, nil)
		if err == nil {
			var missing []string
			if err := json.Unmarshal(raw, &missing); err != nil {
				return nil, fmt.Errorf("check missing: %w", err)
			}
			return missing, nil
		}
		f, ok := err.(*fault)
		if !ok || attempt >= 5 {
			return nil, err
		}
		if err := r.pause(ctx, f, backoff(attempt)); err != nil {
			return nil, err
		}
		if f.has(codeUnauthorized) || tok.claims.expired(r.p.now()) {
			if _, err := r.refreshToken(ctx, tok, projectPath); err != nil {
				return nil, err
			}
		}
	}
}

func (r *run) uploadAll(ctx context.Context, buckets [][]File, projectPath string) error {
	p := pool.New().WithContext(ctx).WithCancelOnError().WithFirstError().WithMaxGoroutines(UploadConcurrency)
	for _, b := range buckets {
		p.Go(func(ctx context.Context) error { return r.upload(ctx, b, projectPath) })
	}
	return p.Wait()
}

// upload sends one bucket. Up to 5 retries after 2^n s. A 524 also waits 5 s·2^g, makes uploads
// go one at a time, and counts as an attempt only after 5 of them. A bad or expired JWT gets a
// new one and does not count (at most 10 times, so a server that always refuses ends it).
func (r *run) upload(ctx context.Context, files []File, projectPath string) error {
	body, err := uploadBody(files)
	if err != nil {
		return err
	}
	attempts, gateway, refreshes := 0, 0, 0
	for {
		tok := r.currentToken()
		if tok.claims.expired(r.p.now()) {
			if tok, err = r.refreshToken(ctx, tok, projectPath); err != nil {
				return err
			}
		}
		err := r.sendUpload(ctx, tok, body)
		if err == nil {
			return nil
		}
		f, ok := err.(*fault)
		if !ok || attempts >= 5 {
			return fmt.Errorf("%w (%d files)", err, len(files))
		}
		wait := backoff(attempts)
		switch {
		case f.has(codeUnauthorized) || tok.claims.expired(r.p.now()):
			if refreshes++; refreshes > 10 {
				return err
			}
			if err := r.pause(ctx, f, wait); err != nil {
				return err
			}
			if _, err := r.refreshToken(ctx, tok, projectPath); err != nil {
				return err
			}
			continue
		case f.status == 524:
			r.serial.Store(true)
			wait += 5 * time.Second << min(gateway, 5)
			if gateway++; gateway > 5 {
				attempts++
			}
		default:
			attempts++
		}
		if err := r.pause(ctx, f, wait); err != nil {
			return err
		}
	}
}

func (r *run) sendUpload(ctx context.Context, tok *uploadToken, body []byte) error {
	if r.serial.Load() {
		r.serialMu.Lock()
		defer r.serialMu.Unlock()
	}
	_, err := tok.client.call(ctx, "upload", http.MethodPost, "/pages/assets/upload", body, nil)
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

// upsertHashes marks every hash as used; one retry after 1 s, and a failure only warns (wrangler).
func (r *run) upsertHashes(ctx context.Context, hashes []string, projectPath string) {
	body, _ := json.Marshal(map[string][]string{"hashes": hashes}) // strings always marshal
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		tok := r.currentToken()
		if tok.claims.expired(r.p.now()) {
			if tok, err = r.refreshToken(ctx, tok, projectPath); err != nil {
				break
			}
		}
		if _, err = tok.client.call(ctx, "upsert hashes", http.MethodPost, "/pages/assets/upsert-hashes", body, nil); err == nil {
			return
		}
		f, ok := err.(*fault)
		if !ok || attempt == 1 {
			break
		}
		if perr := r.pause(ctx, f, time.Second); perr != nil {
			err = perr
			break
		}
		if f.has(codeUnauthorized) {
			if _, err = r.refreshToken(ctx, tok, projectPath); err != nil {
				break
			}
		}
	}
	r.log.Warn("upsert hashes failed; the deployment goes on", "err", r.redact(err).Error())
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

// createDeployment posts the form: up to 3 tries, repeated after 1 and 2 s only on code 8000000
// (wrangler), or after the server's retry-after on a 429 (the request was not taken).
func (r *run) createDeployment(ctx context.Context, projectPath string, form []byte, contentType string) (cloudflare.PagesProjectDeployment, error) {
	hdr := http.Header{"Content-Type": {contentType}}
	for attempt := 0; ; attempt++ {
		raw, err := r.api.call(ctx, "create deployment", http.MethodPost, projectPath+"/deployments", form, hdr)
		if err == nil {
			var dep cloudflare.PagesProjectDeployment
			if err := json.Unmarshal(raw, &dep); err != nil {
				return dep, fmt.Errorf("create deployment: %w", err)
			}
			return dep, nil
		}
		f, ok := err.(*fault)
		if !ok || attempt >= 2 || !(f.has(codeUnknown) || f.status == http.StatusTooManyRequests) {
			return cloudflare.PagesProjectDeployment{}, err
		}
		if err := r.pause(ctx, f, backoff(attempt)); err != nil {
			return cloudflare.PagesProjectDeployment{}, err
		}
	}
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
		if err := json.Unmarshal(raw, &next); err != nil {
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
	if json.Unmarshal(raw, &logs) != nil || len(logs.Data) == 0 {
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

// backoff is 2^n seconds: 1, 2, 4, 8, 16 …
func backoff(n int) time.Duration { return time.Second << min(n, 6) }

// pause waits before a retry: the longer of d and the server's retry-after, with d cut to
// MaxWait. A retry-after beyond MaxWait ends the publish rather than outlast the CI job.
func (r *run) pause(ctx context.Context, f *fault, d time.Duration) error {
	if f.retryAfter > r.p.cfg.MaxWait {
		return fmt.Errorf("%w; not waiting longer than %s", f, r.p.cfg.MaxWait)
	}
	d = min(max(d, f.retryAfter), r.p.cfg.MaxWait)
	r.retries.Add(1)
	r.log.Info("retrying", "op", f.op, "status", f.status, "codes", f.codes, "wait", d)
	if err := r.p.sleep(ctx, d); err != nil {
		return fmt.Errorf("%s: %w", f.op, err)
	}
	return nil
}

// redact replaces the token and every JWT in err's message; the chain stays for errors.Is.
func (r *run) redact(err error) error {
	if err == nil {
		return errors.New("unknown error")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	msg := err.Error()
	for _, s := range r.secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return &redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
