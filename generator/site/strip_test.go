package site

import (
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/health"
	"github.com/portfolio-report/portfolio/generator/record"
)

func TestDayClass(t *testing.T) {
	tests := []struct {
		good, total, incidents int
		objective              float64
		want                   string
	}{
		{96, 96, 0, 99.5, dayOK},
		{0, 0, 0, 99.5, dayNone},
		{0, 0, 1, 99.5, dayWarn},      // no checks, but an incident
		{96, 96, 1, 99.5, dayWarn},    // all up, but an incident
		{95, 96, 0, 99.5, dayWarn},    // 98.96 %: below the objective
		{92, 96, 0, 99.5, dayWarn},    // 95.8 %: 8× the allowed failures
		{91, 96, 0, 99.5, dayBad},     // 94.8 %: over 10×
		{95, 96, 0, 99.9, dayBad},     // 98.96 % at 99.9: 10.4×
		{1000, 1000, 0, 100, dayOK},   // perfect at a 100 % objective
		{999, 1000, 0, 100, dayBad},   // any failure spends a zero budget
		{996, 1000, 0, 99.5, dayOK},   // 99.6 %
		{995, 1000, 0, 99.5, dayOK},   // on the objective
		{994, 1000, 0, 99.5, dayWarn}, // just below
	}
	for _, tt := range tests {
		if got := dayClass(health.Ratio{Good: tt.good, Total: tt.total}, tt.incidents, tt.objective); got != tt.want {
			t.Errorf("dayClass(%d of %d, %d incidents, %v) = %s, want %s", tt.good, tt.total, tt.incidents, tt.objective, got, tt.want)
		}
	}
}

// TestUptimeStrip: 90 days in the site's time zone, today (partial) last; each day's title
// gives the date, uptime, incidents and deployments; the compact strip covers the same 90 days
// in runs.
func TestUptimeStrip(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2026, 6, 30, 9, 0, 0, 0, time.UTC) // 11:00 in Berlin
	b := &build{now: now, loc: loc, cfg: &config.Config{}}
	d := &productData{at: now}
	for t0 := now.Add(-100 * 24 * time.Hour); !t0.After(now); t0 = t0.Add(15 * time.Minute) {
		s := record.Snapshot{Time: t0, Probe: &record.Probe{Code: 200, Ms: 100}}
		day := t0.In(loc)
		if day.Month() == time.June && day.Day() == 10 && day.Hour() < 2 {
			s.Probe = &record.Probe{Err: "timeout"} // 8 failed checks on 10 June
		}
		if day.Month() == time.June && day.Day() == 20 {
			continue // no data on 20 June
		}
		d.snaps = append(d.snaps, s)
	}
	closed := time.Date(2026, 6, 16, 1, 0, 0, 0, time.UTC)
	d.incs = []record.Incident{
		{Number: 7, CreatedAt: time.Date(2026, 6, 15, 21, 0, 0, 0, time.UTC), ClosedAt: &closed},                            // 15 and 16 June in Berlin
		{Number: 8, CreatedAt: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), ClosedAt: &closed, StateReason: "not_planned"}, // a false alarm
		{Number: 9, CreatedAt: now.Add(-time.Hour)},                                                                         // open
	}
	d.deps = []record.Deployment{
		{Time: time.Date(2026, 6, 16, 10, 0, 0, 0, time.UTC), Outcome: record.OutcomeSuccess},
		{Time: time.Date(2026, 6, 16, 11, 0, 0, 0, time.UTC), Outcome: record.OutcomeFailure},
	}
	st := b.uptimeStrip(d, 99.5)
	if len(st.Days) != stripDays {
		t.Fatalf("%d days, want %d", len(st.Days), stripDays)
	}
	if last := st.Days[len(st.Days)-1]; last.Label != "Tue 30 Jun 2026" || last.Checks.Total != 45 {
		t.Errorf("last day %s with %d checks, want today (Tue 30 Jun) with the 45 checks since Berlin's midnight", last.Label, last.Checks.Total)
	}
	if first := st.Days[0]; first.Label != "Thu 2 Apr 2026" {
		t.Errorf("first day %s, want 89 days before today", first.Label)
	}
	byLabel := map[string]stripDay{}
	for _, day := range st.Days {
		byLabel[day.Label] = day
	}
	want := map[string]struct{ class, title string }{
		"Wed 10 Jun 2026": {dayBad, "Wed 10 Jun 2026: 91.67 % uptime (8 of 96 checks failed), no incident, 0 deployments"},
		"Mon 15 Jun 2026": {dayWarn, "Mon 15 Jun 2026: 100 % uptime (0 of 96 checks failed), incident #7, 0 deployments"},
		"Tue 16 Jun 2026": {dayWarn, "Tue 16 Jun 2026: 100 % uptime (0 of 96 checks failed), incident #7, 2 deployments (1 failed)"},
		"Sat 20 Jun 2026": {dayNone, "Sat 20 Jun 2026: no checks, no incident, 0 deployments"},
		"Mon 1 Jun 2026":  {dayOK, "Mon 1 Jun 2026: 100 % uptime (0 of 96 checks failed), no incident, 0 deployments"},
		"Tue 30 Jun 2026": {dayWarn, "incident #9"},
	}
	for label, w := range want {
		day := byLabel[label]
		if day.Class != w.class || !strings.Contains(day.Title, w.title) {
			t.Errorf("%s: %s %q, want %s %q", label, day.Class, day.Title, w.class, w.title)
		}
	}
	if !strings.Contains(st.Summary, "1 day below the 99.5 % objective; 2 incidents") {
		t.Errorf("summary %q", st.Summary)
	}
	// The full strip: a bar and a title a day, in order.
	titles := regexp.MustCompile(`<title>([^<]*)</title>`).FindAllStringSubmatch(string(st.Full), -1)
	if len(titles) != stripDays || !strings.HasPrefix(titles[0][1], "Thu 2 Apr 2026: ") {
		t.Errorf("full strip: %d titles, first %q", len(titles), titles[0][1])
	}
	// The compact strip: one path and tooltip per colour, its runs covering the 90 days once.
	paths := regexp.MustCompile(`<path class="d-(\w+)" d="([^"]+)"><title>([^<]+)</title></path>`).FindAllStringSubmatch(string(st.Compact), -1)
	covered := make([]int, stripDays)
	tips := map[string]string{}
	for _, p := range paths {
		tips[p[1]] = html.UnescapeString(p[3])
		for _, m := range regexp.MustCompile(`M(\d+) \d+h(\d+)`).FindAllStringSubmatch(p[2], -1) {
			at, _ := strconv.Atoi(m[1])
			w, _ := strconv.Atoi(m[2])
			for k := at; k < at+w; k++ {
				covered[k]++
				if st.Days[k].Class != p[1] {
					t.Errorf("compact strip: day %d (%s) drawn as %s", k, st.Days[k].Class, p[1])
				}
			}
		}
	}
	for k, n := range covered {
		if n != 1 {
			t.Errorf("compact strip: day %d drawn %d times", k, n)
		}
	}
	want2 := map[string]string{
		dayOK:   "85 days at or above the objective, no incident",
		dayWarn: "3 days below the objective or with an incident: 15–16, 30 Jun",
		dayBad:  "1 day that spent ten days' error budget or more: 10 Jun",
		dayNone: "1 day without checks: 20 Jun",
	}
	for c, w := range want2 {
		if tips[c] != w {
			t.Errorf("compact %s tooltip %q, want %q", c, tips[c], w)
		}
	}
}

func TestClassText(t *testing.T) {
	day := func(m time.Month, d int) stripDay { return stripDay{Day: time.Date(2026, m, d, 0, 0, 0, 0, time.UTC)} }
	runs := [][]stripDay{{day(9, 13)}, {day(9, 18)}, {day(9, 29), day(9, 30), day(10, 1)}, {day(10, 10)}, {day(10, 30), day(10, 31)}, {day(11, 2)}}
	want := "9 days below the objective or with an incident: 13, 18 Sep; 29 Sep–1 Oct; 10, 30–31 Oct; 2 Nov"
	if got := classText(dayWarn, runs); got != want {
		t.Errorf("classText = %q, want %q", got, want)
	}
}
