package databases

// The check that a statement given the context of a Transact runs in its
// transaction: a call on the *sql.DB (or a sql.Conn of it) with that
// context would run on another connection, outside the transaction, and
// on SQLite wait for the transaction's own lock.

import (
	"context"
	"errors"
	"sync/atomic"
)

// ErrOutsideTransaction is in the chain of the error of a statement run on
// a *sql.DB, or on a sql.Conn of it, with the context that Transact gave
// its function: such a statement would run outside the transaction, on
// another connection. Use the *sql.Tx the function received, or, for a
// statement meant to run outside, WithoutTransaction(ctx).
var ErrOutsideTransaction = errors.New("databases: a statement was given the context of a Transact but not its *sql.Tx: it would run on another connection, outside the transaction (and on SQLite wait for the transaction's own lock); run it on the *sql.Tx that Transact passes to the function, or give it databases.WithoutTransaction(ctx) to run it outside")

// WithoutTransaction returns ctx without the transaction of a Transact it
// may carry, for a statement on the *sql.DB that must run outside it (and
// commit whatever the transaction does), such as an audit record. A
// Transact given that context begins a transaction of its own.
func WithoutTransaction(ctx context.Context) context.Context {
	return context.WithValue(ctx, txKey{}, (*txState)(nil))
}

// txOwner is the connection that runs the transaction of a Transact, shared
// by the states of its nested calls.
type txOwner struct {
	conn atomic.Pointer[conn] // set by every BeginTx of the attempt; the last one is the transaction's
}

// txBeginKey is the context key under which Transact's BeginTx carries the
// txOwner to fill.
type txBeginKey struct{}

// noteBegin records, when ctx is that of a Transact's BeginTx, the
// connection that begins the transaction. database/sql may call BeginTx on
// a second connection after the first turned out bad: the last one wins.
func noteBegin(ctx context.Context, c *conn) {
	if o, ok := ctx.Value(txBeginKey{}).(*txOwner); ok {
		o.conn.Store(c)
	}
}

// guardTransact refuses a statement of c given the context of a Transact
// on c's DB, when c is not the transaction's connection and has no
// transaction of its own (one begun on purpose with that context runs as
// its caller meant).
func (c *conn) guardTransact(ctx context.Context) error {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok || st == nil || c.tx.id != 0 || st.ended.Load() {
		return nil
	}
	owner := st.owner.conn.Load()
	if owner == nil || owner == c || owner.connector != c.connector {
		return nil
	}
	return ErrOutsideTransaction
}
