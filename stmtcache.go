package databases

// The prepared-statement cache: each connection keeps the real driver's
// prepared statements of the queries it ran, so that drop-in code that
// never calls Prepare gets prepared-statement speed. SQLite (modernc) then
// no longer prepares and finalizes every query, and go-sql-driver/mysql no
// longer sends PREPARE, EXECUTE and CLOSE for every query with arguments.
// pgx caches statements itself, so the cache is off on PostgreSQL; what
// this file adds there is the retry of a query that pgx's own cache made
// fail after a schema change (retryStale).
//
// database/sql never uses a connection from two goroutines at once, which
// guards the cache as it guards the connection's spare call state.

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	"github.com/go-databases/databases/internal/dberr"
	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/middleware"
)

// stmtCacheMaxQuery is the longest query the cache keeps, in bytes: longer
// ones are rare, generated, and would make the cache's memory unbounded.
const stmtCacheMaxQuery = 8 << 10

// stmtCache is one connection's bounded set of prepared statements, keyed
// by the native query text and evicted least recently used first.
type stmtCache struct {
	max         int     // statements kept at most
	minArgs     int     // queries with fewer arguments are not cached (MySQL: 1)
	backend     backend // the server's: what a failed prepare reads as (cachedPrepareError)
	entries     map[string]*cachedStmt
	clock       uint64 // counts lookups; an entry's used is the clock of its last one
	budgetState        // MySQL: the DB's registry of caches (stmtcache_budget.go)
}

// cachedStmt is a statement of the cache. While rows it returned are open
// it is busy: another call of the same query runs uncached rather than
// resetting it under them, and evicting it only marks it gone, to be closed
// with those rows.
type cachedStmt struct {
	realStmt
	cache *stmtCache
	query string
	used  uint64
	busy  bool
	gone  bool
	rows  rows // wraps the rows it returns when no middleware does
}

func newStmtCache(size, minArgs int, b backend) *stmtCache {
	return &stmtCache{max: size, minArgs: minArgs, backend: b, entries: make(map[string]*cachedStmt, size)}
}

// wants reports whether a query with nargs arguments goes through the cache.
func (c *stmtCache) wants(query string, nargs int) bool {
	return c != nil && nargs >= c.minArgs && len(query) <= stmtCacheMaxQuery
}

// lookup returns the statement kept for query, or prepares and keeps it:
// through the middleware as an OpPrepare call when s, the call being run,
// is not nil. It returns nil, and no error, when the statement serves open
// rows or the server has no room for another (MySQL 1461, after the
// statements of the cache and of the DB's idle connections were freed:
// the call runs uncached as the raw driver would; stmtcache_budget.go).
// A failed prepare's error is the one the raw driver's Query or Exec would
// have returned (backend.cachedPrepareError).
func (r *realConn) lookup(ctx context.Context, query string, s *callState) (*cachedStmt, middleware.StmtCache, error) {
	c := r.stmts
	c.clock++
	if e := c.entries[query]; e != nil {
		if e.busy {
			return nil, middleware.StmtUncached, nil
		}
		e.used = c.clock
		return e, middleware.StmtCacheHit, nil
	}
	if c.max == 0 {
		return nil, middleware.StmtUncached, nil // the server's limit leaves no room (stmtShare)
	}
	var raw driver.Stmt
	var err error
	sent := query
	if s == nil {
		raw, err = r.prepareNative(ctx, query)
	} else {
		raw, sent, err = s.conn.prepareCall(ctx, s.call.Query, query, middleware.StmtCacheMiss, nil)
	}
	if err != nil {
		if dberr.TooManyStatements(err) {
			c.closeAll()
			return nil, middleware.StmtUncached, nil
		}
		return nil, middleware.StmtUncached, c.backend.cachedPrepareError(err)
	}
	e := &cachedStmt{realStmt: newRealStmt(raw), cache: c, query: query, used: c.clock}
	if sent != query {
		// A middleware changed what was prepared: run it this once.
		e.gone = true
		return e, middleware.StmtUncached, nil
	}
	if len(c.entries) >= c.max {
		c.evictOldest()
	}
	c.entries[query] = e
	return e, middleware.StmtCacheMiss, nil
}

// evictOldest drops the least recently used statement. The cache is small
// (tens of statements) and this runs only on a miss, after a prepare, so a
// scan costs nothing next to it.
func (c *stmtCache) evictOldest() {
	var oldest *cachedStmt
	for _, e := range c.entries {
		if oldest == nil || e.used < oldest.used {
			oldest = e
		}
	}
	c.drop(oldest)
}

// drop removes a statement from the cache and closes it, or, while it
// serves open rows, leaves it to be closed with them.
func (c *stmtCache) drop(e *cachedStmt) {
	if c.entries[e.query] == e {
		delete(c.entries, e.query)
	}
	if e.busy {
		e.gone = true
		return
	}
	e.raw.Close()
}

// closeAll closes every statement, as the connection closes.
func (c *stmtCache) closeAll() error {
	var errs []error
	for _, e := range c.entries {
		delete(c.entries, e.query)
		if e.busy {
			e.gone = true
			continue
		}
		errs = append(errs, e.raw.Close())
	}
	return errors.Join(errs...)
}

// Close gives the statement back to its cache when the rows it served
// close; one evicted meanwhile is closed now.
func (e *cachedStmt) Close() error {
	e.busy = false
	if e.gone {
		return e.raw.Close()
	}
	return nil
}

// execCached runs an exec through the cache. A statement that fails is
// dropped; one that failed because it went stale (the schema changed since
// it was prepared) is run once more uncached where nothing ran
// (staleRetryable). Calls
// that cannot use the cache run as they would without it.
func (r *realConn) execCached(ctx context.Context, query string, args []driver.NamedValue, s *callState) (driver.Result, middleware.StmtCache, error) {
	e, use, err := r.lookup(ctx, query, s)
	if e == nil {
		if err != nil {
			return nil, use, err
		}
		res, err := r.execOrPrepare(ctx, query, args)
		return res, use, err
	}
	res, err := e.execNative(ctx, args)
	if e.gone {
		e.raw.Close()
	} else if err != nil {
		r.stmts.drop(e)
		if use == middleware.StmtCacheHit && r.staleRetryable(err) {
			res, err = r.execOrPrepare(ctx, query, args)
			return res, middleware.StmtUncached, err
		}
	}
	return res, use, err
}

// queryCached is execCached for queries. It returns, with the rows, what
// must be closed after them: the cached statement, which is busy until
// then, or a statement prepared for this call alone.
func (r *realConn) queryCached(ctx context.Context, query string, args []driver.NamedValue, s *callState) (driver.Rows, io.Closer, middleware.StmtCache, error) {
	e, use, err := r.lookup(ctx, query, s)
	if e == nil {
		if err != nil {
			return nil, nil, use, err
		}
		rows, st, err := r.queryOrPrepare(ctx, query, args)
		return rows, st, use, err
	}
	rows, err := e.queryNative(ctx, args)
	if err != nil && e.gone {
		e.raw.Close()
		return nil, nil, use, err
	}
	if err != nil {
		r.stmts.drop(e)
		if use == middleware.StmtCacheHit && r.staleRetryable(err) {
			rows, st, err := r.queryOrPrepare(ctx, query, args)
			return rows, st, middleware.StmtUncached, err
		}
		return nil, nil, use, err
	}
	e.busy = true
	return rows, e, use, nil
}

// cachedRows wraps, for a query without middleware, rows served by a
// cached statement, in a value the statement holds, so that closing them
// gives the statement back; rows of a statement prepared for this query
// alone (the cached one was busy) close it. Other rows are the real
// driver's (wrapDirect).
func (c *conn) cachedRows(rs driver.Rows, after io.Closer) driver.Rows {
	if after == nil {
		return c.wrapDirect(rs)
	}
	if w, ok := after.(*cachedStmt); ok {
		w.rows = rows{raw: rs, after: w}
		return wrapRows(&w.rows, c.rowsInterfaces(rs))
	}
	r := &rows{raw: rs, after: after}
	return wrapRows(r, c.rowsInterfaces(rs))
}

// stmtCacheSize returns how many statements each connection keeps: the
// stmt_cache option, or the dialect's default with its default driver (0
// with another). With interpolateParams=true go-sql-driver sends every
// query as text, which is the user's choice: the cache is off, and asking
// for it too is an error.
func stmtCacheSize(cfg *dsn.Config) (int, error) {
	b := backendOf(cfg.Dialect)
	interpolate := b.sendsText(cfg)
	if cfg.StmtCache != nil {
		if *cfg.StmtCache > 0 && interpolate {
			return 0, fmt.Errorf("databases: %s: stmt_cache=%d and interpolateParams=true: interpolated queries are sent as text and never prepared; drop one of the two", cfg.Redacted, *cfg.StmtCache)
		}
		return *cfg.StmtCache, nil
	}
	if interpolate || cfg.DriverName != cfg.Dialect.DefaultDriver {
		return 0, nil
	}
	n, _ := b.stmtCache()
	return n, nil
}

// retryStale reports whether a call that failed with err runs once more:
// pgx's own statement cache made it fail after a schema change (SQLSTATE
// 0A000, cached plan must not change result type), pgx has dropped the
// statement, and no transaction is open, so nothing ran and nothing was
// rolled back. Inside a transaction the error stands: PostgreSQL has
// aborted the transaction. Only a query that is one statement, and runs no
// others, runs again: of several, an earlier one may have been applied, or
// committed (txStatement.rerunnable).
func (r *realConn) retryStale(err error, ts *txStatement) bool {
	return r.pg != nil && ts.rerunnable() && r.staleRetryable(err)
}

// staleRetryable reports whether a statement that failed with err went
// stale and can run again: SQLite and MySQL refuse a stale statement before
// running it, inside a transaction or not; PostgreSQL has then aborted the
// transaction, if one is open.
func (r *realConn) staleRetryable(err error) bool {
	return dberr.StaleStatement(err) && (r.pg == nil || r.pg.TxStatus() == 'I')
}
