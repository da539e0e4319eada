package databases

// The statement cache's budget on MySQL. The server's
// max_prepared_stmt_count bounds the prepared statements of all its
// sessions together, those of every connection of the DB and of other
// clients: a statement one connection keeps is one another cannot prepare
// (error 1461). So each new connection sizes its cache from the server's
// limit (fitStmtCache), and a connection that meets 1461 frees, before it
// gives up, the statements its own cache and the DB's idle connections
// keep (relieve): a call fails with 1461 only where the raw driver, which
// keeps no statement between calls, would have no room either.
//
// Freeing another connection's statements sends COM_STMT_CLOSE on that
// connection, which must not happen while database/sql uses it. A
// connection's cache is idle from IsValid, as database/sql takes it back
// into the pool, to ResetSession, which database/sql calls before it hands
// the connection out again (and before any other use of a connection it
// has reset once). Both moves, the freeing and the closing of statements
// (stmt.Close, conn.Close: database/sql calls them on an idle connection
// from any goroutine), take the cache's lock, so that the closing of
// another connection's statements is serialized with everything that can
// touch an idle connection. The connections in use are left alone: they
// drop their statements before their next one (the DB's counter of
// ddl.go), and the call that met 1461 runs uncached, as the raw driver's
// does.

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/go-databases/databases/internal/dberr"
)

// The sizing rule: the caches of a DB together keep at most
// 1/stmtBudgetShare of the server's max_prepared_stmt_count, the rest
// being left to statements users prepare and to other clients. Each
// connection's share is that divided by max_open_conns, or, when the URL
// does not give it, by the smaller of stmtBudgetConns and the server's
// max_connections.
const (
	stmtBudgetShare = 2
	stmtBudgetConns = 100
)

// stmtBudget is the registry of a DB's caches on one connector (the
// primary's, or one replica's): the caches relieve may free.
type stmtBudget struct {
	mu     sync.Mutex
	caches map[*stmtCache]struct{}
	epoch  *atomic.Uint64 // the DB's counter after which connections drop their statements (ddl.go)
}

// budgetState is what a cache in a registry adds: its lock, and whether
// database/sql holds its connection in the pool.
type budgetState struct {
	budget  *stmtBudget   // nil: the cache is no other connection's to free
	pinger  driver.Pinger // its connection's, for a round trip after freeing
	mu      sync.Mutex
	idle    bool // the connection is in the pool: its statements may be freed by another
	retired bool // the connection is closed
}

// stmtBudget returns the connector's registry, made at its first use.
func (c *connector) stmtBudget() *stmtBudget {
	if b := c.budget.Load(); b != nil {
		return b
	}
	c.budget.CompareAndSwap(nil, &stmtBudget{caches: make(map[*stmtCache]struct{}), epoch: c.schema()})
	return c.budget.Load()
}

// fitStmtCache sizes the cache of a new MySQL connection from its server's
// limits, read with one query, and enters it in the DB's registry. A
// connection without ResetSession and IsValid never shows when it is idle,
// so its statements stay its own. An error of the query leaves the size
// the URL gave: the connection's next call will meet what went wrong.
func (c *connector) fitStmtCache(ctx context.Context, r *realConn) {
	if r.stmts == nil || !c.backend.sharedStmtBudget() || r.resetter == nil || r.validator == nil || r.pinger == nil {
		return
	}
	if limit, conns, err := serverStmtLimits(ctx, r); err == nil {
		var maxOpen int
		if c.cfg.Pool.MaxOpen != nil {
			maxOpen = *c.cfg.Pool.MaxOpen
		}
		r.stmts.max = min(r.stmts.max, stmtShare(limit, conns, maxOpen))
	}
	b := c.stmtBudget()
	r.stmts.budget, r.stmts.pinger = b, r.pinger
	b.mu.Lock()
	b.caches[r.stmts] = struct{}{}
	b.mu.Unlock()
}

// stmtShare is the statements one connection keeps at most, by the sizing
// rule above, for a server whose max_prepared_stmt_count is limit and
// max_connections is conns; maxOpen is the pool's bound, 0 when unknown.
func stmtShare(limit, conns, maxOpen int) int {
	n := maxOpen
	if n <= 0 {
		n = stmtBudgetConns
		if conns > 0 {
			n = min(n, conns)
		}
	}
	return max(0, limit/stmtBudgetShare/n)
}

// serverStmtLimits reads the server's max_prepared_stmt_count and
// max_connections, as text, with no statement prepared.
func serverStmtLimits(ctx context.Context, r *realConn) (limit, conns int, err error) {
	rows, st, err := r.queryOrPrepare(ctx, "SELECT @@max_prepared_stmt_count, @@max_connections", nil)
	if err != nil {
		return 0, 0, err
	}
	if st != nil {
		defer st.Close()
	}
	defer rows.Close()
	row := make([]driver.Value, 2)
	if err := rows.Next(row); err != nil {
		if err == io.EOF {
			err = fmt.Errorf("no row")
		}
		return 0, 0, err
	}
	if limit, err = intValue(row[0]); err != nil {
		return 0, 0, err
	}
	conns, err = intValue(row[1])
	return limit, conns, err
}

// intValue reads a count a driver returned as a number or as text.
func intValue(v driver.Value) (int, error) {
	switch v := v.(type) {
	case int64:
		return int(v), nil
	case uint64:
		return int(min(v, 1<<31)), nil
	case []byte:
		return strconv.Atoi(string(v))
	case string:
		return strconv.Atoi(v)
	}
	return 0, fmt.Errorf("unexpected %T", v)
}

// relieve runs on a prepare that failed with err. On MySQL's 1461 it
// frees the statements of the connection's own cache and of the DB's idle
// connections, asks those in use to drop theirs before their next
// statement, and reports whether the prepare is worth trying again: when
// anything was freed, by this call or, in the DB's registry, by another
// connection's just before. The server answers no COM_STMT_CLOSE, and runs
// another connection's commands in that connection's own thread: a ping
// on each connection freed makes sure its statements are gone before the
// prepare is tried again.
func (c *stmtCache) relieve(ctx context.Context, err error) bool {
	if c == nil || !dberr.TooManyStatements(err) {
		return false
	}
	freed := len(c.entries) > 0
	c.closeAll()
	b := c.budget
	if b == nil {
		return freed
	}
	b.mu.Lock()
	others := make([]*stmtCache, 0, len(b.caches))
	for o := range b.caches {
		if o != c {
			others = append(others, o)
		}
	}
	b.mu.Unlock()
	for _, o := range others {
		o.mu.Lock()
		if o.idle && !o.retired && len(o.entries) > 0 {
			o.closeAll()
			o.pinger.Ping(ctx) // an error shows at the connection's ResetSession
		}
		o.mu.Unlock()
	}
	b.epoch.Add(1)
	return true
}

// rest marks the cache idle as database/sql takes its connection back
// (IsValid). Only a cache that keeps statements goes idle: its connection
// has served a call, so database/sql resets it before every later use
// (ResetSession, which calls claim), whereas a connection it opened for a
// waiter that gave up may be handed out again without a reset.
func (c *stmtCache) rest() {
	if c != nil && c.budget != nil {
		c.setIdle(len(c.entries) > 0)
	}
}

// claim takes the cache back from the pool, as database/sql hands its
// connection out (ResetSession); it waits for a relieve freeing it.
func (c *stmtCache) claim() {
	if c != nil && c.budget != nil {
		c.setIdle(false)
	}
}

// setIdle is rest and claim past their inlined test.
func (c *stmtCache) setIdle(idle bool) {
	c.mu.Lock()
	c.idle = idle
	c.mu.Unlock()
}

// lock and unlock guard a use of the connection that database/sql may make
// while it is idle, from any goroutine: closing a statement the user
// prepared.
func (c *stmtCache) lock() {
	if c != nil && c.budget != nil {
		c.mu.Lock()
	}
}

func (c *stmtCache) unlock() {
	if c != nil && c.budget != nil {
		c.mu.Unlock()
	}
}

// retire takes the cache out of the registry as its connection closes.
func (c *stmtCache) retire() {
	if c == nil || c.budget == nil {
		return
	}
	c.mu.Lock()
	c.idle, c.retired = false, true
	c.mu.Unlock()
	b := c.budget
	b.mu.Lock()
	delete(b.caches, c)
	b.mu.Unlock()
}
