package fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Mailpit is a real Mailpit server (github.com/axllent/mailpit) started for one test on free
// ports: SMTP without TLS, and its REST API to read what arrived.
type Mailpit struct {
	SMTP string // host:port to send to (smtp://<SMTP>)
	API  string // base URL of the REST API
}

// MailpitMessage is one stored mail with its bodies and headers.
type MailpitMessage struct {
	ID, MessageID, Subject string
	From                   MailpitAddress
	To                     []MailpitAddress
	Text, HTML             string
	Headers                map[string][]string
}

// MailpitAddress is a mailbox.
type MailpitAddress struct{ Name, Address string }

// StartMailpit runs $MAILPIT_BIN, else mailpit from PATH, until the test ends; extra flags
// are passed on. Without the binary it skips the test, saying how to install it.
func StartMailpit(t testing.TB, extra ...string) *Mailpit {
	t.Helper()
	bin := os.Getenv("MAILPIT_BIN")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("mailpit"); err != nil {
			t.Skip("mailpit is not installed (no $MAILPIT_BIN, no mailpit on PATH): go install github.com/axllent/mailpit@v1.33.1 to run the email end-to-end tests")
		}
	}
	smtpPort, apiPort := freePort(t), freePort(t)
	args := append([]string{"--smtp", fmt.Sprintf("127.0.0.1:%d", smtpPort), "--listen", fmt.Sprintf("127.0.0.1:%d", apiPort),
		"--disable-version-check", "-q"}, extra...)
	cmd := exec.Command(bin, args...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	m := &Mailpit{SMTP: fmt.Sprintf("127.0.0.1:%d", smtpPort), API: fmt.Sprintf("http://127.0.0.1:%d", apiPort)}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(m.API + "/api/v1/messages")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if c, err := net.Dial("tcp", m.SMTP); err == nil {
					c.Close()
					return m
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not come up: %s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (m *Mailpit) get(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(m.API + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("mailpit GET %s: %v", path, err)
	}
}

// Messages returns every stored mail, oldest first, with bodies and headers.
func (m *Mailpit) Messages(t testing.TB) []MailpitMessage {
	t.Helper()
	var list struct {
		Messages []MailpitMessage `json:"messages"`
	}
	m.get(t, "/api/v1/messages?limit=500", &list)
	out := make([]MailpitMessage, 0, len(list.Messages))
	for i := len(list.Messages) - 1; i >= 0; i-- { // the API lists newest first
		l := list.Messages[i]
		var full struct{ Text, HTML string }
		m.get(t, "/api/v1/message/"+l.ID, &full)
		l.Text, l.HTML = full.Text, full.HTML
		m.get(t, "/api/v1/message/"+l.ID+"/headers", &l.Headers)
		out = append(out, l)
	}
	return out
}
