package posthog

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	ph "github.com/posthog/posthog-go"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/httpclient"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/store"
)

// acceptJSON says what posthog-go's capture requests expect, so that an HTML page in front of
// PostHog is an error (httpclient) rather than a delivery.
type acceptJSON struct{ next http.RoundTripper }

func (a acceptJSON) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Accept") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Accept", "application/json")
	}
	return a.next.RoundTrip(r)
}

// Event is one of portfolio's own events for PostHog.
type Event struct {
	// Key is unique and stable: an event is sent once per key, whatever the number of runs.
	Key        string
	Name       string // e.g. "portfolio deployment recorded"
	Product    string
	Time       time.Time
	Properties map[string]any
	// Annotation, when set, also marks Time on every chart of the project with this text
	// (at most 400 characters).
	Annotation string
}

// Event names.
const (
	EventDeployment       = "portfolio deployment recorded"
	EventIncidentOpened   = "portfolio incident opened"
	EventIncidentResolved = "portfolio incident resolved"
	EventAlertFired       = "portfolio alert fired"
	EventAlertResolved    = "portfolio alert resolved"
)

// DistinctID is the person every portfolio event belongs to.
const DistinctID = "portfolio"

// KindSent is the document that remembers what was sent.
var KindSent = store.Kind{Name: "posthog-sent", Version: 1}

// SentDoc is where the sent log lives in data/.
const SentDoc = "state/posthog-sent.json"

// sentEntry is one thing sent: "capture:<key>" or "annotation:<key>", and when.
type sentEntry struct {
	Key string    `json:"key"`
	At  time.Time `json:"at"`
}

// Sender sends events with posthog-go and deployment annotations with the REST API, each
// exactly once: what was sent is remembered in data/state/posthog-sent.json.
type Sender struct {
	opt    Options
	st     *store.Store
	raw    *http.Client // posthog-go retries on its own
	api    *http.Client // annotations, through the shared retry policy
	log    *slog.Logger
	MaxAge time.Duration // events older than this are never sent (default 30 days)
	// Wait bounds how long Send waits for posthog-go to deliver before closing it (default 30 s).
	Wait time.Duration
}

// NewSender returns a sender. Without POSTHOG_API_KEY (o.ProjectKey) it sends nothing.
func NewSender(o Options, st *store.Store, client *http.Client, log *slog.Logger) *Sender {
	o.defaults()
	client = httpclient.Wrap(client, time.Minute)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{opt: o, st: st, raw: client, api: apiClient(o, client), log: log,
		MaxAge: 30 * 24 * time.Hour, Wait: 30 * time.Second}
}

// Enabled reports whether events are sent at all (POSTHOG_API_KEY and a host are set).
func (s *Sender) Enabled() bool { return s.opt.ProjectKey != "" && s.opt.CaptureHost != "" }

// annotations reports whether deployment markers can be created (personal key and project).
func (s *Sender) annotations() bool {
	return s.opt.PersonalKey != "" && s.opt.ProjectID != "" && s.opt.Host != ""
}

// Send sends each event not sent before, and its annotation. Delivered ones are remembered
// even when others fail; the error lists what failed (it is retried next run).
func (s *Sender) Send(ctx context.Context, events []Event) error {
	if !s.Enabled() || len(events) == 0 {
		return nil
	}
	var log []sentEntry
	if _, err := s.st.ReadDoc(SentDoc, KindSent, &log); err != nil {
		return fmt.Errorf("posthog: read sent log: %w", err)
	}
	sent := map[string]bool{}
	for _, e := range log {
		sent[e.Key] = true
	}
	now := s.opt.Now().UTC()
	var captures, marks []Event
	for _, e := range events {
		if e.Key == "" || now.Sub(e.Time) > s.MaxAge {
			continue
		}
		if !sent["capture:"+e.Key] {
			captures = append(captures, e)
		}
		if e.Annotation != "" && s.annotations() && !sent["annotation:"+e.Key] {
			marks = append(marks, e)
		}
	}
	var errs []error
	done, err := s.capture(ctx, captures)
	if err != nil {
		errs = append(errs, err)
	}
	for _, k := range done {
		log = append(log, sentEntry{Key: "capture:" + k, At: now})
	}
	for _, e := range marks {
		if err := s.annotate(ctx, e); err != nil {
			errs = append(errs, fmt.Errorf("posthog: annotation %s: %w", e.Key, err))
			continue
		}
		log = append(log, sentEntry{Key: "annotation:" + e.Key, At: now})
	}
	// Entries older than twice MaxAge can go: their events are no longer sent anyway.
	log = slices.DeleteFunc(log, func(e sentEntry) bool { return now.Sub(e.At) > 2*s.MaxAge })
	sort.Slice(log, func(i, j int) bool { return log[i].Key < log[j].Key })
	if len(captures)+len(marks) > 0 {
		if err := s.st.WriteDoc(SentDoc, KindSent, log); err != nil {
			errs = append(errs, fmt.Errorf("posthog: write sent log: %w", err))
		}
	}
	s.log.Info("posthog events", "sent", len(done), "annotations", len(marks), "failed", len(errs))
	return errors.Join(errs...)
}

// capture enqueues the events with posthog-go and waits for its callbacks, returning the keys
// delivered. posthog-go retries a failing batch only until Close begins (its client.go), so Send
// waits for every callback before closing, and counts failures through the callback because
// Close returns nil even when sends failed.
func (s *Sender) capture(ctx context.Context, events []Event) ([]string, error) {
	if len(events) == 0 {
		return nil, nil
	}
	byUUID := map[string]string{}
	cb := &callback{ok: map[string]bool{}, failed: map[string]error{}, all: make(chan struct{}), want: len(events)}
	policy := retry.PostHog() // posthog-go retries by itself: the numbers and the wait are ours
	sleep := s.opt.Sleep
	if sleep == nil {
		sleep = retry.Sleep
	}
	// The wait between posthog-go's tries happens here, through the run's Sleeper (tests do
	// not wait), and ends when Send stops waiting; posthog-go then waits no more.
	waitCtx, stopWaits := context.WithCancel(ctx)
	defer stopWaits()
	client, err := ph.NewWithConfig(s.opt.ProjectKey, ph.Config{
		Endpoint:  s.opt.CaptureHost,
		Transport: acceptJSON{s.raw.Transport}, // posthog-go's own client has a 10 s timeout
		Interval:  100 * time.Millisecond,
		BatchSize: 100,
		Callback:  cb,
		Logger:    slogLogger{s.log},
		RetryAfter: func(attempt int) time.Duration {
			_ = sleep(waitCtx, min(policy.Backoff<<attempt, policy.MaxWait))
			return 0
		},
	})
	if err != nil {
		return nil, fmt.Errorf("posthog: capture client: %w", err)
	}
	for _, e := range events {
		id := uuidFor(e.Key)
		byUUID[id] = e.Key
		props := ph.NewProperties().Set("product", e.Product).Set("portfolio_key", e.Key)
		for k, v := range e.Properties {
			props.Set(k, v)
		}
		if err := client.Enqueue(ph.Capture{Uuid: id, DistinctId: DistinctID, Event: e.Name, Timestamp: e.Time.UTC(), Properties: props}); err != nil {
			cb.Failure(ph.Capture{Uuid: id}, err)
		}
	}
	wait := time.NewTimer(s.Wait)
	select {
	case <-cb.all:
	case <-ctx.Done():
	case <-wait.C:
	}
	wait.Stop()
	stopWaits()
	client.Close()
	cb.mu.Lock()
	defer cb.mu.Unlock()
	var done []string
	for id, key := range byUUID {
		if cb.ok[id] {
			done = append(done, key)
		}
	}
	sort.Strings(done)
	if n := len(events) - len(done); n > 0 {
		var first error
		for _, err := range cb.failed {
			first = err
			break
		}
		if first == nil {
			first = errors.New("not delivered in time")
		}
		return done, fmt.Errorf("posthog: %d of %d events not delivered: %s", n, len(events), retry.RequestError(first))
	}
	return done, nil
}

// callback collects posthog-go's outcomes per event uuid.
type callback struct {
	mu     sync.Mutex
	ok     map[string]bool
	failed map[string]error
	want   int
	all    chan struct{}
	closed bool
}

func uuidOf(m ph.APIMessage) string {
	switch v := m.(type) {
	case ph.Capture:
		return v.Uuid
	case ph.CaptureInApi:
		return v.Uuid
	}
	return ""
}

func (c *callback) Success(m ph.APIMessage) { c.record(uuidOf(m), nil) }
func (c *callback) Failure(m ph.APIMessage, err error) {
	if err == nil {
		err = errors.New("failed")
	}
	c.record(uuidOf(m), err)
}

func (c *callback) record(id string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.ok[id] = true
		delete(c.failed, id)
	} else if !c.ok[id] {
		c.failed[id] = err
	}
	if !c.closed && len(c.ok)+len(c.failed) >= c.want {
		c.closed = true
		close(c.all)
	}
}

// annotate creates the event's project annotation unless one with the same content and time
// exists (the annotations API has no idempotency key).
func (s *Sender) annotate(ctx context.Context, e Event) error {
	base := s.opt.Host + "/api/projects/" + url.PathEscape(s.opt.ProjectID) + "/annotations/"
	found := false
	err := s.listAll(ctx, base+"?search="+url.QueryEscape(e.Annotation), func(raw json.RawMessage) error {
		var a struct {
			Content    string    `json:"content"`
			DateMarker time.Time `json:"date_marker"`
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			return err
		}
		found = found || a.Content == e.Annotation && a.DateMarker.Truncate(time.Second).Equal(e.Time.Truncate(time.Second))
		return nil
	})
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	if found {
		return nil
	}
	content := e.Annotation
	if len(content) > 400 {
		content = content[:400]
	}
	body, _ := json.Marshal(map[string]any{"content": content, "date_marker": e.Time.UTC().Format(time.RFC3339),
		"scope": "project", "creation_type": "GIT"})
	var created json.RawMessage
	if err := doJSON(ctx, s.api, s.opt.PersonalKey, s.opt.MaxAnswer, http.MethodPost, base, body, &created); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	return nil
}

// maxListPages bounds a paged PostHog list.
const maxListPages = 100

// listAll reads every page of a PostHog list (Django REST framework's limit/offset paging:
// {"count", "next", "previous", "results"}), following next, and hands each result to each.
// A next link to another host than the first page's (the personal key would go with it), a
// next link already followed, or more than maxListPages pages stops the listing with an error.
func (s *Sender) listAll(ctx context.Context, first string, each func(json.RawMessage) error) error {
	start, err := url.Parse(first)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for next, page := first, 1; next != ""; page++ {
		if page > maxListPages {
			return fmt.Errorf("more than %d pages", maxListPages)
		}
		if seen[next] {
			return fmt.Errorf("page %d: the next link %s was followed already", page, redact.URL(next))
		}
		seen[next] = true
		var list struct {
			Next    *string           `json:"next"`
			Results []json.RawMessage `json:"results"`
		}
		if err := doJSON(ctx, s.api, s.opt.PersonalKey, s.opt.MaxAnswer, http.MethodGet, next, nil, &list); err != nil {
			return fmt.Errorf("page %d: %w", page, err)
		}
		for _, r := range list.Results {
			if err := each(r); err != nil {
				return fmt.Errorf("page %d: decode: %w", page, err)
			}
		}
		next = ""
		if list.Next != nil && *list.Next != "" {
			u, err := start.Parse(*list.Next)
			if err != nil || u.Scheme != start.Scheme || u.Host != start.Host {
				return fmt.Errorf("page %d: the next link %s leaves %s", page, redact.URL(*list.Next), start.Host)
			}
			next = u.String()
		}
	}
	return nil
}

// uuidFor derives a stable UUID from key, so that PostHog can also drop a duplicate.
func uuidFor(key string) string {
	h := sha256.Sum256([]byte("portfolio:" + key))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x50 // version 5 layout (name-based)
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// slogLogger routes posthog-go's log lines to slog at debug level (errors as warnings).
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Logf(format string, args ...any) {
	s.l.Debug("posthog-go: " + fmt.Sprintf(format, args...))
}
func (s slogLogger) Debugf(format string, args ...any) {
	s.l.Debug("posthog-go: " + fmt.Sprintf(format, args...))
}
func (s slogLogger) Warnf(format string, args ...any) {
	s.l.Debug("posthog-go: " + fmt.Sprintf(format, args...))
}
func (s slogLogger) Errorf(format string, args ...any) {
	s.l.Warn("posthog-go: " + fmt.Sprintf(format, args...))
}

// DeploymentEvent is the event of a recorded deployment; a successful one is also annotated.
func DeploymentEvent(product string, d record.Deployment) Event {
	e := Event{
		Key: "deployment:" + product + ":" + d.ID, Name: EventDeployment, Product: product, Time: d.Time,
		Properties: map[string]any{"deployment_id": d.ID, "sha": d.SHA, "outcome": d.Outcome, "url": d.URL},
	}
	if d.Outcome == record.OutcomeSuccess {
		e.Annotation = fmt.Sprintf("Deployed %s %s", product, short(d.SHA))
	}
	return e
}

// IncidentEvents are the opened event of an incident and, once it is closed as resolved
// (not a false alarm), its resolved event.
func IncidentEvents(product string, i record.Incident) []Event {
	n := strconv.Itoa(i.Number)
	out := []Event{{Key: "incident-opened:" + product + ":" + n, Name: EventIncidentOpened, Product: product,
		Time: i.CreatedAt, Properties: map[string]any{"incident": i.Number, "title": i.Title, "url": i.URL}}}
	if i.ClosedAt != nil && i.Counts() {
		out = append(out, Event{Key: "incident-resolved:" + product + ":" + n, Name: EventIncidentResolved, Product: product,
			Time: *i.ClosedAt, Properties: map[string]any{"incident": i.Number, "title": i.Title, "url": i.URL,
				"duration_seconds": int64(i.ClosedAt.Sub(i.CreatedAt).Seconds())}})
	}
	return out
}

// AlertEvent is the event of an alert firing or resolving at a time; alertID names the alert
// (rule and product), and the time makes each firing a separate event.
func AlertEvent(product, alertID string, fired bool, at time.Time, props map[string]any) Event {
	name, verb := EventAlertResolved, "resolved"
	if fired {
		name, verb = EventAlertFired, "fired"
	}
	p := map[string]any{"alert": alertID}
	for k, v := range props {
		p[k] = v
	}
	return Event{Key: "alert-" + verb + ":" + product + ":" + alertID + ":" + strconv.FormatInt(at.Unix(), 10),
		Name: name, Product: product, Time: at, Properties: p}
}

// EventsFromStore builds the deployment and incident events of the products since a time,
// for the pipeline to pass to Send after collect (Send skips what was sent before).
func EventsFromStore(st *store.Store, products []config.Product, since time.Time) ([]Event, error) {
	var out []Event
	for _, p := range products {
		deps, err := st.Deployments(p.ID)
		if err != nil {
			return nil, err
		}
		for _, d := range deps {
			if !d.Time.Before(since) {
				out = append(out, DeploymentEvent(p.ID, d))
			}
		}
		incs, err := st.Incidents(p.ID)
		if err != nil {
			return nil, err
		}
		for _, i := range incs {
			for _, e := range IncidentEvents(p.ID, i) {
				if !e.Time.Before(since) {
					out = append(out, e)
				}
			}
		}
	}
	return out, nil
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
