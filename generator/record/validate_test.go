package record

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)

func TestValidate(t *testing.T) {
	created := now.Add(-48 * time.Hour)
	closedBefore := created.Add(-time.Hour)
	sha := "503632fb0e0b4b0f8d2d1b3c4d5e6f7a8b9c0d1e"
	tests := []struct {
		name string
		rec  interface{ Validate(time.Time) error }
		want string // "" for valid; else the error
	}{
		{"incident", Incident{Number: 12, Title: "API down", CreatedAt: created}, ""},
		{"incident #0", Incident{Number: 0, Title: "x", CreatedAt: created}, "incident #0: number: want a positive number, got 0"},
		{"incident without created_at", Incident{Number: 7, Title: "x"}, "incident #7: created_at: missing (zero time)"},
		{"incident without title", Incident{Number: 7, Title: " ", CreatedAt: created}, "incident #7: title: missing"},
		{"incident closed before it opened", Incident{Number: 7, Title: "x", CreatedAt: created, ClosedAt: &closedBefore},
			"incident #7: closed_at: 2026-11-26T23:00:00Z is before created_at 2026-11-27T00:00:00Z"},
		{"incident from the far future", Incident{Number: 7, Title: "x", CreatedAt: now.AddDate(1, 0, 0)},
			"incident #7: created_at: want a time before 2026-11-30T00:00:00Z (the run's clock plus 24h0m0s), got 2027-11-29T00:00:00Z"},
		{"incident from 1970", Incident{Number: 7, Title: "x", CreatedAt: time.Unix(0, 0)},
			"incident #7: created_at: want a time after 2000-01-01T00:00:00Z, got 1970-01-01T00:00:00Z"},
		{"deployment", Deployment{ID: "run:42", SHA: sha, Time: created, Outcome: OutcomeSuccess,
			Changes: []Change{{SHA: sha, AuthorDate: created.Add(-time.Hour)}}}, ""},
		{"deployment without id", Deployment{SHA: sha, Time: created, Outcome: OutcomeSuccess},
			`deployment "": id: want "run:<id>" or "deployment:<id>" with a positive id, got ""`},
		{"deployment run:0", Deployment{ID: "run:0", SHA: sha, Time: created, Outcome: OutcomeSuccess},
			`deployment "run:0": id: want "run:<id>" or "deployment:<id>" with a positive id, got "run:0"`},
		{"deployment without sha", Deployment{ID: "deployment:9", Time: created, Outcome: OutcomeFailure},
			`deployment "deployment:9": sha: want a lowercase hex commit SHA, got ""`},
		{"deployment without time", Deployment{ID: "run:1", SHA: sha, Outcome: OutcomeFailure},
			`deployment "run:1": time: missing (zero time)`},
		{"deployment with an unknown outcome", Deployment{ID: "run:1", SHA: sha, Time: created, Outcome: "cancelled"},
			`deployment "run:1": outcome: want "success" or "failure", got "cancelled"`},
		{"deployment with a change without author date", Deployment{ID: "run:1", SHA: sha, Time: created, Outcome: OutcomeSuccess,
			Changes: []Change{{SHA: sha}, {SHA: sha}}}, `deployment "run:1": changes[0].authored: missing (zero time)`},
		{"analytics day", AnalyticsDay{Day: "2026-11-28", DAU: 3, Pageviews: 10, Events: map[string]int64{"signup": 1}}, ""},
		{"analytics day without day", AnalyticsDay{DAU: 3}, `analytics day "": day: want YYYY-MM-DD, got ""`},
		{"analytics day negative", AnalyticsDay{Day: "2026-11-28", DAU: -1}, `analytics day "2026-11-28": dau: want zero or more, got -1`},
		{"snapshot", Snapshot{Time: now, Probe: &Probe{Code: 200, Ms: 5}, Sources: map[string]SourceStatus{"probe": {State: StateOK}}}, ""},
		{"snapshot without time", Snapshot{}, "snapshot at 0001-01-01T00:00:00Z: t: missing (zero time)"},
		{"snapshot with an empty probe", Snapshot{Time: now, Probe: &Probe{}}, "snapshot at 2026-11-29T00:00:00Z: probe: neither a status code nor an error"},
		{"snapshot with a bad status code", Snapshot{Time: now, Probe: &Probe{Code: 42}}, "snapshot at 2026-11-29T00:00:00Z: probe.code: want an HTTP status 100 to 599, got 42"},
		{"snapshot with negative requests", Snapshot{Time: now, HTTP: &HTTPStats{Requests: -5}}, "snapshot at 2026-11-29T00:00:00Z: http.req: want zero or more, got -5"},
		{"snapshot with a stateless source", Snapshot{Time: now, Sources: map[string]SourceStatus{"github": {}}}, "snapshot at 2026-11-29T00:00:00Z: src.github.s: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rec.Validate(now)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("valid record refused: %v", err)
				}
				return
			}
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("error = %v, want an *InvalidError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tt.want)
			}
			if !strings.Contains(tt.want, ": "+ie.Field+": ") {
				t.Errorf("Field = %q, not the one named", ie.Field)
			}
		})
	}
}

// TestNext is the status of a source in a run where nothing changed, as the collect loop and
// the snapshot logs compute it.
func TestNext(t *testing.T) {
	prev := now.Add(-15 * time.Minute)
	earlier := now.Add(-time.Hour)
	tests := []struct {
		name      string
		from      SourceStatus
		state     string
		msg       string
		want      SourceStatus
		wantEqual bool
	}{
		{"ok stays ok", SourceStatus{State: StateOK}, StateOK, "", SourceStatus{State: StateOK}, true},
		{"first failure after ok", SourceStatus{State: StateOK}, StateError, "503",
			SourceStatus{State: StateError, Msg: "503", LastOK: &prev, Fails: 1}, false},
		{"failure again", SourceStatus{State: StateError, Msg: "503", LastOK: &earlier, Fails: 3}, StateError, "503",
			SourceStatus{State: StateError, Msg: "503", LastOK: &earlier, Fails: 4}, false},
		{"rate limited after an error counts on", SourceStatus{State: StateError, Msg: "503", LastOK: &earlier, Fails: 3}, StateRateLimited, "429",
			SourceStatus{State: StateRateLimited, Msg: "429", LastOK: &earlier, Fails: 4}, false},
		{"skipped stays skipped", SourceStatus{State: StateSkipped, Msg: "no token"}, StateSkipped, "no token",
			SourceStatus{State: StateSkipped, Msg: "no token"}, true},
		{"a new source failing", SourceStatus{}, StateError, "x", SourceStatus{State: StateError, Msg: "x", Fails: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.from.Next(prev, tt.state, tt.msg)
			if !got.Equal(tt.want) {
				t.Errorf("Next = %+v, want %+v", got, tt.want)
			}
			if got.Equal(tt.from) != tt.wantEqual {
				t.Errorf("Next equal to the status before: %v, want %v", !tt.wantEqual, tt.wantEqual)
			}
		})
	}
}
