package fake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go"
)

// PagesPrefix is where the Pages fake mounts the v4 API. It is deeper than the real /client/v4
// so a client that drops any part of its base URL misses every route.
const PagesPrefix = "/fake-pages/client/v4"

// Pages fakes Cloudflare Pages Direct Upload (docs/publishing.md, "How a publish works"):
// the project, the upload token (a real 3-part JWT with exp and max_file_count_allowed),
// check-missing, upload, upsert-hashes, deployments and their logs. It keeps the uploaded
// assets, so a second publish of the same site finds nothing missing.
type Pages struct {
	Server *httptest.Server
	// URL is the API base URL with the prefix: CLOUDFLARE_API_BASE_URL.
	URL string
	// Token is the account API token; AccountID and Project name the only project.
	Token, AccountID, Project string
	// ProductionBranch is what the project reports as production_branch.
	ProductionBranch string
	// MaxFileCount is the JWT's max_file_count_allowed claim (0: left out of the token).
	MaxFileCount int
	// TokenTTL is how long an upload JWT is good for (default 5 minutes).
	TokenTTL time.Duration
	// PollsUntilDone is how many GETs of a new deployment answer "queued" before it is live.
	PollsUntilDone int
	// FailDeployments makes deployments end in the deploy stage with status failure.
	FailDeployments bool
	// Now is the fake's clock for JWT expiry; default time.Now.
	Now func() time.Time

	faults faults
	calls  lockedList[string]
	routes lockedList[string]

	mu          sync.Mutex
	assets      map[string]PagesAsset
	upserted    map[string]bool
	uploads     []PagesUpload
	deployments []*PagesDeployment
	jwts        []string
	jwtExp      map[string]time.Time
}

// PagesAsset is one stored asset.
type PagesAsset struct {
	Content     []byte
	ContentType string
}

// PagesUpload is one upload request that was accepted.
type PagesUpload struct {
	Keys  []string
	Bytes int64 // raw (decoded) size of the bucket
}

// PagesDeployment is one deployment the fake made, with the fields of its multipart form.
type PagesDeployment struct {
	Deployment    cf.PagesProjectDeployment
	Manifest      map[string]string
	Branch        string
	CommitHash    string
	CommitMessage string
	CommitDirty   string
	Headers       string // the _headers part, if sent
	Redirects     string // the _redirects part, if sent
	polls         int
}

var pagesJWTKey = []byte("fake-pages-signing-key")

// NewPages starts the fake; it stops when the test ends.
func NewPages(t testing.TB) *Pages {
	p := &Pages{
		Token:            "cf-pages-test-token-abcdef012345",
		AccountID:        "0123456789abcdef0123456789abcdef",
		Project:          "portfolio",
		ProductionBranch: "main",
		TokenTTL:         5 * time.Minute,
		assets:           map[string]PagesAsset{},
		upserted:         map[string]bool{},
		jwtExp:           map[string]time.Time{},
	}
	mux := http.NewServeMux()
	acct := PagesPrefix + "/accounts/{acct}/pages/projects/{proj}"
	mux.HandleFunc("GET "+acct, p.api("project", p.getProject))
	mux.HandleFunc("GET "+acct+"/upload-token", p.api("upload-token", p.uploadToken))
	mux.HandleFunc("POST "+acct+"/deployments", p.api("create-deployment", p.createDeployment))
	mux.HandleFunc("GET "+acct+"/deployments/{id}", p.api("get-deployment", p.getDeployment))
	mux.HandleFunc("GET "+acct+"/deployments/{id}/history/logs", p.api("deployment-logs", p.deploymentLogs))
	mux.HandleFunc("POST "+PagesPrefix+"/pages/assets/check-missing", p.jwt("check-missing", p.checkMissing))
	mux.HandleFunc("POST "+PagesPrefix+"/pages/assets/upload", p.jwt("upload", p.upload))
	mux.HandleFunc("POST "+PagesPrefix+"/pages/assets/upsert-hashes", p.jwt("upsert-hashes", p.upsertHashes))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p.routes.add("no-route")
		cloudflareError(w, http.StatusNotFound, 7003, "Could not route to "+r.URL.Path)
	})
	p.Server, p.URL = startServer(t, PagesPrefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, _ := requestKey(r, PagesPrefix)
		p.calls.add(key)
		if f := p.faults.match(key); f != nil {
			p.routes.add("fault")
			f.serve(w, r, pagesFaultBody)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	return p
}

// pagesFaultBody is cloudflareFaultBody, but a 524 (a timeout at Cloudflare's edge) is the
// edge's plain text.
func pagesFaultBody(status int) string {
	if status == 524 {
		return "error code: 524"
	}
	return cloudflareFaultBody(status)
}

// Inject adds a fault. Match is a substring of "METHOD /path body" without the prefix, e.g.
// "POST /pages/assets/upload".
func (p *Pages) Inject(f InjectedFault) { p.faults.add(f) }

// Calls lists every request, as "METHOD /path?query body" without the prefix.
func (p *Pages) Calls() []string { return p.calls.all() }

// Routes lists the route of every request in order: project, upload-token, check-missing,
// upload, upsert-hashes, create-deployment, get-deployment, deployment-logs; "fault" for an
// injected answer, "unauthorized" for a bad credential, "no-route" for a wrong path.
func (p *Pages) Routes() []string { return p.routes.all() }

// Count is how many requests went to route.
func (p *Pages) Count(route string) int {
	n := 0
	for _, r := range p.Routes() {
		if r == route {
			n++
		}
	}
	return n
}

// Assets returns the stored assets by hash.
func (p *Pages) Assets() map[string]PagesAsset {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.assets)
}

// Uploads lists the accepted upload requests.
func (p *Pages) Uploads() []PagesUpload {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.uploads)
}

// Deployments lists the deployments made, oldest first.
func (p *Pages) Deployments() []PagesDeployment {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]PagesDeployment, len(p.deployments))
	for i, d := range p.deployments {
		out[i] = *d
	}
	return out
}

// JWTs lists the upload tokens issued.
func (p *Pages) JWTs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.jwts)
}

func (p *Pages) now() time.Time { return nowOr(p.Now) }

// api guards a route that takes the account API token.
func (p *Pages) api(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+p.Token {
			p.routes.add("unauthorized")
			cloudflareError(w, http.StatusBadRequest, 6003, "Invalid request headers")
			return
		}
		if r.PathValue("acct") != p.AccountID || r.PathValue("proj") != p.Project {
			p.routes.add("no-route")
			cloudflareError(w, http.StatusNotFound, 8000007, "Project not found. The specified project name does not match any of your existing projects.")
			return
		}
		p.routes.add(route)
		h(w, r)
	}
}

// jwt guards a route that takes the upload JWT: unknown or expired gets 401 with 8000013.
func (p *Pages) jwt(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		p.mu.Lock()
		exp, ok := p.jwtExp[tok]
		p.mu.Unlock()
		if !ok || !exp.After(p.now()) {
			p.routes.add("unauthorized")
			cloudflareError(w, http.StatusUnauthorized, 8000013, "Authorization failed")
			return
		}
		p.routes.add(route)
		h(w, r)
	}
}

func (p *Pages) getProject(w http.ResponseWriter, r *http.Request) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	proj := withoutNulls(cf.PagesProject{
		Name: p.Project, ID: "7b162ea7-7367-4d67-bcde-1160995d5c10", CreatedOn: &created,
		SubDomain: p.Project + ".pages.dev", Domains: []string{p.Project + ".pages.dev"},
		ProductionBranch: p.ProductionBranch,
	})
	// A project the fake has not deployed yet has no canonical or latest deployment; the
	// zero values cloudflare-go's struct marshals are no deployment Cloudflare would send.
	for _, k := range []string{"canonical_deployment", "latest_deployment"} {
		if d, ok := proj[k].(map[string]any); ok && d["id"] == "" {
			delete(proj, k)
		}
	}
	cloudflareResult(w, proj)
}

// IssueJWT makes an upload token valid until exp, signed HS256 with a fixed test key.
func (p *Pages) IssueJWT(exp time.Time) string {
	enc := base64.RawURLEncoding
	claims := map[string]any{"exp": exp.Unix(), "iat": p.now().Unix(), "sub": p.AccountID + "/" + p.Project}
	if p.MaxFileCount > 0 {
		claims["max_file_count_allowed"] = p.MaxFileCount
	}
	p.mu.Lock()
	claims["jti"] = fmt.Sprintf("upload-%d", len(p.jwts)+1)
	p.mu.Unlock()
	payload, _ := json.Marshal(claims)
	unsigned := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, pagesJWTKey)
	mac.Write([]byte(unsigned))
	tok := unsigned + "." + enc.EncodeToString(mac.Sum(nil))
	p.mu.Lock()
	p.jwts = append(p.jwts, tok)
	p.jwtExp[tok] = exp
	p.mu.Unlock()
	return tok
}

// ExpireJWTs makes every upload token issued so far expired, as if time had passed.
func (p *Pages) ExpireJWTs() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range p.jwtExp {
		p.jwtExp[k] = time.Unix(0, 0)
	}
}

func (p *Pages) uploadToken(w http.ResponseWriter, r *http.Request) {
	cloudflareResult(w, map[string]string{"jwt": p.IssueJWT(p.now().Add(p.TokenTTL))})
}

func (p *Pages) checkMissing(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Hashes []string `json:"hashes"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		cloudflareError(w, http.StatusBadRequest, 8000096, "Invalid request body: "+err.Error())
		return
	}
	p.mu.Lock()
	missing := []string{}
	for _, h := range req.Hashes {
		if _, ok := p.assets[h]; !ok {
			missing = append(missing, h)
		}
	}
	p.mu.Unlock()
	cloudflareResult(w, missing)
}

// Bucket limits the real API enforces (wrangler keeps under them).
const (
	pagesMaxBucketBytes = 40 << 20
	pagesMaxBucketFiles = 2000
)

func (p *Pages) upload(w http.ResponseWriter, r *http.Request) {
	var items []struct {
		Key      string `json:"key"`
		Value    string `json:"value"`
		Metadata struct {
			ContentType string `json:"contentType"`
		} `json:"metadata"`
		Base64 bool `json:"base64"`
	}
	if err := json.NewDecoder(r.Body).Decode(&items); err != nil {
		cloudflareError(w, http.StatusBadRequest, 8000096, "Invalid request body: want a JSON array")
		return
	}
	up := PagesUpload{}
	stored := map[string]PagesAsset{}
	for _, it := range items {
		if !it.Base64 || len(it.Key) != 32 {
			cloudflareError(w, http.StatusBadRequest, 8000096, "Invalid asset: want base64:true and a 32-character key")
			return
		}
		b, err := base64.StdEncoding.DecodeString(it.Value)
		if err != nil {
			cloudflareError(w, http.StatusBadRequest, 8000096, "Invalid asset: value is not base64")
			return
		}
		up.Keys = append(up.Keys, it.Key)
		up.Bytes += int64(len(b))
		stored[it.Key] = PagesAsset{Content: b, ContentType: it.Metadata.ContentType}
	}
	if len(items) > pagesMaxBucketFiles || up.Bytes > pagesMaxBucketBytes {
		cloudflareError(w, http.StatusRequestEntityTooLarge, 8000095, "Upload too large")
		return
	}
	p.mu.Lock()
	maps.Copy(p.assets, stored)
	p.uploads = append(p.uploads, up)
	p.mu.Unlock()
	cloudflareResult(w, nil)
}

func (p *Pages) upsertHashes(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Hashes []string `json:"hashes"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		cloudflareError(w, http.StatusBadRequest, 8000096, "Invalid request body")
		return
	}
	p.mu.Lock()
	for _, h := range req.Hashes {
		p.upserted[h] = true
	}
	p.mu.Unlock()
	cloudflareResult(w, true)
}

func (p *Pages) createDeployment(w http.ResponseWriter, r *http.Request) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		cloudflareError(w, http.StatusBadRequest, 8000000, "want multipart/form-data")
		return
	}
	d := &PagesDeployment{}
	mr := multipart.NewReader(r.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			cloudflareError(w, http.StatusBadRequest, 8000000, "bad multipart body")
			return
		}
		b, _ := io.ReadAll(part)
		switch part.FormName() {
		case "manifest":
			if err := json.Unmarshal(b, &d.Manifest); err != nil {
				cloudflareError(w, http.StatusBadRequest, 8000000, "manifest is not a JSON object")
				return
			}
		case "branch":
			d.Branch = string(b)
		case "commit_hash":
			d.CommitHash = string(b)
		case "commit_message":
			d.CommitMessage = string(b)
		case "commit_dirty":
			d.CommitDirty = string(b)
		case "_headers":
			d.Headers = string(b)
		case "_redirects":
			d.Redirects = string(b)
		}
	}
	if d.Manifest == nil {
		cloudflareError(w, http.StatusBadRequest, 8000000, "no manifest")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for path, h := range d.Manifest {
		if _, ok := p.assets[h]; !ok {
			cloudflareError(w, http.StatusBadRequest, 8000000, "manifest references an asset that was never uploaded: "+path)
			return
		}
	}
	n := len(p.deployments) + 1
	id := fmt.Sprintf("%08x-1a2b-4c3d-8e9f-%012x", n*0x1f2e3d, n)
	env := "production"
	if d.Branch != "" && d.Branch != p.ProductionBranch {
		env = "preview"
	}
	created := p.now().UTC().Truncate(time.Second)
	dep := cf.PagesProjectDeployment{
		ID: id, ShortID: id[:8], ProjectName: p.Project, Environment: env,
		URL: "https://" + id[:8] + "." + p.Project + ".pages.dev", CreatedOn: &created, ModifiedOn: &created,
		DeploymentTrigger: cf.PagesProjectDeploymentTrigger{Type: "ad_hoc", Metadata: &cf.PagesProjectDeploymentTriggerMetadata{
			Branch: d.Branch, CommitHash: d.CommitHash, CommitMessage: d.CommitMessage}},
		ProductionBranch: p.ProductionBranch,
	}
	if dep.DeploymentTrigger.Metadata.Branch == "" {
		dep.DeploymentTrigger.Metadata.Branch = p.ProductionBranch
	}
	if env == "preview" {
		dep.Aliases = []string{"https://" + pagesAlias(d.Branch) + "." + p.Project + ".pages.dev"}
	}
	d.Deployment = dep
	p.advance(d)
	p.deployments = append(p.deployments, d)
	cloudflareResult(w, withoutNulls(d.Deployment))
}

// advance sets the deployment's stages after polls GETs.
func (p *Pages) advance(d *PagesDeployment) {
	names := []string{"queued", "initialize", "clone_repo", "build", "deploy"}
	done := d.polls >= p.PollsUntilDone
	var stages []cf.PagesProjectDeploymentStage
	for i, n := range names {
		st := "success"
		switch {
		case !done && i == 0:
			st = "active"
		case !done:
			st = "idle"
		case i == len(names)-1 && p.FailDeployments:
			st = "failure"
		}
		stages = append(stages, cf.PagesProjectDeploymentStage{Name: n, Status: st})
	}
	d.Deployment.Stages = stages
	if done {
		d.Deployment.LatestStage = stages[len(stages)-1]
	} else {
		d.Deployment.LatestStage = stages[0]
	}
}

func pagesAlias(branch string) string {
	b := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, branch)
	return strings.Trim(b, "-")
}

func (p *Pages) findDeployment(id string) *PagesDeployment {
	for _, d := range p.deployments {
		if d.Deployment.ID == id {
			return d
		}
	}
	return nil
}

func (p *Pages) getDeployment(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.findDeployment(r.PathValue("id"))
	if d == nil {
		cloudflareError(w, http.StatusNotFound, 8000009, "The deployment ID you have specified does not exist.")
		return
	}
	d.polls++
	p.advance(d)
	cloudflareResult(w, withoutNulls(d.Deployment))
}

func (p *Pages) deploymentLogs(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	d := p.findDeployment(r.PathValue("id"))
	p.mu.Unlock()
	if d == nil {
		cloudflareError(w, http.StatusNotFound, 8000009, "The deployment ID you have specified does not exist.")
		return
	}
	lines := []cf.PagesDeploymentLogEntry{{Line: "Initializing build environment..."}, {Line: "Success: Finished initializing build environment"}}
	if p.FailDeployments {
		lines = append(lines, cf.PagesDeploymentLogEntry{Line: "Error: Failed to publish your Function. Got error: assets exceed quota"})
	} else {
		lines = append(lines, cf.PagesDeploymentLogEntry{Line: "Success: Your site was deployed!"})
	}
	cloudflareResult(w, cf.PagesDeploymentLogs{Total: len(lines), Data: lines})
}

// withoutNulls is v as a JSON object without its null members: cloudflare-go's structs marshal
// every absent field as null, where the API leaves out what a deployment or project lacks (the
// description marks those fields not nullable).
func withoutNulls(v any) map[string]any {
	m := jsonObject(v)
	var drop func(x any)
	drop = func(x any) {
		switch y := x.(type) {
		case map[string]any:
			for k, vv := range y {
				if vv == nil {
					delete(y, k)
					continue
				}
				drop(vv)
			}
		case []any:
			for _, vv := range y {
				drop(vv)
			}
		}
	}
	drop(m)
	return m
}

// Reset forgets the stored assets, as if the cache had expired.
func (p *Pages) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.assets = map[string]PagesAsset{}
}

// UploadedKeys lists every key uploaded, sorted.
func (p *Pages) UploadedKeys() []string {
	var keys []string
	for _, u := range p.Uploads() {
		keys = append(keys, u.Keys...)
	}
	slices.Sort(keys)
	return keys
}

// Upserted lists the hashes marked by upsert-hashes, sorted.
func (p *Pages) Upserted() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Sorted(maps.Keys(p.upserted))
}
