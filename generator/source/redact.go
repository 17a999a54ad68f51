package source

import (
	"net/url"
	"regexp"
	"strings"
)

// urlInText finds URLs inside error text, such as the one net/http puts in a *url.Error.
var urlInText = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// RedactURL returns u without its user info, query and fragment, which is where tokens hide
// (the idea of alertmanager's notify.RedactURL). Text that does not parse is replaced whole.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "[redacted-url]"
	}
	if p.User != nil {
		p.User = url.User("redacted")
	}
	if p.RawQuery != "" {
		p.RawQuery = "redacted"
	}
	p.Fragment, p.RawFragment = "", ""
	return p.String()
}

// Redact removes secrets from a message: every URL is redacted with RedactURL, and every
// non-empty secret value (at least 4 characters long, so a stray "1" does not blank a
// message) is replaced by "[redacted]".
func Redact(msg string, secrets ...string) string {
	msg = urlInText.ReplaceAllStringFunc(msg, RedactURL)
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}
