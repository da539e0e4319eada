package dsn

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// This file keeps credentials out of everything the package shows: URLs in
// messages, logs and spans (RedactURL), messages of the real driver
// (Config.RedactMessage), and the printed form of values that hold a URL or
// a driver configuration (connector).

// Mask replaces every secret in what the package shows.
const Mask = "***"

// RedactURL is databases.RedactURL, whose doc says what it masks.
func RedactURL(raw string) string {
	spans := secretSpans(raw)
	if len(spans) == 0 {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw))
	last := 0
	for _, s := range spans {
		b.WriteString(raw[last:s.start])
		b.WriteString(Mask)
		last = s.end
	}
	b.WriteString(raw[last:])
	return b.String()
}

// span is a byte range [start, end) of a URL.
type span struct{ start, end int }

// secretSpans returns the sorted, disjoint ranges of raw that RedactURL
// masks. An empty range stands for an empty password, masked all the same.
func secretSpans(raw string) []span {
	var spans []span
	if s, ok := userInfoSpan(raw); ok {
		spans = append(spans, s)
	}
	query := false // after the first '?', where '&' separates options
	for i := 0; i < len(raw); i++ {
		if raw[i] == '?' {
			query = true
		} else if raw[i] != '&' || !query {
			continue
		}
		pair := raw[i+1:]
		if j := strings.IndexByte(pair, '&'); j >= 0 {
			pair = pair[:j]
		}
		key, val, ok := strings.Cut(pair, "=")
		if ok && (secretKey(key) || replicaUserInfo(key, val)) {
			start := i + 1 + len(key) + 1
			spans = append(spans, span{start, i + 1 + len(pair)})
		}
	}
	if len(spans) < 2 {
		return spans
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	merged := spans[:1]
	for _, s := range spans[1:] {
		last := &merged[len(merged)-1]
		if s.start <= last.end {
			last.end = max(last.end, s.end)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// replicaUserInfo reports whether an option is a replicas list with an @
// in it, written or percent-encoded: a user:password@ there is refused
// (setReplicas), and masked whole in the meantime.
func replicaUserInfo(key, val string) bool {
	return strings.EqualFold(key, "replicas") && (strings.Contains(val, "@") || strings.Contains(strings.ToLower(val), "%40"))
}

// userInfoSpan returns the part of raw's user info that could be secret:
// from "://" (or the start) to the last '@', after a plain user name and
// its ':'. ok is false when raw has no user info.
func userInfoSpan(raw string) (s span, ok bool) {
	start := 0
	scheme := ""
	if i := strings.Index(raw, "://"); i >= 0 {
		start, scheme = i+3, strings.ToLower(raw[:i])
	}
	at := strings.LastIndexByte(raw, '@')
	if at < start {
		return span{}, false
	}
	if base, _, _ := strings.Cut(scheme, "+"); Schemes[base] == SQLite && raw[start] == '/' {
		return span{}, false // sqlite:///path: the '@' is in the file path
	}
	info := raw[start:at]
	colon := strings.IndexByte(info, ':')
	switch {
	case colon >= 0 && !strings.ContainsAny(info[:colon], "/?#"):
		return span{start + colon + 1, at}, true // user:password@
	case colon < 0 && !strings.ContainsAny(info, "/?#"):
		return span{}, false // a user name alone
	}
	return span{start, at}, true
}

// secretKey reports whether a query option name, as written in the URL,
// names a secret. It is decoded the way any driver might (%XX, '+' as a
// space, surrounding spaces trimmed) and compared in lower case, so that
// pass%77ord and Password count. password_file names a file, not a
// secret, and is shown so that messages can say which file.
func secretKey(rawKey string) bool {
	k := strings.ToLower(strings.TrimSpace(decodeLenient(rawKey, true)))
	if k == "password_file" {
		return false
	}
	for _, s := range []string{"pass", "pwd", "secret", "token"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return k == "key" || strings.HasSuffix(k, "_key")
}

// decodeLenient percent-decodes s, keeping malformed escapes as written,
// and with plus reads '+' as a space.
func decodeLenient(s string, plus bool) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case c == '+' && plus:
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f'
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return (c | 0x20) - 'a' + 10
}

// secretsOf returns the texts a message of the real driver could show of
// raw's secrets: each masked range as written and decoded, longest first.
func secretsOf(raw string) []string {
	var out []string
	for _, s := range secretSpans(raw) {
		text := raw[s.start:s.end]
		if text == "" {
			continue
		}
		out = append(out, text)
		// Decoded as a query value ('+' is a space) and as a path.
		out = append(out, decodeLenient(text, true), decodeLenient(text, false))
	}
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	return slices.Compact(out)
}

// DriverError wraps an error the real driver gave for the DSN. Its message
// never shows the password; errors.As still reaches the driver's error.
//
// Of a URL with an '@' after the host (cfg.Ambiguous) the message is not
// shown at all: RedactURL masks everything up to that '@', and the driver
// could quote any part of it, unquoted as go-sql-driver does.
func (cfg *Config) DriverError(err error) error {
	msg := cfg.RedactMessage(err.Error())
	if cfg.Ambiguous {
		msg = "its message is not shown, since it could quote part of the password: with an '@' after the host, the password could run up to that '@'; percent-encode '@' in option values as %40"
	}
	return &redactedError{msg: fmt.Sprintf("databases: %s driver %q rejected %q: %s", cfg.Dialect, cfg.DriverName, cfg.Redacted, msg), err: err}
}

// RedactMessage removes the URL's secrets from a message of the real
// driver: the DSN it was given, quoted or not, becomes the masked URL, and
// every secret text (as written, decoded, and as Go would quote it) becomes
// "***".
func (cfg *Config) RedactMessage(msg string) string {
	if cfg.DSN != "" {
		msg = strings.ReplaceAll(msg, cfg.DSN, cfg.Redacted)
		if q := strconv.Quote(cfg.DSN); q[1:len(q)-1] != cfg.DSN {
			msg = strings.ReplaceAll(msg, q[1:len(q)-1], cfg.Redacted)
		}
	}
	for _, s := range cfg.secrets {
		msg = strings.ReplaceAll(msg, s, Mask)
		if q := strconv.Quote(s); q[1:len(q)-1] != s {
			msg = strings.ReplaceAll(msg, q[1:len(q)-1], Mask)
		}
	}
	return msg
}

// redactedError is an error of the real driver under a message without
// secrets.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
