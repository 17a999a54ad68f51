package run_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/run"
)

// TestRunWithoutCollectSendsTheStoredEvents: a sharded run collects in its shards (portfolio
// collect stores, and sends nothing) and alerts, builds and publishes with run --skip collect.
// The deployments the shards stored still reach PostHog, once each; a dry run sends nothing.
func TestRunWithoutCollectSendsTheStoredEvents(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t)
	now := runTime(t, 0)
	w.now.Store(&now)
	var logs bytes.Buffer
	if _, err := run.Collect(context.Background(), w.options(t, now, &logs)); err != nil {
		t.Fatalf("collect: %v\n%s", err, logs.String())
	}
	if n := len(w.ph.Events()); n != 0 {
		t.Fatalf("collect sent %d events, want none: it only stores", n)
	}
	if res := w.run(t, now, skipSteps(run.StepCollect), dryRun); len(w.ph.Events()) != 0 {
		t.Fatalf("a dry run sent events:\n%s", res)
	}
	res := w.run(t, now, skipSteps(run.StepCollect))
	sent := len(w.ph.Events())
	if sent == 0 {
		t.Fatalf("run --skip collect sent no event for the stored deployments:\n%s", res)
	}
	if state, _ := summaryRow(t, res, "posthog events"); state != run.StateOK {
		t.Errorf("posthog events row: %s\n%s", state, res)
	}
	w.run(t, now.Add(15*time.Minute), skipSteps(run.StepCollect))
	if n := len(w.ph.Events()); n != sent {
		t.Errorf("the next run sent the events again: %d, then %d", sent, n)
	}
}
