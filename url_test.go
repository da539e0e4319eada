package databases

import (
	"fmt"
	"github.com/go-databases/databases/internal/dsn"
	"strconv"
	"strings"
	"testing"
)

// badURLs are URLs that must fail to open, with a fragment of the message.
// Every one carries the password "hunter2" where it can, which must never
// appear in the error.
var badURLs = []struct{ url, want string }{
	{"", "empty URL"},
	{"   ", "empty URL"},
	{"app.db", "missing scheme://"},
	{"hunter2@localhost/db", "missing scheme://"},
	{"oracle://u:hunter2@h/db", `unknown scheme "oracle"`},
	{"postgres+?password=hunter2://h/db", "what comes before :// is not a scheme"},
	{"?password=hunter2://h/db", "what comes before :// is not a scheme"},
	{"postgres+://u:hunter2@h/db", "empty driver name"},
	{"postgres+nosuch://u:hunter2@h/db", `no database/sql driver is registered as "nosuch"`},
	{"postgres+databases://u:hunter2@h/db", "cannot wrap itself"},
	{"postgres://u:hunter2@h:99999/db", `bad port "99999"`},
	{"postgres://u:hunter2@h:0/db", `bad port "0"`},
	{"postgres://u:hunter2@h:abc/db", `bad port "abc"`},
	{"postgres://u:hunter2@h:/db", `bad port ""`},
	{"postgres://u:hunter2@::1:5432/db", "must be written in brackets"},
	{"postgres://u:hunter2@[::1/db", "unclosed '['"},
	{"postgres://u:hunter2@[::1]x/db", "after IPv6 host"},
	{"postgres://u:hunt%zzer2@h/db", "invalid percent-escape in password"},
	{"postgres://u%zz:hunter2@h/db", "invalid percent-escape in user name"},
	{"postgres://u:hunter2@h/d%zzb", "invalid percent-escape in database name"},
	{"postgres://u:hunter2@h/db?sslmode=%zz", "option sslmode: invalid percent-escape"},
	{"postgres://u:hunter2@h/db#frag", "unexpected '#'"},
	{"postgres://u:hunter2@h/db?txlock=immediate", "only SQLite has transaction lock modes"},
	{"postgres://u:hunter2@h/db?ssl=maybe", `option ssl: "maybe" is not a boolean`},
	{"postgres://u:hunter2@h/db?ssl=true&sslmode=disable", "options ssl and sslmode both given"},
	{"postgres://u:hunter2@h/db?max_open_conns=-1", `option max_open_conns: "-1" is not a whole number`},
	{"postgres://u:hunter2@h/db?max_size=x", `option max_size: "x" is not a whole number`},
	{"postgres://u:hunter2@h/db?max_size=3&max_open_conns=4", "option max_open_conns given twice (also as max_size)"},
	{"postgres://u:hunter2@h/db?conn_max_lifetime=forever", `option conn_max_lifetime: "forever" is not a duration`},
	{"postgres://u:hunter2@h/db?placeholders=dollar", `option placeholders: "dollar" is not portable or native`},
	{"postgres://u:hunter2@h/db?sslmode=bogus", "rejected"},
	{"postgres://u:hunter2@h/db?log=loud", `option log: "loud" is not debug, info, warn, error or off`},
	{"postgres://u:hunter2@h/db?slow=fast", `option slow: "fast" is not a duration`},
	{"postgres://u:hunter2@h/db?leak_threshold=soon", `option leak_threshold: "soon" is not a duration such as 30s, nor off`},
	{"postgres://u:hunter2@h/db?leak_threshold=-1s", `option leak_threshold: "-1s" is not a duration`},
	{"postgres://u:hunter2@h/db?trace=maybe", `option trace: "maybe" is not a boolean`},
	{"postgres://u:hunter2@h/db?force_rollback=maybe", `option force_rollback: "maybe" is not a boolean`},
	{"postgres://u:hunter2@h/db?unix_socket=/tmp/s", "use ?host="},
	{"mysql://u:hunter2@h1,,h2/db", `empty host 2 of 3 in the host list "h1,,h2"`},
	{"mysql://u:hunter2@h1,h2,/db", `empty host 3 of 3 in the host list "h1,h2,"`},
	{"mysql://u:hunter2@h1,:3307/db", "host 2 of 2 in the host list \"h1,:3307\" has a port but no name"},
	{"mysql://u:hunter2@h1,h2:x/db", `bad port "x" in host "h2:x"`},
	{"mysql://u:hunter2@h1,H1:3306/db", `host H1:3306 given twice in the host list "h1,H1:3306"`},
	{"postgres://u:hunter2@h1:5432,h1/db", `host h1:5432 given twice in the host list "h1:5432,h1"`},
	{"postgres://u:hunter2@h1,,h2/db", `empty host 2 of 3 in the host list`},
	{"mysql://u:hunter2@h1,h2/db?target_session_attrs=writable", `option target_session_attrs: "writable" is not any, read-write, read-only, primary, standby or prefer-standby`},
	{"postgres://u:hunter2@h1,h2/db?target_session_attrs=master", `option target_session_attrs: "master" is not any`},
	{"mysql://u:hunter2@h1,h2/db?load_balance_hosts=roundrobin", `option load_balance_hosts: "roundrobin" is not disable or random`},
	{"postgres://u:hunter2@h1,h2/db?load_balance_hosts=true", `option load_balance_hosts: "true" is not disable or random`},
	{"mysql://u:hunter2@h1,h2/db?connect_timeout=2s", `option connect_timeout: "2s" is not a whole number of seconds`},
	{"postgres://u:hunter2@h1,h2/db?connect_timeout=-1", `option connect_timeout: "-1" is not a whole number of seconds`},
	{"sqlite://h1,h2/app.db", "a SQLite URL has no host"},
	{"postgres+pq://u:hunter2@h1,h2/db?load_balance_hosts=random", `option load_balance_hosts: databases picks the hosts of a PostgreSQL list only through pgx, not the driver "postgres"`},
	{"sqlite:///app.db?load_balance_hosts=random", "option load_balance_hosts: SQLite has no server hosts"},
	{"sqlite:///app.db?target_session_attrs=read-write", "option target_session_attrs: SQLite has no server hosts"},
	{"sqlite:///app.db?connect_timeout=3", "option connect_timeout: SQLite has no server hosts"},
	{"mysql://u:hunter2@h/db?parseTime=maybe", "rejected"},
	{"mysql://u:hunter2@h/db?ssl=true&tls=false", "options ssl and tls both given"},
	{"mysql://u:hunter2@h/db?unix_socket=relative", "not an absolute socket path"},
	{"mysql://u:hunter2@h/db?unix_socket=/s", "also names host"},
	{"mysql://u:hunter2@h/a%2Fb", "contains '/'"},
	{"sqlite://u:hunter2@host/app.db", "has no host or user"},
	{"sqlite://u:x?_hunter2@host/app.db", "has no host or user"},
	{"postgres://app:Zx9/hunter2@db.internal:5432/shop", "unescaped '@' at offset 26, after the host"},
	{"postgres://app:hunter2/x@db.internal:5432/shop", "percent-encode '/', '?', '#' and '@'"},
	{"mysql://app:hunter2?Qp2@db.internal/shop", "unescaped '@' at offset 23"},
	{"mysql://app:Zx9?hunter2@db.internal/shop", "unescaped '@'"},
	{"postgres://ap/hunter2@db.internal/shop", "unescaped '@'"},
	{"postgres://app/x:hunter2@db.internal/shop", "unescaped '@'"},
	{"postgres://u@h/db?password=hunter2&force_rolback=true", `unknown option "force_rolback"; did you mean force_rollback?`},
	{"postgres://u@h/db?pass%77ord=hunter2&ssl=maybe", `option ssl: "maybe" is not a boolean`},
	{"postgres://u@h/db?pass%77ord=hunter2&sslmode=bogus", "rejected"},
	{"postgres://u@h/db?Password=hunter2&sslmode=disable", `unknown option "Password"; did you mean password?`},
	{"postgres://u:hunter2@h/db?sslmod=disable", `unknown option "sslmod"; did you mean sslmode?`},
	{"postgres://u:hunter2@h/db?SSLMODE=disable", "did you mean sslmode?"},
	{"postgres://u:hunter2@h/db?target_sesion_attrs=any", "did you mean target_session_attrs?"},
	{"postgres://u:hunter2@h/db?statement_cache_capacty=0", "did you mean statement_cache_capacity?"},
	{"mysql://u:hunter2@h/db?parseTim=true", `unknown option "parseTim"; did you mean parseTime?`},
	{"mysql://u:hunter2@h/db?parsetime=true", "did you mean parseTime?"},
	{"mysql://u:hunter2@h/db?readTimout=1s", "did you mean readTimeout?"},
	{"mysql://u:hunter2@h/db?interpolateParam=true", "did you mean interpolateParams?"},
	{"postgres://u:hunter2@h/db?plaecholders=native", "did you mean placeholders?"},
	{"mysql://u:hunter2@h/db?LOG=debug", `unknown option "LOG"; did you mean log?`},
	{"mysql://u:hunter2@h/db?slwo=1s", "did you mean slow?"},
	{"sqlite:///app.db?_pargma=foreign_keys(0)", `unknown option "_pargma"; did you mean _pragma?`},
	{"sqlite:///app.db?busy_timout=1", `unknown option "busy_timout"; did you mean _busy_timeout?`},
	{"sqlite:///app.db?busy_timeout=1", "did you mean _busy_timeout?"},
	{"sqlite:///app.db?_nonsense=1", `unknown option "_nonsense": modernc.org/sqlite reads _pragma, _busy_timeout`},
	{"sqlite:///app.db?_txlok=immediate", "did you mean _txlock?"},
	{"sqlite://", "missing database file"},
	{"sqlite:///", "missing database file"},
	{"sqlite:///app.db?ssl=true", "SQLite has no network connection"},
	{"sqlite:///app.db?txlock=eventually", `"eventually" is not deferred, immediate or exclusive`},
	{"sqlite:///app.db?txlock=immediate&_txlock=deferred", "option _txlock given twice (also as txlock)"},
	{"mysql://u:hunter2@h/db?autocommit=0", "option autocommit: databases keeps MySQL in autocommit"},
	{"sqlite:///app.db?max_open_conns=3", "needs databases.Open"},
}

func TestBadURLs(t *testing.T) {
	for _, tt := range badURLs {
		t.Run(tt.url, func(t *testing.T) {
			_, err := NewConnector(tt.url)
			if err == nil {
				t.Fatal("opened; want an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q\ndoes not contain %q", msg, tt.want)
			}
			if strings.Contains(msg, "hunter2") {
				t.Errorf("error shows the password: %q", msg)
			}
			if !strings.HasPrefix(msg, "databases: ") {
				t.Errorf("error %q lacks the package prefix", msg)
			}
		})
	}
}

// TestSQLiteShorthandReplacesDefault checks that modernc's shorthand
// options for busy_timeout, foreign_keys and journal_mode take effect: the
// package's default for the same PRAGMA, a _pragma that modernc runs after
// them, would otherwise undo them.
func TestSQLiteShorthandReplacesDefault(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ url, pragma, want string }{
		{"sqlite:///:memory:?_busy_timeout=123", "busy_timeout", "123"},
		{"sqlite:///:memory:?_timeout=77", "busy_timeout", "77"},
		{"sqlite:///:memory:", "busy_timeout", "5000"},
		{"sqlite:///:memory:?_fk=0", "foreign_keys", "0"},
		{"sqlite:///:memory:?_foreign_keys=false", "foreign_keys", "0"},
		{"sqlite:///" + dir + "/a.db?_journal_mode=DELETE", "journal_mode", "delete"},
		{"sqlite:///" + dir + "/b.db?_journal=TRUNCATE", "journal_mode", "truncate"},
		{"sqlite:///" + dir + "/c.db", "journal_mode", "wal"},
	}
	for _, tt := range tests {
		db, err := Open(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := db.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if got != tt.want {
			t.Errorf("%s: PRAGMA %s = %s; want %s", tt.url, tt.pragma, got, tt.want)
		}
	}
}

// TestMalformedUserInfoNeverShown opens URLs whose user info has an
// unescaped '/', '?' or '#', and URLs with secrets in password-like query
// options, and checks that no part of the secrets is in the error, in
// RedactURL, or in the printed connector.
func TestMalformedUserInfoNeverShown(t *testing.T) {
	tests := []struct {
		url     string
		secrets []string
	}{
		{"postgres://app:Zx9/Qp2@db.internal:5432/shop", []string{"Zx9", "Qp2"}},
		{"mysql://app:Zx9?Qp2@db.internal/shop", []string{"Zx9", "Qp2"}},
		{"mysql://app:Zx9#Qp2@db.internal/shop", []string{"Zx9", "Qp2"}},
		{"postgres://a/Zx9:Qp2@db.internal/shop", []string{"Zx9", "Qp2"}},
		{"postgres://Zx9/Qp2@db.internal:5432/shop", []string{"Zx9", "Qp2"}},
		{"postgres://app:Zx9%2FQp2/Kw4@db.internal/shop", []string{"Zx9", "Qp2", "Kw4"}},
		{"mysql://app:1234?Zx9=Qp2@db.internal/shop", []string{"Zx9", "Qp2"}},
		{"sqlite://app:Zx9/Qp2@db.internal/shop.db", []string{"Zx9", "Qp2"}},
		{"sqlite://app:Zx9?_Qp2@db/shop.db", []string{"Zx9", "Qp2"}},
		{"oracle://app:Zx9/Qp2@db.internal/shop", []string{"Zx9", "Qp2"}},
		{"postgres://u@h/db?pass%77ord=Zx9Qp2&sslmode=bogus", []string{"Zx9Qp2"}},
		{"postgres://u@h/db?sslpassword=Zx9Qp2&sslmode=bogus", []string{"Zx9Qp2"}},
		{"postgres://u:Zx9%22Qp2@h/db?sslmode=bogus", []string{"Zx9", "Qp2"}},
		{"postgres://u:Zx9%5CQp2@h/db?connect_timeout=x", []string{"Zx9", "Qp2"}},
		{"mysql://u:Zx9Qp2@h/db?parseTime=maybe", []string{"Zx9Qp2"}},
		// An '@' in an option value, after user info: accepted, but the
		// password could run up to it, so no message quotes that far.
		{"mysql://u:Zx9Qp2@h/db?sql_mode=CONCAT(@@sql_mode,%27,ANSI_QUOTES%27)", []string{"Zx9Qp2", "CONCAT"}},
		{"mysql://u:Zx9@h/db?parseTime=Qp2@x", []string{"Zx9", "Qp2"}},
		{"mysql://u:Zx9@h/db?Qp2=%zz&x=a@b", []string{"Zx9", "Qp2"}},
		{"postgres://u:Zx9@h/db?sslmode=Qp2@x", []string{"Zx9", "Qp2"}},
		{"mysql://u:Zx9@h:Qp2/db?x=a@b", []string{"Zx9", "Qp2"}},
	}
	for _, tt := range tests {
		_, err := NewConnector(tt.url)
		if err == nil {
			t.Errorf("%s: opened; want an error", tt.url)
			continue
		}
		for _, shown := range []string{err.Error(), fmt.Sprintf("%+v", err), dsn.RedactURL(tt.url)} {
			for _, s := range tt.secrets {
				if strings.Contains(shown, s) {
					t.Errorf("%s: %q shows %q", tt.url, shown, s)
				}
			}
		}
	}
}

// couldBeCredentials marks the bytes of raw that could be credentials:
//   - between "://" (or the start) and the last '@', all but a first part
//     up to ':' with no '/', '?' or '#' in it (a user name), or all but the
//     whole of it when it has none of ":/?#"; nothing in the file path of a
//     SQLite URL (sqlite:///…);
//   - the value of a pair after any '?', or after an '&' that follows a '?',
//     up to the next '&', whose name, %-decoded, '+' read as a space,
//     trimmed and in lower case, contains pass, pwd, secret or token, or is
//     key or ends in _key.
func couldBeCredentials(raw string) []bool {
	marked := make([]bool, len(raw))
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 {
		start = i + 3
	}
	scheme, _, _ := strings.Cut(strings.ToLower(raw[:max(start-3, 0)]), "+")
	sqlitePath := start > 0 && start < len(raw) && raw[start] == '/' && (scheme == "sqlite" || scheme == "sqlite3")
	if at := strings.LastIndex(raw, "@"); at >= start && !sqlitePath {
		from := start
		user, _, hasColon := strings.Cut(raw[start:at], ":")
		if !strings.ContainsAny(user, "/?#") {
			from = start + len(user) + 1
			if !hasColon {
				from = at
			}
		}
		for i := from; i < at; i++ {
			marked[i] = true
		}
	}
	query := false
	for i := range raw {
		if raw[i] == '?' {
			query = true
		} else if raw[i] != '&' || !query {
			continue
		}
		rest := raw[i+1:]
		end := strings.Index(rest, "&")
		if end < 0 {
			end = len(rest)
		}
		eq := strings.Index(rest[:end], "=")
		if eq < 0 {
			continue
		}
		name := strings.ToLower(strings.TrimSpace(strings.ReplaceAll(lenientUnescape(rest[:eq]), "+", " ")))
		if strings.Contains(name, "pass") || strings.Contains(name, "pw") || strings.Contains(name, "word") || strings.Contains(name, "secret") ||
			strings.Contains(name, "token") || name == "key" || strings.HasSuffix(name, "_key") {
			for j := i + 1 + eq + 1; j < i+1+end; j++ {
				marked[j] = true
			}
		}
	}
	return marked
}

// lenientUnescape decodes the valid %XX escapes of s.
func lenientUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// checkStructure checks that RedactURL(raw) keeps every byte of raw but
// those that could be credentials, in order, and that an error quoting the
// URL quotes RedactURL(raw).
func checkStructure(t *testing.T, raw string) {
	t.Helper()
	redacted := dsn.RedactURL(raw)
	if !strings.Contains(raw, "*") {
		var kept strings.Builder
		for i, m := range couldBeCredentials(raw) {
			if !m {
				kept.WriteByte(raw[i])
			}
		}
		if got := strings.ReplaceAll(redacted, dsn.Mask, ""); got != kept.String() {
			t.Fatalf("RedactURL(%q) = %q: without its masks %q; want %q", raw, redacted, got, kept.String())
		}
	}
	_, err := newConnector(raw, &Driver{}, nil)
	if err == nil {
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "databases: ") {
		t.Fatalf("error without prefix: %v", err)
	}
	for _, marker := range []string{"bad URL ", " rejected "} {
		if i := strings.Index(msg, marker); i >= 0 {
			q, qerr := strconv.QuotedPrefix(msg[i+len(marker):])
			if qerr != nil {
				t.Fatalf("error %q: no quoted URL after %q", msg, marker)
			}
			if u, _ := strconv.Unquote(q); u != redacted {
				t.Fatalf("error %q quotes %q; want RedactURL's %q", msg, u, redacted)
			}
		}
	}
}

// canaryLetters replace the letters of credentials in canary: no message
// of this package or of a driver has two of them within three bytes, and
// none is a hex digit, so escapes stay as they are.
const canaryLetters = "ZqXjKvWz"

func isCanary(c byte) bool { return strings.IndexByte(canaryLetters, c) >= 0 }

// checkNoCanary opens raw and checks that no three letters or digits of
// its credentials, two of them canary letters, are shown together, unless
// raw has them outside its credentials too.
func checkNoCanary(t *testing.T, raw string) {
	t.Helper()
	marked := couldBeCredentials(raw)
	var secret, public []string
	var cur, pub strings.Builder
	for i := range raw {
		if marked[i] {
			cur.WriteByte(raw[i])
			pub.WriteByte(0)
			continue
		}
		pub.WriteByte(raw[i])
		if cur.Len() > 0 {
			secret = append(secret, cur.String())
			cur.Reset()
		}
	}
	if cur.Len() > 0 {
		secret = append(secret, cur.String())
	}
	public = append(public, pub.String())
	var windows []string
	for _, s := range secret {
		for _, form := range []string{s, lenientUnescape(s), strings.ReplaceAll(lenientUnescape(s), "+", " ")} {
			for i := 0; i+3 <= len(form); i++ {
				// Letters and digits only: a quote or a backslash next to
				// canary letters could come from quoting the public text.
				w := form[i : i+3]
				n, alnum := 0, true
				for j := range 3 {
					c := w[j]
					if isCanary(c) {
						n++
					}
					alnum = alnum && (c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z')
				}
				if n >= 2 && alnum && !strings.Contains(public[0], w) {
					windows = append(windows, w)
				}
			}
		}
	}
	if len(windows) == 0 {
		return
	}
	shown := []string{dsn.RedactURL(raw)}
	c, err := newConnector(raw, &Driver{}, nil)
	if err != nil {
		shown = append(shown, err.Error())
	} else {
		shown = append(shown, fmt.Sprintf("%v|%+v|%#v|%s", c, c, c, c), c.db.URL)
	}
	for _, s := range shown {
		for _, w := range windows {
			if strings.Contains(s, w) {
				t.Fatalf("%q shows %q of the credentials of %q", s, w, raw)
			}
		}
	}
}

// FuzzParseURL checks, for every input, that parsing does not panic and
// that whatever could be credentials is never shown.
//
// What could be credentials is defined by couldBeCredentials, written apart
// from RedactURL: in the user info, everything between "://" and the last
// '@' but a leading user name, and the value of every query option whose
// decoded name looks like a secret. On the input as given, RedactURL must
// mask exactly those bytes, and an error that quotes the URL must quote
// RedactURL's. Then the same input with every letter of those bytes
// replaced by canary letters (which no message contains) is opened: no run
// of the canary text may be in the error, RedactURL, or the printed
// connector, unless it is also outside the credentials of the input.
func FuzzParseURL(f *testing.F) {
	for _, tt := range badURLs {
		f.Add(tt.url)
	}
	f.Add("postgres://app:s%40cret@db.internal:6432/shop?sslmode=disable")
	f.Add("mysql://root:pw@[::1]:3306/test?parseTime=true")
	f.Add("sqlite:///:memory:?_pragma=foreign_keys(0)")
	f.Add("postgres://app:Zx9/Qp2@db.internal:5432/shop")
	f.Add("mysql://app:Zx9?Qp2@db.internal/shop")
	f.Add("postgres://u@h/db?pass%77ord=x&sslmode=bogus")
	f.Fuzz(func(t *testing.T, raw string) {
		checkStructure(t, raw)
		checkNoCanary(t, canary(raw))
	})
}

// canary returns raw with each ASCII letter that could be credentials, and
// is not in a %XX escape, replaced by a canary letter.
func canary(raw string) string {
	b := []byte(raw)
	for i, m := range couldBeCredentials(raw) {
		c := b[i]
		inEscape := i >= 1 && b[i-1] == '%' || i >= 2 && b[i-2] == '%'
		if m && !inEscape && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b[i] = canaryLetters[i%len(canaryLetters)]
		}
	}
	return string(b)
}
