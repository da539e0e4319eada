package dsn

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
		{url: "SQLite+MyLite:///x.db", dialect: "sqlite", driver: "MyLite", database: "x.db",
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
			dsn: "root@tcp([::1])/test?tls=false&autocommit=1&parseTime=true"},
		{url: "mysql://root@/test?unix_socket=/run/mysqld/mysqld.sock", dialect: "mysql", driver: "mysql", database: "test",
			dsn: "root@unix(/run/mysqld/mysqld.sock)/test?autocommit=1&parseTime=true"},
		{url: "MySQL://root@h/test?interpolateParams=true", dialect: "mysql", driver: "mysql", host: "h", database: "test",
			dsn: "root@tcp(h)/test?interpolateParams=true&autocommit=1&parseTime=true"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			cfg, err := Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Dialect.Name != tt.dialect || cfg.DriverName != tt.driver {
				t.Errorf("dialect, driver = %s, %s; want %s, %s", cfg.Dialect.Name, cfg.DriverName, tt.dialect, tt.driver)
			}
			if tt.dsn != "" && cfg.DSN != tt.dsn {
				t.Errorf("dsn =\n %s\nwant\n %s", cfg.DSN, tt.dsn)
			}
			if cfg.Host != tt.host || cfg.Port != tt.port || cfg.Database != tt.database {
				t.Errorf("host, port, database = %q, %d, %q; want %q, %d, %q", cfg.Host, cfg.Port, cfg.Database, tt.host, tt.port, tt.database)
			}
			if cfg.Memory != tt.memory || cfg.Native != tt.native {
				t.Errorf("memory, native = %v, %v; want %v, %v", cfg.Memory, cfg.Native, tt.memory, tt.native)
			}
		})
	}
}

func TestParseURLMemoryIsPrivatePerConnector(t *testing.T) {
	a, err := Parse("sqlite:///:memory:")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Parse("sqlite:///:memory:")
	if a.DSN == b.DSN || !strings.HasPrefix(a.DSN, "file:/databases-memory-") || !strings.Contains(a.DSN, "vfs=memdb") {
		t.Fatalf("dsns %q and %q: want two distinct memdb names", a.DSN, b.DSN)
	}
	if strings.Contains(a.DSN, "journal_mode") {
		t.Errorf("dsn %q sets a journal mode on a memory database", a.DSN)
	}
}

func TestParseURLPoolOptions(t *testing.T) {
	cfg, err := Parse("postgres://h/db?max_size=20&min_size=5&conn_max_lifetime=5m&conn_max_idle_time=30s&sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Pool
	if *p.MaxOpen != 20 || *p.MaxIdle != 5 || *p.maxLifetime != 5*time.Minute || *p.maxIdleTm != 30*time.Second {
		t.Fatalf("pool = %d %d %v %v", *p.MaxOpen, *p.MaxIdle, *p.maxLifetime, *p.maxIdleTm)
	}
	if cfg.DSN != "postgres://h/db?sslmode=disable" {
		t.Errorf("dsn = %q: pool options must not reach the driver", cfg.DSN)
	}
}

// TestParseURLPassesDriverOptions checks that the options of the real
// drivers, and names that only look like the package's (loc beside log, tls
// beside ssl), reach the driver.
func TestParseURLPassesDriverOptions(t *testing.T) {
	for _, raw := range []string{
		"mysql://u@h/db?loc=UTC&tls=false&timeout=1s&charset=utf8mb4&parseTime=true&sql_mode=ANSI",
		"mysql://u@h/db?wait_timeout=100&max_allowed_packet=1048576&time_zone=%27%2B00:00%27&net_read_timeout=5&innodb_lock_wait_timeout=3",
		"mysql://u@h/db?WAIT_TIMEOUT=100&Max_Allowed_Packet=1048576&maxAllowedPacket=0&writeTimeout=1s&readTimeout=1s",
		"postgres://u@h/db?sslmode=disable&application_name=x&search_path=s&timezone=UTC&work_mem=64kB&options=-c%20a%3Db",
		"postgres://u@h/db?lock_timeout=1s&statement_timeout=2s&default_query_exec_mode=exec",
		"sqlite:///app.db?_pragma=foreign_keys(0)&_time_format=sqlite&_txlock=deferred&mode=rwc&cache=private&_busy_timeout=9&_fk=1&_journal=DELETE",
		"sqlite:///app.db?vfs=unix&_time_integer_format=unix&_timezone=UTC&_inttotime=1&_texttotime=0&_dqs=1&_query_only=0&immutable=0&nolock=0&psow=1",
		"sqlite+sqlite3:///app.db?_loc=auto&_busy_timeout=10", // another driver's own names pass
		"postgres+pq://u@h/db?sslmod=disable",                           // only the default drivers' parameters are known
		"postgres://u@h/db?sql_mode=ANSI&parseTime=true&wait_timeout=1", // another backend's names are no misspelling
	} {
		if _, err := Parse(raw); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

// TestParseURLAtInOptionValue checks which URLs with an '@' after the host
// open: those with user info before it and the '@' in an option value.
func TestParseURLAtInOptionValue(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"postgres://u:pw@h/db?application_name=me@home", true},
		{"mysql://root@h/db?sql_mode=%27ANSI%27&x=@@y", true},
		{"postgres://h/db?application_name=me@home", false},
		{"postgres://u@h/a@b", false},
		{"postgres://u@h/db?a@b=1", false},
		{"postgres://u@h/db?x=1&a@b", false},
		{"sqlite:///dir/a@b.db?x=@", true},
	} {
		_, err := Parse(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("%s: error %v; want ok %v", tt.url, err, tt.ok)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://app:secret@db.internal/shop", "postgres://app:***@db.internal/shop"},
		{"postgres://app@db.internal/shop", "postgres://app@db.internal/shop"},
		{"mysql://root:p@ss@h/db", "mysql://root:***@h/db"},
		{"postgres://h/db?user=u&password=secret&sslmode=disable", "postgres://h/db?user=u&password=***&sslmode=disable"},
		{"postgres://u@h/db?replicas=u%3Apw%40r1:5432,r2:5432&sslmode=disable", "postgres://u@h/db?replicas=***&sslmode=disable"},
		{"postgres://u@h/db?replicas=r1:5432,r2:5432", "postgres://u@h/db?replicas=r1:5432,r2:5432"},
		{"root:secret@tcp(h:3306)/db", "root:***@tcp(h:3306)/db"},
		{"sqlite:///app.db", "sqlite:///app.db"},
		{"postgres://u:a:b@h/db", "postgres://u:***@h/db"},
		{"postgres://u:@h/db", "postgres://u:***@h/db"},
		// Unescaped '/', '?' or '#' in the password or user name: everything
		// up to the last '@' could be the password.
		{"postgres://app:Zx9/Qp2@db.internal:5432/shop", "postgres://app:***@db.internal:5432/shop"},
		{"mysql://app:Zx9?Qp2@db.internal/shop", "mysql://app:***@db.internal/shop"},
		{"mysql://app:Zx9#Qp2@db.internal/shop", "mysql://app:***@db.internal/shop"},
		{"postgres://ap/p:Zx9@db.internal/shop", "postgres://***@db.internal/shop"},
		{"postgres://app/Qp2@db.internal/shop", "postgres://***@db.internal/shop"},
		{"postgres:///u:pw@h/db", "postgres://***@h/db"},
		{"postgres://h/db?application_name=me@home", "postgres://***@home"},
		// Password-like option names, however written.
		{"postgres://h/db?pass%77ord=x&sslmode=disable", "postgres://h/db?pass%77ord=***&sslmode=disable"},
		{"postgres://h/db?Password=x&SSLPASSWORD=y&passwd=z&pwd=w&auth_token=t", "postgres://h/db?Password=***&SSLPASSWORD=***&passwd=***&pwd=***&auth_token=***"},
		{"postgres://h/db?%70assword=x&pass+word=y&+password+=z", "postgres://h/db?%70assword=***&pass+word=***&+password+=***"},
		{"sqlite:///app.db?_pragma_key=x&_auth_pass=y", "sqlite:///app.db?_pragma_key=***&_auth_pass=***"},
		{"postgres://h/db?password=a@b", "postgres://***"},
		{"postgres://h/db?password=", "postgres://h/db?password=***"},
		{"postgres://&pass=x", "postgres://&pass=x"}, // no query without a '?': a host
		// A SQLite file path may hold an '@'; a SQLite URL with a host is
		// masked like any other.
		{"sqlite:///backups/app@2024.db", "sqlite:///backups/app@2024.db"},
		{"sqlite://u:p/w@h/x.db", "sqlite://u:***@h/x.db"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
