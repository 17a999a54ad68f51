package digest_test

import (
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/digest"
)

func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestLatestPeriod(t *testing.T) {
	loc := berlin(t)
	monday := digest.Schedule{Weekday: time.Monday, Hour: 8, Days: 7, Loc: loc}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name       string
		s          digest.Schedule
		now        time.Time
		id         string
		start, end time.Time
		hours      float64
	}{
		{name: "at the scheduled minute the new period is due", s: monday, now: at("2026-11-30 08:00"), id: "2026-11-30",
			start: at("2026-11-23 08:00"), end: at("2026-11-30 08:00"), hours: 168},
		{name: "a minute before, the previous one", s: monday, now: at("2026-11-30 07:59"), id: "2026-11-23",
			start: at("2026-11-16 08:00"), end: at("2026-11-23 08:00"), hours: 168},
		{name: "late in the week: still Monday's", s: monday, now: at("2026-12-06 23:59"), id: "2026-11-30",
			start: at("2026-11-23 08:00"), end: at("2026-11-30 08:00"), hours: 168},
		{name: "the time zone decides the day: Monday 07:30 UTC is 08:30 in Berlin", s: monday,
			now: time.Date(2026, 11, 30, 7, 30, 0, 0, time.UTC), id: "2026-11-30",
			start: at("2026-11-23 08:00"), end: at("2026-11-30 08:00"), hours: 168},
		{name: "DST ends in the period (25 Oct 2026): 169 hours", s: monday, now: at("2026-10-26 09:00"), id: "2026-10-26",
			start: at("2026-10-19 08:00"), end: at("2026-10-26 08:00"), hours: 169},
		{name: "DST starts in the period (29 Mar 2026): 167 hours", s: monday, now: at("2026-03-30 08:00"), id: "2026-03-30",
			start: at("2026-03-23 08:00"), end: at("2026-03-30 08:00"), hours: 167},
		{name: "Sunday 02:30 does not exist on 29 Mar 2026: it is 03:30 that day",
			s: digest.Schedule{Weekday: time.Sunday, Hour: 2, Minute: 30, Days: 7, Loc: loc}, now: at("2026-03-29 04:00"), id: "2026-03-29",
			start: at("2026-03-22 02:30"), end: time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), hours: 168},
		{name: "a daily-length period on Fridays", s: digest.Schedule{Weekday: time.Friday, Hour: 17, Days: 1, Loc: time.UTC},
			now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), id: "2026-11-27",
			start: time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC), end: time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC), hours: 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.s.Latest(tt.now)
			if p.ID != tt.id || !p.Start.Equal(tt.start) || !p.End.Equal(tt.end) {
				t.Fatalf("got %s [%s, %s), want %s [%s, %s)", p.ID, p.Start, p.End, tt.id, tt.start, tt.end)
			}
			if h := p.End.Sub(p.Start).Hours(); h != tt.hours {
				t.Errorf("period of %v hours, want %v", h, tt.hours)
			}
			if !p.PrevStart.Before(p.Start) || p.End.After(tt.now) {
				t.Errorf("previous start %s, end %s after now %s", p.PrevStart, p.End, tt.now)
			}
			back, err := tt.s.ParseID(p.ID)
			if err != nil || back != p {
				t.Errorf("ParseID(%s) = %+v, %v; want %+v", p.ID, back, err, p)
			}
		})
	}
}

func TestRecentPeriodsAreContiguous(t *testing.T) {
	s := digest.Schedule{Weekday: time.Monday, Hour: 8, Days: 7, Loc: berlin(t)}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	ps := s.Recent(now, now.AddDate(0, 0, -90), 12)
	if len(ps) != 12 {
		t.Fatalf("%d periods, want 12", len(ps))
	}
	for i := 1; i < len(ps); i++ {
		if !ps[i].End.Equal(ps[i-1].Start) {
			t.Errorf("period %s ends at %s, the next starts at %s", ps[i].ID, ps[i].End, ps[i-1].Start)
		}
	}
	if got := s.Recent(now, now.AddDate(0, 0, -15), 12); len(got) != 3 {
		t.Errorf("15 days of data: %d periods, want the 3 that end after the first data", len(got))
	}
}

func TestParseIDRefusesOtherDays(t *testing.T) {
	s := digest.Schedule{Weekday: time.Monday, Hour: 8, Days: 7, Loc: time.UTC}
	for _, id := range []string{"2026-12-01", "last week", "2026-13-01"} {
		if _, err := s.ParseID(id); err == nil {
			t.Errorf("ParseID(%q): no error", id)
		}
	}
}

func TestScheduleOfConfig(t *testing.T) {
	cfg := &config.Config{Site: config.Site{Timezone: "America/New_York"}, Digest: config.Digest{Weekday: "fri", Time: "16:30", PeriodDays: 14}}
	s := digest.ScheduleOf(cfg)
	if s.Weekday != time.Friday || s.Hour != 16 || s.Minute != 30 || s.Days != 14 || s.Loc.String() != "America/New_York" {
		t.Errorf("got %+v", s)
	}
	if def := digest.ScheduleOf(&config.Config{}); def.String() != "Mondays at 08:00 UTC, covering 7 days" {
		t.Errorf("default schedule %q", def)
	}
}
