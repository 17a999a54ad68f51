package repos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/repos"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// testConfig: shop (workflow runs from the default branch), pay (GitHub deployments on branch
// release), api (deployments without a branch: no protection), docs (protection null), blog
// (no repository), and the alert repository acme/ops with an extra channel label.
const testConfig = `{
  "products": [
    {"id": "shop", "repository": "acme/shop", "incidents": {"label": "sev"}},
    {"id": "pay", "repository": "acme/pay", "deploy": {"source": "deployments", "branch": "release"},
     "repository_settings": {"labels": [{"name": "pci", "color": "5319E7", "description": "Touches card data"}],
       "branch_protection": {"required_approving_review_count": 2, "enforce_admins": true}}},
    {"id": "api", "repository": "acme/api", "deploy": {"source": "deployments"}},
    {"id": "docs", "repository": "acme/docs", "repository_settings": {"branch_protection": null}},
    {"id": "blog"}
  ],
  "notification_channels": {"github_issues": {"repository": "acme/ops", "labels": ["ops"]}},
  "repositories": {
    "labels": [{"name": "needs-triage", "color": "fbca04", "description": "New, not yet looked at"},
               {"name": "critical", "color": "ff0000"}],
    "branch_protection": {"required_status_checks": ["test", "lint"], "strict": true, "dismiss_stale_reviews": true}
  }
}`

func loadConfig(t testing.TB, src string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("portfolio.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type world struct {
	t      testing.TB
	f      *fake.GitHub
	cfg    *config.Config
	client *repos.Client
}

func newWorld(t testing.TB, src string) *world {
	t.Helper()
	f := fake.NewGitHub(t)
	for _, r := range []string{"acme/shop", "acme/pay", "acme/api", "acme/docs", "acme/ops"} {
		f.Update(r, func(r *fake.GitHubRepo) {})
	}
	f.Update("acme/pay", func(r *fake.GitHubRepo) { r.Branches = []string{"release"} })
	c, err := repos.New(repos.Options{Token: f.Token, BaseURL: f.URL, Sleep: noSleep}, f.Server.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, f: f, cfg: loadConfig(t, src), client: c}
}

func (w *world) plan() *repos.Plan {
	w.t.Helper()
	d, err := repos.DesiredState(w.cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	return repos.Compute(d, w.client.Read(context.Background(), d))
}

func (w *world) text(p *repos.Plan) string {
	var b bytes.Buffer
	if err := p.WriteText(&b); err != nil {
		w.t.Fatal(err)
	}
	return b.String()
}

// mutations counts the changing calls the fake answered.
func (w *world) mutations() int {
	n := 0
	for _, c := range w.f.Calls() {
		if c.Method != http.MethodGet {
			n++
		}
	}
	return n
}

func TestDesiredState(t *testing.T) {
	d, err := repos.DesiredState(loadConfig(t, testConfig))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range d.Repos {
		names = append(names, r.Name)
	}
	if want := []string{"acme/api", "acme/docs", "acme/ops", "acme/pay", "acme/shop"}; !slices.Equal(names, want) {
		t.Fatalf("repositories %v, want %v", names, want)
	}
	labels := func(r repos.Repo) string {
		var out []string
		for _, l := range r.Labels {
			out = append(out, fmt.Sprintf("%s/%s/%s", l.Name, l.Color, l.Description))
		}
		return strings.Join(out, "; ")
	}
	byName := map[string]repos.Repo{}
	for _, r := range d.Repos {
		byName[r.Name] = r
	}
	for _, tc := range []struct {
		repo, labels string
		branches     string
	}{
		// The product's incident label under its configured name, and the top-level labels; a
		// configured built-in keeps its default description when the config gives none.
		{"acme/shop", "critical/ff0000/; needs-triage/fbca04/New, not yet looked at; sev/d73a4a/An incident: opened when it starts, closed when service is restored",
			`[{"Name":"","Products":["shop"],"Protection":{"required_approving_review_count":1,"dismiss_stale_reviews":true,"require_code_owner_reviews":false,"required_status_checks":["lint","test"],"strict":true,"enforce_admins":false,"required_linear_history":false,"allow_force_pushes":false,"allow_deletions":false}}]`},
		{"acme/pay", "critical/ff0000/; incident/d73a4a/An incident: opened when it starts, closed when service is restored; needs-triage/fbca04/New, not yet looked at; pci/5319e7/Touches card data",
			`[{"Name":"release","Products":["pay"],"Protection":{"required_approving_review_count":2,"dismiss_stale_reviews":true,"require_code_owner_reviews":false,"required_status_checks":["lint","test"],"strict":true,"enforce_admins":true,"required_linear_history":false,"allow_force_pushes":false,"allow_deletions":false}}]`},
		{"acme/api", "critical/ff0000/; incident/d73a4a/An incident: opened when it starts, closed when service is restored; needs-triage/fbca04/New, not yet looked at", `null`},
		{"acme/docs", "critical/ff0000/; incident/d73a4a/An incident: opened when it starts, closed when service is restored; needs-triage/fbca04/New, not yet looked at", `null`},
		{"acme/ops", "acknowledged/0e8a16/Someone is on it: stops the alert's repeat notifications; critical/ff0000/Alert severity: critical; incident/d73a4a/An incident: opened when it starts, closed when service is restored; info/0075ca/Alert severity: info; needs-triage/fbca04/New, not yet looked at; ops/ededed/Put on every alert issue by portfolio; warning/fbca04/Alert severity: warning", `null`},
	} {
		t.Run(tc.repo, func(t *testing.T) {
			r := byName[tc.repo]
			if got := labels(r); got != tc.labels {
				t.Errorf("labels\n got %s\nwant %s", got, tc.labels)
			}
			b, _ := json.Marshal(r.Branches)
			if string(b) != tc.branches {
				t.Errorf("branches\n got %s\nwant %s", b, tc.branches)
			}
		})
	}
	var skipped []string
	for _, s := range d.Skipped {
		skipped = append(skipped, s.Product+": "+s.Reason)
	}
	want := []string{
		"api: no branch to protect: deploy.source is deployments, which names no branch; set deploy.branch to protect one",
		"blog: no repository",
		"docs: branch protection left alone: repository_settings.branch_protection is null",
	}
	if !slices.Equal(skipped, want) {
		t.Errorf("skipped\n%s\nwant\n%s", strings.Join(skipped, "\n"), strings.Join(want, "\n"))
	}
}

func TestDesiredStateConflicts(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"two products, one branch, two protections", `{"products": [
			{"id": "a", "repository": "acme/mono", "repository_settings": {"branch_protection": {"enforce_admins": true}}},
			{"id": "b", "repository": "acme/mono", "repository_settings": {"branch_protection": {"enforce_admins": false}}}]}`,
			"products a and b deploy from the same branch of acme/mono (the default branch) but want different protection"},
		{"two products, one label, two colours", `{"products": [
			{"id": "a", "repository": "acme/mono", "repository_settings": {"labels": [{"name": "ui", "color": "000000"}]}},
			{"id": "b", "repository": "acme/mono", "repository_settings": {"labels": [{"name": "UI", "color": "111111"}]}}]}`,
			`products a and b share acme/mono but configure its label "UI" differently`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := repos.DesiredState(loadConfig(t, tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// The same protection from two products of one repository is one branch, not a conflict.
	d, err := repos.DesiredState(loadConfig(t, `{"products": [{"id": "a", "repository": "acme/mono"}, {"id": "b", "repository": "Acme/Mono"}],
		"repositories": {"branch_protection": {}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Repos) != 1 || len(d.Repos[0].Branches) != 1 || !slices.Equal(d.Repos[0].Branches[0].Products, []string{"a", "b"}) {
		t.Errorf("want one repository with one branch for a and b, got %+v", d.Repos)
	}
}

// seed puts a lived-in GitHub in place: 250 labels nobody configured (three pages of 100),
// "SEV" in another case and colour, and a protected release branch of acme/pay with settings
// portfolio.json does not name (push restrictions, dismissal restrictions, conversation
// resolution, signatures, a check bound to an app).
func (w *world) seed() {
	w.f.Update("acme/shop", func(r *fake.GitHubRepo) {
		for i := range 250 {
			r.Labels = append(r.Labels, fake.GitHubLabel{ID: int64(i + 1), Name: fmt.Sprintf("area-%03d", i), Color: "cccccc", Description: "hand-made"})
		}
		r.Labels = append(r.Labels, fake.GitHubLabel{ID: 999, Name: "SEV", Color: "000000", Description: "old"})
	})
	app := int64(15368)
	w.f.Update("acme/pay", func(r *fake.GitHubRepo) {
		r.Labels = []fake.GitHubLabel{{ID: 1, Name: "bug", Color: "d73a4a", Default: true}}
		r.Protection = map[string]*fake.GitHubProtection{"release": {
			StatusChecks: &fake.GitHubStatusChecks{Strict: false, Checks: []fake.GitHubStatusCheck{{Context: "test", AppID: &app}}},
			Reviews: &fake.GitHubReviews{RequiredApprovingReviewCount: 1, RequireLastPushApproval: true,
				DismissalRestrictions: &fake.GitHubActors{Users: []string{"octocat"}, Teams: []string{"leads"}}},
			Restrictions:                   &fake.GitHubActors{Users: []string{"release-bot"}, Teams: []string{"release"}, Apps: []string{"deployer"}},
			RequiredConversationResolution: true, RequiredSignatures: true, AllowDeletions: true,
		}}
	})
}

func TestPlanApplyIdempotent(t *testing.T) {
	w := newWorld(t, testConfig)
	w.seed()
	before := w.f.Labels("acme/shop")[:250]

	p := w.plan()
	if len(p.Problems) > 0 {
		t.Fatalf("problems: %+v", p.Problems)
	}
	text := w.text(p)
	for _, want := range []string{
		// A case-only difference is left as is: the label is updated under GitHub's spelling.
		`~ label "SEV" (repository acme/shop)`,
		`color:        "000000" → "d73a4a"`,
		`+ label "needs-triage" (repository acme/shop)`,
		`+ branch_protection main (the default branch of repository acme/shop, product shop)`,
		`required_status_checks:           ["lint","test"]`,
		`~ branch_protection release (repository acme/pay, product pay)`,
		`required_approving_review_count:  1 → 2`,
		`required_status_checks:           ["test"] → ["lint","test"]`,
		`allow_deletions:                  true → false`,
		"Not managed: api (no branch to protect: deploy.source is deployments, which names no branch; set deploy.branch to protect one), blog (no repository), docs (branch protection left alone: repository_settings.branch_protection is null).",
		"Left alone (not named in portfolio.json): 251 labels.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	if p.InSync() || p.Summary.Create == 0 {
		t.Fatalf("want changes, got summary %+v", p.Summary)
	}

	rep, err := repos.Apply(context.Background(), w.client, p, nil)
	if err != nil || !rep.OK() || len(rep.Applied) != len(p.Changes) {
		t.Fatalf("apply: %v, %d of %d applied", err, len(rep.Applied), len(p.Changes))
	}

	t.Run("a plan after apply is empty", func(t *testing.T) {
		p := w.plan()
		if !p.InSync() {
			t.Fatalf("not in sync after apply:\n%s", w.text(p))
		}
		if got := w.text(p); !strings.Contains(got, "No changes: GitHub matches portfolio.json (20 labels and 2 protected branches in 5 repositories).") {
			t.Errorf("in-sync text:\n%s", got)
		}
	})
	t.Run("a second apply makes no changing call", func(t *testing.T) {
		n := w.mutations()
		p := w.plan()
		if _, err := repos.Apply(context.Background(), w.client, p, nil); err != nil {
			t.Fatal(err)
		}
		if got := w.mutations() - n; got != 0 {
			t.Errorf("%d changing calls, want 0", got)
		}
	})
	t.Run("labels the config does not name are untouched", func(t *testing.T) {
		after := w.f.Labels("acme/shop")
		if !slices.Equal(after[:250], before) {
			t.Error("an unmanaged label changed")
		}
		sev := after[250]
		if sev.Name != "SEV" || sev.Color != "d73a4a" {
			t.Errorf("SEV = %+v, want its spelling kept and the incident colour", sev)
		}
		if len(w.f.Labels("acme/pay")) != 5 || w.f.Labels("acme/pay")[0].Name != "bug" {
			t.Errorf("acme/pay labels %+v: want bug kept and four created", w.f.Labels("acme/pay"))
		}
	})
	t.Run("protection settings the config does not name are kept", func(t *testing.T) {
		got := w.f.Protection("acme/pay", "release")
		b, _ := json.Marshal(got)
		want := `{"StatusChecks":{"Strict":true,"Checks":[{"Context":"lint","AppID":null},{"Context":"test","AppID":15368}]},` +
			`"Reviews":{"RequiredApprovingReviewCount":2,"DismissStaleReviews":true,"RequireCodeOwnerReviews":false,"RequireLastPushApproval":true,` +
			`"DismissalRestrictions":{"Users":["octocat"],"Teams":["leads"],"Apps":[]},"BypassAllowances":null},` +
			`"Restrictions":{"Users":["release-bot"],"Teams":["release"],"Apps":["deployer"]},"EnforceAdmins":true,"RequiredLinearHistory":false,` +
			`"AllowForcePushes":false,"AllowDeletions":false,"BlockCreations":false,"RequiredConversationResolution":true,"LockBranch":false,` +
			`"AllowForkSyncing":false,"RequiredSignatures":true}`
		if string(b) != want {
			t.Errorf("protection after apply\n got %s\nwant %s", b, want)
		}
		if w.f.Protection("acme/docs", "main") != nil || w.f.Protection("acme/api", "main") != nil {
			t.Error("a branch that is not managed was protected")
		}
	})
}

func TestPermissions(t *testing.T) {
	w := newWorld(t, testConfig)
	w.seed()
	w.f.Update("acme/pay", func(r *fake.GitHubRepo) { r.DenyAdministration = true })
	w.f.Update("acme/ops", func(r *fake.GitHubRepo) { r.DenyIssuesWrite = true })

	p := w.plan()
	if len(p.Problems) != 1 {
		t.Fatalf("problems %+v, want one (acme/pay's protection)", p.Problems)
	}
	pr := p.Problems[0]
	if pr.Repository != "acme/pay" || pr.Part != repos.PartProtection || !pr.Permission ||
		!strings.Contains(pr.Message, "HTTP 403 \"Resource not accessible by personal access token\"") ||
		!strings.Contains(pr.Message, "Administration permission") {
		t.Errorf("problem %+v", pr)
	}
	if text := w.text(p); !strings.Contains(text, "  ! acme/pay: branch protection (release): HTTP 403") ||
		!strings.Contains(text, "; 1 repository part could not be planned") {
		t.Errorf("plan text:\n%s", text)
	}

	var steps []repos.Step
	rep, err := repos.Apply(context.Background(), w.client, p, func(s repos.Step) { steps = append(steps, s) })
	if err == nil || !strings.Contains(err.Error(), "refused for lack of permission") {
		t.Fatalf("apply error %v", err)
	}
	// acme/ops: the first label write is refused and the other six are not attempted; every
	// other repository is applied.
	if len(rep.Denied) != 1 || rep.Denied[0].Change.Repository != "acme/ops" || len(rep.NotApplied) != 6 || rep.Failed != nil {
		t.Fatalf("report: %d denied, %d not applied, failed %v", len(rep.Denied), len(rep.NotApplied), rep.Failed)
	}
	if !strings.Contains(rep.Denied[0].Err.Error(), "Issues permission") {
		t.Errorf("denied error %v, want it to name the Issues permission", rep.Denied[0].Err)
	}
	var sum bytes.Buffer
	rep.WriteSummary(&sum)
	if !strings.Contains(sum.String(), "Apply finished without some permissions: 14 applied, 1 refused for lack of permission, 6 not applied") {
		t.Errorf("summary:\n%s", sum.String())
	}
	if got := len(w.f.Labels("acme/shop")); got != 253 {
		t.Errorf("acme/shop has %d labels, want 253: other repositories go on after a 403", got)
	}
}

func TestApplyStopsAtFirstFailure(t *testing.T) {
	w := newWorld(t, testConfig)
	p := w.plan()
	// Someone creates "NEEDS-TRIAGE" in acme/docs between plan and apply: GitHub refuses the
	// create with 422 already_exists (names compare case-insensitively).
	w.f.Update("acme/docs", func(r *fake.GitHubRepo) {
		r.Labels = append(r.Labels, fake.GitHubLabel{ID: 7, Name: "NEEDS-TRIAGE", Color: "ffffff"})
	})
	var steps []repos.Step
	rep, err := repos.Apply(context.Background(), w.client, p, func(s repos.Step) { steps = append(steps, s) })
	if err == nil || !strings.Contains(err.Error(), `create label "needs-triage" (repository acme/docs): HTTP 422: Validation Failed (name already_exists)`) {
		t.Fatalf("apply error %v", err)
	}
	if rep.Failed == nil || len(rep.Applied)+1+len(rep.NotApplied) != len(p.Changes) || len(rep.NotApplied) == 0 {
		t.Fatalf("report: %d applied, failed %v, %d not applied, of %d", len(rep.Applied), rep.Failed, len(rep.NotApplied), len(p.Changes))
	}
	if len(steps) != len(rep.Applied)+1 {
		t.Errorf("%d progress calls, want one per attempted change", len(steps))
	}
	// Running it again carries on: the existing label is now updated instead.
	p = w.plan()
	if _, err := repos.Apply(context.Background(), w.client, p, nil); err != nil {
		t.Fatal(err)
	}
	if p := w.plan(); !p.InSync() {
		t.Errorf("not in sync:\n%s", w.text(p))
	}
	labels := w.f.Labels("acme/docs")
	if i := slices.IndexFunc(labels, func(l fake.GitHubLabel) bool { return l.Name == "NEEDS-TRIAGE" }); i < 0 || labels[i].Color != "fbca04" {
		t.Errorf("acme/docs labels %+v: want NEEDS-TRIAGE kept under its spelling, recoloured", labels)
	}
}

func TestRetriesAndPaging(t *testing.T) {
	w := newWorld(t, testConfig)
	w.seed()
	// A 502 on a read and on a PUT is retried once; a POST is not retried after a 5xx.
	w.f.Inject(fake.InjectedFault{Match: "GET /repos/acme/shop/labels?page=2", Status: 502, Times: 1})
	p := w.plan()
	if len(p.Problems) > 0 {
		t.Fatalf("a 502 once was not retried: %+v", p.Problems)
	}
	w.f.Inject(fake.InjectedFault{Match: "PUT /repos/acme/pay/branches/release/protection", Status: 502, Times: 1})
	w.f.Inject(fake.InjectedFault{Match: "POST /repos/acme/api/labels", Status: 502, Times: 1})
	rep, err := repos.Apply(context.Background(), w.client, p, nil)
	if err == nil || rep.Failed == nil || rep.Failed.Change.Repository != "acme/api" || !strings.Contains(err.Error(), "HTTP 502") {
		t.Fatalf("want the POST's 502 to stop apply, got %v", err)
	}
	count := func(method, prefix string) (n int) {
		for _, c := range w.f.Calls() {
			if c.Method == method && strings.HasPrefix(c.Path, prefix) {
				n++
			}
		}
		return n
	}
	if n := count(http.MethodPost, "/repos/acme/api/labels"); n != 1 {
		t.Errorf("%d POSTs to acme/api, want 1 (a create is never retried after a 5xx)", n)
	}
	if _, err := repos.Apply(context.Background(), w.client, w.plan(), nil); err != nil {
		t.Fatalf("the second apply: %v (a PUT's 502 once should be retried)", err)
	}
	if n := count(http.MethodPut, "/repos/acme/pay/branches/release/protection"); n != 2 {
		t.Errorf("%d PUTs of acme/pay's protection, want 2 (a 502, then the retry)", n)
	}
	// Pages: every label list was read with per_page=100 until the last page.
	var pages []string
	for _, c := range w.f.Calls() {
		if c.Method == http.MethodGet && strings.HasPrefix(c.Path, "/repos/acme/shop/labels") && c.Status == 200 {
			pages = append(pages, c.Path)
		}
	}
	if len(pages) < 3 || pages[0] != "/repos/acme/shop/labels?per_page=100" || pages[2] != "/repos/acme/shop/labels?page=3&per_page=100" {
		t.Errorf("label pages read: %v", pages)
	}
}

func TestLabelNamesThatNeedEscaping(t *testing.T) {
	w := newWorld(t, `{"products": [{"id": "a", "repository": "acme/shop", "incidents": {"label": "P1 / outage?#"}}]}`)
	w.f.Update("acme/shop", func(r *fake.GitHubRepo) {
		r.Labels = []fake.GitHubLabel{{ID: 1, Name: "p1 / OUTAGE?#", Color: "000000"}}
	})
	if _, err := repos.Apply(context.Background(), w.client, w.plan(), nil); err != nil {
		t.Fatal(err)
	}
	if got := w.f.Labels("acme/shop"); len(got) != 1 || got[0].Color != "d73a4a" {
		t.Errorf("labels %+v, want the one label recoloured", got)
	}
	// Without branch_protection anywhere, nothing about protection is read or written.
	for _, c := range w.f.Calls() {
		if strings.Contains(c.Path, "/protection") || c.Path == "/repos/acme/shop" {
			t.Errorf("%s %s: protection (or the default branch) was read without branch_protection in the config", c.Method, c.Path)
		}
	}
}

func TestRepositoryAndBranchNotFound(t *testing.T) {
	w := newWorld(t, `{"products": [
		{"id": "a", "repository": "acme/gone"},
		{"id": "b", "repository": "acme/shop", "deploy": {"branch": "nope"}}],
	  "repositories": {"branch_protection": {}}}`)
	p := w.plan()
	var got []string
	for _, pr := range p.Problems {
		got = append(got, pr.Repository+" "+string(pr.Part)+": "+pr.Message)
	}
	want := []string{
		"acme/gone labels: repository acme/gone not found, or the token cannot see it",
		"acme/gone branch_protection: read the default branch: repository acme/gone not found, or the token cannot see it",
		`acme/shop branch_protection: branch "nope" of acme/shop not found (GitHub: HTTP 404: Branch not found)`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// acme/shop's labels are still planned.
	if p.Summary.Create != 1 {
		t.Errorf("summary %+v, want acme/shop's incident label created", p.Summary)
	}
}

func TestNeedsToken(t *testing.T) {
	_, err := repos.New(repos.Options{}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "GITHUB_TOKEN not set") {
		t.Errorf("err = %v", err)
	}
	_, err = repos.New(repos.Options{Token: "t", BaseURL: "ftp://user:secret@host/"}, nil, nil)
	if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "GITHUB_API_URL") {
		t.Errorf("err = %v, want GITHUB_API_URL named and the password redacted", err)
	}
}

// noSleep stands for the waits between retries: tests do not really sleep.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// TestALabelListingThatDoesNotEndIsAProblem: a next link back to a page already read ends the
// listing with a problem for that repository, not a loop and not a plan from half a list.
func TestALabelListingThatDoesNotEndIsAProblem(t *testing.T) {
	w := newWorld(t, `{"products": [{"id": "a", "repository": "acme/shop"}]}`)
	w.f.BreakPaging("/repos/acme/shop/labels", "loop")
	p := w.plan()
	if len(p.Problems) != 1 || !strings.Contains(p.Problems[0].Message, "page 1 links to page 1, already read") {
		t.Errorf("problems %+v", p.Problems)
	}
	if len(p.Changes) != 0 {
		for _, c := range p.Changes {
			if strings.Contains(c.Repository, "acme/shop") && c.Kind == "label" {
				t.Errorf("a label change planned from a listing that did not end: %+v", c)
			}
		}
	}
}
