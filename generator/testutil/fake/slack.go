package fake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	goslack "github.com/slack-go/slack"
)

// SlackPrefix is where the Slack fake mounts its incoming webhooks, below a path prefix to catch
// clients that drop the configured URL's path.
const SlackPrefix = "/slack"

// Slack fakes an incoming webhook (docs/alerting.md): POST JSON to
// /services/T…/B…/<secret>; 200 "ok" on success; plain-text errors like Slack's own:
// 400 invalid_payload (not JSON), 400 no_text (no text, blocks or attachments), 400
// invalid_blocks (a header over 150 characters, a text over 3000, a block without a type),
// 403 invalid_token / 404 no_service for a wrong webhook path. Inject adds 429 (always with
// Retry-After), 403 action_prohibited, 404 channel_not_found, 410 channel_is_archived, 5xx
// rollup_error (all plain text, as Slack answers), hangs and slow answers.
type Slack struct {
	Server *httptest.Server
	// URL is the webhook URL to configure; its last segment is the secret.
	URL    string
	Secret string

	faults faults

	mu       sync.Mutex
	messages []json.RawMessage
	calls    int
}

// NewSlack starts the fake; it stops with the test.
func NewSlack(t testing.TB) *Slack {
	s := &Slack{Secret: "xoxsecretWEBHOOKtoken0123456789"}
	path := SlackPrefix + "/services/T0001/B0001/" + s.Secret
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls++
		s.mu.Unlock()
		key, body := requestKey(r, SlackPrefix)
		if f := s.faults.match(key); f != nil {
			if f.Status == http.StatusTooManyRequests && f.RetryAfter == "" {
				f.RetryAfter = "1" // Slack always says when to come back
			}
			f.serveAs(w, r, "text/plain; charset=utf-8", slackErrorText)
			return
		}
		switch {
		case r.Method != http.MethodPost:
			slackText(w, http.StatusMethodNotAllowed, "invalid_method")
		case !strings.HasPrefix(r.URL.Path, SlackPrefix+"/services/"):
			slackText(w, http.StatusNotFound, "no_service")
		case r.URL.Path != path:
			slackText(w, http.StatusForbidden, "invalid_token")
		default:
			s.post(w, body)
		}
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Server.Close)
	s.URL = s.Server.URL + path
	return s
}

// slackErrorText is the plain-text body Slack answers with a status (its changelog of
// 2016-05-17 lists them).
func slackErrorText(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusBadRequest:
		return "invalid_payload"
	case http.StatusForbidden:
		return "action_prohibited"
	case http.StatusNotFound:
		return "channel_not_found"
	case http.StatusGone:
		return "channel_is_archived"
	}
	if status >= 500 {
		return "rollup_error"
	}
	return "ok"
}

func slackText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, text)
}

func (s *Slack) post(w http.ResponseWriter, body []byte) {
	var m goslack.WebhookMessage
	if err := json.Unmarshal(body, &m); err != nil {
		slackText(w, http.StatusBadRequest, "invalid_payload")
		return
	}
	if m.Text == "" && (m.Blocks == nil || len(m.Blocks.BlockSet) == 0) && len(m.Attachments) == 0 {
		slackText(w, http.StatusBadRequest, "no_text")
		return
	}
	if problem := slackCheckBlocks(body); problem != "" {
		slackText(w, http.StatusBadRequest, "invalid_blocks")
		return
	}
	s.mu.Lock()
	s.messages = append(s.messages, append(json.RawMessage(nil), body...))
	s.mu.Unlock()
	slackText(w, http.StatusOK, "ok")
}

// slackCheckBlocks applies the Block Kit limits the fake knows, to the message's blocks and
// its attachments' blocks.
func slackCheckBlocks(body []byte) string {
	type text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	type block struct {
		Type     string  `json:"type"`
		Text     *text   `json:"text"`
		Fields   []text  `json:"fields"`
		Elements []text  `json:"elements"`
		BlockID  *string `json:"block_id"`
	}
	var m struct {
		Blocks      []block `json:"blocks"`
		Attachments []struct {
			Blocks []block `json:"blocks"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return "malformed"
	}
	all := m.Blocks
	for _, a := range m.Attachments {
		all = append(all, a.Blocks...)
	}
	if len(all) > 50 {
		return "more than 50 blocks"
	}
	for _, b := range all {
		switch b.Type {
		case "header":
			if b.Text == nil || b.Text.Type != "plain_text" || len([]rune(b.Text.Text)) > 150 {
				return "header"
			}
		case "section":
			if b.Text == nil && len(b.Fields) == 0 {
				return "empty section"
			}
			if b.Text != nil && (len([]rune(b.Text.Text)) > 3000 || b.Text.Text == "") {
				return "section text"
			}
			if len(b.Fields) > 10 {
				return "fields"
			}
			for _, f := range b.Fields {
				if len([]rune(f.Text)) > 2000 || f.Text == "" {
					return "field"
				}
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > 10 {
				return "context"
			}
		case "divider", "actions", "image":
		default:
			return "unknown block type " + b.Type
		}
		if b.BlockID != nil && *b.BlockID == "" {
			return "empty block_id"
		}
	}
	return ""
}

// Inject adds a fault (Match is matched against "POST /services/… body").
func (s *Slack) Inject(f InjectedFault) { s.faults.add(f) }

// Messages returns the accepted messages' raw JSON, in order.
func (s *Slack) Messages() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]json.RawMessage(nil), s.messages...)
}

// Calls counts every request, faults included.
func (s *Slack) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}
