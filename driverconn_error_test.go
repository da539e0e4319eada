package databases_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"testing"

	"github.com/go-databases/databases"
)

// In force_rollback mode DriverConn returns an error value, not the
// connection, when another connection of the DB holds the shared one in a
// transaction; the pattern in DriverConn's doc returns that error from
// sql.Conn.Raw instead of panicking on the type assertion.
func TestDriverConnErrorValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("databases", "sqlite:///:memory:?force_rollback=true")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var got any
	err = conn.Raw(func(dc any) error {
		got = databases.DriverConn(dc)
		if err, ok := got.(error); ok {
			return err
		}
		if _, ok := got.(driver.Conn); !ok {
			return fmt.Errorf("not a driver.Conn: %T", got)
		}
		return nil
	})
	if _, isErr := got.(error); !isErr {
		t.Fatalf("DriverConn returned %T while another connection holds the shared one; want an error value", got)
	}
	if err == nil || !strings.Contains(err.Error(), "force_rollback") {
		t.Errorf("conn.Raw error = %v; want DriverConn's error, naming force_rollback", err)
	}
}
