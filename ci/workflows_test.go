// Package ci checks the GitHub Actions workflows in .github/: actionlint (as a library) on every
// file, and the properties the report's schedule depends on.
package ci

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rhysd/actionlint"

	"github.com/portfolio-report/portfolio/generator/cli"
	"github.com/portfolio-report/portfolio/generator/config"
)

const root = ".."

func workflowFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(root, ".github", "workflows", pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no workflow files in .github/workflows")
	}
	slices.Sort(files)
	return files
}

// TestActionlint runs actionlint on every workflow, with the repository as the project so local
// actions (./.github/actions/…) are checked against their action.yml.
func TestActionlint(t *testing.T) { lintWorkflows(t, "", nil) }

// TestShellcheck checks the workflows' run: scripts with shellcheck, through actionlint.
func TestShellcheck(t *testing.T) {
	shellcheck, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck is not on the PATH: the workflows' run: scripts cannot be checked (.ci/run installs it; apt-get install shellcheck)")
	}
	lintWorkflows(t, shellcheck, func(e *actionlint.Error) bool { return e.Kind == "shellcheck" })
}

// lintWorkflows lints every workflow, reporting the errors keep accepts (nil: all). A
// shellcheck path turns on actionlint's shellcheck rule.
func lintWorkflows(t *testing.T, shellcheck string, keep func(*actionlint.Error) bool) {
	t.Helper()
	var out bytes.Buffer
	linter, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{Shellcheck: shellcheck, Oneline: true})
	if err != nil {
		t.Fatal(err)
	}
	project, err := actionlint.NewProject(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range workflowFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out.Reset()
			errs, err := linter.LintFile(f, project)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range errs {
				if keep == nil || keep(e) {
					t.Errorf("%s:%d:%d: %s [%s]", filepath.Base(f), e.Line, e.Column, e.Message, e.Kind)
				}
			}
		})
	}
}

func parse(t *testing.T, name string) *actionlint.Workflow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".github", "workflows", name))
	if err != nil {
		t.Fatal(err)
	}
	w, errs := actionlint.Parse(b)
	if len(errs) > 0 {
		t.Fatalf("%s: %v", name, errs[0])
	}
	return w
}

func scopes(p *actionlint.Permissions) map[string]string {
	out := map[string]string{}
	if p == nil {
		return out
	}
	if p.All != nil {
		out["*"] = p.All.Value
	}
	for k, s := range p.Scopes {
		out[k] = s.Value.Value
	}
	return out
}

func runScripts(j *actionlint.Job) string {
	var b strings.Builder
	for _, s := range j.Steps {
		if r, ok := s.Exec.(*actionlint.ExecRun); ok && r.Run != nil {
			b.WriteString(r.Run.Value)
			b.WriteString("\n")
		}
	}
	return b.String()
}

func uses(j *actionlint.Job) []string {
	var out []string
	for _, s := range j.Steps {
		if a, ok := s.Exec.(*actionlint.ExecAction); ok && a.Uses != nil {
			out = append(out, a.Uses.Value)
		}
	}
	return out
}

func stepEnv(j *actionlint.Job) map[string]string {
	env := map[string]string{}
	for _, s := range j.Steps {
		if s.Env == nil {
			continue
		}
		for _, v := range s.Env.Vars {
			env[v.Name.Value] = v.Value.Value
		}
	}
	return env
}

// TestReportWorkflow checks what the schedule depends on: the triggers, no overlapping runs,
// minimal permissions, Go from go.mod with a cache, exit 3 surfaced without failing, the data
// pushed, and every credential mapped from a secret to its standard variable.
func TestReportWorkflow(t *testing.T) {
	w := parse(t, "report.yml")

	var crons []string
	dispatch := false
	for _, e := range w.On {
		switch e := e.(type) {
		case *actionlint.ScheduledEvent:
			for _, s := range e.Schedules {
				crons = append(crons, s.Cron.Value)
			}
		case *actionlint.WorkflowDispatchEvent:
			dispatch = true
		}
	}
	if !slices.Equal(crons, []string{"*/15 * * * *"}) || !dispatch {
		t.Errorf("triggers: cron %v, workflow_dispatch %v; want every 15 minutes and manual", crons, dispatch)
	}
	if c := w.Concurrency; c == nil || c.Group == nil || c.Group.Value == "" || c.CancelInProgress == nil || c.CancelInProgress.Value {
		t.Error("want a concurrency group with cancel-in-progress: false")
	}
	if got := scopes(w.Permissions); len(got) != 4 || got["contents"] != "write" || got["issues"] != "write" || got["actions"] != "read" || got["deployments"] != "read" {
		t.Errorf("permissions = %v, want contents: write, issues: write, actions: read and deployments: read only", got)
	}

	job := w.Jobs["report"]
	if job == nil {
		t.Fatal("no report job")
	}
	if job.TimeoutMinutes == nil || job.TimeoutMinutes.Value >= 15 {
		t.Error("the job needs a timeout below the 15-minute cadence")
	}
	u := uses(job)
	for _, want := range []string{"actions/checkout@v4", "actions/setup-go@v5", "./.github/actions/commit-data"} {
		if !slices.Contains(u, want) {
			t.Errorf("steps lack %s (have %v)", want, u)
		}
	}
	for _, s := range job.Steps {
		if a, ok := s.Exec.(*actionlint.ExecAction); ok && a.Uses.Value == "actions/setup-go@v5" {
			if a.Inputs["go-version-file"] == nil || a.Inputs["go-version-file"].Value.Value != "go.mod" ||
				a.Inputs["cache"] == nil || a.Inputs["cache"].Value.Value != "true" {
				t.Error("setup-go wants go-version-file: go.mod and cache: true")
			}
		}
	}
	script := runScripts(job)
	for _, want := range []string{"go build -o \"$RUNNER_TEMP/portfolio\" ./cmd/portfolio", "\"$RUNNER_TEMP/portfolio\" run", "3) echo \"::warning"} {
		if !strings.Contains(script, want) {
			t.Errorf("run scripts lack %q", want)
		}
	}

	env := stepEnv(job)
	for _, name := range []string{"GITHUB_TOKEN", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID", "POSTHOG_HOST",
		"POSTHOG_PERSONAL_API_KEY", "POSTHOG_PROJECT_ID", "POSTHOG_API_KEY", "SLACK_WEBHOOK_URL", "SMTP_URL", "PAGERDUTY_ROUTING_KEY"} {
		v, ok := env[name]
		if !ok || !strings.Contains(v, "secrets."+name) {
			t.Errorf("env %s = %q, want it from secrets.%s", name, v, name)
		}
	}
}

// TestTestWorkflow checks the gate for changes: on every push and pull request, read-only,
// vet, staticcheck, and .ci/run (which runs the README's test command).
func TestTestWorkflow(t *testing.T) {
	w := parse(t, "test.yml")
	var push, pr bool
	for _, e := range w.On {
		if we, ok := e.(*actionlint.WebhookEvent); ok {
			push = push || we.Hook.Value == "push"
			pr = pr || we.Hook.Value == "pull_request"
		}
	}
	if !push || !pr {
		t.Errorf("triggers: push %v, pull_request %v; want both", push, pr)
	}
	if got := scopes(w.Permissions); len(got) != 1 || got["contents"] != "read" {
		t.Errorf("permissions = %v, want contents: read only", got)
	}
	job := w.Jobs["test"]
	if job == nil {
		t.Fatal("no test job")
	}
	script := runScripts(job)
	for _, want := range []string{"go vet ./...", "staticcheck", "bash .ci/run"} {
		if !strings.Contains(script, want) {
			t.Errorf("run scripts lack %q:\n%s", want, script)
		}
	}
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	// The README's quick start names the test command; .ci/run runs exactly that.
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^(go test [^#\n]*?)\s*#`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README: no go test command in the quick start")
	}
	for _, want := range []string{"\n" + string(m[1]) + "\n", "apt_install shellcheck"} {
		if !strings.Contains(string(ci), want) {
			t.Errorf(".ci/run lacks %q", want)
		}
	}
}

// TestOneScheduleWritesData: exactly one workflow writes data/ on a schedule (report.yml,
// single-job or sharded by PORTFOLIO_SHARDS), so no two schedules push the same files.
func TestOneScheduleWritesData(t *testing.T) {
	var writers []string
	for _, f := range workflowFiles(t) {
		w := parse(t, filepath.Base(f))
		scheduled := false
		for _, e := range w.On {
			_, ok := e.(*actionlint.ScheduledEvent)
			scheduled = scheduled || ok
		}
		for _, j := range w.Jobs {
			if scheduled && slices.Contains(uses(j), "./.github/actions/commit-data") {
				writers = append(writers, filepath.Base(f))
				break
			}
		}
	}
	if !slices.Equal(writers, []string{"report.yml"}) {
		t.Errorf("workflows that commit data/ on a schedule: %v, want report.yml alone", writers)
	}
}

// reportRun is what one run of report.yml does, as GitHub would decide it from the workflow's
// expressions.
type reportRun struct {
	planned bool     // the plan job ran
	shards  []string // the collect matrix's --shard values
	steps   []string // the report job's steps that run, by name ("" when it does not run)
	skip    []string // the run step's --skip values
	now     string   // the report job's NOW
}

// simulateReport evaluates report.yml for a trigger (event, inputs), the PORTFOLIO_SHARDS
// repository variable ("" unset) and the result of the collect jobs ("success" or "failure").
// The plan job's matrix is what `portfolio shards --json` prints for the repository's
// portfolio.json, run here.
func simulateReport(t *testing.T, event string, inputs map[string]any, shardsVar, collectResult string) reportRun {
	t.Helper()
	w := parse(t, "report.yml")
	vars := map[string]any{}
	if shardsVar != "" {
		vars["PORTFOLIO_SHARDS"] = shardsVar
	}
	ctx := map[string]any{
		"github": map[string]any{"event_name": event, "run_id": "1"}, "inputs": inputs, "vars": vars,
		"secrets": map[string]any{}, "runner": map[string]any{"temp": "/tmp/runner"},
	}
	env := exprEnv{contexts: ctx}
	value := func(s *actionlint.String, cond bool, e exprEnv) any {
		t.Helper()
		if s == nil {
			if cond {
				return !e.cancelled && !e.failed // the default if: success()
			}
			return nil
		}
		v, err := evalTemplate(s.Value, e, cond)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var run reportRun
	needs := map[string]any{}
	plan, collect, report := w.Jobs["plan"], w.Jobs["collect"], w.Jobs["report"]
	if plan == nil || collect == nil || report == nil {
		t.Fatal("report.yml: want the jobs plan, collect and report")
	}

	// plan
	needs["plan"] = map[string]any{"result": "skipped", "outputs": map[string]any{}}
	if truthy(value(plan.If, true, env)) {
		run.planned = true
		var step *actionlint.Step
		for _, s := range plan.Steps {
			if r, ok := s.Exec.(*actionlint.ExecRun); ok && strings.Contains(r.Run.Value, `portfolio" shards --json`) {
				step = s
			}
		}
		if step == nil || step.ID == nil {
			t.Fatal("plan: no step with an id runs portfolio shards --json")
		}
		stepEnv := map[string]string{}
		for _, v := range step.Env.Vars {
			stepEnv[v.Name.Value] = toString(value(v.Value, false, env))
		}
		var stdout, stderr bytes.Buffer
		code := (&cli.Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return stepEnv[k] }}).Main(
			[]string{"shards", "--json", "--config", filepath.Join(root, "portfolio.json"), "--data", t.TempDir()})
		if code != 0 {
			t.Fatalf("portfolio shards --json: exit %d: %s", code, stderr.String())
		}
		var m struct{ Include []struct{ Count int } }
		if err := json.Unmarshal(stdout.Bytes(), &m); err != nil || len(m.Include) == 0 {
			t.Fatalf("portfolio shards --json: %v: %s", err, stdout.String())
		}
		stepOut := map[string]any{"matrix": strings.TrimSpace(stdout.String()), "count": fmt.Sprint(m.Include[0].Count), "now": "2026-11-30T12:00:00Z"}
		env.contexts["steps"] = map[string]any{step.ID.Value: map[string]any{"outputs": stepOut}}
		outputs := map[string]any{}
		for name, o := range plan.Outputs {
			outputs[name] = toString(value(o.Value, false, env))
		}
		needs["plan"] = map[string]any{"result": "success", "outputs": outputs}
	}
	env.contexts["needs"] = needs

	// collect: the matrix from the plan's output
	needs["collect"] = map[string]any{"result": "skipped"}
	if run.planned && truthy(value(collect.If, true, env)) {
		if collect.Strategy == nil || collect.Strategy.Matrix == nil || collect.Strategy.Matrix.Expression == nil {
			t.Fatal("collect: want a matrix computed by the plan job")
		}
		mv, _ := value(collect.Strategy.Matrix.Expression, false, env).(map[string]any)
		include, _ := mv["include"].([]any)
		for _, row := range include {
			env.contexts["matrix"] = row
			for _, s := range collect.Steps {
				if r, ok := s.Exec.(*actionlint.ExecRun); ok && strings.Contains(r.Run.Value, `portfolio" collect --shard "$SHARD"`) {
					for _, v := range s.Env.Vars {
						if v.Name.Value == "SHARD" {
							run.shards = append(run.shards, toString(value(v.Value, false, env)))
						}
					}
				}
			}
		}
		delete(env.contexts, "matrix")
		delete(env.contexts, "steps")
		needs["collect"] = map[string]any{"result": collectResult}
	}

	// report: job-level status functions see the jobs it needs
	jobEnv := env
	for _, n := range needs {
		jobEnv.failed = jobEnv.failed || n.(map[string]any)["result"] == "failure"
	}
	if !truthy(value(report.If, true, jobEnv)) {
		return run
	}
	if report.Env != nil {
		jobVars := map[string]any{}
		for _, v := range report.Env.Vars {
			jobVars[v.Name.Value] = toString(value(v.Value, false, env))
		}
		env.contexts["env"] = jobVars
		run.now = toString(jobVars["NOW"])
	}
	skipVar := regexp.MustCompile(`--skip "\$(\w+)"`)
	for _, s := range report.Steps {
		if !truthy(value(s.If, true, env)) {
			continue
		}
		run.steps = append(run.steps, stepName(s))
		r, ok := s.Exec.(*actionlint.ExecRun)
		if !ok || !strings.Contains(r.Run.Value, `portfolio" run`) {
			continue
		}
		vars := map[string]string{}
		for _, v := range s.Env.Vars {
			vars[v.Name.Value] = toString(value(v.Value, false, env))
		}
		for _, m := range skipVar.FindAllStringSubmatch(r.Run.Value, -1) {
			for _, step := range strings.Split(vars[m[1]], ",") {
				if step != "" {
					run.skip = append(run.skip, step)
				}
			}
		}
		if strings.Contains(r.Run.Value, "--skip ") && len(skipVar.FindAllString(r.Run.Value, -1)) != strings.Count(r.Run.Value, "--skip ") {
			t.Errorf("report: the run step's --skip values must all be \"$VAR\" from its env, so this test can follow them:\n%s", r.Run.Value)
		}
	}
	return run
}

// TestReportRunsEveryStepOnEveryTrigger evaluates report.yml's expressions for every trigger
// (the schedule, a dispatch with and without publish) and every mode (PORTFOLIO_SHARDS unset, 1,
// 3): the scheduled run alerts and publishes, whether one job collects or shards do; a dispatch
// without publish only collects and builds; sharded runs collect in the matrix the plan
// computed and merge before the run, which then does not collect.
func TestReportRunsEveryStepOnEveryTrigger(t *testing.T) {
	triggers := []struct {
		name    string
		event   string
		inputs  map[string]any
		publish bool
	}{
		{"schedule", "schedule", map[string]any{}, true},
		{"dispatch with publish", "workflow_dispatch", map[string]any{"publish": true}, true},
		{"dispatch without publish", "workflow_dispatch", map[string]any{"publish": false}, false},
	}
	for _, tr := range triggers {
		for _, shards := range []string{"", "1", "3"} {
			t.Run(fmt.Sprintf("%s, PORTFOLIO_SHARDS=%q", tr.name, shards), func(t *testing.T) {
				sharded := shards == "3"
				r := simulateReport(t, tr.event, tr.inputs, shards, "success")
				if r.planned != sharded {
					t.Errorf("plan ran: %v, want %v", r.planned, sharded)
				}
				var wantShards []string // 3, or as many as the example portfolio has products
				if sharded {
					cfg, err := config.Load(filepath.Join(root, "portfolio.json"))
					if err != nil {
						t.Fatal(err)
					}
					n := min(3, len(cfg.Products))
					for i := 1; i <= n; i++ {
						wantShards = append(wantShards, fmt.Sprintf("%d/%d", i, n))
					}
				}
				if !slices.Equal(r.shards, wantShards) {
					t.Errorf("collect shards %v, want %v", r.shards, wantShards)
				}
				if len(r.steps) == 0 {
					t.Fatal("the report job does not run")
				}
				run := slices.Index(r.steps, "Run the report")
				merge := slices.Index(r.steps, "Merge the shards' data")
				if run < 0 || (merge >= 0) != sharded || merge > run || !slices.Contains(r.steps, "Commit data") {
					t.Errorf("report steps %v: want the run, the merge before it only when sharded, and the commit", r.steps)
				}
				for step, skipped := range map[string]bool{"collect": sharded, "alert": !tr.publish, "digest": !tr.publish, "build": false, "publish": !tr.publish} {
					if got := slices.Contains(r.skip, step); got != skipped {
						t.Errorf("--skip %v: %s skipped %v, want %v", r.skip, step, got, skipped)
					}
				}
				if (r.now != "") != sharded {
					t.Errorf("NOW = %q: want the plan's time when sharded (every shard collected at it), the clock otherwise", r.now)
				}
			})
		}
	}
}

// TestShardedReportSurvivesAFailedShard: a shard that failed does not stop the report (its
// products are marked timed_out by the merge); a failed plan does, since no one knows the shards.
func TestShardedReportSurvivesAFailedShard(t *testing.T) {
	r := simulateReport(t, "schedule", map[string]any{}, "3", "failure")
	if !slices.Contains(r.steps, "Merge the shards' data") || !slices.Contains(r.steps, "Run the report") || slices.Contains(r.skip, "publish") {
		t.Errorf("a failed shard: report steps %v, --skip %v; want merge, run and publish", r.steps, r.skip)
	}
	w := parse(t, "report.yml")
	env := exprEnv{contexts: map[string]any{"needs": map[string]any{"plan": map[string]any{"result": "failure"}}}, failed: true}
	if v, err := evalTemplate(w.Jobs["report"].If.Value, env, true); err != nil || truthy(v) {
		t.Errorf("a failed plan: the report job runs (%v, %v), want it skipped", v, err)
	}
	collect := w.Jobs["collect"]
	if got := scopes(collect.Permissions); len(got) != 4 || got["contents"] != "read" || got["issues"] != "read" || got["actions"] != "read" || got["deployments"] != "read" {
		t.Errorf("collect permissions = %v, want read of contents, issues, actions and deployments only", got)
	}
	if collect.Strategy.FailFast == nil || collect.Strategy.FailFast.Value {
		t.Error("collect: want fail-fast: false, so one shard failing does not cancel the others")
	}
	script := runScripts(collect)
	for _, want := range []string{`portfolio" collect --shard "$SHARD" --now "$NOW"`, `portfolio" shards pack --shard "$SHARD" --now "$NOW"`} {
		if !strings.Contains(script, want) {
			t.Errorf("collect scripts lack %q", want)
		}
	}
	if !strings.Contains(runScripts(w.Jobs["report"]), `portfolio" shards merge --count "$COUNT" --now "$NOW"`) {
		t.Error("the report job must merge with portfolio shards merge, at the plan's count and time")
	}
}

// TestReposWorkflow checks the daily drift check of labels and branch protection: read-only, on a
// schedule, with a token from a secret (the workflow's own token cannot read other
// repositories' protection), and drift (exit 4) a warning while a read failure fails the job.
func TestReposWorkflow(t *testing.T) {
	w := parse(t, "repos.yml")
	var crons []string
	dispatch := false
	for _, e := range w.On {
		switch e := e.(type) {
		case *actionlint.ScheduledEvent:
			for _, s := range e.Schedules {
				crons = append(crons, s.Cron.Value)
			}
		case *actionlint.WorkflowDispatchEvent:
			dispatch = true
		}
	}
	if len(crons) != 1 || !strings.HasSuffix(crons[0], " * * *") || !dispatch {
		t.Errorf("triggers: cron %v, workflow_dispatch %v; want daily and manual", crons, dispatch)
	}
	if got := scopes(w.Permissions); len(got) != 1 || got["contents"] != "read" {
		t.Errorf("permissions = %v, want contents: read only (plan changes nothing)", got)
	}
	job := w.Jobs["plan"]
	if job == nil {
		t.Fatal("no plan job")
	}
	script := runScripts(job)
	for _, want := range []string{`"$RUNNER_TEMP/portfolio" repos plan`, `4) echo "::warning`, `*) exit "$code"`} {
		if !strings.Contains(script, want) {
			t.Errorf("run scripts lack %q", want)
		}
	}
	if tok := stepEnv(job)["GITHUB_TOKEN"]; !strings.Contains(tok, "secrets.") || strings.Contains(tok, "secrets.GITHUB_TOKEN") {
		t.Errorf("GITHUB_TOKEN = %q, want a secret holding a token with Administration read (not the workflow's own token)", tok)
	}
}

// TestDoctorWorkflow checks the credentials check: manual only, the report's permissions less
// pushing, the very secrets report.yml maps (so it judges what the report gets), the report in
// the job summary, exit 1 a failure and exit 3 a warning, and --send-test only when asked.
func TestDoctorWorkflow(t *testing.T) {
	w := parse(t, "doctor.yml")
	if len(w.On) != 1 {
		t.Fatalf("triggers: %d, want workflow_dispatch only", len(w.On))
	}
	d, ok := w.On[0].(*actionlint.WorkflowDispatchEvent)
	if !ok {
		t.Fatalf("trigger %T, want workflow_dispatch", w.On[0])
	}
	if in := d.Inputs["send-test"]; in == nil || in.Type != actionlint.WorkflowDispatchEventInputTypeBoolean {
		t.Error("want a boolean send-test input")
	}
	if got := scopes(w.Permissions); len(got) != 2 || got["contents"] != "read" || got["issues"] != "write" {
		t.Errorf("permissions = %v, want contents: read and issues: write (report.yml's, less pushing)", got)
	}
	job := w.Jobs["doctor"]
	if job == nil {
		t.Fatal("no doctor job")
	}
	script := runScripts(job)
	for _, want := range []string{`go build -o "$RUNNER_TEMP/portfolio" ./cmd/portfolio`, `args=(doctor --summary "$GITHUB_STEP_SUMMARY")`,
		`if [ "$SEND_TEST" = "true" ]; then`, `args+=(--send-test)`, `3) echo "::warning`, `*) echo "::error`, `exit "$code"`} {
		if !strings.Contains(script, want) {
			t.Errorf("run scripts lack %q", want)
		}
	}
	env, report := stepEnv(job), stepEnv(parse(t, "report.yml").Jobs["report"])
	for name, v := range report {
		if !strings.Contains(v, "secrets.") {
			continue // the report's own settings (SKIP_*, COUNT), not credentials
		}
		if env[name] != v {
			t.Errorf("env %s = %q, want report.yml's %q", name, env[name], v)
		}
	}
	if env["SEND_TEST"] != "${{ inputs.send-test }}" {
		t.Errorf("SEND_TEST = %q", env["SEND_TEST"])
	}
}

func TestEveryJobHasATimeout(t *testing.T) {
	for _, f := range workflowFiles(t) {
		w := parse(t, filepath.Base(f))
		if w.Permissions == nil {
			t.Errorf("%s: set permissions explicitly (the default token can write everything)", filepath.Base(f))
		}
		for id, j := range w.Jobs {
			if j.TimeoutMinutes == nil {
				t.Errorf("%s: job %s has no timeout-minutes", filepath.Base(f), id)
			}
		}
	}
}

// TestActionlintCatchesMistakes proves the wiring: a broken workflow gets the errors it should,
// including the ones that need the project (the local action's inputs).
func TestActionlintCatchesMistakes(t *testing.T) {
	linter, err := actionlint.NewLinter(&bytes.Buffer{}, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	project, err := actionlint.NewProject(root)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := linter.LintFile(filepath.Join("testdata", "mistakes.yml"), project)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Message)
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`invalid CRON format "*/15 * * * * *"`,
		`"github.event.issue.title" is potentially untrusted`,
		`input "msg" is not defined in action "Commit data"`,
		`missing input "message" which is required by action "Commit data"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("actionlint did not report %q; it said:\n%s", want, all)
		}
	}
}

// TestShellcheckCatchesMistakes shows TestShellcheck is not vacuous: shellcheck, through
// actionlint, reports a word-splitting variable in a run: script.
func TestShellcheckCatchesMistakes(t *testing.T) {
	shellcheck, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck is not on the PATH (.ci/run installs it; apt-get install shellcheck)")
	}
	linter, err := actionlint.NewLinter(&bytes.Buffer{}, &actionlint.LinterOptions{Shellcheck: shellcheck})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := linter.LintFile(filepath.Join("testdata", "shell-mistakes.yml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		if e.Kind == "shellcheck" && strings.Contains(e.Message, "SC2086") {
			return
		}
	}
	t.Errorf("shellcheck did not report the unquoted $dir (SC2086); actionlint said: %v", errs)
}

// TestCollectingStepsStopInTimeToKeepTheData checks that every step that collects (portfolio run
// without --skip collect, portfolio collect) ends before its job does: its timeout-minutes is
// above its --deadline (collecting stops there; at least a minute is left for alerting,
// building and publishing), the job's is above the step's (setup comes first), and each later
// step that keeps the data (commit, pack, upload) runs even when the collecting step failed or
// timed out.
func TestCollectingStepsStopInTimeToKeepTheData(t *testing.T) {
	deadlineFlag := regexp.MustCompile(`--deadline[ =]"?([0-9a-z.]+)`)
	found := 0
	for _, f := range workflowFiles(t) {
		name := filepath.Base(f)
		w := parse(t, name)
		for id, job := range w.Jobs {
			for k, s := range job.Steps {
				r, ok := s.Exec.(*actionlint.ExecRun)
				if !ok || r.Run == nil || !collects(r.Run.Value, s) {
					continue
				}
				found++
				where := fmt.Sprintf("%s: job %s, step %q", name, id, stepName(s))
				deadline := cli.DefaultDeadline
				if m := deadlineFlag.FindStringSubmatch(r.Run.Value); m != nil {
					d, err := time.ParseDuration(m[1])
					if err != nil {
						t.Fatalf("%s: --deadline %s: %v", where, m[1], err)
					}
					deadline = d
				}
				if s.TimeoutMinutes == nil {
					t.Errorf("%s: collects until --deadline %s but has no timeout-minutes of its own", where, deadline)
					continue
				}
				step := time.Duration(s.TimeoutMinutes.Value * float64(time.Minute))
				if step < deadline+time.Minute {
					t.Errorf("%s: timeout-minutes %v leaves less than a minute after --deadline %s", where, s.TimeoutMinutes.Value, deadline)
				}
				if job.TimeoutMinutes == nil || job.TimeoutMinutes.Value < s.TimeoutMinutes.Value+1 {
					t.Errorf("%s: the job's timeout-minutes must leave a minute for setup beyond the step's %v", where, s.TimeoutMinutes.Value)
				}
				for _, later := range job.Steps[k+1:] {
					if keepsData(later) && (later.If == nil || !strings.Contains(later.If.Value, "!cancelled()") && !strings.Contains(later.If.Value, "always()")) {
						t.Errorf("%s: step %q keeps the data, so it needs if: ${{ !cancelled() }} to run after a failed or timed-out collect", where, stepName(later))
					}
				}
			}
		}
	}
	if found < 2 {
		t.Errorf("found %d collecting steps, want report.yml's and the sharded collect", found)
	}
}

// collects says whether a step's script runs portfolio so that it collects.
func collects(script string, s *actionlint.Step) bool {
	if strings.Contains(script, `portfolio" collect`) {
		return true
	}
	if !strings.Contains(script, `portfolio" run`) {
		return false
	}
	if !strings.Contains(script, "--skip") {
		return true
	}
	if s.Env != nil { // --skip "$SKIP": every value it can take
		for _, v := range s.Env.Vars {
			if v.Name.Value == "SKIP" && strings.Count(v.Value.Value, "collect") >= 2 {
				return false
			}
		}
	}
	return !strings.Contains(script, "--skip collect")
}

func keepsData(s *actionlint.Step) bool {
	if a, ok := s.Exec.(*actionlint.ExecAction); ok && a.Uses != nil {
		return strings.Contains(a.Uses.Value, "commit-data") || strings.Contains(a.Uses.Value, "upload-artifact")
	}
	if r, ok := s.Exec.(*actionlint.ExecRun); ok && r.Run != nil {
		return strings.Contains(r.Run.Value, "shards pack") || strings.Contains(r.Run.Value, "git commit") || strings.Contains(r.Run.Value, "git push")
	}
	return false
}

func stepName(s *actionlint.Step) string {
	if s.Name != nil {
		return s.Name.Value
	}
	if a, ok := s.Exec.(*actionlint.ExecAction); ok && a.Uses != nil {
		return a.Uses.Value
	}
	return "(unnamed)"
}
