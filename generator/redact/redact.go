// Package redact keeps secrets out of everything portfolio writes: logs, errors, the messages
// stored in data/, and the built site. It is the one place that knows what a secret looks like.
//
// A Redactor is built from every secret the configuration names: the value of each *_env field
// of portfolio.json (whatever variable it names) and of the standard variables, together with
// the forms a secret takes on the way out (URL- and HTML-escaped, in JSON, in base64, the
// password and the base64 SMTP/HTTP credentials of a URL, the token-like path segments and
// query values of a webhook URL). Text additionally loses the credentials of every URL in it:
// user info, query and fragment (alertmanager's notify.RedactURL idea).
package redact

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/portfolio-report/portfolio/generator/config"
)

// Mark replaces a secret.
const Mark = "[redacted]"

// minLen is the shortest value treated as a secret, so that a stray "1" does not blank a message.
const minLen = 4

// StandardEnv are the variables whose values are secret whatever the config says.
func StandardEnv() []string {
	return []string{
		config.EnvGitHubToken, config.EnvCloudflareToken, config.EnvPostHogPersonalKey, config.EnvPostHogAPIKey,
		config.EnvSlackWebhookURL, config.EnvSMTPURL, config.EnvPagerDutyRoutingKey,
	}
}

// EnvNames are the variables whose values are secret: the standard ones and every variable a
// *_env field of cfg names (cfg may be nil), sorted and without repeats.
func EnvNames(cfg *config.Config) []string {
	names := StandardEnv()
	if cfg != nil {
		names = append(names, envFields(reflect.ValueOf(cfg))...)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// envFields finds the values of the string fields whose JSON name ends in _env, at any depth.
func envFields(v reflect.Value) []string {
	var out []string
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			out = append(out, envFields(v.Elem())...)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Type.Kind() == reflect.String && strings.HasSuffix(name, "_env") {
				if s := v.Field(i).String(); s != "" {
					out = append(out, s)
				}
				continue
			}
			out = append(out, envFields(v.Field(i))...)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			out = append(out, envFields(v.Index(i))...)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			out = append(out, envFields(it.Value())...)
		}
	}
	return out
}

// Redactor replaces known secrets. It is safe for concurrent use; a nil *Redactor knows no
// secret but still hides URL credentials in text.
type Redactor struct {
	mu     sync.RWMutex
	values map[string]bool
	sorted [][]byte          // the values, longest first
	rep    *strings.Replacer // nil: no value known
}

// New returns a redactor of the secrets that cfg (nil: none) and the standard variables name,
// read with getenv.
func New(cfg *config.Config, getenv func(string) string) *Redactor {
	r := &Redactor{}
	r.AddConfig(cfg, getenv)
	return r
}

// Of returns a redactor of the given secret values (tests, and secrets learnt at run time).
func Of(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// AddConfig adds the secrets that cfg and the standard variables name (the CLI builds its
// logger before it reads the config, then adds the config's).
func (r *Redactor) AddConfig(cfg *config.Config, getenv func(string) string) {
	var vals []string
	for _, name := range EnvNames(cfg) {
		vals = append(vals, getenv(name))
	}
	r.Add(vals...)
}

// Add adds secret values, with their derived forms (empty and short values are ignored).
func (r *Redactor) Add(secrets ...string) {
	var forms []string
	for _, s := range secrets {
		forms = append(forms, derived(s)...)
	}
	if len(forms) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.values == nil {
		r.values = map[string]bool{}
	}
	n := len(r.values)
	for _, f := range forms {
		r.values[f] = true
	}
	if len(r.values) == n {
		return
	}
	all := make([]string, 0, len(r.values))
	for v := range r.values {
		all = append(all, v)
	}
	// Longest first: a whole URL is replaced before one of its segments can be.
	slices.SortFunc(all, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(all))
	r.sorted = r.sorted[:0]
	for _, v := range all {
		pairs = append(pairs, v, Mark)
		r.sorted = append(r.sorted, []byte(v))
	}
	r.rep = strings.NewReplacer(pairs...)
}

// derived is s and the forms it takes in URLs, HTML, JSON, base64 and mail credentials.
func derived(s string) []string {
	if len(s) < minLen {
		return nil
	}
	out := []string{s, url.QueryEscape(s), url.PathEscape(s), html.EscapeString(s), base64.StdEncoding.EncodeToString([]byte(s))}
	if b, err := json.Marshal(s); err == nil {
		out = append(out, string(b[1:len(b)-1]))
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
		if pw, ok := u.User.Password(); ok && len(pw) >= minLen {
			user := u.User.Username()
			out = append(out, derived(pw)...)
			out = append(out,
				base64.StdEncoding.EncodeToString([]byte(user+":"+pw)),           // HTTP Basic
				base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pw)), // SMTP AUTH PLAIN
			)
		}
		for _, seg := range strings.Split(u.Path, "/") {
			if tokenLike(seg) {
				out = append(out, seg, url.PathEscape(seg))
			}
		}
		for _, vs := range u.Query() {
			for _, v := range vs {
				if tokenLike(v) {
					out = append(out, v, url.QueryEscape(v))
				}
			}
		}
	}
	var keep []string
	for _, f := range out {
		if len(f) >= minLen {
			keep = append(keep, f)
		}
	}
	return keep
}

// tokenLike says whether a path segment or query value of a secret URL looks like a key rather
// than a word: "T0123ABCD" and a 24-letter token do, "services" and "v2" do not.
func tokenLike(s string) bool {
	if len(s) >= 16 {
		return true
	}
	if len(s) < 8 {
		return false
	}
	return strings.IndexFunc(s, unicode.IsDigit) >= 0
}

func (r *Redactor) replacer() (*strings.Replacer, [][]byte) {
	if r == nil {
		return nil, nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.rep, r.sorted
}

// urlInText finds URLs inside text, such as the one net/http puts in a *url.Error.
var urlInText = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>…]+`)

// String is s with every known secret replaced by Mark and every URL's credentials removed
// (see URL): for log lines, error messages and messages stored in data/. A secret cut short
// (a long answer quoted up to "…", or a message cut at its end) loses what is left of it too.
func (r *Redactor) String(s string) string {
	if rep, values := r.replacer(); rep != nil {
		s = rep.Replace(s)
		s = cutSecrets(s, values, true)
	}
	if strings.Contains(s, "://") {
		s = urlInText.ReplaceAllStringFunc(s, URL)
	}
	return s
}

// Bytes is b with every known secret replaced by Mark, for a built page. URLs are left alone: a
// page's links are its content, and the config refuses URLs with credentials.
func (r *Redactor) Bytes(b []byte) []byte {
	rep, values := r.replacer()
	// A page rarely holds a secret: looking for each one is several times faster than the
	// replacer's pass, which runs only when one is there.
	if rep == nil {
		return b
	}
	if !slices.ContainsFunc(values, func(v []byte) bool { return bytes.Contains(b, v) }) {
		if !bytes.Contains(b, ellipsis) {
			return b
		}
		return []byte(cutSecrets(string(b), values, false))
	}
	return []byte(cutSecrets(rep.Replace(string(b)), values, false))
}

// The shortest rest of a cut secret that is replaced: before "…" (a sign of a cut), and at the
// end of a message (a cut without a sign).
const (
	partialBeforeEllipsis = 6
	partialAtEnd          = 8
)

var ellipsis = []byte("…")

// cutSecrets replaces the start of a secret that a cut left right before "…" or, when atEnd,
// at the end of s: notify quotes 300 characters of an answer, and an echoed key may straddle
// the cut. Values that are URLs, with or without a scheme, are left to the URL rules.
func cutSecrets(s string, values [][]byte, atEnd bool) string {
	var ends []int // where a cut secret would end
	for i := 0; ; {
		j := strings.Index(s[i:], "…")
		if j < 0 {
			break
		}
		ends = append(ends, i+j)
		i += j + len("…")
	}
	if atEnd {
		ends = append(ends, len(s))
	}
	for k := len(ends) - 1; k >= 0; k-- { // from the end, so earlier offsets stay valid
		end, minLen := ends[k], partialBeforeEllipsis
		if end == len(s) && atEnd {
			minLen = partialAtEnd
		}
		if start := cutStart(s[:end], values, minLen); start >= 0 {
			s = s[:start] + Mark + s[end:]
		}
	}
	return s
}

// urlLike says whether a value is a URL, with or without its scheme ("hooks.slack.com/…"): its
// start is a public host, not a secret, and its secret path segments are values of their own.
func urlLike(v []byte) bool {
	if bytes.Contains(v, []byte("://")) {
		return true
	}
	host, _, found := bytes.Cut(v, []byte("/"))
	return found && bytes.Contains(host, []byte("."))
}

// cutStart returns where the longest start of a value (at least minLen bytes, shorter than the
// value) ends text, or -1.
func cutStart(text string, values [][]byte, minLen int) int {
	best := -1
	for _, v := range values {
		if len(v) <= minLen || urlLike(v) {
			continue
		}
		from := max(0, len(text)-len(v)+1)
		for i := from; i <= len(text)-minLen; i++ {
			if text[i] == v[0] && bytes.HasPrefix(v, []byte(text[i:])) {
				if best < 0 || i < best {
					best = i
				}
				break
			}
		}
	}
	return best
}

// Error is err with its message redacted by String; errors.Is and errors.As still see the
// chain. A nil err stays nil, and an error with nothing to hide is returned as it is.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := r.String(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// URL returns u without its user info, query and fragment, which is where tokens hide. Text
// that does not parse is replaced whole.
func URL(u string) string {
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

// Origin keeps only a secret URL's scheme and host, for a URL whose path is itself a secret (a
// webhook): "https://hooks.slack.com/[redacted]".
func Origin(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "[redacted URL]"
	}
	s := p.Scheme + "://" + p.Host
	if p.Path != "" && p.Path != "/" || p.RawQuery != "" {
		s += "/" + Mark
	}
	return s
}

// Handler returns a slog.Handler that redacts the message and every attribute (strings, errors,
// anything printed) with String before h sees them. Attributes given to WithAttrs are redacted
// with the secrets known at that moment.
func (r *Redactor) Handler(h slog.Handler) slog.Handler { return &handler{r: r, h: h} }

// Logger is l whose handler redacts (see Handler).
func (r *Redactor) Logger(l *slog.Logger) *slog.Logger { return slog.New(r.Handler(l.Handler())) }

type handler struct {
	r *Redactor
	h slog.Handler
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.r.attr(a))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.r.attr(a)
	}
	return &handler{r: h.r, h: h.h.WithAttrs(red)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{r: h.r, h: h.h.WithGroup(name)}
}

func (r *Redactor) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, r.String(v.String()))
	case slog.KindGroup:
		as := v.Group()
		red := make([]any, len(as))
		for i, g := range as {
			red[i] = r.attr(g)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		var s string
		if err, ok := v.Any().(error); ok {
			s = err.Error()
		} else {
			s = fmt.Sprint(v.Any())
		}
		if red := r.String(s); red != s {
			return slog.String(a.Key, red)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
