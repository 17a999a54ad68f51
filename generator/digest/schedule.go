// Package digest is the weekly digest: a summary of the portfolio over a period (by default
// the 7 days before Monday 08:00 in site.timezone, against the 7 before), sent once per
// period to each channel that wants it (email, Slack) and published on the site as
// digest/<period>/ and api/digest/<period>.json.
//
// The content (Compute) is pure: records, the alert state and the period in, a Digest out. The
// renderings (Text, HTML, SlackMessage) are pure functions of a Digest. Deliver is the step of
// `portfolio run` and `portfolio digest`: it finds the latest period that is due, sends it to
// every channel that has not had it, and records each delivery in data/digests.json, so a
// digest goes out at most once per period and channel, and a missed run sends it late rather
// than never. docs/digest.md describes it for users.
package digest

import (
	"fmt"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
)

// Schedule says when a digest is due and what it covers.
type Schedule struct {
	Weekday      time.Weekday
	Hour, Minute int
	Days         int // the period's length in days
	Loc          *time.Location
}

// ScheduleOf reads the config's digest block (defaults applied: Monday 08:00, 7 days) in the
// site's time zone.
func ScheduleOf(cfg *config.Config) Schedule {
	d := cfg.Digest.WithDefaults()
	s := Schedule{Weekday: time.Monday, Hour: 8, Days: d.PeriodDays, Loc: cfg.Site.Location()}
	if wd, ok := config.ParseWeekday(d.Weekday); ok {
		s.Weekday = wd
	}
	if h, m, ok := config.ParseClock(d.Time); ok {
		s.Hour, s.Minute = h, m
	}
	return s
}

// Period is one digest's stretch of time: [Start, End), compared with [PrevStart, Start). Its
// ID is End's date in the schedule's time zone ("2026-11-30"): the day it is sent.
type Period struct {
	ID        string    `json:"id"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	PrevStart time.Time `json:"previous_start"`
}

// Ending returns the period that ends at end (a scheduled time): it starts at the scheduled
// time of day Days days before, so a period across a change of daylight saving time is an hour
// shorter or longer than 7×24 h.
func (s Schedule) Ending(end time.Time) Period {
	l := end.In(s.Loc)
	start := s.at(l.Year(), l.Month(), l.Day()-s.Days)
	prev := s.at(l.Year(), l.Month(), l.Day()-2*s.Days)
	return Period{ID: l.Format(time.DateOnly), Start: start.UTC(), End: end.UTC(), PrevStart: prev.UTC()}
}

// at is the scheduled time on the date y-m-d. A time that does not exist that day (skipped by
// a change to daylight saving time) is the moment after the gap, as time.Date normalises it.
func (s Schedule) at(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, s.Hour, s.Minute, 0, 0, s.Loc)
}

// Latest is the period of the latest scheduled time at or before now: the digest that is due.
func (s Schedule) Latest(now time.Time) Period {
	l := now.In(s.Loc)
	back := (int(l.Weekday()) - int(s.Weekday) + 7) % 7
	t := s.at(l.Year(), l.Month(), l.Day()-back)
	if t.After(now) {
		t = s.at(l.Year(), l.Month(), l.Day()-back-7)
	}
	return s.Ending(t)
}

// Recent returns up to n periods ending at or before now, newest first, whose end is after
// since (the first data: a period before it has nothing to say).
func (s Schedule) Recent(now, since time.Time, n int) []Period {
	var out []Period
	p := s.Latest(now)
	for len(out) < n && p.End.After(since) {
		out = append(out, p)
		l := p.End.In(s.Loc)
		p = s.Ending(s.at(l.Year(), l.Month(), l.Day()-7))
	}
	return out
}

// ParseID reads a period id (a date in the schedule's time zone) back into its period.
func (s Schedule) ParseID(id string) (Period, error) {
	d, err := time.ParseInLocation(time.DateOnly, id, s.Loc)
	if err != nil {
		return Period{}, fmt.Errorf("period %q: want a date like 2026-11-30", id)
	}
	if d.Weekday() != s.Weekday {
		return Period{}, fmt.Errorf("period %q: a %s, but digests are sent on %ss", id, d.Weekday(), s.Weekday)
	}
	return s.Ending(s.at(d.Year(), d.Month(), d.Day())), nil
}

// String is the schedule in words: "Mondays at 08:00 Europe/Berlin, covering 7 days".
func (s Schedule) String() string {
	return fmt.Sprintf("%ss at %02d:%02d %s, covering %d days", s.Weekday, s.Hour, s.Minute, s.Loc, s.Days)
}

// Label is the period in words, in the schedule's time zone: "23 Nov – 30 Nov 2026".
func (p Period) Label(loc *time.Location) string {
	a, b := p.Start.In(loc), p.End.In(loc)
	if a.Year() == b.Year() {
		return a.Format("2 Jan") + " – " + b.Format("2 Jan 2006")
	}
	return a.Format("2 Jan 2006") + " – " + b.Format("2 Jan 2006")
}

// Path is the digest page's path on the site, "digest/2026-11-30/".
func (p Period) Path() string { return "digest/" + p.ID + "/" }

// APIPath is the digest document's path on the site, "api/digest/2026-11-30.json".
func (p Period) APIPath() string { return "api/digest/" + p.ID + ".json" }
