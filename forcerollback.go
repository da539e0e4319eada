package databases

// The test mode, force_rollback: the option, and the one real connection
// that every pooled connection of such a DB shares, inside an outer
// transaction rolled back when the DB closes. This file owns that
// connection: opening and closing it, who may use it (ownership), the lock
// around every use of it, cancellation, and DriverConn's hold. What runs
// around each statement is forcerollback_guard.go; the pooled connections,
// transactions and statements are forcerollback_conn.go; rows are
// forcerollback_rows.go; what the wrapper leaves to the shared connection,
// as the connector's mode, is forcerollback_mode.go.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// WithForceRollback is the test mode, like the URL option
// force_rollback=true: every connection of the DB shares one real
// connection inside an outer transaction that is rolled back when the DB
// closes, so a test leaves no trace. BeginTx and Transact become savepoints.
func WithForceRollback() Option {
	return func(o *options) { o.forceRollback = true }
}

// forceRollbackWait bounds how long a call waits for the shared connection
// while another connection holds it (a transaction, a DriverConn hold), and
// how long Close waits before rolling back anyway.
const forceRollbackWait = 5 * time.Second

// errSharedClosed is the error of a call that reaches the shared connection
// after the DB closed.
var errSharedClosed = errors.New("databases: force_rollback: the DB is closed")

// shared is the one real connection behind a force_rollback connector,
// and that connector's mode (connMode, forcerollback_mode.go).
//
// Two locks guard it. Ownership (sem, owner, holds) says which pooled
// connection may use it, across calls: a transaction, open rows and a
// DriverConn hold keep it. phys is held around every single use of the real
// connection, by its owner and by the few who act on it for another: rows
// read into memory for a connection that needs it, statements closed late,
// Close.
type shared struct {
	connector *connector
	sem       chan struct{} // held by the owner

	once    sync.Once
	openErr error
	real    realConn // the real connection; its raw is nil until open succeeds
	mysqlID int64    // CONNECTION_ID(), to cancel a statement with KILL QUERY

	phys   sync.Mutex    // held around every use of real
	closed atomic.Bool   // set under phys by close; real is not used again
	gone   atomic.Bool   // real was lost (shared.lost): no new view is made
	done   chan struct{} // closed with it, for those waiting to own it

	mu        sync.Mutex
	owner     *sharedConn
	holds     int
	rows      []*sharedRows // the owner's open rows, read into memory when another needs the connection
	rowsAdded chan struct{} // closed when rows are added, for those waiting
	stale     []driver.Stmt // statements closed while another connection owned real
	marks     []*mark       // Savepoint's marks, innermost last (forcerollback_savepoint.go)
	busy      bool          // a statement is running, so a cancel may be sent
	running   *sharedConn   // DriverConn's holder, for the wait error
	seq       atomic.Uint64

	// ddlSeen is the DB's schema changes pgx's statements on real have
	// seen, under phys; userStmts counts the statements the user holds
	// prepared on it, which dropping pgx's would drop too (ddl.go).
	ddlSeen   uint64
	userStmts atomic.Int64
}

func newShared(c *connector) *shared {
	return &shared{connector: c, sem: make(chan struct{}, 1), done: make(chan struct{})}
}

// open connects and begins the outer transaction, once, with a context
// that no caller can cancel.
func (s *shared) open() error {
	s.once.Do(func() {
		ctx := context.Background()
		raw, err := s.connector.raw.Connect(ctx)
		if err != nil {
			s.openErr = err
			return
		}
		s.real = newRealConn(raw)
		err = s.begin()
		if q := s.connector.backend.sessionIDQuery(); err == nil && q != "" {
			err = s.queryInt(q, &s.mysqlID)
		}
		if err != nil {
			raw.Close()
			s.real = realConn{}
			s.openErr = fmt.Errorf("databases: force_rollback: cannot begin the outer transaction: %w", err)
		}
	})
	return s.openErr
}

// begin begins the outer transaction on the real connection.
func (s *shared) begin() error {
	_, err := s.real.execOrPrepare(context.Background(), s.connector.backend.beginStatement(), nil)
	return err
}

func (s *shared) queryInt(query string, dest *int64) error {
	r, st, err := s.real.queryOrPrepare(context.Background(), query, nil)
	if err != nil {
		return err
	}
	if st != nil {
		defer st.Close()
	}
	defer r.Close()
	row := make([]driver.Value, 1)
	if err := r.Next(row); err != nil {
		return err
	}
	var n sql.NullInt64
	if err := n.Scan(row[0]); err != nil {
		return err
	}
	*dest = n.Int64
	return nil
}

// close waits for the shared connection to be free (database/sql may still
// be rolling back a cancelled transaction in a goroutine of its own), then
// rolls the outer transaction back and closes the connection, which makes
// the server roll back even when the rollback itself failed. A connection
// still held after forceRollbackWait (a transaction never ended) is rolled
// back all the same, and Close says so.
func (s *shared) close() error {
	s.once.Do(func() { s.openErr = errSharedClosed }) // never opened: never will be
	if s.real.raw == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), forceRollbackWait)
	defer cancel()
	var errs []error
	if err := s.acquire(ctx, &sharedConn{s: s}); err != nil {
		errs = append(errs, fmt.Errorf("databases: force_rollback: Close: %w; the outer transaction is rolled back with it", err))
		if !lockWithin(&s.phys, forceRollbackWait) {
			return errors.Join(append(errs, errors.New("databases: force_rollback: Close: the real connection is still in use (a DriverConn caller?); it was left open"))...)
		}
	} else {
		s.phys.Lock()
	}
	defer s.phys.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	close(s.done)
	_, err := s.real.execOrPrepare(context.Background(), "ROLLBACK", nil)
	return errors.Join(append(errs, err, s.real.raw.Close())...)
}

// lockWithin locks mu unless it stays locked for d.
func lockWithin(mu *sync.Mutex, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !mu.TryLock() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// acquire makes v the owner of the shared connection. An owner acquires
// again at once. Open rows of another owner are read into memory, which
// gives the connection back unless that owner holds it otherwise; a
// transaction or a DriverConn hold of another is waited for, up to
// forceRollbackWait.
func (s *shared) acquire(ctx context.Context, v *sharedConn) error {
	if s.closed.Load() {
		return errSharedClosed
	}
	timer := time.NewTimer(forceRollbackWait)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if s.owner == v {
			s.holds++
			s.mu.Unlock()
			return nil
		}
		var rows []*sharedRows
		if s.running == nil { // rows of a DriverConn holder stay: it is using the connection
			rows = append(rows, s.rows...)
		}
		if s.rowsAdded == nil {
			s.rowsAdded = make(chan struct{})
		}
		added := s.rowsAdded
		s.mu.Unlock()
		for _, r := range rows {
			r.detach()
		}
		select {
		case s.sem <- struct{}{}:
			s.owned(v)
			return nil
		case <-added: // the owner opened rows since: read them into memory too
		case <-s.done:
			return errSharedClosed
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			s.mu.Lock()
			raw := s.running != nil
			s.mu.Unlock()
			why := "a transaction"
			if raw {
				why = "a sql.Conn that DriverConn gave the real connection (close it, or make another call on it, first)"
			}
			return fmt.Errorf("databases: force_rollback: another connection of the DB has held the shared connection for %v with %s; every connection of a force_rollback DB runs on one real connection, so end that first", forceRollbackWait, why)
		}
	}
}

// owned records v as the new owner and closes the statements others closed
// while they could not use the connection.
func (s *shared) owned(v *sharedConn) {
	s.mu.Lock()
	s.owner, s.holds = v, 1
	stale := s.stale
	s.stale = nil
	s.mu.Unlock()
	if len(stale) > 0 {
		s.use(func() error {
			for _, st := range stale {
				st.Close()
			}
			return nil
		})
	}
}

// tryAcquire makes v the owner if it is already, or if nobody is.
func (s *shared) tryAcquire(v *sharedConn) bool {
	s.mu.Lock()
	if s.owner == v {
		s.holds++
		s.mu.Unlock()
		return true
	}
	s.mu.Unlock()
	select {
	case s.sem <- struct{}{}:
		s.owned(v)
		return true
	default:
		return false
	}
}

// release gives back one hold of v; nothing if v no longer owns the
// connection (its connection closed and gave back everything).
func (s *shared) release(v *sharedConn) {
	s.mu.Lock()
	if s.owner != v {
		s.mu.Unlock()
		return
	}
	s.holds--
	if s.holds > 0 {
		s.mu.Unlock()
		return
	}
	s.owner = nil
	s.mu.Unlock()
	<-s.sem
}

// releaseAll gives back every hold v still has, when its connection closes.
func (s *shared) releaseAll(v *sharedConn) {
	s.mu.Lock()
	if s.owner != v {
		s.mu.Unlock()
		return
	}
	s.owner, s.holds, s.rows = nil, 0, nil
	s.mu.Unlock()
	<-s.sem
}

// addRows and dropRows keep the list of the owner's open rows.
func (s *shared) addRows(r *sharedRows) {
	s.mu.Lock()
	s.rows = append(s.rows, r)
	if s.rowsAdded != nil {
		close(s.rowsAdded)
		s.rowsAdded = nil
	}
	s.mu.Unlock()
}

func (s *shared) dropRows(r *sharedRows) {
	s.mu.Lock()
	for i, x := range s.rows {
		if x == r {
			s.rows = append(s.rows[:i], s.rows[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
}

// use runs f with the real connection locked, unless the DB is closed.
func (s *shared) use(f func() error) error {
	s.phys.Lock()
	defer s.phys.Unlock()
	if s.closed.Load() {
		return errSharedClosed
	}
	return f()
}

// run runs one statement, turning the caller's cancellation into a cancel
// of the statement on the server. It returns only once a cancel it sent is
// done, so that a cancel never reaches the next statement; the servers
// ignore one that arrives when the connection is idle.
func (s *shared) run(ctx context.Context, f func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.busy = true
	s.mu.Unlock()
	done, finished := make(chan struct{}), make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(done)
		// A cancel that reaches the server before the statement does is
		// lost, so it is sent again until the statement returns.
		for {
			s.cancelStatement()
			select {
			case <-finished:
				return
			case <-time.After(cancelAgain):
			}
		}
	})
	err := f(context.WithoutCancel(ctx))
	s.mu.Lock()
	s.busy = false
	s.mu.Unlock()
	close(finished)
	if !stop() {
		<-done
	}
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}

// cancelAgain is how long run waits for a cancelled statement to return
// before it sends the cancel again.
const cancelAgain = 500 * time.Millisecond

// cancelStatement asks the server to stop the running statement, without
// touching the connection: a PostgreSQL cancel request or a MySQL KILL
// QUERY from a second connection. SQLite statements are not interrupted,
// since an interrupted write rolls back the whole transaction.
func (s *shared) cancelStatement() {
	s.mu.Lock()
	busy := s.busy
	s.mu.Unlock()
	if !busy {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.connector.backend.cancelStatement(ctx, s)
}

// holdRaw gives v the real connection for a DriverConn caller: v owns it,
// with the real connection locked, until v's next call or until its
// connection goes back to the pool or closes (endRaw). On PostgreSQL what
// the caller does runs inside a savepoint, one per DriverConn call, so that
// a failed pgx CopyFrom does not abort the outer transaction.
func (s *shared) holdRaw(v *sharedConn) any {
	if v.rawHeld {
		s.settleRaw(v) // a new sql.Conn.Raw call, most likely
		if err := s.rawSavepoint(v); err != nil {
			return err
		}
		return s.real.raw
	}
	if err := s.acquire(context.Background(), v); err != nil {
		return err
	}
	s.phys.Lock()
	if s.closed.Load() {
		s.phys.Unlock()
		s.release(v)
		return errSharedClosed
	}
	if err := s.rawSavepoint(v); err != nil {
		s.phys.Unlock()
		s.release(v)
		return err
	}
	v.rawHeld = true
	s.mu.Lock()
	s.running = v
	s.mu.Unlock()
	return s.real.raw
}

// rawSavepoint opens the savepoint of a DriverConn call, on PostgreSQL.
func (s *shared) rawSavepoint(v *sharedConn) error {
	if s.real.pg == nil {
		return nil
	}
	v.rawSavepoint = fmt.Sprintf("databases_raw%d", s.seq.Add(1))
	_, err := s.real.execOrPrepare(context.Background(), "SAVEPOINT "+v.rawSavepoint, nil)
	if err != nil {
		v.rawSavepoint = ""
	}
	return err
}

// settleRaw ends the savepoint of a DriverConn call: rolled back to if the
// caller's work failed, so the outer transaction stays usable, released
// otherwise. A caller who ended the outer transaction gets a new one.
func (s *shared) settleRaw(v *sharedConn) {
	sp := v.rawSavepoint
	if sp == "" {
		return
	}
	v.rawSavepoint = ""
	ctx := context.Background()
	switch s.real.pg.TxStatus() {
	case 'E':
		s.real.execOrPrepare(ctx, "ROLLBACK TO SAVEPOINT "+sp, nil)
		s.real.execOrPrepare(ctx, "RELEASE SAVEPOINT "+sp, nil)
	case 'T':
		s.real.execOrPrepare(ctx, "RELEASE SAVEPOINT "+sp, nil)
	default:
		s.begin()
	}
}

// endRaw ends v's DriverConn hold, if it has one: the caller's work is
// over, since database/sql never calls a connection while Raw runs.
func (s *shared) endRaw(v *sharedConn) {
	if !v.rawHeld {
		return
	}
	v.rawHeld = false
	s.settleRaw(v)
	s.mu.Lock()
	s.running = nil
	s.mu.Unlock()
	s.phys.Unlock()
	s.release(v)
}
