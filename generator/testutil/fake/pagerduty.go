package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// PagerDutyPrefix is where the PagerDuty fake mounts the Events API.
const PagerDutyPrefix = "/pagerduty"

// PagerDuty fakes the Events API v2 (docs/alerting.md): POST /v2/enqueue with
// routing_key (32 characters), event_action trigger|acknowledge|resolve, dedup_key and, for a
// trigger, payload{summary ≤ 1024, source, severity critical|error|warning|info}. 202
// {status, message, dedup_key} on success (a trigger without a key gets one), 400 with
// errors for an invalid event. It keeps the incidents by dedup key, so tests see that a
// repeated trigger merges and a resolve closes. Inject adds 429, 5xx, hangs.
type PagerDuty struct {
	Server *httptest.Server
	// URL is the events endpoint to configure (PAGERDUTY_EVENTS_URL).
	URL        string
	RoutingKey string

	faults faults

	mu        sync.Mutex
	events    []PagerDutyEvent
	incidents map[string]string // dedup key → triggered | acknowledged | resolved
	seq       int
}

// PagerDutyEvent is one accepted event, decoded.
type PagerDutyEvent struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     *struct {
		Summary       string         `json:"summary"`
		Source        string         `json:"source"`
		Severity      string         `json:"severity"`
		Timestamp     string         `json:"timestamp"`
		Component     string         `json:"component"`
		Group         string         `json:"group"`
		Class         string         `json:"class"`
		CustomDetails map[string]any `json:"custom_details"`
	} `json:"payload"`
	Links []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
	Client    string `json:"client"`
	ClientURL string `json:"client_url"`
	Raw       json.RawMessage
}

// NewPagerDuty starts the fake; it stops with the test.
func NewPagerDuty(t testing.TB) *PagerDuty {
	p := &PagerDuty{RoutingKey: "R0UT1NGKEY0123456789abcdefABCDEF", incidents: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PagerDutyPrefix+"/v2/enqueue", p.enqueue)
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Server.Close)
	p.URL = p.Server.URL + PagerDutyPrefix + "/v2/enqueue"
	return p
}

func pdAnswer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func pdInvalid(w http.ResponseWriter, problem string) {
	pdAnswer(w, http.StatusBadRequest, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": []string{problem}})
}

func (p *PagerDuty) enqueue(w http.ResponseWriter, r *http.Request) {
	key, body := requestKey(r, PagerDutyPrefix)
	if f := p.faults.match(key); f != nil {
		f.serve(w, r, func(status int) string {
			if status == http.StatusTooManyRequests {
				return `{"status":"throttle event","message":"Requests for this service are arriving too quickly.  Please retry later."}`
			}
			return `{"status":"error","message":"internal error"}`
		})
		return
	}
	var ev PagerDutyEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		pdAnswer(w, http.StatusBadRequest, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": []string{"Malformed JSON"}})
		return
	}
	ev.Raw = append(json.RawMessage(nil), body...)
	switch {
	case len(ev.RoutingKey) != 32:
		pdInvalid(w, "Length of 'routing_key' is incorrect (should be 32 characters)")
		return
	case !slices.Contains([]string{"trigger", "acknowledge", "resolve"}, ev.EventAction):
		pdInvalid(w, "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')")
		return
	case len(ev.DedupKey) > 255:
		pdInvalid(w, "'dedup_key' is too long")
		return
	case ev.EventAction != "trigger" && ev.DedupKey == "":
		pdInvalid(w, "'dedup_key' is missing")
		return
	case ev.EventAction == "trigger" && ev.Payload == nil:
		pdInvalid(w, "'payload' is missing or blank")
		return
	case ev.EventAction == "trigger" && (ev.Payload.Summary == "" || len([]rune(ev.Payload.Summary)) > 1024):
		pdInvalid(w, "'payload.summary' is missing, blank or longer than 1024 characters")
		return
	case ev.EventAction == "trigger" && ev.Payload.Source == "":
		pdInvalid(w, "'payload.source' is missing or blank")
		return
	case ev.EventAction == "trigger" && !slices.Contains([]string{"critical", "error", "warning", "info"}, ev.Payload.Severity):
		pdInvalid(w, "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')")
		return
	}
	p.mu.Lock()
	if ev.DedupKey == "" {
		p.seq++
		ev.DedupKey = fmt.Sprintf("pd-generated-%d", p.seq)
	}
	switch ev.EventAction {
	case "trigger":
		p.incidents[ev.DedupKey] = "triggered"
	case "acknowledge":
		if p.incidents[ev.DedupKey] == "triggered" {
			p.incidents[ev.DedupKey] = "acknowledged"
		}
	case "resolve":
		if _, ok := p.incidents[ev.DedupKey]; ok {
			p.incidents[ev.DedupKey] = "resolved"
		}
	}
	p.events = append(p.events, ev)
	p.mu.Unlock()
	pdAnswer(w, http.StatusAccepted, map[string]any{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}

// Inject adds a fault (Match is matched against "POST /v2/enqueue body").
func (p *PagerDuty) Inject(f InjectedFault) { p.faults.add(f) }

// Events returns the accepted events, in order.
func (p *PagerDuty) Events() []PagerDutyEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PagerDutyEvent(nil), p.events...)
}

// Incident returns the state of the incident with the dedup key: triggered, acknowledged,
// resolved, or "" when PagerDuty never heard of it.
func (p *PagerDuty) Incident(dedupKey string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.incidents[dedupKey]
}
