package databases

import (
	"github.com/go-databases/databases/internal/dsn"
	"net/url"
	"strings"
	"testing"
)

// TestURLWithOption: the option is added after the URL's own options, or
// replaces the one given (an alias included), with its value
// percent-encoded, and every other byte of the URL kept.
func TestURLWithOption(t *testing.T) {
	tests := []struct {
		url, name, value string
		want             string // "" with wantErr
		wantErr          string
	}{
		{"sqlite:///:memory:", "force_rollback", "true", "sqlite:///:memory:?force_rollback=true", ""},
		{"sqlite:///app.db?_pragma=foreign_keys(0)", "insights", "on", "sqlite:///app.db?_pragma=foreign_keys(0)&insights=on", ""},
		{"sqlite:////var/lib/my%20app/data.db", "txlock", "deferred", "sqlite:////var/lib/my%20app/data.db?txlock=deferred", ""},
		{"sqlite:///x.db?", "log", "debug", "sqlite:///x.db?log=debug", ""},
		{"sqlite:///x.db?log=info&", "log", "debug", "sqlite:///x.db?log=debug", ""},
		{"postgres://app:p%40ss%2Fw@db1:5432,db2:5433/shop?sslmode=disable", "force_rollback", "true",
			"postgres://app:p%40ss%2Fw@db1:5432,db2:5433/shop?sslmode=disable&force_rollback=true", ""},
		{"postgres://u@[::1]:5432/db?force_rollback=false&sslmode=disable", "force_rollback", "true",
			"postgres://u@[::1]:5432/db?force_rollback=true&sslmode=disable", ""},
		{"postgres://u@h/db?sslmode=disable", "sslmode", "require", "postgres://u@h/db?sslmode=require", ""},
		{"postgres://u@h/db", "application_name", "my app&x=1 ü", "postgres://u@h/db?application_name=my%20app%26x%3D1%20%C3%BC", ""}, // pgx keeps a "+" as "+",
		{"postgres:///db?host=/var/run/postgresql", "trace", "on", "postgres:///db?host=/var/run/postgresql&trace=on", ""},
		{"mysql://root@127.0.0.1:3306/test?parseTime=true", "insights", "on", "mysql://root@127.0.0.1:3306/test?parseTime=true&insights=on", ""},
		{"mysql://u@h1:3306,h2:3307,h3/db?max_size=4&load_balance_hosts=random", "max_open_conns", "8",
			"mysql://u@h1:3306,h2:3307,h3/db?max_open_conns=8&load_balance_hosts=random", ""},
		{"mysql://u@h/db?_txlock=deferred", "txlock", "immediate", "", "only SQLite"},
		{"mysql://app@db/shop?sql_mode='ANSI_QUOTES,NO_BACKSLASH_ESCAPES'", "stmt_cache", "0",
			"mysql://app@db/shop?sql_mode='ANSI_QUOTES,NO_BACKSLASH_ESCAPES'&stmt_cache=0", ""},
		{"mysql://u@/db?unix_socket=/run/mysqld/mysqld.sock", "parseTime", "true", "mysql://u@/db?unix_socket=/run/mysqld/mysqld.sock&parseTime=true", ""},
		{"", "force_rollback", "true", "", "empty URL"},
		{"postgres://u:hunter22@h:99999/db", "force_rollback", "true", "", "port"},
		{"postgres://u:hunter22@h/db", "force_rollback", "maybe", "", "option force_rollback"},
		{"postgres://u:hunter22@h/db", "", "x", "", "empty option name"},
		{"postgres://u:hunter22@h/db", "force_rolback", "true", "", "did you mean force_rollback"},
	}
	for _, tt := range tests {
		got, err := URLWithOption(tt.url, tt.name, tt.value)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("URLWithOption(%q, %q, %q) = %q, %v; want an error containing %q", tt.url, tt.name, tt.value, got, err, tt.wantErr)
			} else if strings.Contains(err.Error(), "hunter22") {
				t.Errorf("URLWithOption(%q, …): the error shows the password: %v", tt.url, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("URLWithOption(%q, %q, %q) = %q, %v; want %q", tt.url, tt.name, tt.value, got, err, tt.want)
		}
	}
}

// FuzzURLWithOption: on any URL the parser accepts, a result is a URL the
// parser accepts, with the same bytes up to the query, the option given
// once with the value asked for, and every other option as it was, in
// order; an error never shows the password.
func FuzzURLWithOption(f *testing.F) {
	f.Add("sqlite:///:memory:", "force_rollback", "true")
	f.Add("postgres://app:p%40ss@[::1]:5432,h2/db?sslmode=disable&max_size=3", "max_open_conns", "8")
	f.Add("mysql://root@127.0.0.1:3306/test?parseTime=true&&", "insights", "on")
	f.Add("mysql://u:pw@h/db?sql_mode='ANSI'", "application_name", "a&b=c d%")
	f.Add("sqlite:///a?b.db?log=info", "log", "debug")
	f.Fuzz(func(t *testing.T, raw, name, value string) {
		if _, err := dsn.Parse(raw); err != nil {
			return
		}
		got, err := URLWithOption(raw, name, value)
		if err != nil {
			if pw := passwordOf(raw); len(pw) >= 4 && strings.Contains(err.Error(), pw) {
				t.Fatalf("error shows the password %q: %v", pw, err)
			}
			return
		}
		if _, err := dsn.Parse(got); err != nil {
			t.Fatalf("URLWithOption(%q, %q, %q) = %q, which does not parse: %v", raw, name, value, got, err)
		}
		head, query, _ := strings.Cut(raw, "?")
		gotHead, gotQuery, ok := strings.Cut(got, "?")
		if !ok || gotHead != head {
			t.Fatalf("URLWithOption(%q, …) = %q: the part before the query changed", raw, got)
		}
		var others []string
		for p := range strings.SplitSeq(query, "&") {
			if k, _, _ := strings.Cut(p, "="); p != "" && !dsn.SameOption(unescape(k), name) {
				others = append(others, p)
			}
		}
		var set []string
		var gotOthers []string
		for p := range strings.SplitSeq(gotQuery, "&") {
			k, v, _ := strings.Cut(p, "=")
			if dsn.SameOption(unescape(k), name) {
				set = append(set, unescape(v))
			} else {
				gotOthers = append(gotOthers, p)
			}
		}
		if len(set) != 1 || set[0] != value {
			t.Fatalf("URLWithOption(%q, %q, %q) = %q: the option reads %q", raw, name, value, got, set)
		}
		if strings.Join(others, "&") != strings.Join(gotOthers, "&") {
			t.Fatalf("URLWithOption(%q, %q, %q) = %q: the other options changed", raw, name, value, got)
		}
	})
}

func unescape(s string) string {
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// passwordOf returns the decoded password of a server URL, or "".
func passwordOf(raw string) string {
	_, rest, _ := strings.Cut(raw, "://")
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(rest[:at], ":")
	return unescape(pw)
}
