package posthog_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/source/posthog"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

func events() []posthog.Event {
	closed := now.Add(-time.Hour)
	evs := []posthog.Event{
		posthog.DeploymentEvent("shop", record.Deployment{ID: "run:1", SHA: "abcdef1234", Time: now.Add(-2 * time.Hour), Outcome: "success"}),
		posthog.DeploymentEvent("shop", record.Deployment{ID: "run:2", SHA: "bbbbbbb999", Time: now.Add(-90 * time.Minute), Outcome: "failure"}),
		posthog.AlertEvent("shop", "uptime", true, now.Add(-30*time.Minute), map[string]any{"severity": "critical"}),
	}
	return append(evs, posthog.IncidentEvents("shop", record.Incident{Number: 7, Title: "<b>down</b>", CreatedAt: now.Add(-3 * time.Hour), ClosedAt: &closed})...)
}

func TestSendEachEventOnce(t *testing.T) {
	f := fake.NewPostHog(t)
	st := store.Open(t.TempDir())
	s := posthog.NewSender(options(f), st, f.Server.Client(), nil)
	for run := range 2 {
		if err := s.Send(context.Background(), events()); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	got := f.Events()
	var names []string
	for _, e := range got {
		names = append(names, e.Event)
	}
	if len(got) != 5 {
		t.Fatalf("events = %v, want 5, each once", names)
	}
	for _, e := range got {
		if e.DistinctID != "portfolio" || e.Properties["product"] != "shop" || len(e.UUID) != 36 {
			t.Errorf("event = %+v", e)
		}
	}
	anns := f.Annotations()
	if len(anns) != 1 || anns[0].Content != "Deployed shop abcdef1" || anns[0].Scope != "project" || !anns[0].DateMarker.Equal(now.Add(-2*time.Hour)) {
		t.Errorf("annotations = %+v, want one project marker for the successful deployment", anns)
	}
	data, err := os.ReadFile(filepath.Join(st.Dir(), "state/posthog-sent.json"))
	if err != nil || !strings.Contains(string(data), `"key":"annotation:deployment:shop:run:1"`) {
		t.Errorf("sent log = %s (%v)", data, err)
	}
	if strings.Contains(string(data), f.ProjectKey) || strings.Contains(string(data), f.PersonalKey) {
		t.Error("a key leaked into data/")
	}
}

func TestSendRetriesAFailedBatch(t *testing.T) {
	f := fake.NewPostHog(t)
	f.Inject(fake.InjectedFault{Match: "POST /batch/", Status: 503, Times: 2})
	s := posthog.NewSender(options(f), store.Open(t.TempDir()), f.Server.Client(), nil)
	if err := s.Send(context.Background(), events()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Events()); n != 5 {
		t.Errorf("events = %d, want 5 after posthog-go's retries", n)
	}
}

func TestSendRemembersOnlyWhatWasDelivered(t *testing.T) {
	f := fake.NewPostHog(t)
	f.Inject(fake.InjectedFault{Match: "POST /batch/", Status: 500, Times: 1000})
	f.Inject(fake.InjectedFault{Match: "POST /api/projects/4242/annotations/", Status: 500, Times: 1000})
	st := store.Open(t.TempDir())
	s := posthog.NewSender(options(f), st, f.Server.Client(), nil)
	s.Wait = 300 * time.Millisecond
	err := s.Send(context.Background(), events())
	if err == nil || !strings.Contains(err.Error(), "5 of 5 events not delivered") || !strings.Contains(err.Error(), "annotation deployment:shop:run:1") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), f.ProjectKey) {
		t.Error("the key leaked into the error")
	}
	// Next run, PostHog is back: everything goes, once.
	f2 := fake.NewPostHog(t)
	s2 := posthog.NewSender(options(f2), st, f2.Server.Client(), nil)
	if err := s2.Send(context.Background(), events()); err != nil {
		t.Fatal(err)
	}
	if len(f2.Events()) != 5 || len(f2.Annotations()) != 1 {
		t.Errorf("events %d, annotations %d; want 5 and 1", len(f2.Events()), len(f2.Annotations()))
	}
}

func TestSendDoesNotDuplicateAnExistingAnnotation(t *testing.T) {
	f := fake.NewPostHog(t)
	ev := events()[0]
	// A previous run created the marker but died before writing its log.
	first := posthog.NewSender(options(f), store.Open(t.TempDir()), f.Server.Client(), nil)
	if err := first.Send(context.Background(), []posthog.Event{ev}); err != nil {
		t.Fatal(err)
	}
	again := posthog.NewSender(options(f), store.Open(t.TempDir()), f.Server.Client(), nil)
	if err := again.Send(context.Background(), []posthog.Event{ev}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Annotations()); n != 1 {
		t.Errorf("annotations = %d, want 1", n)
	}
}

// TestSendReadsEveryPageOfAnnotations: PostHog pages its lists (limit/offset, next links); an
// annotation made before is found on a later page, so none is made twice.
func TestSendReadsEveryPageOfAnnotations(t *testing.T) {
	f := fake.NewPostHog(t)
	f.AnnotationsPerPage = 20
	ev := events()[0]
	for i := range 45 {
		f.AddAnnotation(ev.Annotation, now.Add(-time.Duration(100+i)*time.Hour)) // the same text, other deployments
	}
	f.AddAnnotation(ev.Annotation, ev.Time)
	s := posthog.NewSender(options(f), store.Open(t.TempDir()), f.Server.Client(), nil)
	if err := s.Send(context.Background(), []posthog.Event{ev}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Annotations()); n != 46 {
		t.Errorf("annotations = %d, want 46: the one on page 3 was not found", n)
	}
}

// TestSendStopsAPagingLoop: a next link already followed, or one to another host (where the
// personal key would go), ends the listing with an error.
func TestSendStopsAPagingLoop(t *testing.T) {
	for _, tc := range []struct{ name, next, want string }{
		{"a next link already followed", "", "was followed already"},
		{"a next link to another host", "https://elsewhere.example.com/api/projects/1/annotations/?offset=20", "leaves"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.NewPostHog(t)
			next := tc.next
			if next == "" {
				next = f.URL + "/api/projects/" + f.ProjectID + "/annotations/?search=x"
			}
			f.Inject(fake.InjectedFault{Match: "GET /api/projects/", Body: `{"count":40,"next":"` + next + `","previous":null,"results":[]}`})
			s := posthog.NewSender(options(f), store.Open(t.TempDir()), f.Server.Client(), nil)
			err := s.Send(context.Background(), []posthog.Event{events()[0]})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if n := len(f.Annotations()); n != 0 {
				t.Errorf("%d annotations made from a listing that did not end", n)
			}
		})
	}
}

func TestSendDisabledOrOld(t *testing.T) {
	f := fake.NewPostHog(t)
	opt := options(f)
	opt.ProjectKey = ""
	if err := posthog.NewSender(opt, store.Open(t.TempDir()), f.Server.Client(), nil).Send(context.Background(), events()); err != nil {
		t.Fatal(err)
	}
	old := posthog.DeploymentEvent("shop", record.Deployment{ID: "run:0", SHA: "a", Time: now.AddDate(0, -3, 0), Outcome: "success"})
	if err := posthog.NewSender(options(f), store.Open(t.TempDir()), f.Server.Client(), nil).Send(context.Background(), []posthog.Event{old}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Calls()); n != 0 {
		t.Errorf("calls = %v, want none without POSTHOG_API_KEY or for old events", f.Calls())
	}
}

func TestEventsFromStore(t *testing.T) {
	st := store.Open(t.TempDir())
	st.SaveDeployments("shop", []record.Deployment{
		{ID: "run:1", SHA: "a", Time: now.Add(-48 * time.Hour), Outcome: "success"},
		{ID: "run:2", SHA: "b", Time: now.Add(-time.Hour), Outcome: "success"},
	})
	closed := now.Add(-time.Hour)
	st.SaveIncidents("shop", []record.Incident{{Number: 3, CreatedAt: now.Add(-48 * time.Hour), ClosedAt: &closed}})
	evs, err := posthog.EventsFromStore(st, []config.Product{{ID: "shop"}}, now.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range evs {
		keys = append(keys, e.Key)
	}
	if strings.Join(keys, " ") != "deployment:shop:run:2 incident-resolved:shop:3" {
		t.Errorf("keys = %v", keys)
	}
}
