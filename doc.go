// Package databases is a database/sql driver, registered as "databases",
// that opens SQLite, PostgreSQL or MySQL/MariaDB from one URL and hands every
// call to the real driver behind it: modernc.org/sqlite, pgx and
// go-sql-driver/mysql. Existing database/sql code keeps working after
// changing the driver name and the data source:
//
//	import _ "github.com/go-databases/databases"
//
//	db, err := sql.Open("databases", "postgres://app@db.internal/shop?sslmode=disable")
//
// # URLs
//
//	sqlite:///relative.db          file relative to the working directory
//	sqlite:////abs/path.db         absolute path
//	sqlite:///:memory:             one in-memory database shared by the whole pool
//	postgres://user:pass@host:port/db?sslmode=disable   (also postgresql://)
//	postgres:///db?host=/var/run/postgresql              unix socket directory
//	mysql://user:pass@host:port/db?parseTime=true       (also mariadb://)
//	mysql://user@/db?unix_socket=/run/mysqld/mysqld.sock
//	mysql://user@h1:3306,h2:3307,h3/db?target_session_attrs=read-write   host list
//
// A scheme may name another registered driver for the same dialect:
// postgres+pq:// uses the driver registered as "postgres". User and password
// are percent-encoded; IPv6 hosts go in brackets. PostgreSQL and MySQL take
// several comma-separated hosts: a new connection tries them in order
// (load_balance_hosts=random: in a random order) and takes the first that
// answers within connect_timeout and fits target_session_attrs; a Galera
// node that is not ready is skipped. Query options the package does not own
// go to the real driver unchanged (sslmode, application_name, parseTime,
// loc, interpolateParams, _pragma, ...).
//
// # Options owned by the package
//
//	log                   debug, info, warn, error or off: log driver calls to slog.Default(); info shows each exec and query, debug the rest too
//	slow                  e.g. 200ms: log calls at least this long at warn
//	trace                 on/off: trace every call with the global OpenTelemetry providers
//	sanitize              on (default)/off: off logs and traces query text with its literals
//	force_rollback        true: test mode, everything is rolled back when the DB closes
//	placeholders          portable (default) or native: native sends every query as written
//	txlock                SQLite BEGIN mode of read-write transactions: immediate (default), deferred or exclusive (alias _txlock)
//	ssl                   true/false: sslmode=require/disable on PostgreSQL, tls=true/false on MySQL
//	unix_socket           MySQL socket path
//	max_open_conns        pool size (alias max_size); Open only
//	max_idle_conns        idle connections kept (alias min_size); Open only
//	conn_max_lifetime     e.g. 30m; Open only
//	conn_max_idle_time    e.g. 5m; Open only
//	load_balance_hosts    disable (default) or random: the order in which a new connection tries the hosts of a list
//	target_session_attrs  any (default), read-write, read-only, primary, standby or prefer-standby: the server a connection takes, as libpq
//	connect_timeout       whole seconds: the bound of each host's connection attempt; 0 (default) is none
//	stmt_cache            N: prepared statements kept per connection (SQLite, MySQL: 64; 0: off)
//	leak_threshold        e.g. 30s: report rows and transactions held longer, with the caller's file:line (default off)
//	insights              on/off: aggregate queries and report N+1 (middleware/insights, Insights); Open or sql.OpenDB only
//	replicas              host:port,host:port: read replicas (not SQLite); see ReadReplica
//	read_your_writes      true (default)/false: replica reads wait for this DB's writes
//	max_replica_wait      e.g. 500ms (default 1s): longest such wait, then the read runs on the primary
//	max_replica_lag       e.g. 5s: skip replicas further behind (default: no limit)
//	replica_fallback      primary (default) or error: what a replica read does when no replica is usable
//	password_file         path: the password of each new connection, read from the file then (not SQLite); see WithCredentials
//	transact_attempts     N (default 30): how many times Transact runs a transaction that fails with a retryable error; 1: never again
//
// No option is silently ignored: a bad value, an option the backend cannot
// honour, or a pool option given to sql.Open (which gives a driver no access
// to its pool) fails with an error naming the option, and so does an
// unknown option that looks like a misspelling of one of these or of a
// parameter of the real driver (sslmod, parseTim), naming the likely
// option. A password never appears in an error; see RedactURL.
//
// # SQLite defaults
//
// Every SQLite connection gets busy_timeout 5000 ms and foreign_keys on, and
// file databases use WAL; a _pragma option in the URL for the same PRAGMA
// replaces the default. sqlite:///:memory: is one database shared by every
// connection of the pool (SQLite's memdb VFS), freed when the DB closes.
//
// # Placeholders
//
// Queries use ? or :name/@name (with sql.Named) on every backend: PostgreSQL
// gets $1..$n, MySQL gets ? with arguments repeated as needed, SQLite gets
// the query as written. ?? is a literal ? on PostgreSQL (jsonb operators).
// Native placeholders ($1) keep working. See package rewrite.
//
// A slice bound to a placeholder that is the whole list after IN or NOT IN
// (IN (?), IN (:ids)) becomes one placeholder per element on every backend,
// padded to a power of two; an empty one makes IN match nothing and NOT IN
// match everything. Anywhere else a slice goes to the real driver as it is
// (pgx binds it as an array). See docs/placeholders.md, "IN lists".
//
// # Transactions
//
// Transaction options map to each backend (an isolation level a backend
// cannot give is an error naming it); read-only is enforced on SQLite too.
// Transact runs a function in a transaction, nests as savepoints and retries
// serialization failures, and transactions whose connection was lost before
// COMMIT. A Commit whose connection was lost before the answer returns an
// error that satisfies errors.Is(err, ErrCommitUnknown), and is not retried. A transaction left open by a raw BEGIN is
// discarded with its connection, reported as ErrTxLeaked. force_rollback
// (WithForceRollback) runs the whole DB in one transaction that Close rolls
// back; RollbackAfter and Savepoint roll it back per test or subtest
// without closing it.
//
// # Middleware
//
// Every driver call runs through a middleware.Chain (WithMiddleware);
// middleware/logging and middleware/tracing are built in (WithLogger,
// WithTracerProvider, WithMeterProvider, or the log, slow and trace URL
// options). A middleware that is middleware.Selective says before each call
// whether it needs it at all, or only if it fails: logging below its level
// and operations tracing does not trace skip the chain.
//
// # Fidelity
//
// The wrapper's connections, statements and rows implement an optional
// driver interface exactly when the real driver's do, errors come back as
// the real driver returned them (errors.As finds *pgconn.PgError,
// *mysql.MySQLError, *sqlite.Error), and DriverConn reaches the real
// connection inside sql.Conn.Raw.
package databases
