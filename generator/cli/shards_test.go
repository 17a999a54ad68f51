package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go"

	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// The sharded path end to end, as .github/workflows/report.yml runs it: every shard collects
// into its own checkout (a git clone of one commit), packs what it changed with `portfolio
// shards pack`, and one checkout merges the archives with `portfolio shards merge`, then builds.
// Its data/, site and `dora --json` must be byte for byte those of one job collecting every
// product at the same --now.

const (
	shardBase = "2026-06-30T11:45:00Z" // the history the checkout holds
	shardNow  = "2026-06-30T12:00:00Z" // the run
)

// shardWorld is a portfolio of seven products against the fakes of GitHub, Cloudflare and
// PostHog, with a git repository holding the config and one collect's history. The probe is
// left out (no health_endpoint): it measures wall-clock time, which no two collects share.
type shardWorld struct {
	repo string // the committed checkout every job clones
	env  map[string]string
}

func newShardWorld(t *testing.T) *shardWorld {
	t.Helper()
	git := requireGit(t)
	now, _ := time.Parse(time.RFC3339, shardNow)
	w := &shardWorld{repo: filepath.Join(t.TempDir(), "repo")}
	gh, cfl, ph := fake.NewGitHub(t), fake.NewCloudflare(t), fake.NewPostHog(t)
	cfl.Now = func() time.Time { return now }
	for r, repo := range []string{"acme/shop", "acme/api", "acme/web"} {
		gh.Update(repo, func(g *fake.GitHubRepo) {
			prev := ""
			for i := range 3 + r {
				sha := strings.Repeat(fmt.Sprintf("%x", r*4+i+1), 40)
				at := now.Add(-time.Duration(72-20*i-r) * time.Hour)
				if prev == "" {
					g.AddCommit(sha, at.Add(-2*time.Hour))
				} else {
					g.AddCommit(sha, at.Add(-2*time.Hour), prev)
				}
				prev = sha
				g.Runs = append(g.Runs, fake.GitHubRun{ID: int64(100*r + i + 1), Workflow: "deploy.yml", Branch: "main", SHA: sha,
					Status: "completed", Conclusion: []string{"success", "failure", "success"}[i%3], Created: at.Add(-5 * time.Minute), Updated: at})
			}
			closed := now.Add(-29 * time.Hour)
			g.Issues = append(g.Issues, fake.GitHubIssue{Number: 10 + r, Title: "outage " + repo, State: "closed", Labels: []string{"incident"},
				Created: now.Add(-30 * time.Hour), Updated: closed, Closed: &closed})
		})
	}
	for i, host := range []string{"shop.example.com", "api.example.com", "admin.example.com"} {
		cfl.SetHTTP(cliZone, host, fake.CloudflareHTTP{ByStatus: map[int]int64{200: int64(90 + i), 500: int64(i)}, P50Ms: 30, P95Ms: float64(90 + i)})
		cfl.AddHealthcheck(cliZone, cf.Healthcheck{Name: "portfolio-" + host, Address: host, Status: "healthy"})
	}
	for _, key := range []string{"shop.example.com", "docs", "web.example.com"} {
		ph.SetDay(key, "2026-06-30", fake.PostHogDay{DAU: int64(len(key)), Pageviews: int64(3 * len(key))})
		ph.SetDay(key, "2026-06-29", fake.PostHogDay{DAU: int64(2 * len(key)), Pageviews: int64(5 * len(key))})
	}
	cfg := `{"products": [
  {"id": "shop", "url": "https://shop.example.com", "repository": "acme/shop", "deploy": {"workflow": "deploy.yml"},
   "cloudflare": {"zone_id": "` + cliZone + `", "hostname": "shop.example.com"}, "posthog": {"host": "shop.example.com"}},
  {"id": "docs", "url": "https://docs.example.com", "posthog": {"product": "docs"}},
  {"id": "api", "url": "https://api.example.com", "repository": "acme/api", "deploy": {"workflow": "deploy.yml"},
   "cloudflare": {"zone_id": "` + cliZone + `", "hostname": "api.example.com"}},
  {"id": "blog", "url": "https://blog.example.com"},
  {"id": "web", "url": "https://web.example.com", "repository": "acme/web", "deploy": {"workflow": "deploy.yml"},
   "posthog": {"host": "web.example.com"}},
  {"id": "admin", "url": "https://admin.example.com", "cloudflare": {"zone_id": "` + cliZone + `", "hostname": "admin.example.com"}},
  {"id": "status", "url": "https://status.example.com"}
]}`
	w.env = map[string]string{
		"GITHUB_TOKEN": gh.Token, "GITHUB_API_URL": gh.URL,
		"CLOUDFLARE_API_TOKEN": cfl.Token, "CLOUDFLARE_API_BASE_URL": cfl.URL, "CLOUDFLARE_ACCOUNT_ID": "acc",
		"POSTHOG_HOST": ph.URL, "POSTHOG_PERSONAL_API_KEY": ph.PersonalKey, "POSTHOG_PROJECT_ID": ph.ProjectID,
	}
	if err := os.MkdirAll(w.repo, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.repo, "portfolio.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ignore, err := os.ReadFile(filepath.Join("..", "..", ".gitignore")) // the repository's own
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.repo, ".gitignore"), ignore, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := w.cli(w.repo, "collect", "--now", shardBase); code != ExitOK {
		t.Fatalf("collecting the history: exit %d\n%s", code, out)
	}
	gitRun(t, git, w.repo, "init", "-q")
	gitRun(t, git, w.repo, "add", "-A")
	gitRun(t, git, w.repo, "commit", "-q", "-m", "history")

	// Since then: api deployed again, web has an incident, and a new product joined the portfolio
	// (its files are new to git), so the run changes documents and adds files, not only logs.
	gh.Update("acme/api", func(g *fake.GitHubRepo) {
		sha := strings.Repeat("e", 40)
		g.AddCommit(sha, now.Add(-40*time.Minute), strings.Repeat("7", 40))
		g.Runs = append(g.Runs, fake.GitHubRun{ID: 999, Workflow: "deploy.yml", Branch: "main", SHA: sha,
			Status: "completed", Conclusion: "success", Created: now.Add(-12 * time.Minute), Updated: now.Add(-8 * time.Minute)})
	})
	gh.Update("acme/web", func(g *fake.GitHubRepo) {
		g.Issues = append(g.Issues, fake.GitHubIssue{Number: 42, Title: "web slow", State: "open", Labels: []string{"incident"},
			Created: now.Add(-10 * time.Minute), Updated: now.Add(-10 * time.Minute)})
	})
	gh.Update("acme/fresh", func(g *fake.GitHubRepo) {
		sha := strings.Repeat("f", 40)
		g.AddCommit(sha, now.Add(-5*time.Hour))
		g.Runs = append(g.Runs, fake.GitHubRun{ID: 5000, Workflow: "deploy.yml", Branch: "main", SHA: sha,
			Status: "completed", Conclusion: "success", Created: now.Add(-4 * time.Hour), Updated: now.Add(-4 * time.Hour)})
	})
	cfg = strings.Replace(cfg, "\n]}", `,
  {"id": "fresh", "url": "https://fresh.example.com", "repository": "acme/fresh", "deploy": {"workflow": "deploy.yml"}}
]}`, 1)
	if err := os.WriteFile(filepath.Join(w.repo, "portfolio.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, git, w.repo, "commit", "-q", "-a", "-m", "add fresh")
	return w
}

func requireGit(t *testing.T) string {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatal("git is not on the PATH: shards pack lists the changed data with git ls-files, as in the CI checkout")
	}
	return git
}

func gitRun(t *testing.T, git, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(git, append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// checkout clones the committed repository: one job's fresh checkout.
func (w *shardWorld) checkout(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "checkout")
	gitRun(t, requireGit(t), filepath.Dir(dir), "clone", "-q", w.repo, dir)
	return dir
}

// cli runs portfolio in dir (config and data there), as a job's step does.
func (w *shardWorld) cli(dir string, args ...string) (int, string) {
	var stdout, stderr bytes.Buffer
	full := append([]string{args[0], "--config", filepath.Join(dir, "portfolio.json"), "--data", filepath.Join(dir, "data"),
		"--out", filepath.Join(dir, "public")}, args[1:]...)
	code := (&Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return w.env[k] }, Sleep: noSleep}).Main(full)
	return code, stdout.String() + stderr.String()
}

// report builds the site and prints the DORA JSON, as the merging job's run does.
func (w *shardWorld) report(t *testing.T, dir string) string {
	t.Helper()
	if code, out := w.cli(dir, "build", "--now", shardNow); code != ExitOK {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	code, out := w.cli(dir, "dora", "--json", "--now", shardNow)
	if code != ExitOK {
		t.Fatalf("dora: exit %d\n%s", code, out)
	}
	return out
}

// sharded runs the sharded path for n shards and returns the merged checkout and merge's
// exit code and output; drop names shards whose archive never arrives.
func (w *shardWorld) sharded(t *testing.T, n int, drop ...int) (string, int, string) {
	t.Helper()
	arch := t.TempDir()
	for i := 1; i <= n; i++ {
		if slices.Contains(drop, i) {
			continue
		}
		dir := w.checkout(t)
		s := fmt.Sprintf("%d/%d", i, n)
		if code, out := w.cli(dir, "collect", "--shard", s, "--now", shardNow); code != ExitOK {
			t.Fatalf("collect --shard %s: exit %d\n%s", s, code, out)
		}
		// download-artifact puts each artifact in a folder of its own.
		out := filepath.Join(arch, fmt.Sprintf("data-shard-%d", i), fmt.Sprintf("data-shard-%d.tar", i))
		if code, msg := w.cli(dir, "shards", "pack", "--shard", s, "--now", shardNow, "--out", out); code != ExitOK {
			t.Fatalf("shards pack --shard %s: exit %d\n%s", s, code, msg)
		}
	}
	merged := w.checkout(t)
	code, out := w.cli(merged, "shards", "merge", "--count", fmt.Sprint(n), "--now", shardNow, arch)
	return merged, code, out
}

// tree reads every file under dir (relative path → content), leaving out what git never
// holds: the ETag cache and the lock.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && (d.Name() == ".cache" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if d.IsDir() || rel == ".lock" {
			return nil
		}
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func assertSameTree(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s: %s is missing", what, k)
		case g != want[k]:
			t.Errorf("%s: %s differs from the single job's:\n--- single\n%s\n--- sharded\n%s", what, k, want[k], g)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: %s is not in the single job's", what, k)
		}
	}
}

// TestShardedPath runs every scenario of the sharded path against one world (its fakes and its
// committed history), each from its own checkouts.
func TestShardedPath(t *testing.T) {
	t.Parallel()
	w := newShardWorld(t)
	t.Run("equals one job", func(t *testing.T) { t.Parallel(); testShardedEqualsOneJob(t, w) })
	t.Run("a missing shard leaves its products timed_out", func(t *testing.T) { t.Parallel(); testShardMissing(t, w) })
	t.Run("merge refuses two shards writing one file", func(t *testing.T) { t.Parallel(); testShardMergeRefusesOverlap(t, w) })
	t.Run("pack refuses a file of no product of the shard", func(t *testing.T) { t.Parallel(); testShardPackRefusesOtherFiles(t, w) })
}

// testShardedEqualsOneJob: for n = 1, 3 and 4, the merged data/, site and DORA JSON are byte
// for byte those of one job.
func testShardedEqualsOneJob(t *testing.T, w *shardWorld) {
	single := w.checkout(t)
	if code, out := w.cli(single, "collect", "--now", shardNow); code != ExitOK {
		t.Fatalf("single collect: exit %d\n%s", code, out)
	}
	wantDora := w.report(t, single)
	wantData, wantSite := tree(t, filepath.Join(single, "data")), tree(t, filepath.Join(single, "public"))
	base := tree(t, filepath.Join(w.repo, "data"))
	changed := 0
	for k, v := range wantData {
		if base[k] != v {
			changed++
		}
	}
	for _, f := range []string{"snapshots/2026-06/shop.30.jsonl", "snapshots/2026-06/fresh.30.jsonl", "products/api/deployments.json",
		"products/web/incidents.json", "products/fresh/deployments.json", "state/github/fresh.json"} {
		if wantData[f] == "" || wantData[f] == base[f] {
			t.Errorf("the single collect did not change data/%s: the comparison would prove little", f)
		}
	}
	if changed < 12 {
		t.Errorf("the single collect changed %d files of data/, want a dozen or more", changed)
	}
	for _, n := range []int{1, 3, 4} {
		t.Run(fmt.Sprintf("%d shards", n), func(t *testing.T) {
			t.Parallel()
			merged, code, out := w.sharded(t, n)
			if code != ExitOK {
				t.Fatalf("merge: exit %d\n%s", code, out)
			}
			if !strings.Contains(out, fmt.Sprintf("merged %d of %d shards at %s", n, n, shardNow)) {
				t.Errorf("merge said:\n%s", out)
			}
			gotDora := w.report(t, merged)
			assertSameTree(t, "data/", wantData, tree(t, filepath.Join(merged, "data")))
			assertSameTree(t, "public/", wantSite, tree(t, filepath.Join(merged, "public")))
			if gotDora != wantDora {
				t.Errorf("dora --json differs:\n--- single\n%s\n--- sharded\n%s", wantDora, gotDora)
			}
		})
	}
}

// testShardMissing: a shard whose job failed uploads no archive; its
// products get a timed_out snapshot at the run's time (stale on the site, alerted on, collected
// again next run), the others are merged as they were collected, and merge exits 3.
func testShardMissing(t *testing.T, w *shardWorld) {
	merged, code, out := w.sharded(t, 3, 2)
	if code != ExitSourcesFailed {
		t.Fatalf("merge: exit %d, want 3\n%s", code, out)
	}
	now, _ := time.Parse(time.RFC3339, shardNow)
	st := store.Open(filepath.Join(merged, "data"))
	for k, id := range []string{"shop", "docs", "api", "blog", "web", "admin", "status", "fresh"} {
		last, ok, err := st.LastSnapshot(id)
		if err != nil || !ok || !last.Time.Equal(now) {
			t.Fatalf("%s: last snapshot %v (%v, %v), want one at %s", id, last.Time, ok, err, shardNow)
		}
		inShard2 := k%3 == 1
		if !strings.Contains(out, id+" (shard 2/3): marked timed_out") != !inShard2 {
			t.Errorf("%s in shard 2: %v, but merge said:\n%s", id, inShard2, out)
		}
		for _, src := range []string{"github", "cloudflare", "posthog", "probe"} {
			st := last.Sources[src]
			switch {
			case !inShard2 && st.State == record.StateTimedOut:
				t.Errorf("%s (collected by its shard) %s = %+v", id, src, st)
			case inShard2 && st.State != record.StateTimedOut && st.State != record.StateSkipped:
				t.Errorf("%s (shard 2 missing) %s = %+v, want timed_out (or skipped, as before)", id, src, st)
			}
		}
		if inShard2 {
			// A source skipped before stays skipped; a product without history has nothing to
			// go by: every source is timed_out.
			if st := last.Sources["probe"]; id != "fresh" && st.State != record.StateSkipped || id == "fresh" && st.State != record.StateTimedOut {
				t.Errorf("%s: probe (skipped in the history: no health_endpoint) = %+v", id, st)
			}
			if st := last.Sources["posthog"]; id == "docs" && (st.State != record.StateTimedOut || st.Fails != 1 || st.LastOK == nil ||
				!strings.Contains(st.Msg, "shard 2/3 delivered no data")) {
				t.Errorf("docs posthog = %+v, want timed_out, 1 failure, last ok kept, saying why", st)
			}
		}
	}
	// The site shows it: the stale product's page says its sources timed out.
	if code, out := w.cli(merged, "build", "--now", shardNow); code != ExitOK {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
}

// testShardMergeRefusesOverlap: two shards run with different configs both collected "shop";
// the merge names the file and both shards, and writes nothing.
func testShardMergeRefusesOverlap(t *testing.T, w *shardWorld) {
	arch := t.TempDir()
	for i, order := range []string{"shop", "docs"} { // shard 1/2 of [shop docs …], shard 2/2 of [docs shop …]
		dir := w.checkout(t)
		if order == "docs" {
			b, _ := os.ReadFile(filepath.Join(dir, "portfolio.json"))
			s := strings.Replace(string(b), `{"id": "docs"`, `{"id": "docsX"`, 1)
			s = strings.Replace(s, `{"id": "shop"`, `{"id": "docs"`, 1)
			s = strings.Replace(s, `{"id": "docsX"`, `{"id": "shop"`, 1)
			os.WriteFile(filepath.Join(dir, "portfolio.json"), []byte(s), 0o644)
		}
		s := fmt.Sprintf("%d/2", i+1)
		if code, out := w.cli(dir, "collect", "--shard", s, "--now", shardNow); code != ExitOK {
			t.Fatalf("collect: %d\n%s", code, out)
		}
		if code, out := w.cli(dir, "shards", "pack", "--shard", s, "--now", shardNow, "--out", filepath.Join(arch, fmt.Sprint(i)+".tar")); code != ExitOK {
			t.Fatalf("pack: %d\n%s", code, out)
		}
	}
	merged := w.checkout(t)
	before := tree(t, filepath.Join(merged, "data"))
	code, out := w.cli(merged, "shards", "merge", "--now", shardNow, arch)
	if code != ExitFailure || !strings.Contains(out, "written by shard 1/2 and by shard 2/2") || !strings.Contains(out, "data/products/shop/") && !strings.Contains(out, "/shop.30.jsonl") {
		t.Fatalf("merge: exit %d, want 1 naming a file of shop and both shards:\n%s", code, out)
	}
	assertSameTree(t, "data/ after a refused merge", before, tree(t, filepath.Join(merged, "data")))
}

// testShardPackRefusesOtherFiles: a shard that changed a file of a product it does not
// collect packs nothing.
func testShardPackRefusesOtherFiles(t *testing.T, w *shardWorld) {
	dir := w.checkout(t)
	if code, out := w.cli(dir, "collect", "--shard", "1/2", "--now", shardNow); code != ExitOK {
		t.Fatalf("collect: %d\n%s", code, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "alerts.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "a.tar")
	code, msg := w.cli(dir, "shards", "pack", "--shard", "1/2", "--now", shardNow, "--out", out)
	if code != ExitFailure || !strings.Contains(msg, "shard 1/2 changed alerts.json, which belong(s) to none of its products") {
		t.Fatalf("pack: exit %d, want 1 naming alerts.json:\n%s", code, msg)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an archive was written")
	}
}

func TestShardsMatrix(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "portfolio.json")
	os.WriteFile(cfg, []byte(`{"products": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}, {"id": "e"}]}`), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		env  string
		code int
		want string
	}{
		{"default one shard", []string{"--json"}, "", ExitOK, `{"include":[{"shard":"1/1","index":1,"count":1,"products":5}]}`},
		{"count from the variable", []string{"--json"}, "2", ExitOK,
			`{"include":[{"shard":"1/2","index":1,"count":2,"products":3},{"shard":"2/2","index":2,"count":2,"products":2}]}`},
		{"flag wins", []string{"--json", "--count", "1"}, "2", ExitOK, `{"include":[{"shard":"1/1","index":1,"count":1,"products":5}]}`},
		{"cut to the products", []string{"--json", "--count", "9"}, "", ExitOK, `"shard":"5/5","index":5,"count":5,"products":1}]}`},
		{"table", nil, "3", ExitOK, "2/3    2         b e"},
		{"bad variable", []string{"--json"}, "four", ExitUsage, `PORTFOLIO_SHARDS: want a whole number of at least 1, got "four"`},
		{"bad count", []string{"--json", "--count", "-1"}, "", ExitUsage, "--count: want a whole number of at least 1, got -1"},
		{"pack without --now", []string{"pack", "--shard", "1/2", "--out", filepath.Join(dir, "a.tar")}, "", ExitUsage, "--now: want the time the shard collected at"},
		{"pack without --shard", []string{"pack", "--now", shardNow, "--out", filepath.Join(dir, "a.tar")}, "", ExitUsage, "--shard: shard: want i/n"},
		{"merge with a bad count", []string{"merge", "--count", "0"}, "", ExitUsage, "--count: want a whole number of at least 1, got 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := map[string]string{ShardsEnv: tc.env}
			args := append([]string{"shards"}, tc.args...)
			args = append(args, "--config", cfg, "--data", filepath.Join(dir, "data"))
			code := (&Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }}).Main(args)
			out := stdout.String() + stderr.String()
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, want %d; output:\n%s\nwant it to contain %s", code, tc.code, out, tc.want)
			}
			if tc.code == ExitOK && slices.Contains(tc.args, "--json") {
				var m struct{ Include []map[string]any }
				if err := json.Unmarshal(stdout.Bytes(), &m); err != nil || len(m.Include) == 0 {
					t.Errorf("not the matrix JSON fromJSON takes: %v\n%s", err, stdout.String())
				}
			}
		})
	}
}
