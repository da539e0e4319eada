package databases

// A load on one connection: the rules every call follows (the transaction
// guard, replica routing and read-your-writes, force_rollback's shared
// connection), the transaction or savepoint that makes it all or nothing,
// and the one middleware call it is. The backends' loaders are in
// copy_pg.go and copy_insert.go.

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-databases/databases/middleware"
)

// copyTarget is a load's table and columns, resolved for the dialect.
type copyTarget struct {
	table   []string // the parts of a qualified name
	columns []string
	text    string // the COPY statement, as middleware sees it
}

// copyTarget resolves the names of spec: a bare name folds to lower case
// on PostgreSQL, as the server folds it; quoted names, and every name on
// MySQL and SQLite, stay as written.
func (c *conn) copyTarget(spec copySpec, text string) *copyTarget {
	fold := c.connector.backend.foldsNames()
	resolve := func(names []copyName) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = n.name
			if fold && !n.quoted {
				out[i] = strings.ToLower(n.name)
			}
		}
		return out
	}
	return &copyTarget{table: resolve(spec.table), columns: resolve(spec.columns), text: text}
}

// name is the table as an error names it.
func (t *copyTarget) name() string { return strings.Join(t.table, ".") }

// copyLoader loads the rows of src on rc, the real connection, inside the
// transaction or savepoint the load runs in. ctx is the caller's, read
// between rows; dctx is what the real driver's calls get (copyContext).
type copyLoader func(ctx, dctx context.Context, c *conn, rc *realConn, t *copyTarget, src CopySource) (int64, error)

// copyFrom runs a load as one call of the connection.
func (c *conn) copyFrom(ctx context.Context, t *copyTarget, src CopySource) (int64, error) {
	if ctx.Value(readReplicaKey{}) != nil || c.rep != nil && c.rep.inTx() {
		return 0, errCopyReplica
	}
	ctx = c.txContext(ctx)
	ts := txStatement{} // a plain write: it neither begins nor ends a transaction
	if c.tx.id != 0 {
		if err := c.connector.mode.control(ctx, c, ts); err != nil {
			return 0, err
		}
	}
	var n int64
	var err error
	if in := c.connector.interest(ctx, middleware.OpCopy); in == middleware.None {
		n, err = c.copyAtomic(ctx, t, src)
	} else {
		s := newCallState(c, middleware.OpCopy, in, t.text, t.text, nil, nil)
		err = s.observe(ctx, func(ctx context.Context, call *middleware.Call) error {
			var err error
			n, err = c.copyAtomic(ctx, t, src)
			if err == nil {
				call.RowsAffected = n
			}
			return err
		})
		s.release()
	}
	c.failed(err)
	if err == nil && c.rep != nil {
		c.noteWrite(t.text)
	}
	if c.tx.id != 0 {
		c.connector.mode.controlled(c, ts, err)
	}
	return n, err
}

// copyAtomic makes the load all or nothing. PostgreSQL's COPY is one
// statement, atomic already. Elsewhere the load runs in a transaction of
// its own, or, inside the caller's, in a savepoint it rolls back to on
// failure. The transaction is the real driver's (a savepoint under
// force_rollback), begun and ended inside this one call.
func (c *conn) copyAtomic(ctx context.Context, t *copyTarget, src CopySource) (n int64, err error) {
	dctx, stop := copyContext(ctx)
	defer stop()
	load := c.copyLoader()
	atomic := c.connector.backend.atomicCopy()
	var tx driver.Tx
	if !atomic {
		inTx := c.tx.id != 0
		if !inTx && c.rawTx {
			if inTx, err = c.txOpen(dctx, c.connector.backend); err != nil {
				return 0, err
			}
		}
		if !inTx {
			if tx, err = c.copyBegin(dctx); err != nil {
				return 0, err
			}
		}
	}
	if tx != nil {
		// Deferred, as release is, so that nothing stays held whatever
		// happens; release, deferred later, runs first.
		defer func() {
			if err != nil {
				tx.Rollback()
			} else if cerr := tx.Commit(); cerr != nil {
				n, err = 0, &CopyError{Table: t.name(), Row: -1, Err: fmt.Errorf("commit: %w", cerr)}
			}
		}()
	}
	// The real connection the loader runs on: under force_rollback the
	// shared connection, held as DriverConn holds it for sql.Conn.Raw.
	rc, release, err := c.connector.mode.copyConn(c)
	if err != nil {
		return 0, err
	}
	defer release()
	run := func() (int64, error) {
		return c.copyRecovered(func() (int64, error) { return load(ctx, dctx, c, rc, t, src) })
	}
	if atomic || tx != nil {
		n, err = run()
	} else {
		n, err = copyInSavepoint(dctx, rc, run)
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// copyRecovered runs load, turning a panic on this goroutine into a
// copyPanic error so that the load is rolled back and its connection given
// back before CopyFrom raises it again. The source's panics are caught as
// it is read (copyReader); one that reaches here came from elsewhere (a
// value's Value method, the real driver), which may have left the
// connection mid-exchange: it is not reused.
func (c *conn) copyRecovered(load func() (int64, error)) (n int64, err error) {
	defer func() {
		if v := recover(); v != nil {
			c.connector.mode.lost(c, nil)
			n, err = 0, &copyPanic{value: v}
		}
	}()
	return load()
}

// copyLoader picks the backend's loader.
func (c *conn) copyLoader() copyLoader { return c.connector.backend.copyLoader() }

// copyBegin begins the load's own transaction on the real driver, as
// BeginTx would but without a middleware call of its own: on SQLite the
// way this package begins one (sqlitetx.go), under force_rollback a
// savepoint of the shared connection.
func (c *conn) copyBegin(ctx context.Context) (driver.Tx, error) {
	return c.connector.mode.begins(c, c.beginNative)(ctx, driver.TxOptions{})
}

// copySavepoint names the savepoint of a load inside a transaction.
const copySavepoint = "databases_copy"

// copyInSavepoint runs load inside a savepoint of the open transaction,
// rolled back to if it fails, so that the transaction keeps nothing of it.
func copyInSavepoint(ctx context.Context, rc *realConn, load func() (int64, error)) (int64, error) {
	if _, err := rc.execOrPrepare(ctx, "SAVEPOINT "+copySavepoint, nil); err != nil {
		return 0, err
	}
	n, err := load()
	if err != nil {
		if _, rerr := rc.execOrPrepare(ctx, "ROLLBACK TO SAVEPOINT "+copySavepoint, nil); rerr != nil {
			return 0, errors.Join(err, fmt.Errorf("databases: rolling back to the load's savepoint: %w", rerr))
		}
	}
	if _, rerr := rc.execOrPrepare(ctx, "RELEASE SAVEPOINT "+copySavepoint, nil); rerr != nil && err == nil {
		err = rerr
	}
	return n, err
}

// copyCancelGrace is how long a load whose context was cancelled has to
// stop between rows and roll back before its driver calls are cancelled
// too, which on pgx and go-sql-driver closes the connection.
const copyCancelGrace = 5 * time.Second

// copyContext returns the context a load's driver calls run under: not
// cancelled with ctx, since a cancelled driver call closes the connection
// on pgx and go-sql-driver and interrupts SQLite, but cancelled
// copyCancelGrace after ctx if the load has not stopped by then (a server
// that does not answer). The loader reads ctx between rows, and stops.
func copyContext(ctx context.Context) (context.Context, func()) {
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if ctx.Done() == nil {
		return dctx, cancel
	}
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(copyCancelGrace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-dctx.Done():
		}
	})
	return dctx, func() {
		stop()
		cancel()
	}
}

// copyReader reads a source for a loader: it counts the rows, stops at the
// caller's cancellation, checks each row's width, and catches the source's
// panics, which it ends the rows with, as an error would (on PostgreSQL it
// is read on a goroutine of pgx's, where a panic would end the process).
type copyReader struct {
	src  CopySource
	ctx  context.Context
	ncol int
	rows int64 // rows Next returned
	err  error // what stopped the rows: the cancellation, a Values error, a bad width, a panic
	at   int64 // the row err is about
}

func (r *copyReader) Next() bool {
	if r.err != nil {
		return false
	}
	if r.rows&63 == 0 {
		if err := r.ctx.Err(); err != nil {
			r.stop(err, r.rows)
			return false
		}
	}
	defer r.caught(r.rows)
	if !r.src.Next() {
		return false
	}
	r.rows++
	return true
}

func (r *copyReader) Values() (v []any, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.stop(&copyPanic{value: p}, r.rows-1)
			v, err = nil, r.err
		}
	}()
	v, err = r.src.Values()
	if err == nil && len(v) != r.ncol {
		err = errRowWidth(len(v), r.ncol)
	}
	if err != nil {
		r.stop(err, r.rows-1)
	}
	return v, err
}

func (r *copyReader) Err() (err error) {
	if r.err != nil {
		return r.err
	}
	defer func() {
		if p := recover(); p != nil {
			r.stop(&copyPanic{value: p}, r.rows)
			err = r.err
		}
	}()
	return r.src.Err()
}

// stop records what stopped the rows, and the row it is about.
func (r *copyReader) stop(err error, row int64) { r.err, r.at = err, row }

// caught, deferred around the source's Next, turns its panic into the
// error that stops the rows; Next then returns false.
func (r *copyReader) caught(row int64) {
	if p := recover(); p != nil {
		r.stop(&copyPanic{value: p}, row)
	}
}

// failed returns the error that stopped the rows, naming the row: the one
// Values failed on or Next panicked in, or the next one for a cancellation
// or a source error.
func (r *copyReader) failed(t *copyTarget) error {
	err := r.Err()
	if err == nil {
		return nil
	}
	row := r.rows
	if r.err != nil {
		row = r.at
	}
	return &CopyError{Table: t.name(), Row: row, Err: err}
}

func errRowWidth(values, columns int) error {
	return fmt.Errorf("the row has %d values for %d columns", values, columns)
}
