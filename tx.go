package databases

import "database/sql/driver"

// tx wraps a transaction of the real driver and remembers its connection, so
// transaction rules and middleware can see which connection it runs on.
type tx struct {
	raw  driver.Tx
	conn *conn
}

var _ driver.Tx = (*tx)(nil)

func (t *tx) Commit() error   { return t.raw.Commit() }
func (t *tx) Rollback() error { return t.raw.Rollback() }
