package alert_test

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
)

// TestStateFileChangesOnlyWhenSomethingHappens follows one product through a quiet spell, an
// outage and the recovery. data/alerts.json is written when alerts appear, fire or resolve
// and channels are told, and never in the runs at the end of each phase, where every alert
// holds its status although values (uptime, burn rates, the count of failed probes) move.
func TestStateFileChangesOnlyWhenSomethingHappens(t *testing.T) {
	w := newWorld(t)
	path := filepath.Join(w.st.Dir(), alert.StateFile)
	phases := []struct {
		name string
		up   bool
		runs int
	}{
		{"quiet", true, 4},
		{"outage", false, 10},
		{"recovered", true, 10},
	}
	var before []byte
	i := 0
	for _, ph := range phases {
		for r := range ph.runs {
			at := t0.Add(time.Duration(i) * 15 * time.Minute)
			i++
			w.snap(t, at, ph.up)
			sum := w.run(t, at)
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%s run %d: %v", ph.name, r+1, err)
			}
			changed := string(after) != string(before)
			if changed != sum.Saved {
				t.Errorf("%s run %d: file changed %v, Saved %v", ph.name, r+1, changed, sum.Saved)
			}
			first := i == 1
			if first && !changed {
				t.Error("the first evaluation wrote no alerts.json")
			}
			st, _ := alert.Load(w.st)
			recovering := false
			for _, a := range st.Alerts {
				recovering = recovering || a.Status == alert.Firing && a.Recoveries > 0
			}
			if changed && !first && len(sum.Transitions) == 0 && len(sum.Outcomes) == 0 && sum.Pending == 0 && !recovering {
				t.Errorf("%s run %d: alerts.json changed with no transition, delivery, pending or recovering alert:\n%s", ph.name, r+1, after)
			}
			if r >= ph.runs-3 && changed {
				t.Errorf("%s run %d of %d: alerts.json changed in a steady run:\n%s", ph.name, r+1, ph.runs, after)
			}
			before = after
		}
	}
}

// TestEvaluatingTwiceAtTheSameTime: a second evaluation at the same time (a re-run with the
// same --now) moves no alert towards firing and writes nothing.
func TestEvaluatingTwiceAtTheSameTime(t *testing.T) {
	w := newWorld(t)
	path := filepath.Join(w.st.Dir(), alert.StateFile)
	w.snap(t, t0, true)
	w.run(t, t0)
	w.snap(t, t0.Add(15*time.Minute), false)
	first := w.run(t, t0.Add(15*time.Minute))
	b1, _ := os.ReadFile(path)
	second := w.run(t, t0.Add(15*time.Minute))
	b2, _ := os.ReadFile(path)
	if first.Pending == 0 {
		t.Fatal("no pending alert after the first failure: the test proves nothing")
	}
	if second.Saved || string(b1) != string(b2) || second.Pending != first.Pending || len(second.Firing) != len(first.Firing) {
		t.Errorf("the second evaluation changed the state: saved %v, pending %d → %d, firing %d → %d",
			second.Saved, first.Pending, second.Pending, len(first.Firing), len(second.Firing))
	}
	st, _ := alert.Load(w.st)
	for _, a := range st.Alerts {
		if a.Status == alert.Pending && a.Breaches != 1 {
			t.Errorf("%s: %d breaches after two evaluations at the same time, want 1", a.Rule, a.Breaches)
		}
	}
}

// TestDamagedDataHoldsTheProductsAlerts: when a product's log is damaged, its firing alerts
// neither resolve (no data is not a recovery) nor notify again; the summary names the file.
func TestDamagedDataHoldsTheProductsAlerts(t *testing.T) {
	w := newWorld(t)
	for i := range 3 {
		at := t0.Add(time.Duration(i) * 15 * time.Minute)
		w.snap(t, at, false)
		w.run(t, at)
	}
	before, _ := alert.Load(w.st)
	if len(before.Firing()) == 0 {
		t.Fatal("nothing fires: the test proves nothing")
	}
	logs, _ := filepath.Glob(filepath.Join(w.st.Dir(), "snapshots", "*", "shop.*.jsonl"))
	b, _ := os.ReadFile(logs[0])
	os.WriteFile(logs[0], append(b, "\x00\n"...), 0o644)
	counts := w.counts(t)

	sum := w.run(t, t0.Add(time.Hour))
	if len(sum.Damaged) != 1 || sum.Damaged[0].Product != "shop" || !strings.Contains(sum.Damaged[0].Text(), "data damaged: "+logs[0]+":5: ") {
		t.Fatalf("Damaged = %+v, want shop's log at line 5", sum.Damaged)
	}
	after, _ := alert.Load(w.st)
	if len(after.Firing()) != len(before.Firing()) || len(sum.Transitions) != 0 {
		t.Errorf("firing %d → %d, transitions %v: the alerts of a damaged product must hold", len(before.Firing()), len(after.Firing()), sum.Transitions)
	}
	if got := w.counts(t); !maps.Equal(got, counts) {
		t.Errorf("channels heard more: %v → %v", counts, got)
	}
}
