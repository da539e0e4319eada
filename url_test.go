package databases

import (
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url                  string
		dialect, driver, dsn string
		host                 string
		port                 int
		database             string
		memory, native       bool
	}{
		{url: "sqlite:///app.db", dialect: "sqlite", driver: "sqlite", database: "app.db",
			dsn: "file:app.db?_pragma=busy_timeout%285000%29&_pragma=foreign_keys%281%29&_pragma=journal_mode%28WAL%29"},
		{url: "sqlite:////abs/path.db", dialect: "sqlite", driver: "sqlite", database: "/abs/path.db",
			dsn: "file:/abs/path.db?_pragma=busy_timeout%285000%29&_pragma=foreign_keys%281%29&_pragma=journal_mode%28WAL%29"},
		{url: "sqlite3:///dir%20x/a%3Fb.db?mode=ro", dialect: "sqlite", driver: "sqlite", database: "dir x/a?b.db",
			dsn: "file:dir x/a%3fb.db?mode=ro&_pragma=busy_timeout%285000%29&_pragma=foreign_keys%281%29&_pragma=journal_mode%28WAL%29"},
		{url: "sqlite:///app.db?_pragma=busy_timeout(100)&_pragma=journal_mode(DELETE)&txlock=immediate", dialect: "sqlite", driver: "sqlite", database: "app.db",
			dsn: "file:app.db?_pragma=busy_timeout(100)&_pragma=journal_mode(DELETE)&_pragma=foreign_keys%281%29"},
		{url: "sqlite:///:memory:", dialect: "sqlite", driver: "sqlite", database: ":memory:", memory: true},
		{url: "sqlite+sqlite3:///x.db", dialect: "sqlite", driver: "sqlite3", database: "x.db",
			dsn: "file:x.db?_pragma=busy_timeout%285000%29&_pragma=foreign_keys%281%29&_pragma=journal_mode%28WAL%29"},
		{url: "postgres://app:s%40cret@db.internal:6432/shop?sslmode=disable&application_name=x", dialect: "postgres", driver: "pgx",
			host: "db.internal", port: 6432, database: "shop",
			dsn: "postgres://app:s%40cret@db.internal:6432/shop?sslmode=disable&application_name=x"},
		{url: "postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write", dialect: "postgres", driver: "pgx",
			host: "h1", port: 5432, database: "db",
			dsn: "postgres://u@h1:5432,h2:5433/db?target_session_attrs=read-write"},
		{url: "postgres://u@[::1]:5432/db", dialect: "postgres", driver: "pgx", host: "::1", port: 5432, database: "db",
			dsn: "postgres://u@[::1]:5432/db"},
		{url: "postgres:///db?host=/var/run/postgresql", dialect: "postgres", driver: "pgx", database: "db",
			dsn: "postgres:///db?host=/var/run/postgresql"},
		{url: "postgres://u@h/db?ssl=true&placeholders=native", dialect: "postgres", driver: "pgx", host: "h", database: "db", native: true,
			dsn: "postgres://u@h/db?sslmode=require"},
		{url: "postgres+pq://u@h/db", dialect: "postgres", driver: "postgres", host: "h", database: "db", dsn: "postgres://u@h/db"},
		{url: "mysql://root:p%2Fw@127.0.0.1:3306/test?parseTime=true&loc=UTC", dialect: "mysql", driver: "mysql",
			host: "127.0.0.1", port: 3306, database: "test", dsn: "root:p/w@tcp(127.0.0.1:3306)/test?parseTime=true&loc=UTC&autocommit=1"},
		{url: "mariadb://root@[::1]/test?ssl=false", dialect: "mysql", driver: "mysql", host: "::1", database: "test",
			dsn: "root@tcp([::1])/test?tls=false&autocommit=1"},
		{url: "mysql://root@/test?unix_socket=/run/mysqld/mysqld.sock", dialect: "mysql", driver: "mysql", database: "test",
			dsn: "root@unix(/run/mysqld/mysqld.sock)/test?autocommit=1"},
		{url: "MySQL://root@h/test?interpolateParams=true", dialect: "mysql", driver: "mysql", host: "h", database: "test",
			dsn: "root@tcp(h)/test?interpolateParams=true&autocommit=1"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			cfg, err := parseURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.dialect.name != tt.dialect || cfg.driverName != tt.driver {
				t.Errorf("dialect, driver = %s, %s; want %s, %s", cfg.dialect.name, cfg.driverName, tt.dialect, tt.driver)
			}
			if tt.dsn != "" && cfg.dsn != tt.dsn {
				t.Errorf("dsn =\n %s\nwant\n %s", cfg.dsn, tt.dsn)
			}
			if cfg.host != tt.host || cfg.port != tt.port || cfg.database != tt.database {
				t.Errorf("host, port, database = %q, %d, %q; want %q, %d, %q", cfg.host, cfg.port, cfg.database, tt.host, tt.port, tt.database)
			}
			if cfg.memory != tt.memory || cfg.native != tt.native {
				t.Errorf("memory, native = %v, %v; want %v, %v", cfg.memory, cfg.native, tt.memory, tt.native)
			}
		})
	}
}

func TestParseURLMemoryIsPrivatePerConnector(t *testing.T) {
	a, err := parseURL("sqlite:///:memory:")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := parseURL("sqlite:///:memory:")
	if a.dsn == b.dsn || !strings.HasPrefix(a.dsn, "file:/databases-memory-") || !strings.Contains(a.dsn, "vfs=memdb") {
		t.Fatalf("dsns %q and %q: want two distinct memdb names", a.dsn, b.dsn)
	}
	if strings.Contains(a.dsn, "journal_mode") {
		t.Errorf("dsn %q sets a journal mode on a memory database", a.dsn)
	}
}

func TestParseURLPoolOptions(t *testing.T) {
	cfg, err := parseURL("postgres://h/db?max_size=20&min_size=5&conn_max_lifetime=5m&conn_max_idle_time=30s&sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.pool
	if *p.maxOpen != 20 || *p.maxIdle != 5 || *p.maxLifetime != 5*time.Minute || *p.maxIdleTm != 30*time.Second {
		t.Fatalf("pool = %d %d %v %v", *p.maxOpen, *p.maxIdle, *p.maxLifetime, *p.maxIdleTm)
	}
	if cfg.dsn != "postgres://h/db?sslmode=disable" {
		t.Errorf("dsn = %q: pool options must not reach the driver", cfg.dsn)
	}
}

// badURLs are URLs that must fail to open, with a fragment of the message.
// Every one carries the password "hunter2" where it can, which must never
// appear in the error.
var badURLs = []struct{ url, want string }{
	{"", "empty URL"},
	{"   ", "empty URL"},
	{"app.db", "missing scheme://"},
	{"hunter2@localhost/db", "missing scheme://"},
	{"oracle://u:hunter2@h/db", `unknown scheme "oracle"`},
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
	{"postgres://u:hunter2@h/db?ssl=maybe", `option ssl: "maybe" is not true or false`},
	{"postgres://u:hunter2@h/db?ssl=true&sslmode=disable", "options ssl and sslmode both given"},
	{"postgres://u:hunter2@h/db?max_open_conns=-1", `option max_open_conns: "-1" is not a whole number`},
	{"postgres://u:hunter2@h/db?max_size=x", `option max_size: "x" is not a whole number`},
	{"postgres://u:hunter2@h/db?max_size=3&max_open_conns=4", "option max_open_conns given twice (also as max_size)"},
	{"postgres://u:hunter2@h/db?conn_max_lifetime=forever", `option conn_max_lifetime: "forever" is not a duration`},
	{"postgres://u:hunter2@h/db?placeholders=dollar", `option placeholders: "dollar" is not portable or native`},
	{"postgres://u:hunter2@h/db?sslmode=bogus", "rejected"},
	{"postgres://u:hunter2@h/db?log=loud", `option log: "loud" is not debug, info, warn, error or off`},
	{"postgres://u:hunter2@h/db?slow=fast", `option slow: "fast" is not a duration`},
	{"postgres://u:hunter2@h/db?trace=maybe", `option trace: "maybe" is not on or off`},
	{"postgres://u:hunter2@h/db?force_rollback=maybe", `option force_rollback: "maybe" is not true or false`},
	{"postgres://u:hunter2@h/db?unix_socket=/tmp/s", "use ?host="},
	{"mysql://u:hunter2@h1,h2/db", "MySQL takes one host"},
	{"mysql://u:hunter2@h/db?parseTime=maybe", "rejected"},
	{"mysql://u:hunter2@h/db?ssl=true&tls=false", "options ssl and tls both given"},
	{"mysql://u:hunter2@h/db?unix_socket=relative", "not an absolute socket path"},
	{"mysql://u:hunter2@h/db?unix_socket=/s", "also names host"},
	{"mysql://u:hunter2@h/a%2Fb", "contains '/'"},
	{"sqlite://u:hunter2@host/app.db", "has no host or user"},
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

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://app:secret@db.internal/shop", "postgres://app:***@db.internal/shop"},
		{"postgres://app@db.internal/shop", "postgres://app@db.internal/shop"},
		{"mysql://root:p@ss@h/db", "mysql://root:***@h/db"},
		{"postgres://h/db?user=u&password=secret&sslmode=disable", "postgres://h/db?user=u&password=***&sslmode=disable"},
		{"root:secret@tcp(h:3306)/db", "root:***@tcp(h:3306)/db"},
		{"sqlite:///app.db", "sqlite:///app.db"},
		{"postgres://u:a:b@h/db", "postgres://u:***@h/db"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzParseURL checks that no input panics the parser, that an error never
// shows the password, and that a parsed URL redacts to a string without it.
func FuzzParseURL(f *testing.F) {
	for _, tt := range badURLs {
		f.Add(tt.url)
	}
	f.Add("postgres://app:s%40cret@db.internal:6432/shop?sslmode=disable")
	f.Add("mysql://root:pw@[::1]:3306/test?parseTime=true")
	f.Add("sqlite:///:memory:?_pragma=foreign_keys(0)")
	f.Fuzz(func(t *testing.T, raw string) {
		cfg, err := parseURL(raw)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "databases: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if cfg.rawPassword != "" {
			// The user info must read user:***@; the same text elsewhere
			// (a database named after the password) is not the password.
			start := strings.Index(raw, "://") + 3
			colon := start + strings.IndexByte(raw[start:], ':')
			if want := raw[:colon+1] + "***@"; !strings.HasPrefix(cfg.redacted, want) {
				t.Fatalf("redacted %q does not start with %q", cfg.redacted, want)
			}
		}
		if cfg.dsn == "" {
			t.Fatalf("parsed %q to an empty DSN", raw)
		}
	})
}
