// Package email sends alert notifications over SMTP with go-mail: a text and an HTML part, a
// Message-ID per firing episode, and the repeat and resolve mails threaded under the firing
// mail (In-Reply-To and References name its Message-ID, kept in the delivery record).
package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/notify"
	"github.com/portfolio-report/portfolio/generator/retry"
)

// Config configures the email channel.
type Config struct {
	// SMTPURL is smtp://user:pass@host:587 (STARTTLS), smtps://user:pass@host:465 (implicit
	// TLS) or smtp://host:1025 (no credentials: STARTTLS when offered). ?starttls=none|
	// opportunistic|mandatory overrides the STARTTLS policy of smtp://. A secret.
	SMTPURL    string
	From       string
	Recipients []string
	// Domain is the right-hand side of Message-IDs (default: the host of SiteURL, else
	// "portfolio.invalid").
	Domain    string
	SiteTitle string
	SiteURL   string
	Location  *time.Location // of the times in mails, default UTC
	Timeout   time.Duration  // connection timeout, default 15s
}

// Server is a parsed SMTP_URL.
type Server struct {
	Host     string
	Port     int
	Username string
	Password string
	Implicit bool           // smtps://: TLS from the first byte
	STARTTLS mail.TLSPolicy // for smtp://
}

// ParseSMTPURL reads an SMTP_URL. Its errors never repeat the URL (it holds the password).
func ParseSMTPURL(s string) (Server, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Server{}, errors.New("SMTP URL: not a URL (want smtp://user:pass@host:587 or smtps://user:pass@host:465)")
	}
	srv := Server{Host: u.Hostname()}
	if srv.Host == "" {
		return Server{}, errors.New("SMTP URL: no host (want smtp://user:pass@host:587)")
	}
	if u.User != nil {
		srv.Username = u.User.Username()
		srv.Password, _ = u.User.Password()
	}
	switch u.Scheme {
	case "smtps":
		srv.Implicit, srv.Port = true, 465
	case "smtp":
		srv.Port = 587
		srv.STARTTLS = mail.TLSOpportunistic
		if srv.Username != "" {
			srv.STARTTLS = mail.TLSMandatory // never send credentials in the clear
		}
	default:
		return Server{}, fmt.Errorf("SMTP URL: scheme %q: want smtp or smtps", u.Scheme)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return Server{}, errors.New("SMTP URL: bad port")
		}
		srv.Port = n
	}
	switch v := u.Query().Get("starttls"); v {
	case "":
	case "none":
		srv.STARTTLS = mail.NoTLS
	case "opportunistic":
		srv.STARTTLS = mail.TLSOpportunistic
	case "mandatory":
		srv.STARTTLS = mail.TLSMandatory
	default:
		return Server{}, fmt.Errorf("SMTP URL: starttls=%q: want none, opportunistic or mandatory", v)
	}
	return srv, nil
}

// Notifier sends mail through one SMTP server.
type Notifier struct {
	cfg Config
	srv Server
	log *slog.Logger
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns the email notifier. The HTTP client is unused (SMTP has its own connection) and
// accepted for the common constructor shape.
func New(cfg Config, _ *http.Client, log *slog.Logger) (*Notifier, error) {
	srv, err := ParseSMTPURL(cfg.SMTPURL)
	if err != nil {
		return nil, err
	}
	if len(cfg.Recipients) == 0 {
		return nil, errors.New("email: no recipients")
	}
	if cfg.From == "" {
		return nil, errors.New("email: no from address")
	}
	if cfg.Domain == "" {
		cfg.Domain = "portfolio.invalid"
		if u, err := url.Parse(cfg.SiteURL); err == nil && u.Hostname() != "" {
			cfg.Domain = u.Hostname()
		}
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{cfg: cfg, srv: srv, log: log}, nil
}

// Name is the channel name.
func (e *Notifier) Name() string { return alert.ChannelEmail }

// FiringMessageID is the Message-ID (without <>) of the firing mail of an alert's episode:
// derived from the fingerprint and the episode, so a resend after a crash reuses it.
func FiringMessageID(a alert.Alert, domain string) string {
	return fmt.Sprintf("alert-%s-%d@%s", a.Fingerprint, a.FiringSince.Unix(), domain)
}

// MessageID is the Message-ID (without <>) of the notification's mail.
func MessageID(n alert.Notification, domain string) string {
	switch n.Kind {
	case alert.NotifyResolved:
		return fmt.Sprintf("alert-%s-%d-resolved@%s", n.Alert.Fingerprint, n.Alert.FiringSince.Unix(), domain)
	case alert.NotifyRepeat:
		return fmt.Sprintf("alert-%s-%d-repeat-%d@%s", n.Alert.Fingerprint, n.Alert.FiringSince.Unix(), n.At.Unix(), domain)
	}
	return FiringMessageID(n.Alert, domain)
}

// parentID is the firing mail a repeat or resolve mail answers: the one recorded for this
// episode, else the derived one.
func (e *Notifier) parentID(n alert.Notification) string {
	if n.Delivery.MessageID != "" && n.Delivery.Episode.Equal(n.Alert.FiringSince) {
		return n.Delivery.MessageID
	}
	return FiringMessageID(n.Alert, e.cfg.Domain)
}

// Subject is the mail's subject; repeat and resolve mails answer the firing one ("Re: ").
func Subject(n alert.Notification) string {
	base := fmt.Sprintf("[%s] %s: %s", n.Alert.Severity, n.ProductName, n.Alert.RuleName())
	switch n.Kind {
	case alert.NotifyResolved:
		return "Re: " + base + " — resolved"
	case alert.NotifyRepeat:
		return "Re: " + base + " — still firing"
	}
	return base + " — firing"
}

// Build returns the message of a notification.
func (e *Notifier) Build(n alert.Notification) (*mail.Msg, string, error) {
	m := mail.NewMsg()
	if err := m.From(e.cfg.From); err != nil {
		return nil, "", fmt.Errorf("email: from: %w", err)
	}
	if err := m.To(e.cfg.Recipients...); err != nil {
		return nil, "", fmt.Errorf("email: recipients: %w", err)
	}
	m.Subject(Subject(n))
	id := MessageID(n, e.cfg.Domain)
	m.SetMessageIDWithValue(id)
	if n.Kind != alert.NotifyFiring {
		parent := "<" + e.parentID(n) + ">"
		m.SetGenHeader(mail.HeaderInReplyTo, parent)
		m.SetGenHeader(mail.HeaderReferences, parent)
	}
	m.SetDateWithValue(n.At)
	m.SetBulk()
	d := e.view(n)
	m.SetBodyString(mail.TypeTextPlain, d.text())
	var html bytes.Buffer
	if err := htmlBody.Execute(&html, d); err != nil {
		return nil, "", fmt.Errorf("email: render: %w", err)
	}
	m.AddAlternativeString(mail.TypeTextHTML, html.String())
	return m, id, nil
}

// Notify sends the mail. Temporary SMTP failures and connection errors are retryable.
func (e *Notifier) Notify(ctx context.Context, n alert.Notification) (notify.Receipt, error) {
	m, id, err := e.Build(n)
	if err != nil {
		return notify.Receipt{}, err
	}
	if err := e.send(ctx, m); err != nil {
		return notify.Receipt{}, err
	}
	e.log.Debug("alert mail sent", "fingerprint", n.Alert.Fingerprint, "kind", n.Kind, "message_id", id)
	return notify.Receipt{MessageID: id}, nil
}

// Mail is a message that is not an alert (the weekly digest): its own subject, Message-ID
// (without <>), date, and text and HTML parts.
type Mail struct {
	Subject, MessageID string
	Date               time.Time
	Text, HTML         string
}

// Domain is the right-hand side of the Message-IDs this notifier writes.
func (e *Notifier) Domain() string { return e.cfg.Domain }

// SendMail sends m to the channel's recipients, with the retryable errors of Notify.
func (e *Notifier) SendMail(ctx context.Context, m Mail) error {
	msg := mail.NewMsg()
	if err := msg.From(e.cfg.From); err != nil {
		return fmt.Errorf("email: from: %w", err)
	}
	if err := msg.To(e.cfg.Recipients...); err != nil {
		return fmt.Errorf("email: recipients: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(m.Date)
	msg.SetBulk()
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	return e.send(ctx, msg)
}

// send delivers msg; temporary SMTP failures and connection errors are retryable.
func (e *Notifier) send(ctx context.Context, m *mail.Msg) error {
	c, err := e.srv.client(e.cfg.Timeout)
	if err != nil {
		return fmt.Errorf("email: client for %s: %w", e.addr(), err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		err = fmt.Errorf("email: send via %s: %w", e.addr(), err)
		var se *mail.SendError
		var ne net.Error
		if (errors.As(err, &se) && se.IsTemp()) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
			return retry.Retryable(err, 0)
		}
		return err
	}
	return nil
}

func (e *Notifier) addr() string { return e.srv.Addr() }

// Addr is the server's host:port.
func (s Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// client is a go-mail client for the server: TLS as the URL asks, and the URL's credentials.
func (s Server) client(timeout time.Duration) (*mail.Client, error) {
	opts := []mail.Option{mail.WithPort(s.Port), mail.WithTimeout(timeout)}
	if s.Implicit {
		opts = append(opts, mail.WithSSL())
	} else {
		opts = append(opts, mail.WithTLSPolicy(s.STARTTLS))
	}
	if s.Username != "" {
		// Autodiscovery picks the strongest mechanism the server offers but never a
		// plaintext one on an unencrypted connection; there (tests, a local relay) PLAIN is
		// used, which go-mail allows only to localhost.
		auth := mail.SMTPAuthAutoDiscover
		if !s.Implicit && s.STARTTLS == mail.NoTLS {
			auth = mail.SMTPAuthPlain
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(s.Username), mail.WithPassword(s.Password))
	}
	return mail.NewClient(s.Host, opts...)
}

// Check connects to the server of smtpURL, greets it, starts TLS as the URL asks and logs in
// with the URL's credentials; with a from address it then names that sender (MAIL FROM) and
// takes it back (RSET), which is where a server that wants a login, or refuses the sender,
// says so. Then it says goodbye: no mail is sent (portfolio doctor). Its errors never repeat
// the URL.
func Check(ctx context.Context, smtpURL, from string, timeout time.Duration) error {
	srv, err := ParseSMTPURL(smtpURL)
	if err != nil {
		return err
	}
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	c, err := srv.client(timeout)
	if err != nil {
		return fmt.Errorf("email: client for %s: %w", srv.Addr(), err)
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return fmt.Errorf("email: %s: %w", srv.Addr(), err)
	}
	if from != "" {
		addr := from
		if a, err := netmail.ParseAddress(from); err == nil {
			addr = a.Address // "Portfolio <p@example.com>" names the sender p@example.com
		}
		if err := sc.Mail("<" + addr + ">"); err != nil {
			c.CloseWithSMTPClient(sc)
			return fmt.Errorf("email: %s: MAIL FROM:<%s>: %w", srv.Addr(), addr, err)
		}
		if err := sc.Reset(); err != nil {
			c.CloseWithSMTPClient(sc)
			return fmt.Errorf("email: %s: RSET: %w", srv.Addr(), err)
		}
	}
	if err := c.CloseWithSMTPClient(sc); err != nil {
		return fmt.Errorf("email: %s: quit: %w", srv.Addr(), err)
	}
	return nil
}

// view is what both parts show.
type view struct {
	Title, Summary, Severity, State, Product, Rule string
	Value, Threshold, Since, SinceLabel            string
	ProductURL, IssueURL, Fingerprint, SiteTitle   string
	Colour                                         string
	Links                                          []alert.Link // a deployment's run and commit
}

func (e *Notifier) view(n alert.Notification) view {
	a := n.Alert
	v := view{Title: Subject(n), Summary: a.Summary, Severity: a.Severity, Product: n.ProductName,
		Rule: a.RuleName(), Value: a.ValueText(), Threshold: a.ThresholdText(),
		ProductURL: n.ProductURL, IssueURL: a.IssueURL, Fingerprint: a.Fingerprint, SiteTitle: e.cfg.SiteTitle, Links: a.Links,
		State: "firing", SinceLabel: "Firing since", Since: a.FiringSince.In(e.cfg.Location).Format("2006-01-02 15:04 MST")}
	v.Colour = map[string]string{alert.Critical: "#D92D20", alert.Warning: "#F79009"}[a.Severity]
	if v.Colour == "" {
		v.Colour = "#2E90FA"
	}
	switch n.Kind {
	case alert.NotifyResolved:
		v.State, v.SinceLabel, v.Colour = "resolved", "Resolved at", "#36A64F"
		v.Since = a.ResolvedAt.In(e.cfg.Location).Format("2006-01-02 15:04 MST")
	case alert.NotifyRepeat:
		v.State = "still firing"
	}
	if v.SiteTitle == "" {
		v.SiteTitle = "portfolio"
	}
	return v
}

func (v view) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s\n\n", v.Title, v.Summary)
	fmt.Fprintf(&b, "State:       %s\nSeverity:    %s\nProduct:     %s\nRule:        %s\nValue:       %s\nThreshold:   %s\n%-12s %s\n",
		v.State, v.Severity, v.Product, v.Rule, v.Value, v.Threshold, v.SinceLabel+":", v.Since)
	if v.ProductURL != "" {
		fmt.Fprintf(&b, "Product page: %s\n", v.ProductURL)
	}
	if v.IssueURL != "" {
		fmt.Fprintf(&b, "Issue:        %s\n", v.IssueURL)
	}
	for _, l := range v.Links {
		fmt.Fprintf(&b, "%-13s %s\n", strings.ToUpper(l.Name[:1])+l.Name[1:]+":", l.URL)
	}
	fmt.Fprintf(&b, "\nFingerprint %s. Sent by %s.\n", v.Fingerprint, v.SiteTitle)
	return b.String()
}

// htmlBody escapes everything it is given (html/template); the summary may hold text from
// outside (a probe's error, a source's message).
var htmlBody = template.Must(template.New("mail").Parse(`<!doctype html>
<html><body style="font-family:system-ui,sans-serif;color:#111">
<h2 style="border-left:6px solid {{.Colour}};padding-left:8px">{{.Title}}</h2>
<p>{{.Summary}}</p>
<table cellpadding="4" style="border-collapse:collapse">
<tr><th align="left">State</th><td>{{.State}}</td></tr>
<tr><th align="left">Severity</th><td>{{.Severity}}</td></tr>
<tr><th align="left">Product</th><td>{{.Product}}</td></tr>
<tr><th align="left">Rule</th><td>{{.Rule}}</td></tr>
<tr><th align="left">Value</th><td>{{.Value}}</td></tr>
<tr><th align="left">Threshold</th><td>{{.Threshold}}</td></tr>
<tr><th align="left">{{.SinceLabel}}</th><td>{{.Since}}</td></tr>
</table>
<p>{{if .ProductURL}}<a href="{{.ProductURL}}">Product page</a>{{end}}{{if .IssueURL}} · <a href="{{.IssueURL}}">GitHub issue</a>{{end}}{{range .Links}} · <a href="{{.URL}}">{{.Name}}</a>{{end}}</p>
<p style="color:#666;font-size:12px">Fingerprint {{.Fingerprint}}. Sent by {{.SiteTitle}}.</p>
</body></html>
`))
