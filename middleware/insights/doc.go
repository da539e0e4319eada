// Package insights is a middleware of package databases that tells what
// each query costs a service, on every backend, and catches N+1 queries as
// they happen.
//
//	ins := insights.New()
//	db, err := databases.Open(url, databases.WithMiddleware(ins))
//	// or: db, err := databases.Open(url + "?insights=on"); ins := databases.Insights(db)
//	mux.Handle("/debug/databases", ins.Handler())
//	mux.Handle("/", insights.ScopeHandler(app)) // one N+1 scope per request
//
// # What is kept
//
// Every exec and query is recorded under its summary (Summarize): the
// query with its literals and placeholders written '?', its comments
// dropped and its lists of values folded, what pg_stat_statements calls a
// normalised query. Per summary: calls; errors, by class (the database's
// code when it gave one); total, mean, maximum, p50, p95 and p99 latency;
// rows returned and affected; when it was first and last seen; and how
// often it was reported as N+1. A query's run lasts until its rows are
// closed, as in the tracing middleware. Queries() and Handler() read it.
//
// Latencies go into a fixed log-linear histogram per summary (8 buckets per
// power of two), so quantiles are within 6.25 % of the true value;
// recording a run takes no lock.
//
// # Memory
//
// An Insights keeps at most MaxQueries distinct summaries (WithMaxQueries,
// DefaultMaxQueries = 1000). Each takes about 2 KB (its histogram is
// 1.7 KB) plus its summary and one sample text, each cut at MaxSummaryLen
// (1 KiB): at most 4 KB. When the table is full, the lightest tenth of it
// is evicted: the space-saving algorithm, weighted by total time, so the
// queries that cost the most stay, and a query that keeps coming back adds
// up to its place. Besides, an index from query text to summary holds at
// most 4096 texts of at most 16 KiB and 4 MiB in all, and starts over when
// full, and the scopes of at most 8192 traces are kept for N+1 detection.
// In all, the default bound is about 9 MB: MaxQueries × 4 KB, the index's
// 4 MiB and its entries. TestMemoryBound runs 100 000 distinct queries
// through it (the heap grows by 6 to 8 MB).
//
// # N+1
//
// A scope is one request: a context from Scope (ScopeHandler gives every
// request of an http.Handler one), or, without one, the trace of the span
// in the query's context, when tracing is on. When one summary runs more
// than the threshold (WithNPlusOneThreshold, DefaultNPlusOne = 10) times in
// one scope, it is reported once for that scope:
//
//   - a log record at Warn whose message contains "N+1", with the
//     attributes db.query.summary, count (the runs counted at the report:
//     the threshold plus one), db.query.text (the sanitised text of one
//     run) and trace_id when the context carries a span, written to the
//     logger of WithLogger or slog.Default();
//   - an event db.query.n_plus_one on the span in the query's context, when
//     it records;
//   - the counter databases.insights.n_plus_one (WithMeterProvider).
//
// # Cost
//
// Recording a run is a lookup of the query's text (the text seen last is
// found without hashing), a clock reading and a few atomic additions; the
// summary of a text is made once. A point SELECT on SQLite stays within
// 1.10× of no middleware (BenchmarkObservability/sqlite/insights against empty-chain in package databases).
package insights
