package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

type onboardWorld struct {
	t          *testing.T
	gh         *fake.GitHub
	cf         *fake.CloudflareAccount
	ph         *fake.PostHog
	env        map[string]string
	dir        string
	config     string
	data       string
	stdin      string
	lastStdout string
}

// newOnboardWorld is an organisation "acme" of two repositories, a Cloudflare account holding
// their zone and a PostHog project that saw the shop, with every credential set, and a folder
// holding the template's demo data.
func newOnboardWorld(t *testing.T) *onboardWorld {
	t.Helper()
	dir := t.TempDir()
	w := &onboardWorld{t: t, gh: fake.NewGitHub(t), cf: fake.NewCloudflareAccount(t), ph: fake.NewPostHog(t),
		dir: dir, config: filepath.Join(dir, "portfolio.json"), data: filepath.Join(dir, "data")}
	now := time.Now().UTC()
	w.gh.Update("acme/shop", func(r *fake.GitHubRepo) {
		r.Info.Homepage = "https://shop.example.com"
		r.Workflows = []fake.GitHubWorkflow{{Name: "Deploy", File: "deploy.yml"}, {Name: "Release", File: "release.yml"}}
		r.Runs = []fake.GitHubRun{
			{ID: 1, Workflow: "deploy.yml", Branch: "main", Status: "completed", Conclusion: "success", Created: now.Add(-48 * time.Hour), Updated: now},
			{ID: 2, Workflow: "deploy.yml", Branch: "main", Status: "completed", Conclusion: "success", Created: now.Add(-24 * time.Hour), Updated: now},
			{ID: 3, Workflow: "release.yml", Branch: "main", Status: "completed", Conclusion: "success", Created: now.Add(-24 * time.Hour), Updated: now},
		}
		r.Labels = []fake.GitHubLabel{{ID: 1, Name: "incident", Color: "b60205"}}
	})
	w.gh.Update("acme/api", func(r *fake.GitHubRepo) {
		r.Deployments = []fake.GitHubDeployment{{ID: 7, SHA: "a", Ref: "main", Environment: "live", Created: now.Add(-time.Hour), Updated: now}}
	})
	w.cf.AddZone("023e105f4ecef8ad9ca31a8372d0c353", "example.com", "")
	w.ph.SetHostEvents("shop.example.com", 99)
	w.env = map[string]string{"GITHUB_TOKEN": w.gh.Token, "GITHUB_API_URL": w.gh.URL,
		"CLOUDFLARE_API_TOKEN": w.cf.Token, "CLOUDFLARE_API_BASE_URL": w.cf.URL,
		"POSTHOG_HOST": w.ph.URL, "POSTHOG_PERSONAL_API_KEY": w.ph.PersonalKey, "POSTHOG_PROJECT_ID": w.ph.ProjectID}
	if err := store.Open(w.data).SaveMeta(store.Meta{Generator: "demo", AsOf: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"README.md", "alerts.json", "snapshots/2026-11/storefront.jsonl"} {
		os.MkdirAll(filepath.Dir(filepath.Join(w.data, f)), 0o755)
		if err := os.WriteFile(filepath.Join(w.data, f), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w *onboardWorld) run(args ...string) (int, string, string) {
	w.t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--config", w.config, "--data", w.data)
	c := &Command{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return w.env[k] }, Stdin: strings.NewReader(w.stdin)}
	code := c.Main(args)
	for _, k := range []string{"GITHUB_TOKEN", "CLOUDFLARE_API_TOKEN", "POSTHOG_PERSONAL_API_KEY"} {
		if v := w.env[k]; v != "" && strings.Contains(out.String()+errb.String(), v) {
			w.t.Errorf("%s leaks into the output", k)
		}
	}
	w.lastStdout = out.String()
	return code, out.String(), errb.String()
}

func TestInitShowsAndWritesOnlyWhenAsked(t *testing.T) {
	w := newOnboardWorld(t)
	code, out, errs := w.run("init", "--org", "acme")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	cfg, err := config.Parse("stdout", []byte(out))
	if err != nil {
		t.Fatalf("stdout is not a valid config: %v\n%s", err, out)
	}
	if len(cfg.Products) != 2 || cfg.Products[1].ID != "shop" || cfg.Products[1].Deploy.Workflow != "deploy.yml" ||
		cfg.Products[1].Cloudflare.ZoneID == "" || cfg.Products[1].PostHog.Host != "shop.example.com" || cfg.Products[0].Deploy.Environment != "live" {
		t.Errorf("proposal: %s", out)
	}
	for _, want := range []string{"workflow_runs of deploy.yml", "also deploy-like: release.yml", "deployments to live", "zone example.com holds shop.example.com",
		"PostHog saw 99 events from shop.example.com", "Nothing written: check the proposal, then run again with --write"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if _, err := os.Stat(w.config); !os.IsNotExist(err) {
		t.Errorf("without --write the config must not be written (stat: %v)", err)
	}
	if m, _ := store.Open(w.data).Meta(); m.Generator != "demo" {
		t.Error("without --write the demo data must stay")
	}

	code, _, errs = w.run("init", "--org", "acme", "--write")
	if code != ExitOK || !strings.Contains(errs, "Wrote "+w.config+" (2 products).") ||
		!strings.Contains(errs, "Removed the demo data from "+w.data+": alerts.json, meta.json, snapshots/.") {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
	written, _ := os.ReadFile(w.config)
	if !bytes.Equal(written, []byte(w.lastStdout)) {
		t.Errorf("the file differs from what was shown:\n%s", written)
	}
	var left []string
	entries, _ := os.ReadDir(w.data)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") { // the lock, which git ignores
			left = append(left, e.Name())
		}
	}
	if strings.Join(left, " ") != "README.md" {
		t.Errorf("data left: %v, want README.md alone", left)
	}

	code, _, errs = w.run("init", "--org", "acme", "--write")
	if code != ExitFailure || !strings.Contains(errs, "exists: add --force to replace it") {
		t.Errorf("an existing config: exit %d, %s", code, errs)
	}
	code, _, errs = w.run("init", "--org", "acme", "--write", "--force")
	if code != ExitOK {
		t.Errorf("--force: exit %d, %s", code, errs)
	}
}

func TestInitUsageAndCredentials(t *testing.T) {
	w := newOnboardWorld(t)
	for _, tt := range []struct {
		args    []string
		env     map[string]string
		code    int
		message string
	}{
		{[]string{"init"}, nil, ExitUsage, "want --org ORG or --repos owner/name"},
		{[]string{"init", "--org", "acme", "--repos", "acme/shop"}, nil, ExitUsage, "--org and --repos exclude each other"},
		{[]string{"init", "--org", "acme"}, map[string]string{}, ExitUsage, "init reads the repositories with GITHUB_TOKEN"},
		{[]string{"init", "--org", "nobody"}, nil, ExitFailure, `list the repositories of nobody: HTTP 404`},
	} {
		saved := w.env
		if tt.env != nil {
			w.env = tt.env
		}
		code, _, errs := w.run(tt.args...)
		w.env = saved
		if code != tt.code || !strings.Contains(errs, tt.message) {
			t.Errorf("%v: exit %d, %q; want %d with %q", tt.args, code, errs, tt.code, tt.message)
		}
	}
	delete(w.env, "CLOUDFLARE_API_TOKEN")
	delete(w.env, "POSTHOG_HOST")
	_, _, errs := w.run("init", "--repos", "acme/shop")
	for _, want := range []string{"Cloudflare: CLOUDFLARE_API_TOKEN not set: no zones guessed", "PostHog: POSTHOG_HOST not set: no hosts guessed"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

func TestInitInteractive(t *testing.T) {
	w := newOnboardWorld(t)
	// api: left out; shop: renamed storefront, url kept; then replace nothing (no config yet).
	w.stdin = "n\n\nstorefront\n\n"
	code, out, errs := w.run("init", "--org", "acme", "--interactive", "--write", "--keep-demo-data")
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
	var doc struct {
		Products []struct{ ID string } `json:"products"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Products) != 1 || doc.Products[0].ID != "storefront" {
		t.Errorf("products %+v (%v)", doc.Products, err)
	}
	if m, _ := store.Open(w.data).Meta(); m.Generator != "demo" {
		t.Error("--keep-demo-data removed the demo data")
	}

	// Again, into the file just written: the same prompts, then whether to replace it.
	w.stdin = "n\n\nstorefront\n\nn\n"
	code, _, errs = w.run("init", "--org", "acme", "--interactive", "--write")
	if code != ExitFailure || !strings.Contains(errs, "exists: replace it? y/n [n]") || !strings.Contains(errs, "kept; nothing written") {
		t.Errorf("exit %d:\n%s", code, errs)
	}
	w.stdin = "n\n\nstorefront\n\ny\n"
	if code, _, errs = w.run("init", "--org", "acme", "--interactive", "--write"); code != ExitOK || !strings.Contains(errs, "Wrote ") {
		t.Errorf("exit %d:\n%s", code, errs)
	}
	for _, want := range []string{"keep this product? y/n [y]", "id [shop]", "acme/api  left out at the prompt"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}
