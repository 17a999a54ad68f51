package run_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// TestRunStoresNothingFalse: GitHub answers the incident listing with an issue that has no
// number and no creation time. It is not stored (no incident "#0 open for 106,752 days"); the
// GitHub source of that product is in error with a message naming the endpoint and the field;
// the issue beside it is stored.
func TestRunStoresNothingFalse(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t)
	w.gh.Update("acme/shop", func(r *fake.GitHubRepo) {
		r.Issues = append(r.Issues, fake.GitHubIssue{Number: 0, Title: "", State: "open", Labels: []string{"incident"}})
	})
	res := w.run(t, runTime(t, 0))
	if res.err != nil || res.rep.Outcome != run.SourcesFailed {
		t.Fatalf("want the run to finish with a source failed (exit 3):\n%s", res)
	}
	incs, err := store.Open(w.data).Incidents("shop")
	if err != nil || len(incs) != 1 || incs[0].Number != 7 {
		t.Errorf("shop incidents = %+v, %v; want #7 only", incs, err)
	}
	snaps := w.snapshots(t, "shop")
	msg := snaps[len(snaps)-1].Sources["github"].Msg
	for _, want := range []string{"GET /repos/acme/shop/issues", "incident #0: number: want a positive number, got 0"} {
		if !strings.Contains(msg, want) {
			t.Errorf("github status %q does not say %q", msg, want)
		}
	}
	for _, page := range []string{"index.html", "products/shop/index.html"} {
		b, _ := os.ReadFile(filepath.Join(w.out, page))
		if !bytes.Contains(b, []byte("#7 checkout down")) || bytes.Contains(b, []byte("#0 ")) {
			t.Errorf("%s does not list #7 alone", page)
		}
	}
}

// TestRunWithOneDamagedLog: one product's log has a garbage line. The other product is
// collected, alerted and built; the damaged one's page and the run summary say "data damaged:
// file:line"; the run ends with exit 3, not 1. After `repair` (store.Repair), the next run is OK.
func TestRunWithOneDamagedLog(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t)
	if res := w.run(t, runTime(t, 0)); res.err != nil || res.rep.Outcome != run.OK {
		t.Fatalf("first run:\n%s", res)
	}
	logs, _ := filepath.Glob(filepath.Join(w.data, "snapshots", "*", "api.*.jsonl"))
	if len(logs) != 1 {
		t.Fatalf("api logs: %v", logs)
	}
	b, _ := os.ReadFile(logs[0])
	os.WriteFile(logs[0], append(b, "{garbage\n"...), 0o644)
	where := logs[0] + ":3"

	res := w.run(t, runTime(t, 1))
	if res.err != nil || res.rep.Outcome != run.SourcesFailed {
		t.Fatalf("want exit 3 (SourcesFailed):\n%s", res)
	}
	state, detail := summaryRow(t, res, "api")
	if state != run.StateDamaged || !strings.HasPrefix(detail, "data damaged: "+where+": ") {
		t.Errorf("summary row api: %s %q, want damaged, data damaged: %s: …", state, detail, where)
	}
	if n := strings.Count(res.String(), "data damaged: "+where); n != 1 {
		t.Errorf("the damage is reported %d times, want once:\n%s", n, res)
	}
	if snaps := w.snapshots(t, "shop"); len(snaps) != 2 {
		t.Errorf("shop has %d snapshots, want 2: the other product is collected", len(snaps))
	}
	for _, step := range []string{"alert", "build", "publish"} {
		if state, _ := summaryRow(t, res, step); state == run.StateFailed {
			t.Errorf("%s failed:\n%s", step, res)
		}
	}
	page, _ := os.ReadFile(filepath.Join(w.out, "products", "api", "index.html"))
	if !bytes.Contains(page, []byte("data damaged: "+where)) {
		t.Error("api's page does not say which file is damaged")
	}

	st := store.Open(w.data)
	problems, err := st.Check()
	if err != nil || len(problems) != 1 || problems[0].Where() != where {
		t.Fatalf("Check = %+v, %v", problems, err)
	}
	if _, err := st.Repair(problems[0]); err != nil {
		t.Fatal(err)
	}
	if res := w.run(t, runTime(t, 2)); res.err != nil || res.rep.Outcome != run.OK {
		t.Fatalf("after the repair:\n%s", res)
	}
}

// TestRunTwiceAtTheSameNow: a second run at the same now (a retried CI job) changes nothing
// in data/ and succeeds.
func TestRunTwiceAtTheSameNow(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t)
	at := runTime(t, 0)
	if res := w.run(t, at); res.err != nil || res.rep.Outcome != run.OK {
		t.Fatalf("first run:\n%s", res)
	}
	before := readTree(t, w.data)
	res := w.run(t, at)
	if res.err != nil || res.rep.Outcome != run.OK {
		t.Fatalf("second run:\n%s", res)
	}
	after := readTree(t, w.data)
	for name, b := range after {
		if churnOwnedElsewhere(name) {
			continue
		}
		if !bytes.Equal(before[name], b) {
			t.Errorf("%s changed in the second run at the same now:\n%s", name, lineDiff(before[name], b))
		}
	}
	if _, detail := summaryRow(t, res, "collect"); !strings.Contains(detail, "2 already collected at this time") {
		t.Errorf("collect row %q does not say the products were collected already", detail)
	}
	_ = time.Second
}
