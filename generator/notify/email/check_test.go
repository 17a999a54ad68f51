package email_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/notify/email"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// TestCheckLogsInWithoutSending runs Check against a real Mailpit that requires these
// credentials (--smtp-auth-file): right ones pass, wrong ones are refused, and no mail arrives.
func TestCheckLogsInWithoutSending(t *testing.T) {
	auth := filepath.Join(t.TempDir(), "smtp-auth")
	if err := os.WriteFile(auth, []byte("alerts:SECRETpw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mp := fake.StartMailpit(t, "--smtp-auth-file", auth, "--smtp-auth-allow-insecure")
	tests := []struct {
		name, url, wantErr string
	}{
		{"the right credentials", "smtp://alerts:SECRETpw@" + mp.SMTP + "?starttls=none", ""},
		{"a wrong password", "smtp://alerts:WRONGpw1@" + mp.SMTP + "?starttls=none", "535"},
		{"no credentials where the server wants them: refused at MAIL FROM", "smtp://" + mp.SMTP + "?starttls=none", "MAIL FROM:<portfolio@example.com>"},
		{"a URL that is not SMTP", "https://" + mp.SMTP, "want smtp or smtps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := email.Check(context.Background(), tt.url, "portfolio@example.com", 5*time.Second)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Check: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Check: %v, want an error with %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "WRONGpw1") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	if msgs := mp.Messages(t); len(msgs) != 0 {
		t.Errorf("%d mails arrived, want none", len(msgs))
	}
}

func TestCheckNamesAnUnreachableServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	err = email.Check(context.Background(), "smtp://alerts:SECRETpw@"+addr+"?starttls=none", "", 2*time.Second)
	if err == nil || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "SECRETpw") {
		t.Fatalf("Check: %v, want an error naming %s without the password", err, addr)
	}
}
