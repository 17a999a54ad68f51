package cli

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

type reposWorld struct {
	t      *testing.T
	f      *fake.GitHub
	config string
	env    map[string]string
}

// newReposWorld points the CLI at the example portfolio.json and a GitHub fake holding its
// repositories: acme/storefront, acme/payments, acme/docs and the alert repository acme/ops.
func newReposWorld(t *testing.T) *reposWorld {
	t.Helper()
	w := &reposWorld{t: t, f: fake.NewGitHub(t), config: filepath.Join("..", "..", "portfolio.json")}
	for _, r := range []string{"acme/storefront", "acme/payments", "acme/docs", "acme/ops"} {
		w.f.Update(r, func(r *fake.GitHubRepo) {
			r.Labels = []fake.GitHubLabel{{ID: 1, Name: "bug", Color: "d73a4a", Description: "Something isn't working", Default: true}}
		})
	}
	w.env = map[string]string{"GITHUB_TOKEN": w.f.Token, "GITHUB_API_URL": w.f.URL}
	return w
}

func (w *reposWorld) run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	args = append([]string{"repos"}, args...)
	args = append(args, "--config", w.config, "--data", w.t.TempDir())
	code = (&Command{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return w.env[k] }}).Main(args)
	if s := out.String() + errb.String(); strings.Contains(s, w.f.Token) {
		w.t.Errorf("the token leaks into the output:\n%s", s)
	}
	return code, out.String(), errb.String()
}

func (w *reposWorld) mutations() int {
	n := 0
	for _, c := range w.f.Calls() {
		if c.Method != http.MethodGet {
			n++
		}
	}
	return n
}

func TestReposPlanAndApply(t *testing.T) {
	w := newReposWorld(t)
	steps := []struct {
		name       string
		args       []string
		before     func()
		wantCode   int
		wantOut    []string
		mutations  int // -1: any
		wantStderr string
	}{
		{name: "plan on fresh repositories", args: []string{"plan"}, wantCode: ExitChanges,
			wantOut: []string{`+ label "acknowledged" (repository acme/ops)`, `+ label "needs-triage" (repository acme/storefront)`,
				"+ branch_protection main (the default branch of repository acme/storefront, product storefront)",
				`required_status_checks:           ["test"]`,
				"Not managed: payments-api (no branch to protect: deploy.source is deployments, which names no branch; set deploy.branch to protect one).",
				"Left alone (not named in portfolio.json): 4 labels.",
				"Plan: 14 to create, 0 to update."}},
		{name: "apply makes them", args: []string{"apply"}, wantCode: ExitOK, mutations: 14,
			wantOut: []string{"Applying:", `+ created label "incident" (repository acme/docs)`,
				"+ created branch_protection main (the default branch of repository acme/docs, product docs)", "Apply complete: 14 changes applied."}},
		{name: "plan when in sync", args: []string{"plan"}, wantCode: ExitOK,
			wantOut: []string{"No changes: GitHub matches portfolio.json (12 labels and 2 protected branches in 4 repositories)."}},
		{name: "a second apply makes no changing call", args: []string{"apply"}, wantCode: ExitOK, mutations: 0,
			wantOut: []string{"No changes"}},
		{name: "plan on drift", args: []string{"plan"}, wantCode: ExitChanges,
			before: func() {
				w.f.Update("acme/docs", func(r *fake.GitHubRepo) {
					r.Protection["main"].AllowForcePushes = true
					r.Labels[1].Color = "000000"
				})
			},
			wantOut: []string{"~ branch_protection main (the default branch of repository acme/docs, product docs)", "allow_force_pushes:  true → false",
				`~ label "incident" (repository acme/docs)`, `color:  "000000" → "d73a4a"`, "Plan: 0 to create, 2 to update."}},
		{name: "a 403 is reported per repository and the rest goes on", args: []string{"apply"}, wantCode: ExitFailure, mutations: -1,
			before: func() { w.f.Update("acme/docs", func(r *fake.GitHubRepo) { r.DenyAdministration = true }) },
			wantOut: []string{"! acme/docs: branch protection (main): HTTP 403", "Administration permission",
				`~ updated label "incident" (repository acme/docs)`, "Apply complete: 1 change applied."},
			wantStderr: "portfolio: repos apply: 1 repository part(s) could not be read, so were not applied (see above)"},
		{name: "plan exits 1 while a repository cannot be read", args: []string{"plan"}, wantCode: ExitFailure,
			wantOut: []string{"No changes to what could be read (12 labels and 1 protected branch in 4 repositories); 1 repository part could not be planned"}},
	}
	for _, st := range steps {
		if !t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before()
			}
			before := w.mutations()
			code, out, errOut := w.run(st.args...)
			if code != st.wantCode {
				t.Errorf("exit %d, want %d\n%s%s", code, st.wantCode, out, errOut)
			}
			for _, s := range st.wantOut {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			if st.wantStderr != "" && !strings.Contains(errOut, st.wantStderr) {
				t.Errorf("stderr %q, want %q", errOut, st.wantStderr)
			}
			if n := w.mutations() - before; st.mutations >= 0 && n != st.mutations {
				t.Errorf("%d changing calls, want %d", n, st.mutations)
			}
		}) {
			return
		}
	}
}

func TestReposPlanJSON(t *testing.T) {
	w := newReposWorld(t)
	code, out, errOut := w.run("plan", "--json")
	if code != ExitChanges {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	path := filepath.Join("testdata", "repos", "plan.json")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./generator/cli -run TestReposPlanJSON -update)", err)
	}
	if out != string(want) {
		t.Errorf("plan --json differs from %s:\n%s", path, out)
	}
}

func TestReposErrors(t *testing.T) {
	t.Run("no token", func(t *testing.T) {
		w := newReposWorld(t)
		delete(w.env, "GITHUB_TOKEN")
		for _, sub := range []string{"plan", "apply"} {
			code, _, errOut := w.run(sub)
			if code != ExitFailure || !strings.Contains(errOut, "portfolio: repos: github: GITHUB_TOKEN not set") {
				t.Errorf("%s: exit %d, stderr %q", sub, code, errOut)
			}
		}
	})
	t.Run("a bad config is a usage error", func(t *testing.T) {
		w := newReposWorld(t)
		w.config = filepath.Join(t.TempDir(), "portfolio.json")
		os.WriteFile(w.config, []byte(`{"products": [{"id": "a"}], "repositories": {"labels": [{"name": "x", "color": "#fff"}]}}`), 0o644)
		if code, _, errOut := w.run("plan"); code != ExitUsage || !strings.Contains(errOut, "repositories.labels[0].color") {
			t.Errorf("exit %d, stderr %q; want %d naming the field", code, errOut, ExitUsage)
		}
	})
	t.Run("products disagreeing about one branch is a usage error", func(t *testing.T) {
		w := newReposWorld(t)
		w.config = filepath.Join(t.TempDir(), "portfolio.json")
		os.WriteFile(w.config, []byte(`{"products": [
			{"id": "a", "repository": "acme/mono", "repository_settings": {"branch_protection": {"strict": true}}},
			{"id": "b", "repository": "acme/mono", "repository_settings": {"branch_protection": {"strict": false}}}]}`), 0o644)
		if code, _, errOut := w.run("plan"); code != ExitUsage || !strings.Contains(errOut, "want different protection") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}
