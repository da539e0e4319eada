// Package tracing is the OpenTelemetry middleware of package databases: one
// client span per driver operation and the db.client.operation.duration
// histogram, both following the stable database semantic conventions.
//
//	c, err := databases.NewConnector(url, databases.WithMiddleware(tracing.New()))
//	db := sql.OpenDB(c)
//
// # Spans
//
// Connect, Ping, Prepare, Exec, Query, their prepared-statement forms, Begin,
// Commit and Rollback each get a span of kind client (WithOps chooses
// others). A query's span covers its whole lifetime: it starts when the query
// is sent and ends when its rows are closed, so the time spent reading rows
// belongs to the query, and db.response.returned_rows counts them. A query
// that fails ends its span at once.
//
// Span names follow the conventions: "{operation} {table}" taken from the
// query text, such as "SELECT users" or "INSERT orders"; just the operation
// when no table is named ("SELECT" for SELECT 1); "PREPARE SELECT users" for
// preparing a statement; "BEGIN", "COMMIT", "ROLLBACK", "CONNECT" and "PING"
// for the others. Keywords and names keep the case they were written in.
//
// Every span carries db.system.name ("sqlite", "postgresql" or "mysql"),
// db.namespace, and server.address and server.port when there is a server:
// for a call run on a read replica, the replica's, and db.replica true.
// Query spans add db.query.text (the query the driver receives, before any
// sqlcommenter comment, literals masked: see Query text), db.operation.name
// and db.collection.name. With WithStmtCacheAttribute, a call the
// connection's prepared-statement cache served also carries
// databases.stmt_cache, "hit" or "miss": package databases' own attribute,
// off by default because each span attribute costs the SDK about 600
// instructions per span. A failed operation sets the span status to
// Error, error.type, and db.response.status_code: the SQLSTATE of a
// PostgreSQL error, the error number of a MySQL error, the result code of a
// SQLite error. error.type is that status code when the database gave one, and the
// Go type of the error otherwise. sql.ErrNoRows and driver.ErrSkip are not
// failures.
//
// # Query text
//
// The conventions ask that query text without parameters be sanitised: a
// query without placeholders has its values in its text (UPDATE users SET
// password = 'hunter2'), so its string and numeric literals are recorded
// as '?', read with package sqlscan by the rules of the dialect. A query
// with placeholders is recorded as written: its values are arguments, never
// recorded. WithQueryLiterals records every query as written.
//
// The spans of one transaction are children of the span that was current in
// the context BeginTx was called with, Commit and Rollback included.
//
// # Metrics
//
// db.client.operation.duration (seconds, with the bucket boundaries the
// conventions recommend) is recorded for every traced operation, with
// db.system.name, db.namespace, db.operation.name, db.collection.name,
// server.address, server.port, and error.type and db.response.status_code
// when the operation failed. databases.stmt_cache.lookups counts the
// lookups of the connection's prepared-statement cache by result
// (databases.stmt_cache, "hit" or "miss"), with or without
// WithStmtCacheAttribute. Metrics do not depend on sampling.
//
// # sqlcommenter
//
// WithSQLCommenter appends the span's W3C trace context to the query, as
// sqlcommenter specifies:
//
//	SELECT * FROM users WHERE id = $1 /*traceparent='00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'*/
//
// so the database's own logs and statistics can be joined with traces. As
// sqlcommenter specifies, a query that has a comment of its own is left as
// it is (sqlc's "-- name: ..." queries among them), and so is a query left
// open by an unterminated literal or comment, which an appended comment
// could close: MySQL would run SELECT 1 /* open. Every
// query text then differs from the last: drivers that cache prepared
// statements by text, such as pgx in its default mode, prepare each commented
// query anew (with pgx, the URL option default_query_exec_mode=exec avoids
// that).
//
// # Cost
//
// The summary of a query (span name, operation, table), its sanitised text
// and the attribute sets are computed once per distinct query and database
// and kept in a cache bounded like package rewrite's: 1024 queries and
// 8 MiB of query text, no query longer than 64 KiB (such a query is
// described at every call). When the sampler drops a span no span attribute
// is built. The same exec or query as the previous one is found without a
// look-up. Against the raw driver, docs/performance.md measures what a
// traced point SELECT adds, beside otelsql's and the SDK's own work for
// one span with the same attributes.
package tracing
