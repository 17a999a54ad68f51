package digest

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/store"
)

// StateFile is the digest's memory in data/: which period went to which channel, and when.
const StateFile = "digests.json"

// KindState is the document kind of data/digests.json.
var KindState = store.Kind{Name: "digests", Version: 1}

// keep is how long deliveries are remembered: long enough that no period is sent twice.
const keep = 400 * 24 * time.Hour

// State is data/digests.json: one delivery per period and channel, sorted by period then
// channel. It changes only when a digest is sent.
type State struct {
	Deliveries []Delivery `json:"deliveries"`
}

// Delivery is one digest sent to one channel.
type Delivery struct {
	Period    string    `json:"period"`  // the period's id, "2026-11-30"
	Channel   string    `json:"channel"` // email, slack
	At        time.Time `json:"at"`
	MessageID string    `json:"message_id,omitempty"` // email
	Products  int       `json:"products"`             // how many products it covered
}

// Sent returns the delivery of the period to the channel, if any.
func (s State) Sent(period, channel string) (Delivery, bool) {
	for _, d := range s.Deliveries {
		if d.Period == period && d.Channel == channel {
			return d, true
		}
	}
	return Delivery{}, false
}

// LoadState reads data/digests.json (a missing file is the empty state) and validates it: a
// delivery without a valid period, channel or time is an error naming the file and the entry,
// never silently resent.
func LoadState(st *store.Store) (State, error) {
	var s State
	if _, err := st.ReadDoc(StateFile, KindState, &s); err != nil {
		return State{}, fmt.Errorf("digest state: %w", err)
	}
	path := filepath.Join(st.Dir(), StateFile)
	var problems []string
	for i, d := range s.Deliveries {
		if _, err := time.Parse(time.DateOnly, d.Period); err != nil {
			problems = append(problems, fmt.Sprintf("deliveries[%d].period: want a date like 2026-11-30, got %q", i, d.Period))
		}
		if !slices.Contains(Channels, d.Channel) {
			problems = append(problems, fmt.Sprintf("deliveries[%d].channel: want one of %s, got %q", i, strings.Join(Channels, ", "), d.Channel))
		}
		if d.At.IsZero() {
			problems = append(problems, fmt.Sprintf("deliveries[%d].at: want the time it was sent", i))
		}
	}
	if len(problems) > 0 {
		return State{}, fmt.Errorf("digest state: %s: %s (fix or remove the entry; see docs/digest.md)", path, strings.Join(problems, "; "))
	}
	return s, nil
}

// SaveState writes data/digests.json atomically, sorted, without deliveries older than a year.
func SaveState(st *store.Store, s State, now time.Time) error {
	s.Deliveries = slices.DeleteFunc(slices.Clone(s.Deliveries), func(d Delivery) bool { return now.Sub(d.At) > keep })
	slices.SortFunc(s.Deliveries, func(a, b Delivery) int {
		if c := strings.Compare(a.Period, b.Period); c != 0 {
			return c
		}
		return strings.Compare(a.Channel, b.Channel)
	})
	if s.Deliveries == nil {
		s.Deliveries = []Delivery{}
	}
	if err := st.WriteDoc(StateFile, KindState, s); err != nil {
		return fmt.Errorf("digest state: %w", err)
	}
	return nil
}
